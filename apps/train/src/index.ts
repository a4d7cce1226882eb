// Library entry of the training app, for the demo and tests: run a training job from code exactly
// as `brats-train` does. What a run folder holds (TrainConfig, RunRecord, runMetadata, the ONNX
// export, the model card) is @brats/runs'.
export { runTraining, type RunHooks, type RunSummary } from "./run.js";
export { splitCases } from "./split.js";
