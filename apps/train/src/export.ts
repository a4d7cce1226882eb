// A run folder's checkpoint as one ONNX file with the run's metadata in its metadata_props, so
// `brats-infer --model model.onnx` needs nothing else.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  countTrainableParams,
  loadModel,
  metadataProps,
  saveOnnx,
  type BratsModelMetadata,
} from "@brats/unet3d";
import { TrainAppError } from "./errors.js";
import { MODEL_ONNX } from "./files.js";
import { checkpointOf, runMetadata, type CheckpointName } from "./metadata.js";

export interface RunOnnxExport {
  /** The .onnx file written. */
  path: string;
  checkpoint: CheckpointName;
  metadata: BratsModelMetadata;
  /** Trainable parameters of the TF.js model exported. */
  parameters: number;
  bytes: number;
}

/**
 * Exports a run's checkpoint (default best/ if present, else last/) to `out` (default
 * `<runDir>/model.onnx`) with @brats/unet3d saveOnnx (atomic), its metadata from runMetadata.
 * Needs a TF.js backend set (any). Throws TrainAppError (NOT_A_RUN, NO_CHECKPOINT, BAD_RUN).
 */
export async function exportRunOnnx(
  runDir: string,
  out: string = join(runDir, MODEL_ONNX),
  opts: { checkpoint?: CheckpointName } = {},
): Promise<RunOnnxExport> {
  const checkpoint = checkpointOf(runDir, opts.checkpoint);
  const metadata = await runMetadata(runDir, { checkpoint: checkpoint.name });
  let model;
  try {
    model = await loadModel(checkpoint.dir);
  } catch (cause) {
    throw new TrainAppError("BAD_RUN", `cannot load the model in ${checkpoint.dir}`, { cause });
  }
  try {
    const parameters = countTrainableParams(model);
    await saveOnnx(model, out, { metadata: metadataProps(metadata) });
    const { size } = await stat(out);
    return { path: out, checkpoint: checkpoint.name, metadata, parameters, bytes: size };
  } finally {
    model.dispose();
  }
}
