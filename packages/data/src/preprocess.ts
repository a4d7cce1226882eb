/**
 * nnU-Net/MONAI-style preprocessing of a loaded case, with a record that maps predictions back:
 * reorient to the closest canonical (RAS) orientation → resample to the target spacing where it
 * differs (trilinear images, nearest labels) → crop to the brain bounding box (nonzero in any
 * channel) plus a margin → per-modality z-score over nonzero voxels (background stays 0).
 *
 * Volumes are x-fastest (index = x + X·(y + Y·z)), as in @brats/nifti. Each step has its module
 * (preprocess-reorient, -resample, -crop, -normalize); the undo is in preprocess-undo.
 */
import { ioOrientation, orntToAxcodes, voxelSizes } from "@brats/nifti";
import type { LoadedCase } from "./cases.js";
import { badOption, DataError } from "./errors.js";
import { checkAffine, copyAffine, isVec3Of, volumeOf, type Vec3, type Voxels } from "./grid.js";
import { cropBox, cropCase } from "./preprocess-crop.js";
import { zscoreNonzero } from "./preprocess-normalize.js";
import {
  canonicalOrnt,
  identityOrnt,
  isIdentityOrnt,
  reoriented,
  reorientedGrid,
  type AxisMap,
} from "./preprocess-reorient.js";
import { resampleCase, resampledAffine, resamplingPlan } from "./preprocess-resample.js";

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
  const ornt: AxisMap = o.canonical ? canonicalOrnt(found, c.id) : identityOrnt();
  const isIdentity = isIdentityOrnt(ornt);
  const canon = reorientedGrid(shape, spacing, affine, ornt);
  const reorientTo = <T extends Voxels>(data: T): T =>
    isIdentity ? data : reoriented(data, shape, ornt);
  let channels = c.channels.map((ch) => reorientTo(ch));
  let seg = c.seg === null ? null : reorientTo(c.seg);

  // 2. resampling, on the axes whose spacing differs from the target
  let resampling: PreprocessRecord["resampling"] = null;
  let grid = canon;
  const plan = resamplingPlan(canon.shape, canon.spacing, o.spacing, o.tolerance);
  if (plan !== null) {
    const { toShape, toSpacing, factors, offsets } = plan;
    resampling = {
      fromShape: canon.shape,
      toShape,
      fromSpacing: canon.spacing,
      toSpacing,
      factors,
      offsets,
    };
    ({ channels, seg } = resampleCase(channels, seg, canon.shape, plan));
    grid = { shape: toShape, spacing: toSpacing, affine: resampledAffine(canon.affine, plan) };
  }

  // 3. crop to the brain (nonzero in any channel) plus the margin
  const { start, end } = cropBox(channels, grid.shape, o.crop, o.margin);
  const out = cropCase(channels, seg, grid, start, end);
  ({ channels, seg } = out);

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
      shape: canon.shape,
      affine: canon.affine,
      spacing: canon.spacing,
    },
    resampling,
    crop: { fromShape: grid.shape, start, end },
    normalization,
    shape: out.shape,
    spacing: grid.spacing,
    affine: out.affine,
  };
  return {
    case: {
      id: c.id,
      channels,
      modalities: c.modalities.slice(),
      seg,
      shape: [...out.shape],
      spacing: [...grid.spacing],
      affine: copyAffine(out.affine),
    },
    record,
  };
}
