// Types shared by every module of @brats/metrics.
import type { LabelConvention, RegionName } from "@brats/conventions";

/** Voxel size in mm along x, y, z (the NIfTI pixdim[1..3]). */
export type Spacing = readonly [number, number, number];
/** Voxels along x, y, z; volumes are stored in Fortran order (x fastest). */
export type Shape = readonly [number, number, number];
/** Any integer-valued label volume (Fortran order, x fastest): Uint8Array, Int16Array, Float32Array, number[]... */
export type LabelVolume = ArrayLike<number>;

/** Voxel counts: true/false positives/negatives of a predicted mask against the ground truth. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface MetricOptions {
  /** HD/HD95/ASSD when exactly one mask is empty (default 373.12866 = diagonal of 240×240×155 in mm). */
  emptyDistance?: number;
  /** "brats" (default): both empty → Dice 1, HD95 0, sensitivity/precision 1; one empty → Dice 0, HD95 emptyDistance,
   *  zero-denominator ratios 0. "nan": MONAI-style, any undefined value is NaN. */
  emptyPolicy?: "brats" | "nan";
}

/** Every metric of one predicted mask against its ground truth. Distances in mm, volumes in mL. */
export interface MetricSet {
  dice: number;
  hd95: number;
  hd: number;
  assd: number;
  sensitivity: number;
  specificity: number;
  precision: number;
  jaccard: number;
  volumePredMl: number;
  volumeGtMl: number;
}

export interface EvaluateOptions extends MetricOptions {
  /** Label convention, default "brats2021". */
  convention?: LabelConvention;
  /** Remap predicted labels before scoring, e.g. {3: 4} for models that write enhancing tumour as 3. */
  labelMap?: Record<number, number>;
}

export interface CaseMetrics {
  regions: Record<RegionName, MetricSet>;
  /** Keyed by label value ("1", "2", "4" under brats2021). */
  labels: Record<string, MetricSet>;
  /** Nonzero labels present but unused by the convention (after the label map), ascending; absent when none. */
  unknownLabels?: { pred: number[]; gt: number[] };
}

/** Statistics over cases; non-finite values are excluded from every field and from n. std is the population std. */
export interface Summary {
  mean: number;
  std: number;
  median: number;
  q25: number;
  q75: number;
  n: number;
}

export type CaseSummary = Record<RegionName, Record<keyof MetricSet, Summary>>;
