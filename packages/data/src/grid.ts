/**
 * The voxel grid shared by the package: three-vectors, volume sizes and affine checks.
 *
 * Volumes are x-fastest (index = x + X·(y + Y·z)), as in @brats/nifti.
 */
import { DataError } from "./errors.js";

export type Vec3 = [number, number, number];

/** The voxel arrays preprocessing moves: images (float32) and labels (uint8). */
export type Voxels = Float32Array | Uint8Array;

export function volumeOf(shape: readonly number[]): number {
  return (shape[0] as number) * (shape[1] as number) * (shape[2] as number);
}

export function copyAffine(affine: readonly (readonly number[])[]): number[][] {
  return affine.map((row) => row.slice());
}

export function isVec3Of(value: unknown, test: (v: number) => boolean): value is Vec3 {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    value.every((v) => typeof v === "number" && test(v))
  );
}

export function checkAffine(affine: unknown, what: string): asserts affine is number[][] {
  if (
    !Array.isArray(affine) ||
    affine.length !== 4 ||
    !affine.every(
      (row) =>
        Array.isArray(row) &&
        row.length === 4 &&
        row.every((v) => typeof v === "number" && Number.isFinite(v)),
    )
  ) {
    throw new DataError("GEOMETRY_MISMATCH", `${what} must be a 4×4 array of finite numbers`);
  }
}
