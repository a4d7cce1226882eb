// Reading label volumes from NIfTI files for scoring, and checking that two share one voxel grid.
import {
  getScaledData,
  NiftiError,
  readNifti,
  scalingOf,
  type Affine,
  type NiftiImage,
} from "@brats/nifti";
import { MetricsError, type MetricsErrorCode } from "./errors.js";
import type { LabelVolume, Shape, Spacing } from "./types.js";

/** Affines agree when every entry is within ATOL + RTOL·|gt| (float32 headers round at ~1e-5 mm). */
const AFFINE_ATOL = 1e-4;
const AFFINE_RTOL = 1e-5;

/** A label volume read from a NIfTI file, with the geometry needed to check and score it. */
export interface LabelVolumeFile {
  path: string;
  shape: Shape;
  /** |pixdim[1..3]| in mm. */
  spacing: Spacing;
  affine: Affine;
  /** The raw voxels when the file is unscaled integer data, else the scaled values as float32. */
  data: LabelVolume;
}

function volumeShape(image: NiftiImage, path: string): Shape {
  const dims = [...image.shape];
  // Trailing singleton dimensions (e.g. 240×240×155×1) are still one volume.
  while (dims.length > 3 && dims[dims.length - 1] === 1) dims.pop();
  if (dims.length > 3) {
    throw new MetricsError(
      "SHAPE_MISMATCH",
      `${path}: shape ${image.shape.join("×")} is not a single 3D volume`,
    );
  }
  while (dims.length < 3) dims.push(1);
  return [dims[0]!, dims[1]!, dims[2]!];
}

/**
 * Reads a label volume. Unreadable or header-only files: MetricsError IO (the NiftiError is the
 * `cause`, its code is in the message); more than one 3D volume: SHAPE_MISMATCH.
 */
export async function readLabelVolume(path: string): Promise<LabelVolumeFile> {
  let image: NiftiImage;
  try {
    image = await readNifti(path);
  } catch (err) {
    const what = err instanceof NiftiError ? `${err.code}: ${err.message}` : String(err);
    throw new MetricsError("IO", `${path}: ${what}`, { cause: err });
  }
  if (image.data === null) throw new MetricsError("IO", `${path}: header only, no voxel data`);
  const shape = volumeShape(image, path);
  const pixdim = (axis: number) => Math.abs(image.spacing[axis] ?? 1);
  const spacing: Spacing = [pixdim(0), pixdim(1), pixdim(2)];
  let scaling: ReturnType<typeof scalingOf>;
  try {
    scaling = scalingOf(image.header);
  } catch (err) {
    throw new MetricsError("IO", `${path}: ${(err as Error).message}`, { cause: err });
  }
  const raw = image.data;
  const unscaled = scaling === null || (scaling.slope === 1 && scaling.inter === 0);
  let data: LabelVolume;
  if (unscaled && !(raw instanceof BigInt64Array) && !(raw instanceof BigUint64Array)) {
    data = raw;
  } else {
    try {
      data = getScaledData(image, "float32");
    } catch (err) {
      const what = err instanceof NiftiError ? `${err.code}: ${err.message}` : String(err);
      throw new MetricsError("IO", `${path}: ${what}`, { cause: err });
    }
  }
  const voxels = shape[0] * shape[1] * shape[2];
  // Extra volumes after the first (e.g. 4D with t > 1) were refused above; a shorter array is corrupt.
  if (data.length !== voxels) {
    throw new MetricsError("IO", `${path}: ${data.length} voxels for shape ${shape.join("×")}`);
  }
  return { path, shape, spacing, affine: image.affine, data };
}

/** Why two volumes cannot be scored together, or null when their grids agree. */
export function geometryMismatch(
  pred: LabelVolumeFile,
  gt: LabelVolumeFile,
): { code: MetricsErrorCode; message: string } | null {
  if (pred.shape.some((n, a) => n !== gt.shape[a])) {
    return {
      code: "SHAPE_MISMATCH",
      message: `prediction shape ${pred.shape.join("×")} differs from ground truth ${gt.shape.join("×")}`,
    };
  }
  const close = (a: number, b: number) =>
    Math.abs(a - b) <= AFFINE_ATOL + AFFINE_RTOL * Math.abs(b);
  // Report the entry that differs most; NaN entries never agree (no grid can be checked).
  let worstDiff = -1;
  let where = "";
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      const a = pred.affine[r]![c]!;
      const b = gt.affine[r]![c]!;
      if (close(a, b)) continue;
      const diff = Number.isNaN(a - b) ? Infinity : Math.abs(a - b);
      if (diff > worstDiff) {
        worstDiff = diff;
        where = `affine[${r}][${c}] ${a} vs ${b}`;
      }
    }
  }
  if (worstDiff >= 0) {
    return {
      code: "AFFINE_MISMATCH",
      message: `prediction and ground-truth affines differ (${where}): not the same voxel grid`,
    };
  }
  for (let a = 0; a < 3; a++) {
    if (!close(pred.spacing[a]!, gt.spacing[a]!)) {
      return {
        code: "AFFINE_MISMATCH",
        message: `prediction spacing ${pred.spacing.join("×")} differs from ground truth ${gt.spacing.join("×")} mm`,
      };
    }
  }
  return null;
}
