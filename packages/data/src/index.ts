// Public API of @brats/data. Everything not exported here is internal.
// Label conventions, class maps and region masks live in @brats/conventions.
export { DataError, type DataErrorCode } from "./errors.js";
export {
  MODALITIES,
  caseFileName,
  discoverCases,
  loadCase,
  parseCaseFileName,
  type CaseFileName,
  type CaseFiles,
  type CaseNaming,
  type DiscoverOptions,
  type LoadCaseOptions,
  type LoadedCase,
  type Modality,
} from "./cases.js";
export { PHANTOM_TISSUES, type PhantomTissue } from "./phantom-anatomy.js";
export { generatePhantom, type Phantom, type PhantomOptions } from "./phantom.js";
export { writePhantomDataset, type PhantomDatasetOptions } from "./phantom-dataset.js";
export { createRng, deriveRngState, randomInt, type Rng } from "./rng.js";
export type { Vec3 } from "./grid.js";
export {
  preprocessCase,
  type PreprocessOptions,
  type PreprocessRecord,
  type PreprocessResult,
} from "./preprocess.js";
export { undoPreprocess, type UndoResult } from "./preprocess-undo.js";
export {
  fromChannelsLast,
  samplePatch,
  toChannelsLast,
  type Patch,
  type PatchSource,
  type SamplePatchOptions,
} from "./patches.js";
export {
  applyAugmentation,
  augmentationOfStrength,
  augmentPatch,
  drawAugmentation,
  MAX_AUGMENT_STRENGTH,
  type AugmentOptions,
  type AugmentParams,
} from "./augment.js";
export { PatchLoader, type Batch, type LoaderState, type LoaderStats } from "./loader.js";
export type { PatchLoaderOptions } from "./loader-options.js";
export { prepareCase, type PrepareOptions } from "./loader-cases.js";
export {
  connectedComponents,
  dilate,
  type Connectivity,
  type ConnectedComponents,
} from "./morphology.js";
export {
  postprocessLabels,
  prepareForInference,
  restoreSegmentation,
  segmentationImage,
  type PostprocessOptions,
  type PreparedCase,
  type PrepareForInferenceOptions,
  type RestoreOptions,
} from "./postprocess.js";
