// Public API of @brats/unet3d: what a user builds, trains, saves, exports and runs a model with.
// Everything not exported here is internal (layer classes, kernels, window helpers, proto code).
// Importing this module registers nothing and picks no backend: applications call setupTfjs()
// (backend, custom layers, fast kernels, one report line); code that picks its own backend calls
// registerBratsLayers() before loading a model.
export { UNet3DError, type UNet3DErrorCode } from "./errors.js";
export {
  countTrainableParams,
  createUNet3D,
  resolveUNet3DConfig,
  unet3dConfigOf,
  type ResolvedUNet3DConfig,
  type UNet3DConfig,
} from "./model.js";
export { registerBratsLayers } from "./register.js";
export {
  binaryCrossEntropy,
  categoricalCrossEntropy,
  diceCELoss,
  regionDiceBCELoss,
  softDiceLoss,
  type CrossEntropyOptions,
  type DiceCEOptions,
  type DiceOptions,
} from "./losses.js";
export { loadModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from "./io.js";
export {
  predictVolume,
  type PredictOptions,
  type PredictResult,
  type Volume,
  type VolumePredictor,
  type WindowPredictor,
} from "./inference.js";
export type { BackendName, BackendPreference, BackendReport } from "./backend.js";
export {
  estimateTrainStepHeapBytes,
  setupTfjs,
  WASM_HEAP_LIMIT_BYTES,
  type SetupTfjsOptions,
  type TfjsSetup,
  type TrainStepSize,
} from "./setup.js";
export { train } from "./train/loop.js";
export type { Schedule } from "./train/schedule.js";
export { LOG_JSONL, METRICS_CSV } from "./train/log.js";
export { TRAIN_STATE_JSON, type TrainState } from "./train/checkpoint.js";
export type {
  BatchSource,
  CaseScorer,
  StopReason,
  TrainBatch,
  TrainEvent,
  TrainOptions,
  TrainResult,
  ValidationCase,
  ValidationOptions,
} from "./train/options.js";
// ONNX export, model metadata and the onnxruntime-node engine.
export {
  BRATS_METADATA_KEY,
  metadataProps,
  parseModelMetadata,
  type BratsModelMetadata,
  type BratsModelPreprocessing,
} from "./metadata.js";
export { exportOnnx, saveOnnx, type ExportOnnxOptions } from "./onnx/export.js";
export { readOnnxModelInfo, type OnnxModelInfo } from "./onnx/read.js";
export {
  loadOnnxModel,
  ONNXRUNTIME_INSTALL_HINT,
  type LoadOnnxOptions,
  type OnnxExecutionProvider,
  type OnnxModel,
} from "./onnx/runtime.js";
