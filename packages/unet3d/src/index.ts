// Public API of @brats/unet3d. Everything not exported here is internal. Importing this module
// registers nothing and picks no backend: call registerBratsLayers(), registerFastConv3D() and
// selectBackend() when the application wants them.
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
  flipChannelsLast,
  gaussianImportance,
  IMPORTANCE_FLOOR,
  MIRROR_FLIPS,
  predictVolume,
  slidingWindows,
  windowStarts,
  type PredictOptions,
  type PredictResult,
  type Vec3,
  type Volume,
  type VolumePredictor,
  type WindowPredictor,
} from "./inference.js";
export {
  BACKEND_ORDER,
  selectBackend,
  type BackendAttempt,
  type BackendName,
  type BackendPreference,
  type BackendReport,
} from "./backend.js";
export {
  learningRateAt,
  LOG_JSONL,
  METRICS_CSV,
  OPTIMIZER_BIN,
  regionDice,
  train,
  TRAIN_STATE_JSON,
  type BatchSource,
  type CaseScorer,
  type EpochRecord,
  type Region,
  type RegionScores,
  type Schedule,
  type StopReason,
  type TrainBatch,
  type TrainEvent,
  type TrainOptions,
  type TrainResult,
  type TrainState,
  type ValidationCase,
  type ValidationOptions,
} from "./train.js";
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
