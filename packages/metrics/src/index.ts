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
export { CHALLENGES, lesionWise, parseChallenge, type LesionWiseResult } from "./lesions.js";
export { DEFAULT_EMPTY_DISTANCE } from "./options.js";
export { percentile } from "./stats.js";
export { computeMetrics, evaluateCase } from "./evaluate.js";
export {
  LESION_WISE_METRIC_NAMES,
  METRIC_NAMES,
  metricValue,
  summarize,
  summarizeCases,
} from "./summary.js";
export { BratsMetric } from "./accumulator.js";
export type {
  CaseMetrics,
  CaseSummary,
  Challenge,
  Confusion,
  EvaluateOptions,
  LabelVolume,
  LesionDetail,
  LesionWiseMetricName,
  LesionWiseOptions,
  LesionWiseScores,
  MetricOptions,
  MetricSet,
  RegionLesions,
  RegionSummary,
  ScalarMetricName,
  Shape,
  Spacing,
  Summary,
} from "./types.js";
export {
  evaluationReport,
  LESION_CSV_COLUMNS,
  lesionsToCsv,
  reportToCsv,
  reportToJson,
  scoredCase,
  type EvaluationReport,
  type EvaluationReportOptions,
  type FailedCase,
  type LesionWiseParameters,
  type ScoredCase,
} from "./report.js";
