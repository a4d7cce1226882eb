// A run folder's checkpoint as one ONNX model with the run's metadata in its metadata_props, so
// `brats-infer --model model.onnx` needs nothing else: written to a file (brats-train's
// model.onnx) or kept in memory (brats-infer running a run folder on onnxruntime). One export.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  countTrainableParams,
  exportOnnx,
  loadModel,
  metadataProps,
  saveOnnx,
  type BratsModelMetadata,
} from "@brats/unet3d";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { RunsError } from "./errors.js";
import { MODEL_ONNX, type CheckpointName } from "./files.js";
import { checkpointMetadata } from "./metadata.js";

/** What was exported: the checkpoint, its metadata (runMetadata's) and the network's size. */
export interface RunOnnx {
  checkpoint: CheckpointName;
  metadata: BratsModelMetadata;
  /** Trainable parameters of the TF.js model exported. */
  parameters: number;
}

export interface RunOnnxExport extends RunOnnx {
  /** The .onnx file written. */
  path: string;
  /** Its size. */
  bytes: number;
}

export interface RunOnnxBytes extends RunOnnx {
  /** The ONNX ModelProto. */
  onnx: Uint8Array;
}

export interface RunOnnxOptions {
  /** Default best/ if present, else last/. */
  checkpoint?: CheckpointName;
}

/** Loads the checkpoint's TF.js model with its metadata, hands them to `use`, disposes the model. */
async function withRunModel<T>(
  runDir: string,
  opts: RunOnnxOptions,
  use: (model: LayersModel, props: Record<string, string>, info: RunOnnx) => Promise<T>,
): Promise<T> {
  const { checkpoint, metadata } = await checkpointMetadata(runDir, opts);
  let model: LayersModel;
  try {
    model = await loadModel(checkpoint.dir);
  } catch (cause) {
    throw new RunsError("BAD_RUN", `cannot load the model in ${checkpoint.dir}`, { cause });
  }
  try {
    const parameters = countTrainableParams(model);
    return await use(model, metadataProps(metadata), {
      checkpoint: checkpoint.name,
      metadata,
      parameters,
    });
  } finally {
    model.dispose();
  }
}

/**
 * Exports a run's checkpoint to `out` (default `<runDir>/model.onnx`) with @brats/unet3d saveOnnx
 * (atomic), its metadata from runMetadata. Needs a TF.js backend set (any). Throws RunsError
 * (NOT_A_RUN, NO_CHECKPOINT, BAD_RUN) and saveOnnx's UNet3DError.
 */
export async function exportRunOnnx(
  runDir: string,
  out: string = join(runDir, MODEL_ONNX),
  opts: RunOnnxOptions = {},
): Promise<RunOnnxExport> {
  return withRunModel(runDir, opts, async (model, props, info) => {
    await saveOnnx(model, out, { metadata: props });
    const { size } = await stat(out);
    return { path: out, ...info, bytes: size };
  });
}

/** exportRunOnnx in memory: the same bytes, no file written. */
export async function runOnnxBytes(
  runDir: string,
  opts: RunOnnxOptions = {},
): Promise<RunOnnxBytes> {
  return withRunModel(runDir, opts, (model, props, info) =>
    Promise.resolve({ onnx: exportOnnx(model, { metadata: props }), ...info }),
  );
}
