// Library entry of the training app, for the inference app, the demo and tests: run a training
// job from code exactly as `brats-train` does, and read what a run folder holds.
export {
  CONFIG_JSON,
  CURVES_PNG,
  DEFAULT_CONFIG,
  MODEL_CARD_MD,
  MODEL_ONNX,
  runTraining,
  type RunHooks,
  type RunRecord,
  type RunSummary,
  type TrainConfig,
} from "./run.js";
export { splitCases, type Split, type SplitSpec } from "./split.js";
export { TrainAppError, type TrainAppErrorCode } from "./errors.js";
export {
  TRAIN_PREPROCESSING,
  checkpointOf,
  readRunRecord,
  runMetadata,
  unetOptions,
  type CheckpointName,
} from "./metadata.js";
export { exportRunOnnx, type RunOnnxExport } from "./export.js";
export { renderModelCard, writeModelCard, type ModelCardInfo } from "./model-card.js";
