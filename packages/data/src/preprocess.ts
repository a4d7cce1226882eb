/**
 * nnU-Net/MONAI-style preprocessing of a loaded case, with a record that maps predictions back:
 * reorient to the closest canonical (RAS) orientation → resample to the target spacing where it
 * differs (trilinear images, nearest labels) → crop to the brain bounding box (nonzero in any
 * channel) plus a margin → per-modality z-score over nonzero voxels (background stays 0).
 *
 * Volumes are x-fastest (index = x + X·(y + Y·z)), as in @brats/nifti.
 */
import {
  inverseOrnt,
  invOrntAffine,
  ioOrientation,
  multiplyAffines,
  orntToAxcodes,
  voxelSizes,
  type Ornt,
} from "@brats/nifti";
import type { LoadedCase } from "./cases.js";
import { DataError } from "./errors.js";
import {
  axisTable,
  canonicalOrnt,
  checkAffine,
  copyAffine,
  cropVolume,
  isVec3Of,
  nonzeroBox,
  reoriented,
  resample,
  uncropVolume,
  volumeOf,
  zscoreNonzero,
  type AxisTable,
  type Vec3,
  type Voxels,
} from "./preprocess-geometry.js";

export type { Vec3 } from "./preprocess-geometry.js";

export interface PreprocessOptions {
  /**
   * Target voxel spacing (mm) along the canonical axes, or null to keep the scan's spacing.
   * Default [1, 1, 1]. An axis whose spacing is within `spacingTolerance` of its target is not
   * resampled.
   */
  spacing?: readonly [number, number, number] | null;
  /** Default 1e-3 mm. */
  spacingTolerance?: number;
  /** Voxels kept around the brain bounding box on each side (clamped to the volume); default 0. */
  margin?: number | readonly [number, number, number];
  /** Reorient to the closest canonical orientation (RAS, as nibabel's as_closest_canonical). Default true. */
  canonical?: boolean;
  /** Crop to the bounding box of voxels nonzero in any channel (plus `margin`). Default true. */
  crop?: boolean;
  /** Per-channel z-score over that channel's nonzero voxels. Default true. */
  normalize?: boolean;
}

/** Everything needed to map a prediction on the preprocessed grid back to the original scan. JSON-safe. */
export interface PreprocessRecord {
  version: 1;
  original: { shape: Vec3; affine: number[][]; spacing: Vec3; axcodes: string };
  /**
   * Original voxel axis i became canonical axis `ornt[i][0]`, reversed when `ornt[i][1]` is −1
   * (nibabel's orientation convention). The identity when `canonical` was false.
   */
  reorientation: {
    ornt: Array<[number, number]>;
    axcodes: string;
    shape: Vec3;
    affine: number[][];
    spacing: Vec3;
  };
  /**
   * Resampled voxel i along axis a sits at canonical voxel coordinate `offsets[a] + i·factors[a]`
   * (grids share their centre; factor = target / canonical spacing, 1 and offset 0 on axes kept).
   * Null when no axis was resampled.
   */
  resampling: null | {
    fromShape: Vec3;
    toShape: Vec3;
    fromSpacing: Vec3;
    toSpacing: Vec3;
    factors: Vec3;
    offsets: Vec3;
  };
  /** The kept box [start, end) of the resampled grid (the whole grid when cropping was off or found nothing). */
  crop: { fromShape: Vec3; start: Vec3; end: Vec3 };
  /** Mean and population std of each channel's nonzero voxels (null when not normalised). */
  normalization: null | { mean: number[]; std: number[] };
  /** The preprocessed grid. */
  shape: Vec3;
  spacing: Vec3;
  affine: number[][];
}

export interface PreprocessResult {
  case: LoadedCase;
  record: PreprocessRecord;
}

const DEFAULT_SPACING: Vec3 = [1, 1, 1];

function badOption(message: string): DataError {
  return new DataError("BAD_OPTION", message);
}

function checkCase(c: LoadedCase): void {
  const { shape, id } = c;
  if (!isVec3Of(shape, (v) => Number.isSafeInteger(v) && v > 0)) {
    throw new DataError("GEOMETRY_MISMATCH", `case ${id}: shape must be three positive integers`);
  }
  checkAffine(c.affine, `case ${id}: affine`);
  const voxels = volumeOf(shape);
  if (c.channels.length === 0) throw new DataError("MISSING_MODALITY", `case ${id} has no channel`);
  c.channels.forEach((data, i) => {
    if (data.length !== voxels) {
      throw new DataError(
        "GEOMETRY_MISMATCH",
        `case ${id}: channel ${i} has ${data.length} voxels, shape [${shape.join(", ")}] needs ${voxels}`,
      );
    }
  });
  if (c.seg !== null && c.seg.length !== voxels) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${id}: seg has ${c.seg.length} voxels, shape [${shape.join(", ")}] needs ${voxels}`,
    );
  }
}

function resolveOptions(opts: PreprocessOptions): {
  spacing: Vec3 | null;
  tolerance: number;
  margin: Vec3;
  canonical: boolean;
  crop: boolean;
  normalize: boolean;
} {
  const spacing = opts.spacing === undefined ? DEFAULT_SPACING : opts.spacing;
  if (spacing !== null && !isVec3Of(spacing, (v) => Number.isFinite(v) && v > 0)) {
    throw badOption(
      `spacing must be three positive numbers (mm) or null, got ${JSON.stringify(spacing)}`,
    );
  }
  const tolerance = opts.spacingTolerance ?? 1e-3;
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw badOption(`spacingTolerance must be a non-negative number, got ${tolerance}`);
  }
  const marginOpt = opts.margin ?? 0;
  const margin = (
    typeof marginOpt === "number" ? [marginOpt, marginOpt, marginOpt] : marginOpt
  ) as unknown;
  if (!isVec3Of(margin, (v) => Number.isSafeInteger(v) && v >= 0)) {
    throw badOption(
      `margin must be a non-negative integer or three of them, got ${JSON.stringify(marginOpt)}`,
    );
  }
  return {
    spacing: spacing === null ? null : [spacing[0], spacing[1], spacing[2]],
    tolerance,
    margin: [margin[0], margin[1], margin[2]],
    canonical: opts.canonical ?? true,
    crop: opts.crop ?? true,
    normalize: opts.normalize ?? true,
  };
}

type ResolvedOptions = ReturnType<typeof resolveOptions>;

/** Images and seg on one grid, between two steps of preprocessCase. */
interface Grid {
  channels: Float32Array[];
  seg: Uint8Array | null;
  shape: Vec3;
  affine: number[][];
  spacing: Vec3;
}

/** Step 1: reorientation to the closest canonical (RAS) orientation, or none. */
function reorientStep(
  c: LoadedCase,
  o: ResolvedOptions,
  from: { shape: Vec3; affine: number[][]; spacing: Vec3; found: Ornt },
): { grid: Grid; ornt: Array<[number, number]> } {
  const { shape, affine, spacing } = from;
  const ornt: Array<[number, number]> = o.canonical
    ? canonicalOrnt(from.found, c.id)
    : [
        [0, 1],
        [1, 1],
        [2, 1],
      ];
  const isIdentity = ornt.every(([axis, flip], i) => axis === i && flip === 1);
  const canonShape: Vec3 = [0, 0, 0];
  const canonSpacing: Vec3 = [0, 0, 0];
  ornt.forEach(([axis], i) => {
    canonShape[axis] = shape[i]!;
    canonSpacing[axis] = spacing[i]!;
  });
  const canonAffine = isIdentity
    ? copyAffine(affine)
    : multiplyAffines(affine, invOrntAffine(ornt, shape));
  const reorientTo = <T extends Voxels>(data: T): T =>
    isIdentity ? data : reoriented(data, shape, ornt);
  return {
    grid: {
      channels: c.channels.map((ch) => reorientTo(ch)),
      seg: c.seg === null ? null : reorientTo(c.seg),
      shape: canonShape,
      affine: canonAffine,
      spacing: canonSpacing,
    },
    ornt,
  };
}

/** Step 2: resampling, on the axes whose spacing differs from the target (nnU-Net's shapes). */
function resampleStep(
  from: Grid,
  o: ResolvedOptions,
): { grid: Grid; resampling: PreprocessRecord["resampling"] } {
  const target = o.spacing;
  const canonShape = from.shape;
  const canonSpacing = from.spacing;
  if (
    target === null ||
    ![0, 1, 2].some((a) => Math.abs(canonSpacing[a]! - target[a]!) > o.tolerance)
  ) {
    return { grid: from, resampling: null };
  }
  const factors: Vec3 = [1, 1, 1];
  const offsets: Vec3 = [0, 0, 0];
  const toShape: Vec3 = [...canonShape];
  const toSpacing: Vec3 = [...canonSpacing];
  for (let a = 0; a < 3; a++) {
    if (Math.abs(canonSpacing[a]! - target[a]!) <= o.tolerance) continue;
    const n = canonShape[a]!;
    // nnU-Net's new shape; the two grids share their centre
    const m = Math.max(1, Math.round((n * canonSpacing[a]!) / target[a]!));
    factors[a] = target[a]! / canonSpacing[a]!;
    offsets[a] = (n - 1) / 2 - ((m - 1) / 2) * factors[a]!;
    toShape[a] = m;
    toSpacing[a] = target[a]!;
  }
  const resampling = {
    fromShape: canonShape,
    toShape,
    fromSpacing: canonSpacing,
    toSpacing,
    factors,
    offsets,
  };
  const linear = [0, 1, 2].map((a) =>
    axisTable(toShape[a]!, canonShape[a]!, factors[a]!, offsets[a]!, false),
  ) as [AxisTable, AxisTable, AxisTable];
  const voxels = volumeOf(toShape);
  const channels = from.channels.map((ch) => {
    const out = new Float32Array(voxels);
    resample(ch, canonShape, out, toShape, linear, false);
    return out;
  });
  let seg = from.seg;
  if (seg !== null) {
    const nearest = [0, 1, 2].map((a) =>
      axisTable(toShape[a]!, canonShape[a]!, factors[a]!, offsets[a]!, true),
    ) as [AxisTable, AxisTable, AxisTable];
    const out = new Uint8Array(voxels);
    resample(seg, canonShape, out, toShape, nearest, true);
    seg = out;
  }
  const scaling = [
    [factors[0], 0, 0, offsets[0]],
    [0, factors[1], 0, offsets[1]],
    [0, 0, factors[2], offsets[2]],
    [0, 0, 0, 1],
  ];
  return {
    grid: {
      channels,
      seg,
      shape: toShape,
      affine: multiplyAffines(from.affine, scaling),
      spacing: toSpacing,
    },
    resampling,
  };
}

/** Step 3: crop to the brain (nonzero in any channel) plus the margin. */
function cropStep(from: Grid, o: ResolvedOptions): { grid: Grid; start: Vec3; end: Vec3 } {
  const gridShape = from.shape;
  let start: Vec3 = [0, 0, 0];
  let end: Vec3 = [...gridShape];
  const box = o.crop ? nonzeroBox(from.channels, gridShape) : null;
  if (box !== null) {
    start = [0, 1, 2].map((a) => Math.max(0, box.start[a]! - o.margin[a]!)) as Vec3;
    end = [0, 1, 2].map((a) => Math.min(gridShape[a]!, box.end[a]! + o.margin[a]!)) as Vec3;
  }
  const outShape: Vec3 = [end[0] - start[0], end[1] - start[1], end[2] - start[2]];
  const cropped = outShape.some((n, a) => n !== gridShape[a]);
  let { channels, seg } = from;
  if (cropped) {
    const voxels = volumeOf(outShape);
    channels = channels.map((ch) => {
      const out = new Float32Array(voxels);
      cropVolume(ch, gridShape, start, end, out);
      return out;
    });
    if (seg !== null) {
      const out = new Uint8Array(voxels);
      cropVolume(seg, gridShape, start, end, out);
      seg = out;
    }
  }
  const affine = cropped
    ? multiplyAffines(from.affine, [
        [1, 0, 0, start[0]],
        [0, 1, 0, start[1]],
        [0, 0, 1, start[2]],
        [0, 0, 0, 1],
      ])
    : copyAffine(from.affine);
  return { grid: { channels, seg, shape: outShape, affine, spacing: from.spacing }, start, end };
}

/**
 * Preprocesses a case (its images and, when present, its seg) and records each step. The input
 * is not modified. The returned case has fresh arrays, the new shape, spacing and affine, and no
 * `header` (that described the original file).
 */
export function preprocessCase(c: LoadedCase, opts: PreprocessOptions = {}): PreprocessResult {
  checkCase(c);
  const o = resolveOptions(opts);
  const shape: Vec3 = [c.shape[0], c.shape[1], c.shape[2]];
  const affine = copyAffine(c.affine);
  const spacing = voxelSizes(affine);
  const found = ioOrientation(affine);
  const codes = orntToAxcodes(found);

  const { grid: canon, ornt } = reorientStep(c, o, { shape, affine, spacing, found });
  const { grid: resampled, resampling } = resampleStep(canon, o);
  const { grid: out, start, end } = cropStep(resampled, o);

  // 4. z-score; steps above may have returned the caller's arrays unchanged, so copy first
  let { channels, seg } = out;
  if (channels.some((ch, i) => ch === c.channels[i])) {
    channels = channels.map((ch, i) => (ch === c.channels[i] ? ch.slice() : ch));
  }
  if (seg !== null && seg === c.seg) seg = seg.slice();
  let normalization: PreprocessRecord["normalization"] = null;
  if (o.normalize) {
    const stats = channels.map(zscoreNonzero);
    normalization = { mean: stats.map((s) => s.mean), std: stats.map((s) => s.std) };
  }

  const record: PreprocessRecord = {
    version: 1,
    original: { shape, affine, spacing, axcodes: codes },
    reorientation: {
      ornt: ornt.map(([axis, flip]) => [axis, flip]),
      axcodes: o.canonical ? "RAS" : codes,
      shape: canon.shape,
      affine: canon.affine,
      spacing: canon.spacing,
    },
    resampling,
    crop: { fromShape: resampled.shape, start, end },
    normalization,
    shape: out.shape,
    spacing: out.spacing,
    affine: out.affine,
  };
  return {
    case: {
      id: c.id,
      channels,
      modalities: c.modalities.slice(),
      seg,
      shape: [...out.shape],
      spacing: [...out.spacing],
      affine: copyAffine(out.affine),
    },
    record,
  };
}

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
  const isIdentity = ornt.every(([axis, flip], i) => axis === i && flip === 1);
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
        ) as [AxisTable, AxisTable, AxisTable]);

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
