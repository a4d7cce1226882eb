/**
 * The undo of preprocessCase: a volume on the preprocessed grid mapped back through its
 * PreprocessRecord (un-crop, un-resample, un-reorient) onto the original grid.
 */
import { inverseOrnt } from "@brats/nifti";
import { badOption, DataError } from "./errors.js";
import { checkAffine, copyAffine, isVec3Of, volumeOf, type Vec3, type Voxels } from "./grid.js";
import type { PreprocessRecord } from "./preprocess.js";
import { uncropVolume } from "./preprocess-crop.js";
import { axisTable, resample, type AxisTables } from "./preprocess-resample.js";
import { isIdentityOrnt, reoriented } from "./preprocess-reorient.js";

function checkRecord(record: PreprocessRecord): void {
  const positive = (v: number) => Number.isSafeInteger(v) && v > 0;
  const ok =
    typeof record === "object" &&
    record !== null &&
    record.version === 1 &&
    isVec3Of(record.original?.shape, positive) &&
    isVec3Of(record.reorientation?.shape, positive) &&
    isVec3Of(record.crop?.fromShape, positive) &&
    isVec3Of(record.crop?.start, (v) => Number.isSafeInteger(v) && v >= 0) &&
    isVec3Of(record.crop?.end, positive) &&
    isVec3Of(record.shape, positive) &&
    Array.isArray(record.reorientation.ornt) &&
    record.reorientation.ornt.length === 3 &&
    new Set(record.reorientation.ornt.map((r) => r[0])).size === 3 &&
    record.reorientation.ornt.every(
      (r) => Array.isArray(r) && [0, 1, 2].includes(r[0]) && (r[1] === 1 || r[1] === -1),
    ) &&
    [0, 1, 2].every(
      (a) =>
        record.crop.end[a]! <= record.crop.fromShape[a]! &&
        record.shape[a] === record.crop.end[a]! - record.crop.start[a]! &&
        record.reorientation.shape[a] ===
          record.original.shape[record.reorientation.ornt.findIndex((r) => r[0] === a)],
    ) &&
    (record.resampling === null ||
      (isVec3Of(record.resampling.fromShape, positive) &&
        isVec3Of(record.resampling.toShape, positive) &&
        isVec3Of(record.resampling.factors, (v) => Number.isFinite(v) && v > 0) &&
        isVec3Of(record.resampling.offsets, Number.isFinite) &&
        [0, 1, 2].every(
          (a) =>
            record.resampling!.fromShape[a] === record.reorientation.shape[a] &&
            record.resampling!.toShape[a] === record.crop.fromShape[a],
        ))) &&
    (record.resampling !== null ||
      [0, 1, 2].every((a) => record.crop.fromShape[a] === record.reorientation.shape[a]));
  if (!ok) throw badOption("not a valid PreprocessRecord (version 1)");
  checkAffine(record.original.affine, "record.original.affine");
}

export interface UndoResult<T extends Float32Array | Uint8Array> {
  /** Channel-planar [C][z][y][x] on the original grid. */
  data: T;
  channels: number;
  shape: Vec3;
  affine: number[][];
}

/**
 * Maps a volume on the preprocessed grid back to the original grid, orientation and spacing:
 * un-crop (outside the box: `fill`, default 0, or one value per channel), undo the resampling
 * (nearest for labels, trilinear for probabilities), undo the reorientation. Where no
 * resampling happened the voxels come back exactly. `data` is channel-planar: `channels`
 * (default 1) volumes of the preprocessed shape one after another.
 */
export function undoPreprocess(
  volume: { data: Float32Array | Uint8Array; channels?: number },
  record: PreprocessRecord,
  kind: "labels",
  opts?: { fill?: number | number[] },
): UndoResult<Uint8Array>;
export function undoPreprocess(
  volume: { data: Float32Array | Uint8Array; channels?: number },
  record: PreprocessRecord,
  kind: "probabilities",
  opts?: { fill?: number | number[] },
): UndoResult<Float32Array>;
export function undoPreprocess(
  volume: { data: Float32Array | Uint8Array; channels?: number },
  record: PreprocessRecord,
  kind: "labels" | "probabilities",
  opts: { fill?: number | number[] } = {},
): UndoResult<Float32Array | Uint8Array> {
  checkRecord(record);
  if (kind !== "labels" && kind !== "probabilities") {
    throw badOption(`kind must be "labels" or "probabilities", got ${JSON.stringify(kind)}`);
  }
  const channels = volume.channels ?? 1;
  if (!Number.isSafeInteger(channels) || channels < 1) {
    throw badOption(`channels must be a positive integer, got ${channels}`);
  }
  const voxels = volumeOf(record.shape);
  if (volume.data.length !== channels * voxels) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `the volume has ${volume.data.length} values; ${channels} channel(s) of the preprocessed shape [${record.shape.join(", ")}] need ${channels * voxels}`,
    );
  }
  const fills =
    typeof opts.fill === "object" ? opts.fill : new Array<number>(channels).fill(opts.fill ?? 0);
  if (fills.length !== channels || fills.some((v) => !Number.isFinite(v))) {
    throw badOption(`fill must be a finite number or one for each of the ${channels} channel(s)`);
  }
  const labels = kind === "labels";
  if (labels) {
    if (fills.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) {
      throw badOption("a label fill must be an integer in 0..255");
    }
    if (volume.data instanceof Float32Array) {
      const bad = volume.data.findIndex((v) => !Number.isInteger(v) || v < 0 || v > 255);
      if (bad >= 0) {
        throw new DataError(
          "BAD_LABELS",
          `value ${volume.data[bad]} at ${bad} is not a label (an integer in 0..255)`,
        );
      }
    }
  }

  const make = (n: number): Voxels => (labels ? new Uint8Array(n) : new Float32Array(n));
  const { crop, resampling, reorientation, original } = record;
  const ornt = reorientation.ornt;
  const isIdentity = isIdentityOrnt(ornt);
  const canonShape = reorientation.shape;
  const outVoxels = volumeOf(original.shape);
  const out = make(channels * outVoxels);
  const inverseTables =
    resampling === null
      ? null
      : ([0, 1, 2].map((a) =>
          // canonical voxel j sits at resampled coordinate (j − offset) / factor
          axisTable(
            canonShape[a]!,
            resampling.toShape[a]!,
            1 / resampling.factors[a]!,
            -resampling.offsets[a]! / resampling.factors[a]!,
            labels,
          ),
        ) as AxisTables);

  for (let ch = 0; ch < channels; ch++) {
    let data: Voxels = make(voxels);
    data.set(volume.data.subarray(ch * voxels, (ch + 1) * voxels));
    // un-crop
    const gridVoxels = volumeOf(crop.fromShape);
    if (gridVoxels !== voxels) {
      const grid = make(gridVoxels);
      grid.fill(fills[ch]!);
      uncropVolume(data, crop.fromShape, crop.start, crop.end, grid);
      data = grid;
    }
    // un-resample
    if (resampling !== null && inverseTables !== null) {
      const canon = make(volumeOf(canonShape));
      resample(data, resampling.toShape, canon, canonShape, inverseTables, labels);
      data = canon;
    }
    // un-reorient
    const target = out.subarray(ch * outVoxels, (ch + 1) * outVoxels);
    target.set(isIdentity ? data : reoriented(data, canonShape, inverseOrnt(ornt)));
  }
  return { data: out, channels, shape: [...original.shape], affine: copyAffine(original.affine) };
}
