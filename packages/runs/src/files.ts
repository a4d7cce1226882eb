// What a run folder holds, by name. The checkpoint folders' own files (model.json, weights.bin,
// train-state.json, ...) and log.jsonl / metrics.csv are @brats/unet3d's train() format; their
// names come from there.
import { LOG_JSONL, METRICS_CSV } from "@brats/unet3d";

/** The run record: the configuration, the backend of the first session, the split, the start. */
export const CONFIG_JSON = "config.json";
/** Training curves (loss, learning rate, validation Dice) drawn from log.jsonl. */
export const CURVES_PNG = "curves.png";
/** The model card: what the model is, its data, training, validation and how to run it. */
export const MODEL_CARD_MD = "MODEL_CARD.md";
/** The run's checkpoint (best/ when there is one, else last/) as ONNX with its metadata. */
export const MODEL_ONNX = "model.onnx";

/** The checkpoint folders of a run: best/ (best mean validation Dice) and last/ (for resuming). */
export type CheckpointName = "best" | "last";
export const CHECKPOINT_NAMES: readonly CheckpointName[] = ["best", "last"];

/** Every file and folder a run writes at the top of its folder: what makes a folder a run. */
export const RUN_FILES: readonly string[] = [
  CONFIG_JSON,
  LOG_JSONL,
  METRICS_CSV,
  CURVES_PNG,
  MODEL_CARD_MD,
  MODEL_ONNX,
  ...CHECKPOINT_NAMES,
];
