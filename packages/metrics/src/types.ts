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
  /** The surface-distance library's HD95 (area-weighted surfels), as the BraTS 2023+ scorer
   *  reports the whole-region HD95; with `lesionWise` only. */
  hd95Surface?: number;
  /** With `lesionWise` only, and for regions only. */
  lesionWise?: LesionWiseScores;
}

export interface EvaluateOptions extends MetricOptions {
  /** Label convention, default "brats2021". */
  convention?: LabelConvention;
  /** Remap predicted labels before scoring, e.g. {3: 4} for models that write enhancing tumour as 3. */
  labelMap?: Record<number, number>;
  /** Adds lesion-wise scores and the surface HD95 to every region (BraTS 2023+). */
  lesionWise?: LesionWiseOptions;
  /** false: HD, HD95 and ASSD (medpy's, on surface voxels) are skipped and NaN, for when only the
   *  overlap scores and the BraTS 2023+ lesion-wise and surface scores are wanted, as the 2023+
   *  scorer reports them. Default true. */
  distances?: boolean;
}

export interface CaseMetrics {
  regions: Record<RegionName, MetricSet>;
  /** Keyed by label value ("1", "2", "4" under brats2021). */
  labels: Record<string, MetricSet>;
  /** Nonzero labels present but unused by the convention (after the label map), ascending; absent when none. */
  unknownLabels?: { pred: number[]; gt: number[] };
  /** With `lesionWise`: each region's lesions and unmatched predicted components. */
  lesions?: Record<RegionName, RegionLesions>;
}

/** Per-lesion detail of one region (what `brats-eval --lesions` writes). */
export interface RegionLesions {
  lesions: LesionDetail[];
  /** Predicted components matching no lesion, with their size. */
  falsePositives: { id: number; voxels: number; volume: number }[];
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

/** The metrics every MetricSet has. */
export type ScalarMetricName = Exclude<keyof MetricSet, "hd95Surface" | "lesionWise">;

/** The metrics of `lesionWise` evaluation, flattened (as CSV columns and summary fields). */
export type LesionWiseMetricName =
  | "hd95Surface"
  | "lesionWiseDice"
  | "lesionWiseHd95"
  | "lesionWiseTp"
  | "lesionWiseFp"
  | "lesionWiseFn";

/** Summaries of one region: every scalar metric, and the lesion-wise ones when cases have them. */
export type RegionSummary = Record<ScalarMetricName, Summary> &
  Partial<Record<LesionWiseMetricName, Summary>>;

export type CaseSummary = Record<RegionName, RegionSummary>;

/** The BraTS 2023+ challenges whose lesion-wise parameters @brats/metrics knows. */
export type Challenge = "GLI" | "SSA" | "PED" | "MEN" | "MET";

export interface LesionWiseOptions {
  /** Sets `dilation` and `threshold` to the challenge's. */
  challenge?: Challenge;
  /** Dilation iterations (18-connectivity element) that merge lesions and match components. */
  dilation?: number;
  /** Lesions of at most this volume (mm³) are left out. */
  threshold?: number;
}

/** Lesion-wise scores of one region: the BraTS 2023+ ranking metrics. */
export interface LesionWiseScores {
  dice: number;
  hd95: number;
  /** Counted lesions with at least one match, without any, and unmatched predicted components. */
  tp: number;
  fp: number;
  fn: number;
}

/** One ground-truth lesion, for the per-lesion report. */
export interface LesionDetail {
  /** 1-based, in x-fastest order of each lesion's first voxel. */
  id: number;
  voxels: number;
  /** mm³. */
  volume: number;
  /** The predicted components (1-based, same numbering as `falsePositives`) it matches. */
  matched: number[];
  dice: number;
  hd95: number;
  /** False when its volume is at or below the threshold (left out of the scores and counts). */
  counted: boolean;
}
