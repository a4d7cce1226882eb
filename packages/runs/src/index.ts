// Public API of @brats/runs: the run folder brats-train writes and brats-infer reads. Modules
// import one way: files, errors, config → record → metadata → export, model-card.
export { RunsError, type RunsErrorCode } from "./errors.js";
export {
  CHECKPOINT_NAMES,
  CONFIG_JSON,
  CURVES_PNG,
  MODEL_CARD_MD,
  MODEL_ONNX,
  RUN_FILES,
  type CheckpointName,
} from "./files.js";
export {
  DEFAULT_CONFIG,
  TRAIN_PREPROCESSING,
  unetOptions,
  type Split,
  type SplitSpec,
  type TrainConfig,
} from "./config.js";
export {
  checkpointOf,
  existingRunFiles,
  isRunFolder,
  readRunLog,
  readRunRecord,
  readTrainState,
  removeRunFiles,
  writeRunFile,
  writeRunRecord,
  type Checkpoint,
  type RunRecord,
} from "./record.js";
export {
  runMetadata,
  validationSummary,
  type ValidationScores,
  type ValidationSummary,
} from "./metadata.js";
export {
  exportRunOnnx,
  runOnnxBytes,
  type RunOnnx,
  type RunOnnxBytes,
  type RunOnnxExport,
  type RunOnnxOptions,
} from "./export.js";
export { renderModelCard, writeModelCard, type ModelCardInfo } from "./model-card.js";
