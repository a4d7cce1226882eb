// Public API of @brats/unet3d. Everything not exported here is internal. Importing this module
// registers nothing and picks no backend: applications call setupTfjs() (or selectBackend(),
// registerBratsLayers() and registerFastConv3D() one by one) when they want them.
export { UNet3DError, type UNet3DErrorCode } from "./errors.js";
export {
  countTrainableParams,
  createUNet3D,
  resolveUNet3DConfig,
  trainableParamsByLayer,
  unet3dConfigOf,
  type ResolvedUNet3DConfig,
  type SpatialDim,
  type UNet3DConfig,
} from "./model.js";
export {
  BatchNormalization3D,
  BRATS_LAYER_CLASSES,
  GroupNormalization,
  InstanceNormalization,
  SpatialAttention3D,
  SpatialDropout3D,
  UpSampling3D,
  type BatchNormalization3DArgs,
  type GroupNormalizationArgs,
  type InstanceNormalizationArgs,
  type SpatialAttention3DArgs,
  type SpatialDropout3DArgs,
  type UpSampling3DArgs,
} from "./layers.js";
export { registerBratsLayers } from "./register.js";
export { registerConv3DTransposeGradient } from "./gradients.js";
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
export { folderIO, loadModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from "./io.js";
export {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_STACK_BYTES,
  FAST_CONV3D_KERNELS,
  getFastConv3DStats,
  isFastConv3DRegistered,
  registerFastConv3D,
  resetFastConv3DStats,
  unregisterFastConv3D,
  type FastConv3DKernelName,
  type FastConv3DOptions,
  type FastConv3DStats,
} from "./fast-conv3d/index.js";
export {
  predictVolume,
  type PredictOptions,
  type PredictResult,
  type Volume,
  type VolumePredictor,
  type WindowPredictor,
} from "./inference.js";
export {
  flipChannelsLast,
  MIRROR_FLIPS,
  slidingWindows,
  windowStarts,
  type Vec3,
} from "./inference-splitter.js";
export { gaussianImportance, IMPORTANCE_FLOOR } from "./inference-merger.js";
export {
  BACKEND_ORDER,
  selectBackend,
  type BackendAttempt,
  type BackendName,
  type BackendPreference,
  type BackendReport,
} from "./backend.js";
export { setupTfjs, type SetupTfjsOptions, type TfjsSetup } from "./setup.js";
export { train } from "./train/loop.js";
export { learningRateAt, type Schedule } from "./train/schedule.js";
export { regionDice } from "./train/validate.js";
export { LOG_JSONL, METRICS_CSV } from "./train/log.js";
export { OPTIMIZER_BIN, TRAIN_STATE_JSON, type TrainState } from "./train/checkpoint.js";
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
export {
  DEFAULT_OPSET,
  exportOnnx,
  ONNX_INPUT_NAME,
  ONNX_OUTPUT_NAME,
  saveOnnx,
  type ExportOnnxOptions,
} from "./onnx/export.js";
export { readOnnxModelInfo, type OnnxModelInfo } from "./onnx/read.js";
export {
  loadOnnxModel,
  ONNXRUNTIME_INSTALL_HINT,
  type LoadOnnxOptions,
  type OnnxExecutionProvider,
  type OnnxModel,
} from "./onnx/runtime.js";
