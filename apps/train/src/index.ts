// Library entry of the training app, for the inference app, the demo and tests: run a training
// job from code exactly as `brats-train` does.
export {
  CONFIG_JSON,
  CURVES_PNG,
  DEFAULT_CONFIG,
  runTraining,
  type RunHooks,
  type RunRecord,
  type RunSummary,
  type TrainConfig,
} from "./run.js";
export { splitCases, type Split, type SplitSpec } from "./split.js";
