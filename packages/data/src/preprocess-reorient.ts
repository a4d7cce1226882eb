/**
 * Preprocessing step 1: reorientation to the closest canonical (RAS) orientation, as nibabel's
 * as_closest_canonical, and its inverse for the undo.
 */
import {
  applyOrientation,
  invOrntAffine,
  multiplyAffines,
  orntToAxcodes,
  type Ornt,
} from "@brats/nifti";
import { DataError } from "./errors.js";
import { copyAffine, type Vec3, type Voxels } from "./grid.js";

/** Per original axis: [new axis, flip (1 or −1)] (nibabel's orientation convention). */
export type AxisMap = Array<[number, number]>;

/**
 * The transform to the closest canonical (RAS) orientation: @brats/nifti's ioOrientation, whose
 * rows are already [canonical axis, flip] per original axis. GEOMETRY_MISMATCH when an axis maps
 * to no world axis.
 */
export function canonicalOrnt(start: Ornt, id: string): AxisMap {
  if (start.some(([axis]) => Number.isNaN(axis))) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${id}: its affine maps a voxel axis to no world axis (axis codes ${orntToAxcodes(start)}); it cannot be reoriented`,
    );
  }
  return start.map(([axis, flip]) => [axis, flip]);
}

/** Every axis kept in place, none flipped. */
export function identityOrnt(): AxisMap {
  return [
    [0, 1],
    [1, 1],
    [2, 1],
  ];
}

export function isIdentityOrnt(ornt: AxisMap): boolean {
  return ornt.every(([axis, flip], i) => axis === i && flip === 1);
}

/** `data` (of `shape`) with its axes moved and flipped by `ornt` (nibabel's apply_orientation). */
export function reoriented<T extends Voxels>(data: T, shape: Vec3, ornt: AxisMap): T {
  // applyOrientation returns the same array type it was given.
  return applyOrientation(data, shape, ornt).data as T;
}

/** The grid of the reoriented voxels: shape and spacing permuted, the affine that maps them. */
export function reorientedGrid(
  shape: Vec3,
  spacing: Vec3,
  affine: number[][],
  ornt: AxisMap,
): { shape: Vec3; spacing: Vec3; affine: number[][] } {
  const canonShape: Vec3 = [0, 0, 0];
  const canonSpacing: Vec3 = [0, 0, 0];
  ornt.forEach(([axis], i) => {
    canonShape[axis] = shape[i]!;
    canonSpacing[axis] = spacing[i]!;
  });
  const canonAffine = isIdentityOrnt(ornt)
    ? copyAffine(affine)
    : multiplyAffines(affine, invOrntAffine(ornt, shape));
  return { shape: canonShape, spacing: canonSpacing, affine: canonAffine };
}
