// Bounding boxes. Distances only need the region both masks occupy, so every surface and distance
// computation runs in a crop: the union bounding box of both masks plus a one-voxel margin,
// clipped to the image.
import type { Shape } from "./types.js";

/** Voxel box [lo, hi) per axis; empty when any lo >= hi. */
export interface Box {
  x0: number;
  y0: number;
  z0: number;
  x1: number;
  y1: number;
  z1: number;
}

export function isEmptyBox(b: Box): boolean {
  return !(b.x0 < b.x1 && b.y0 < b.y1 && b.z0 < b.z1);
}

/** The box grown by `margin` voxels on every side, clipped to the image. */
export function padBox(b: Box, margin: number, shape: Shape): Box {
  return {
    x0: Math.max(0, b.x0 - margin),
    y0: Math.max(0, b.y0 - margin),
    z0: Math.max(0, b.z0 - margin),
    x1: Math.min(shape[0], b.x1 + margin),
    y1: Math.min(shape[1], b.y1 + margin),
    z1: Math.min(shape[2], b.z1 + margin),
  };
}

export function boxDims(b: Box): [number, number, number] {
  return [b.x1 - b.x0, b.y1 - b.y0, b.z1 - b.z0];
}

/** `box` in the coordinates of a crop starting at `origin`'s corner. */
export function shiftBox(box: Box, origin: Box): Box {
  return {
    x0: box.x0 - origin.x0,
    y0: box.y0 - origin.y0,
    z0: box.z0 - origin.z0,
    x1: box.x1 - origin.x0,
    y1: box.y1 - origin.y0,
    z1: box.z1 - origin.z0,
  };
}

/** A box holding nothing, which grows to hold what is added to it. */
export const emptyBox = (): Box => ({
  x0: Infinity,
  y0: Infinity,
  z0: Infinity,
  x1: -Infinity,
  y1: -Infinity,
  z1: -Infinity,
});

/** Bounding box of the nonzero voxels of either mask (Fortran order, `shape`). */
export function unionBoundingBox(a: Uint8Array, b: Uint8Array, shape: Shape): Box {
  const [nx, ny, nz] = shape;
  const box = emptyBox();
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      let first = -1;
      let last = -1;
      for (let x = 0; x < nx; x++, i++) {
        if ((a[i]! | b[i]!) !== 0) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first >= 0) {
        if (first < box.x0) box.x0 = first;
        if (last + 1 > box.x1) box.x1 = last + 1;
        if (y < box.y0) box.y0 = y;
        if (y + 1 > box.y1) box.y1 = y + 1;
        if (z < box.z0) box.z0 = z;
        box.z1 = z + 1;
      }
    }
  }
  return box;
}

/**
 * Copies the voxels of `box` out of a full volume into a new Fortran-order array, as 0/1: 1 where
 * the value is non-zero and `keep` accepts it (every non-zero value when `keep` is omitted).
 */
export function cropMask(
  values: ArrayLike<number>,
  shape: Shape,
  box: Box,
  keep?: (value: number) => boolean,
): Uint8Array {
  const [nx, ny] = shape;
  const [cx, cy, cz] = boxDims(box);
  const out = new Uint8Array(cx * cy * cz);
  let j = 0;
  for (let z = 0; z < cz; z++) {
    for (let y = 0; y < cy; y++) {
      const base = ((box.z0 + z) * ny + box.y0 + y) * nx + box.x0;
      for (let x = 0; x < cx; x++, j++) {
        const v = values[base + x]!;
        if (v !== 0 && (keep === undefined || keep(v))) out[j] = 1;
      }
    }
  }
  return out;
}
