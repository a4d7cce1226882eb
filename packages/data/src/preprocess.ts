/**
 * nnU-Net/MONAI-style preprocessing of a loaded case, with a record that maps predictions back:
 * reorient to the closest canonical (RAS) orientation → resample to the target spacing where it
 * differs (trilinear images, nearest labels) → crop to the brain bounding box (nonzero in any
 * channel) plus a margin → per-modality z-score over nonzero voxels (background stays 0).
 *
 * Volumes are x-fastest (index = x + X·(y + Y·z)), as in @brats/nifti.
 */
import {
  applyOrientation,
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

export type Vec3 = [number, number, number];

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

// ---------------------------------------------------------------------------------------------
// small geometry helpers

function badOption(message: string): DataError {
  return new DataError("BAD_OPTION", message);
}

function volumeOf(shape: readonly number[]): number {
  return (shape[0] as number) * (shape[1] as number) * (shape[2] as number);
}

function copyAffine(affine: readonly (readonly number[])[]): number[][] {
  return affine.map((row) => row.slice());
}

function isVec3Of(value: unknown, test: (v: number) => boolean): value is Vec3 {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    value.every((v) => typeof v === "number" && test(v))
  );
}

function checkAffine(affine: unknown, what: string): asserts affine is number[][] {
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

/**
 * The transform to the closest canonical (RAS) orientation: @brats/nifti's ioOrientation, whose
 * rows are already [canonical axis, flip] per original axis. GEOMETRY_MISMATCH when an axis maps
 * to no world axis.
 */
function canonicalOrnt(start: Ornt, id: string): Array<[number, number]> {
  if (start.some(([axis]) => Number.isNaN(axis))) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${id}: its affine maps a voxel axis to no world axis (axis codes ${orntToAxcodes(start)}); it cannot be reoriented`,
    );
  }
  return start.map(([axis, flip]) => [axis, flip]);
}

type Voxels = Float32Array | Uint8Array;

/** `data` (of `shape`) with its axes moved and flipped by `ornt` (nibabel's apply_orientation). */
function reoriented<T extends Voxels>(data: T, shape: Vec3, ornt: Array<[number, number]>): T {
  // applyOrientation returns the same array type it was given.
  return applyOrientation(data, shape, ornt).data as T;
}

// ---------------------------------------------------------------------------------------------
// resampling on separable per-axis tables

interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float64Array;
}

/**
 * Output voxel i reads input coordinate `offset + i·factor`, clamped to [0, n−1] (the half voxel
 * beyond the outer centres repeats the edge). Linear: its two neighbours and the weight of the
 * upper one; nearest: the rounded coordinate in `lo`, weight 0.
 */
function axisTable(
  outSize: number,
  inSize: number,
  factor: number,
  offset: number,
  nearest: boolean,
): AxisTable {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const weight = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const c = Math.min(inSize - 1, Math.max(0, offset + i * factor));
    if (nearest) {
      lo[i] = hi[i] = Math.round(c);
    } else {
      const f = Math.floor(c);
      lo[i] = f;
      hi[i] = Math.min(f + 1, inSize - 1);
      weight[i] = c - f;
    }
  }
  return { lo, hi, weight };
}

/** Trilinear (or nearest, when the tables are) resampling of an x-fastest volume. */
function resample<T extends Voxels>(
  src: T,
  inShape: Vec3,
  dst: T,
  outShape: Vec3,
  tables: [AxisTable, AxisTable, AxisTable],
  nearest: boolean,
): void {
  const [tx, ty, tz] = tables;
  const [inX, inY] = inShape;
  const [outX, outY, outZ] = outShape;
  let o = 0;
  for (let z = 0; z < outZ; z++) {
    const z0 = tz.lo[z]!;
    const z1 = tz.hi[z]!;
    const wz = tz.weight[z]!;
    for (let y = 0; y < outY; y++) {
      const y0 = ty.lo[y]!;
      const y1 = ty.hi[y]!;
      const wy = ty.weight[y]!;
      const r00 = (y0 + inY * z0) * inX;
      if (nearest) {
        for (let x = 0; x < outX; x++) dst[o++] = src[r00 + tx.lo[x]!]!;
        continue;
      }
      const r10 = (y1 + inY * z0) * inX;
      const r01 = (y0 + inY * z1) * inX;
      const r11 = (y1 + inY * z1) * inX;
      for (let x = 0; x < outX; x++) {
        const x0 = tx.lo[x]!;
        const x1 = tx.hi[x]!;
        const wx = tx.weight[x]!;
        const c00 = src[r00 + x0]! * (1 - wx) + src[r00 + x1]! * wx;
        const c10 = src[r10 + x0]! * (1 - wx) + src[r10 + x1]! * wx;
        const c01 = src[r01 + x0]! * (1 - wx) + src[r01 + x1]! * wx;
        const c11 = src[r11 + x0]! * (1 - wx) + src[r11 + x1]! * wx;
        const c0 = c00 * (1 - wy) + c10 * wy;
        const c1 = c01 * (1 - wy) + c11 * wy;
        dst[o++] = c0 * (1 - wz) + c1 * wz;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// crop

/** Bounding box [start, end) of voxels nonzero in any channel, or null when all are zero. */
function nonzeroBox(
  channels: readonly Float32Array[],
  shape: Vec3,
): { start: Vec3; end: Vec3 } | null {
  const [nx, ny, nz] = shape;
  const start: Vec3 = [nx, ny, nz];
  const end: Vec3 = [0, 0, 0];
  for (const data of channels) {
    let p = 0;
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++, p += nx) {
        let first = -1;
        for (let x = 0; x < nx; x++) {
          if (data[p + x] !== 0) {
            first = x;
            break;
          }
        }
        if (first < 0) continue;
        let last = nx - 1;
        while (data[p + last] === 0) last--;
        if (first < start[0]) start[0] = first;
        if (last + 1 > end[0]) end[0] = last + 1;
        if (y < start[1]) start[1] = y;
        if (y + 1 > end[1]) end[1] = y + 1;
        if (z < start[2]) start[2] = z;
        if (z + 1 > end[2]) end[2] = z + 1;
      }
    }
  }
  return end[0] === 0 ? null : { start, end };
}

function cropVolume<T extends Voxels>(src: T, shape: Vec3, start: Vec3, end: Vec3, dst: T): void {
  const [nx, ny] = shape;
  const width = end[0] - start[0];
  let o = 0;
  for (let z = start[2]; z < end[2]; z++) {
    for (let y = start[1]; y < end[1]; y++) {
      const row = start[0] + nx * (y + ny * z);
      dst.set(src.subarray(row, row + width), o);
      o += width;
    }
  }
}

/** Writes a cropped volume into `dst` (the full grid, already filled with the background). */
function uncropVolume<T extends Voxels>(src: T, shape: Vec3, start: Vec3, end: Vec3, dst: T): void {
  const [nx, ny] = shape;
  const width = end[0] - start[0];
  let o = 0;
  for (let z = start[2]; z < end[2]; z++) {
    for (let y = start[1]; y < end[1]; y++) {
      dst.set(src.subarray(o, o + width), start[0] + nx * (y + ny * z));
      o += width;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// z-score

/** In place: nonzero voxels → (v − mean) / std over the nonzero voxels; zeros stay 0. */
function zscoreNonzero(data: Float32Array): { mean: number; std: number } {
  // one pass of shifted sums (shift: the first nonzero value) keeps the variance accurate in float64
  let shift = 0;
  let count = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    if (count === 0) shift = v;
    const d = v - shift;
    count++;
    sum += d;
    squares += d * d;
  }
  if (count === 0) return { mean: 0, std: 1 };
  const meanShifted = sum / count;
  const mean = shift + meanShifted;
  const std = Math.sqrt(Math.max(0, squares / count - meanShifted * meanShifted));
  // as nnU-Net: a constant brain maps to 0 instead of dividing by zero
  const scale = 1 / Math.max(std, 1e-8);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== 0) data[i] = (v - mean) * scale;
  }
  return { mean, std };
}

// ---------------------------------------------------------------------------------------------
// public API

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

  // 1. reorientation
  const ornt: Array<[number, number]> = o.canonical
    ? canonicalOrnt(found, c.id)
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
  let channels = c.channels.map((ch) => reorientTo(ch));
  let seg = c.seg === null ? null : reorientTo(c.seg);

  // 2. resampling, on the axes whose spacing differs from the target
  let resampling: PreprocessRecord["resampling"] = null;
  let gridShape: Vec3 = canonShape;
  let gridAffine = canonAffine;
  let gridSpacing: Vec3 = canonSpacing;
  const target = o.spacing;
  if (
    target !== null &&
    [0, 1, 2].some((a) => Math.abs(canonSpacing[a]! - target[a]!) > o.tolerance)
  ) {
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
    resampling = {
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
    channels = channels.map((ch) => {
      const out = new Float32Array(voxels);
      resample(ch, canonShape, out, toShape, linear, false);
      return out;
    });
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
    gridShape = toShape;
    gridAffine = multiplyAffines(canonAffine, scaling);
    gridSpacing = toSpacing;
  }

  // 3. crop to the brain (nonzero in any channel) plus the margin
  let start: Vec3 = [0, 0, 0];
  let end: Vec3 = [...gridShape];
  const box = o.crop ? nonzeroBox(channels, gridShape) : null;
  if (box !== null) {
    start = [0, 1, 2].map((a) => Math.max(0, box.start[a]! - o.margin[a]!)) as Vec3;
    end = [0, 1, 2].map((a) => Math.min(gridShape[a]!, box.end[a]! + o.margin[a]!)) as Vec3;
  }
  const outShape: Vec3 = [end[0] - start[0], end[1] - start[1], end[2] - start[2]];
  const cropped = outShape.some((n, a) => n !== gridShape[a]);
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
  const outAffine = cropped
    ? multiplyAffines(gridAffine, [
        [1, 0, 0, start[0]],
        [0, 1, 0, start[1]],
        [0, 0, 1, start[2]],
        [0, 0, 0, 1],
      ])
    : copyAffine(gridAffine);

  // 4. z-score; steps above may have returned the caller's arrays unchanged, so copy first
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
      shape: canonShape,
      affine: canonAffine,
      spacing: canonSpacing,
    },
    resampling,
    crop: { fromShape: gridShape, start, end },
    normalization,
    shape: outShape,
    spacing: gridSpacing,
    affine: outAffine,
  };
  return {
    case: {
      id: c.id,
      channels,
      modalities: c.modalities.slice(),
      seg,
      shape: [...outShape],
      spacing: [...gridSpacing],
      affine: copyAffine(outAffine),
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
