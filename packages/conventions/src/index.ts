// Public API of @brats/conventions. Everything not exported here is internal. Dependency-free and
// browser-safe: no Node APIs.
export { ConventionsError, type ConventionsErrorCode } from "./errors.js";
export {
  DEFAULT_LABEL_CONVENTION,
  LABEL_CONVENTIONS,
  checkLabelConvention,
  isLabelConvention,
  tumourLabels,
  type LabelConvention,
  type TissueCode,
  type TumourLabel,
} from "./labels.js";
export {
  REGION_CLASSES,
  REGION_NAMES,
  REGION_TITLES,
  checkRegionName,
  classInRegion,
  labelConvention,
  labelInRegion,
  regionLabels,
  type ConventionInfo,
  type RegionName,
  type RegionScores,
} from "./regions.js";
export {
  CLASS_NAMES,
  NO_CLASS,
  NUM_CLASSES,
  classLabels,
  classRegionMasks,
  classesToLabels,
  labelToClassTable,
  labelsToClasses,
  regionMasks,
  regionsToClasses,
  type RegionMasks,
  type RegionOutputLayout,
} from "./classes.js";
export {
  formatEpochLine,
  formatStepLine,
  parseTrainingLog,
  type EpochRecord,
  type LoggedEpoch,
  type StepRecord,
  type TrainingLog,
} from "./log.js";
