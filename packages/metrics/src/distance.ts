// Surface distances as medpy.metric.binary defines them (the definition nnU-Net's BraTS evaluation
// uses): for each surface voxel of one mask, the distance to the nearest surface voxel of the
// other; hd = the larger of the two directed maxima, hd95 = np.percentile of both directions
// pooled at 95, assd = the mean of the two directed means.
import { boxDims, cropMask, isEmptyBox, padBox, unionBoundingBox } from "./crop.js";
import { checkSpacing, checkVolumes, resolveMetricOptions } from "./options.js";
import type { ResolvedMetricOptions } from "./options.js";
import { mean, percentileInPlace } from "./stats.js";
import { extractSurfaces, nearestDistances, VoxelList } from "./surface.js";
import type { MetricOptions, Shape, Spacing } from "./types.js";

export interface SurfaceDistances {
  /** mm from each surface voxel of pred (Fortran order) to the nearest surface voxel of gt. */
  predToGt: Float64Array;
  /** mm from each surface voxel of gt to the nearest surface voxel of pred. */
  gtToPred: Float64Array;
}

export interface DistanceMetrics {
  hd: number;
  hd95: number;
  assd: number;
}

/** Code → mask bits for 0/1 (or 0/nonzero) masks: every nonzero code is inside mask 0. */
const BINARY_BITS = (() => {
  const bits = new Uint8Array(256).fill(1);
  bits[0] = 0;
  return bits;
})();

/** Directed distances between two surfaces (scan-order voxel lists); empty arrays when either is empty. */
export function distancesBetween(
  predSurface: VoxelList,
  gtSurface: VoxelList,
  spacing: Spacing,
): SurfaceDistances {
  if (predSurface.length === 0 || gtSurface.length === 0) {
    return { predToGt: new Float64Array(0), gtToPred: new Float64Array(0) };
  }
  const predToGt = new Float64Array(predSurface.length);
  const gtToPred = new Float64Array(gtSurface.length);
  nearestDistances(gtSurface, predSurface, spacing, predToGt);
  nearestDistances(predSurface, gtSurface, spacing, gtToPred);
  return { predToGt, gtToPred };
}

/**
 * Distances (mm) from each surface voxel of one binary mask (nonzero = inside, Fortran order) to
 * the nearest surface voxel of the other, both directions, each in the mask's scan order; empty
 * arrays when a mask is empty. Computed in the union bounding box plus a one-voxel margin with an
 * exact distance transform; never pairwise.
 */
export function surfaceDistances(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
): SurfaceDistances {
  checkVolumes(pred, gt, shape);
  checkSpacing(spacing);
  const box = unionBoundingBox(pred, gt, shape);
  if (isEmptyBox(box)) return { predToGt: new Float64Array(0), gtToPred: new Float64Array(0) };
  const crop = padBox(box, 1, shape);
  const dims = boxDims(crop);
  const predSurface = new VoxelList();
  const gtSurface = new VoxelList();
  extractSurfaces(cropMask(pred, shape, crop), BINARY_BITS, dims, [predSurface]);
  extractSurfaces(cropMask(gt, shape, crop), BINARY_BITS, dims, [gtSurface]);
  return distancesBetween(predSurface, gtSurface, spacing);
}

/** hd, hd95 and assd of two non-empty distance sets. */
export function distanceMetrics(d: SurfaceDistances): DistanceMetrics {
  const { predToGt, gtToPred } = d;
  const pooled = new Float64Array(predToGt.length + gtToPred.length);
  pooled.set(predToGt);
  pooled.set(gtToPred, predToGt.length);
  let hd = pooled.length > 0 ? -Infinity : NaN;
  for (let i = 0; i < pooled.length; i++) if (pooled[i]! > hd) hd = pooled[i]!;
  return {
    hd,
    hd95: percentileInPlace(pooled, 95),
    assd: (mean(predToGt) + mean(gtToPred)) / 2,
  };
}

/** hd/hd95/assd when a mask is empty: both → 0 ("brats") or NaN; one → emptyDistance or NaN. */
export function emptyDistanceMetrics(
  predEmpty: boolean,
  gtEmpty: boolean,
  opts: ResolvedMetricOptions,
): DistanceMetrics {
  const value = opts.emptyPolicy === "nan" ? NaN : predEmpty && gtEmpty ? 0 : opts.emptyDistance;
  return { hd: value, hd95: value, assd: value };
}

function distanceMetricsOf(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
  opts: MetricOptions | undefined,
): DistanceMetrics {
  const resolved = resolveMetricOptions(opts);
  const d = surfaceDistances(pred, gt, shape, spacing);
  if (d.predToGt.length === 0 || d.gtToPred.length === 0) {
    return emptyDistanceMetrics(!hasNonzero(pred), !hasNonzero(gt), resolved);
  }
  return distanceMetrics(d);
}

function hasNonzero(mask: Uint8Array): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) return true;
  return false;
}

/** Hausdorff distance (mm): the larger of the two directed maximum surface distances. */
export function hausdorff(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
  opts?: MetricOptions,
): number {
  return distanceMetricsOf(pred, gt, shape, spacing, opts).hd;
}

/** 95th percentile (numpy linear) of both directions' surface distances pooled (mm). */
export function hd95(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
  opts?: MetricOptions,
): number {
  return distanceMetricsOf(pred, gt, shape, spacing, opts).hd95;
}

/** Average symmetric surface distance (mm): the mean of the two directed mean distances. */
export function assd(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
  opts?: MetricOptions,
): number {
  return distanceMetricsOf(pred, gt, shape, spacing, opts).assd;
}
