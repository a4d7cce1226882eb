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

/** Foreground runs of an x-fastest mask: per row (y + Y·z), runs [start, end) of nonzero x. */
interface Runs {
  start: Int32Array;
  end: Int32Array;
  /** Runs of row r are rowStart[r] .. rowStart[r + 1] − 1. */
  rowStart: Int32Array;
  count: number;
}

function findRuns(mask: Uint8Array, nx: number, rows: number): Runs {
  let start = new Int32Array(1024);
  let end = new Int32Array(1024);
  const rowStart = new Int32Array(rows + 1);
  let count = 0;
  for (let r = 0; r < rows; r++) {
    rowStart[r] = count;
    const base = r * nx;
    let x = 0;
    while (x < nx) {
      while (x < nx && mask[base + x] === 0) x++;
      if (x === nx) break;
      const s = x;
      while (x < nx && mask[base + x] !== 0) x++;
      if (count === start.length) {
        const grownStart = new Int32Array(count * 2);
        const grownEnd = new Int32Array(count * 2);
        grownStart.set(start);
        grownEnd.set(end);
        start = grownStart;
        end = grownEnd;
      }
      start[count] = s;
      end[count++] = x;
    }
  }
  rowStart[rows] = count;
  return { start, end, rowStart, count };
}

function findRoot(parent: Int32Array, a: number): number {
  while (parent[a] !== a) {
    parent[a] = parent[parent[a]!]!; // path halving
    a = parent[a]!;
  }
  return a;
}

/**
 * Connected components of the nonzero voxels of an x-fastest mask, with 6 (faces), 18 (faces and
 * edges) or 26 (default: faces, edges and corners) connectivity, as scipy.ndimage.label with the
 * matching structure. Works on runs of foreground along x, joined by union-find with the runs of
 * the rows before (same slice: y − 1; slice before: y − 1, y, y + 1) that overlap them, x widened
 * by one where the connectivity allows a diagonal step; time is linear in the runs plus one pass
 * over the mask.
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
  const rows = ny * nz;
  const runs = findRuns(mask, nx, rows);
  const { start, end, rowStart } = runs;
  const parent = new Int32Array(runs.count);
  for (let i = 0; i < runs.count; i++) parent[i] = i;
  // Earlier rows a run may touch, as [dy, dz, widening of x]: a diagonal step along x is allowed
  // when the whole offset stays within the connectivity (|dx| + |dy| + |dz| ≤ 1, 2 or 3).
  const neighbours: Array<[number, number, number]> =
    connectivity === 6
      ? [
          [-1, 0, 0],
          [0, -1, 0],
        ]
      : connectivity === 18
        ? [
            [-1, 0, 1],
            [0, -1, 1],
            [-1, -1, 0],
            [1, -1, 0],
          ]
        : [
            [-1, 0, 1],
            [0, -1, 1],
            [-1, -1, 1],
            [1, -1, 1],
          ];
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = y + ny * z;
      const a0 = rowStart[row]!;
      const a1 = rowStart[row + 1]!;
      if (a0 === a1) continue;
      for (const [dy, dz, widen] of neighbours) {
        const qy = y + dy;
        const qz = z + dz;
        if (qy < 0 || qy >= ny || qz < 0) continue;
        const other = qy + ny * qz;
        let b = rowStart[other]!;
        const b1 = rowStart[other + 1]!;
        // Both rows' runs are sorted: walk them together, joining every overlapping pair.
        let a = a0;
        while (a < a1 && b < b1) {
          if (start[a]! < end[b]! + widen && start[b]! < end[a]! + widen) {
            const ra = findRoot(parent, a);
            const rb = findRoot(parent, b);
            if (ra !== rb) {
              if (ra < rb) parent[rb] = ra;
              else parent[ra] = rb;
            }
          }
          // Advance the run that ends first: it can overlap nothing further on.
          if (end[a]! < end[b]!) a++;
          else b++;
        }
      }
    }
  }
  // Number the components in order of their first voxel: runs come in voxel order.
  const labels = new Int32Array(mask.length);
  const labelOfRoot = new Int32Array(runs.count);
  const sizes: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (let i = rowStart[row]!; i < rowStart[row + 1]!; i++) {
      const root = findRoot(parent, i);
      let label = labelOfRoot[root]!;
      if (label === 0) {
        sizes.push(0);
        label = labelOfRoot[root] = sizes.length;
      }
      sizes[label - 1]! += end[i]! - start[i]!;
      labels.fill(label, row * nx + start[i]!, row * nx + end[i]!);
    }
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
  const steps = offsets.map(([dx, dy, dz]) => dx + nx * (dy + ny * dz));
  const out = new Uint8Array(mask.length);
  let frontier: Int32Array = new Int32Array(1024);
  let size = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0) {
      out[i] = 1;
      if (size === frontier.length) frontier = grow(frontier);
      frontier[size++] = i;
    }
  }
  let next: Int32Array = new Int32Array(Math.max(1024, size));
  for (let it = 0; it < iterations && size > 0; it++) {
    let added = 0;
    for (let f = 0; f < size; f++) {
      const v = frontier[f]!;
      const x = v % nx;
      const y = ((v - x) / nx) % ny;
      const z = (v - x - nx * y) / (nx * ny);
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
        if (out[q] === 0) {
          out[q] = 1;
          if (added === next.length) next = grow(next);
          next[added++] = q;
        }
      }
    }
    [frontier, next] = [next, frontier];
    size = added;
  }
  return out;
}

function grow(a: Int32Array): Int32Array {
  const out = new Int32Array(a.length * 2);
  out.set(a);
  return out;
}
