// Binary-volume morphology shared by label post-processing and by @brats/metrics' lesion-wise
// scores: connected components and dilation with 6, 18 or 26 connectivity, on x-fastest masks
// (index = x + X·(y + Y·z)), matching scipy.ndimage's label and binary_dilation with
// generate_binary_structure(3, 1 | 2 | 3).
import { badOption, DataError } from "./errors.js";
import type { Vec3 } from "./grid.js";

export function isShape(shape: unknown): shape is Vec3 {
  return (
    Array.isArray(shape) &&
    shape.length === 3 &&
    shape.every((v) => typeof v === "number" && Number.isSafeInteger(v) && v > 0)
  );
}

export function checkShape(shape: unknown): asserts shape is Vec3 {
  if (!isShape(shape)) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `shape must be three positive integers, got ${JSON.stringify(shape)}`,
    );
  }
}

export function checkVolume(data: unknown, shape: Vec3, what: string): asserts data is Uint8Array {
  const voxels = shape[0] * shape[1] * shape[2];
  if (!(data instanceof Uint8Array) || data.length !== voxels) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `${what} must be a Uint8Array of ${voxels} voxels for shape [${shape.join(", ")}]`,
    );
  }
}

/** Neighbour offsets [dx, dy, dz] of a voxel: faces (6), plus edges (18), plus corners (26). */
function neighbourOffsets(connectivity: 6 | 18 | 26): Vec3[] {
  const out: Vec3[] = [];
  for (let dz = -1; dz <= 1; dz++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const order = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        if (order === 0) continue;
        if (connectivity === 6 && order > 1) continue;
        if (connectivity === 18 && order > 2) continue;
        out.push([dx, dy, dz]);
      }
    }
  }
  return out;
}

export interface ConnectedComponents {
  /** Per voxel: 0 outside the mask, else the component 1..n (numbered in voxel order of first voxel). */
  labels: Int32Array;
  /** `sizes[i]`: voxels of component i + 1; `sizes.length` is the number of components. */
  sizes: number[];
}

/**
 * Connected components of the nonzero voxels of an x-fastest mask, with 6 (faces), 18 (faces and
 * edges) or 26 (default: faces, edges and corners) connectivity, as scipy.ndimage.label with the
 * matching structure. Breadth-first with an explicit queue (no recursion): every foreground voxel
 * is queued once, so time is linear in the volume.
 */
export function connectedComponents(
  mask: Uint8Array,
  shape: Vec3,
  connectivity: 6 | 18 | 26 = 26,
): ConnectedComponents {
  checkShape(shape);
  checkVolume(mask, shape, "mask");
  checkConnectivity(connectivity);
  const [nx, ny, nz] = shape;
  const strideZ = nx * ny;
  const offsets = neighbourOffsets(connectivity);
  const steps = offsets.map(([dx, dy, dz]) => dx + nx * dy + strideZ * dz);
  const labels = new Int32Array(mask.length);
  const sizes: number[] = [];
  let foreground = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) foreground++;
  const queue = new Int32Array(foreground);
  for (let seed = 0; seed < mask.length; seed++) {
    if (mask[seed] === 0 || labels[seed] !== 0) continue;
    const label = sizes.length + 1;
    labels[seed] = label;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const v = queue[head++]!;
      const x = v % nx;
      const y = ((v - x) / nx) % ny;
      const z = (v - x - nx * y) / strideZ;
      // Interior voxels skip the bounds checks of their neighbours.
      const interior = x > 0 && x < nx - 1 && y > 0 && y < ny - 1 && z > 0 && z < nz - 1;
      for (let n = 0; n < steps.length; n++) {
        if (!interior) {
          const [dx, dy, dz] = offsets[n]!;
          const qx = x + dx;
          const qy = y + dy;
          const qz = z + dz;
          if (qx < 0 || qx >= nx || qy < 0 || qy >= ny || qz < 0 || qz >= nz) continue;
        }
        const q = v + steps[n]!;
        if (mask[q] !== 0 && labels[q] === 0) {
          labels[q] = label;
          queue[tail++] = q;
        }
      }
    }
    sizes.push(tail);
  }
  return { labels, sizes };
}

export type Connectivity = 6 | 18 | 26;

function checkConnectivity(connectivity: unknown): asserts connectivity is Connectivity {
  if (connectivity !== 6 && connectivity !== 18 && connectivity !== 26) {
    throw badOption(`connectivity must be 6, 18 or 26, got ${JSON.stringify(connectivity)}`);
  }
}

/**
 * `mask` dilated `iterations` times by the 3×3×3 element of the given connectivity (18: the cube
 * without its 8 corners, the BraTS lesion-wise scorer's), as scipy.ndimage.binary_dilation with
 * generate_binary_structure(3, 1 | 2 | 3): voxels beyond the array are background, and the result
 * stays within it. A new 0/1 array; `iterations` 0 copies. Each pass only visits the voxels the
 * previous one added (a frontier), so the cost follows the dilated volume, not the array.
 */
export function dilate(
  mask: Uint8Array,
  shape: Vec3,
  connectivity: Connectivity,
  iterations: number,
): Uint8Array {
  checkShape(shape);
  checkVolume(mask, shape, "mask");
  checkConnectivity(connectivity);
  if (!(Number.isSafeInteger(iterations) && iterations >= 0)) {
    throw badOption(`iterations must be a non-negative integer, got ${iterations}`);
  }
  const [nx, ny, nz] = shape;
  const offsets = neighbourOffsets(connectivity);
  const out = new Uint8Array(mask.length);
  let frontier: number[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0) {
      out[i] = 1;
      frontier.push(i);
    }
  }
  for (let it = 0; it < iterations && frontier.length > 0; it++) {
    const next: number[] = [];
    for (const v of frontier) {
      const x = v % nx;
      const y = ((v - x) / nx) % ny;
      const z = (v - x - nx * y) / (nx * ny);
      for (const [dx, dy, dz] of offsets) {
        const qx = x + dx;
        const qy = y + dy;
        const qz = z + dz;
        if (qx < 0 || qx >= nx || qy < 0 || qy >= ny || qz < 0 || qz >= nz) continue;
        const q = qx + nx * (qy + ny * qz);
        if (out[q] === 0) {
          out[q] = 1;
          next.push(q);
        }
      }
    }
    frontier = next;
  }
  return out;
}
