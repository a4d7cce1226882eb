// Public API of @brats/infer-app: run brats-infer from code (tests, the demo, pipelines).
export { InferError, USAGE_CODES, type InferErrorCode } from "./errors.js";
export { parseShard, shardCases, type Shard } from "./shard.js";
export {
  checkEnsemble,
  describeModel,
  loadModels,
  modelCardOf,
  ONNX_BACKENDS,
  TFJS_BACKENDS,
  type EngineChoice,
  type EngineName,
  type LoadedModel,
  type LoadedModels,
  type LoadModelsOptions,
  type ModelSource,
} from "./models.js";
export {
  caseState,
  readRecord,
  RECORD_FORMAT,
  RECORD_VERSION,
  settingsKey,
  type CaseRecord,
  type CaseSettings,
  type CaseState,
} from "./record.js";
export {
  METRICS_CSV,
  METRICS_JSON,
  OVERLAYS_DIR,
  REPORT_HTML,
  type CaseResult,
  type InferenceEvent,
  type InferenceHooks,
  type InferenceOptions,
  type InferenceSummary,
  type ModelInfo,
} from "./options.js";
export { runInference } from "./run.js";
export { preprocessOptions } from "./segment.js";
