// Public API of @brats/metrics. Everything not exported here is internal.
export { MetricsError, type MetricsErrorCode } from "./errors.js";
// Label conventions and region names live in @brats/conventions.
export { confusion, dice, jaccard, precision, sensitivity, specificity } from "./confusion.js";
export { assd, hausdorff, hd95, surfaceDistances, type SurfaceDistances } from "./distance.js";
export {
  averageSurfaceDistances,
  hd95Surface,
  SURFACE_HD95_EMPTY,
  surfelDistances,
  type SurfelDistances,
} from "./surfels.js";
export {
  CHALLENGES,
  lesionWise,
  parseChallenge,
  type Challenge,
  type LesionDetail,
  type LesionWiseOptions,
  type LesionWiseResult,
} from "./lesions.js";
export { DEFAULT_EMPTY_DISTANCE } from "./options.js";
export { percentile } from "./stats.js";
export { computeMetrics, evaluateCase } from "./evaluate.js";
export { METRIC_NAMES, summarize, summarizeCases } from "./summary.js";
export { BratsMetric } from "./accumulator.js";
export type {
  CaseMetrics,
  CaseSummary,
  Confusion,
  EvaluateOptions,
  LabelVolume,
  MetricOptions,
  MetricSet,
  Shape,
  Spacing,
  Summary,
} from "./types.js";
export {
  evaluationReport,
  reportToCsv,
  reportToJson,
  scoredCase,
  type EvaluationReport,
  type EvaluationReportOptions,
  type FailedCase,
  type ScoredCase,
} from "./report.js";
