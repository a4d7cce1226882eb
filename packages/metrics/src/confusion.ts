// Overlap metrics from voxel counts. Every ratio has the form a / b; when b is 0 the value is
// undefined, and the empty policy decides: "brats" gives 1 when prediction and ground truth agree
// everywhere (fp = fn = 0, e.g. both masks empty) and 0 otherwise; "nan" gives NaN.
import { MetricsError } from "./errors.js";
import { resolveMetricOptions } from "./options.js";
import type { Confusion, MetricOptions } from "./types.js";

/** Counts tp/fp/fn/tn of two binary masks (nonzero = inside). Different lengths: SHAPE_MISMATCH. */
export function confusion(pred: Uint8Array, gt: Uint8Array): Confusion {
  if (pred.length !== gt.length) {
    throw new MetricsError(
      "SHAPE_MISMATCH",
      `pred has ${pred.length} voxels but gt has ${gt.length}`,
    );
  }
  let tp = 0;
  let predCount = 0;
  let gtCount = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] !== 0 ? 1 : 0;
    const g = gt[i] !== 0 ? 1 : 0;
    predCount += p;
    gtCount += g;
    tp += p & g;
  }
  return confusionFromCounts(tp, predCount, gtCount, pred.length);
}

/** A confusion from the overlap and the two mask sizes within `total` voxels. */
export function confusionFromCounts(
  tp: number,
  predCount: number,
  gtCount: number,
  total: number,
): Confusion {
  const fp = predCount - tp;
  const fn = gtCount - tp;
  return { tp, fp, fn, tn: total - tp - fp - fn };
}

function ratio(
  numerator: number,
  denominator: number,
  c: Confusion,
  policy: "brats" | "nan",
): number {
  if (denominator > 0) return numerator / denominator;
  if (policy === "nan") return NaN;
  return c.fp === 0 && c.fn === 0 ? 1 : 0;
}

/** 2tp / (2tp + fp + fn). */
export function dice(c: Confusion, opts?: MetricOptions): number {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, c, resolveMetricOptions(opts).emptyPolicy);
}

/** tp / (tp + fp + fn) (intersection over union). */
export function jaccard(c: Confusion, opts?: MetricOptions): number {
  return ratio(c.tp, c.tp + c.fp + c.fn, c, resolveMetricOptions(opts).emptyPolicy);
}

/** tp / (tp + fp) (positive predictive value). */
export function precision(c: Confusion, opts?: MetricOptions): number {
  return ratio(c.tp, c.tp + c.fp, c, resolveMetricOptions(opts).emptyPolicy);
}

/** tp / (tp + fn) (recall, true positive rate). */
export function sensitivity(c: Confusion, opts?: MetricOptions): number {
  return ratio(c.tp, c.tp + c.fn, c, resolveMetricOptions(opts).emptyPolicy);
}

/** tn / (tn + fp) (true negative rate). */
export function specificity(c: Confusion, opts?: MetricOptions): number {
  return ratio(c.tn, c.tn + c.fp, c, resolveMetricOptions(opts).emptyPolicy);
}
