// Helpers for the tests only: volumes from voxel lists, a seeded RNG, and brute-force surface
// distances straight from the definitions (O(n·m), fine for tiny volumes, never used by the library).
import { seededUniform } from "@brats/kit/random";
import type { Shape, Spacing } from "./types.js";

export type Voxel = readonly [number, number, number];

/** A Fortran-order volume of `shape` with `value` at the given voxels. */
export function volume(shape: Shape, voxels: readonly Voxel[], value = 1): Uint8Array {
  const out = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (const [x, y, z] of voxels) out[x + shape[0] * (y + shape[1] * z)] = value;
  return out;
}

/** Every voxel of the box [lo, hi] (inclusive). */
export function box(lo: Voxel, hi: Voxel): Voxel[] {
  const out: Voxel[] = [];
  for (let z = lo[2]; z <= hi[2]; z++) {
    for (let y = lo[1]; y <= hi[1]; y++) {
      for (let x = lo[0]; x <= hi[0]; x++) out.push([x, y, z]);
    }
  }
  return out;
}

/** mulberry32 uniforms in [0, 1) (the one copy is @brats/kit/random). */
export const rng: (seed: number) => () => number = seededUniform;

/** A random mask of a few blobs (boxes) inside `within` (lo/hi inclusive) of the image. */
export function randomBlobs(
  shape: Shape,
  random: () => number,
  blobs: number,
  within: { lo: Voxel; hi: Voxel } = {
    lo: [0, 0, 0],
    hi: [shape[0] - 1, shape[1] - 1, shape[2] - 1],
  },
): Uint8Array {
  const out = new Uint8Array(shape[0] * shape[1] * shape[2]);
  const pick = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  for (let b = 0; b < blobs; b++) {
    const lo: number[] = [];
    const hi: number[] = [];
    for (let a = 0; a < 3; a++) {
      const p = pick(within.lo[a]!, within.hi[a]!);
      const q = Math.min(within.hi[a]!, p + pick(0, 3));
      lo.push(p);
      hi.push(q);
    }
    for (const [x, y, z] of box(lo as unknown as Voxel, hi as unknown as Voxel)) {
      // Sprinkle holes so that surfaces are irregular.
      if (random() < 0.85) out[x + shape[0] * (y + shape[1] * z)] = 1;
    }
  }
  return out;
}

/** Surface voxels by definition: in the mask with a 6-neighbour outside the mask or the image. */
export function bruteSurface(mask: Uint8Array, shape: Shape): Voxel[] {
  const [nx, ny, nz] = shape;
  const inside = (x: number, y: number, z: number): boolean =>
    x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz && mask[x + nx * (y + ny * z)] !== 0;
  const out: Voxel[] = [];
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        if (!inside(x, y, z)) continue;
        if (
          !inside(x - 1, y, z) ||
          !inside(x + 1, y, z) ||
          !inside(x, y - 1, z) ||
          !inside(x, y + 1, z) ||
          !inside(x, y, z - 1) ||
          !inside(x, y, z + 1)
        ) {
          out.push([x, y, z]);
        }
      }
    }
  }
  return out;
}

/** For each voxel of `from`, the distance (mm) to the nearest voxel of `to`, by trying them all. */
export function bruteNearest(
  from: readonly Voxel[],
  to: readonly Voxel[],
  spacing: Spacing,
): number[] {
  return from.map(([x, y, z]) => {
    let best = Infinity;
    for (const [u, v, w] of to) {
      const dx = (x - u) * spacing[0];
      const dy = (y - v) * spacing[1];
      const dz = (z - w) * spacing[2];
      best = Math.min(best, dx * dx + dy * dy + dz * dz);
    }
    return Math.sqrt(best);
  });
}

/** Both directed surface-distance lists, by brute force over the full image. */
export function bruteSurfaceDistances(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
): { predToGt: number[]; gtToPred: number[] } {
  const ps = bruteSurface(pred, shape);
  const gs = bruteSurface(gt, shape);
  if (ps.length === 0 || gs.length === 0) return { predToGt: [], gtToPred: [] };
  return { predToGt: bruteNearest(ps, gs, spacing), gtToPred: bruteNearest(gs, ps, spacing) };
}
