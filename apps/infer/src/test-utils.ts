// Fixtures shared by the app's tests: phantom datasets and tiny random-weight models saved as an
// ONNX file with brats metadata (the preprocessing is what training uses through prepareCase).
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writePhantomDataset } from "@brats/data";
import {
  createUNet3D,
  metadataProps,
  saveOnnx,
  setupTfjs,
  unet3dConfigOf,
  type BratsModelMetadata,
  type UNet3DConfig,
} from "@brats/unet3d";
import type { CliIo } from "./cli.js";

export const PHANTOM_SHAPE: [number, number, number] = [24, 24, 20];

/** `cases` phantom cases (ids Phantom_00000, ...) as BraTS case folders under `dir`. */
export async function phantomDataset(dir: string, cases: number, seed = 3): Promise<string> {
  await writePhantomDataset(dir, { cases, shape: PHANTOM_SHAPE, seed });
  return dir;
}

/** Metadata of a model trained as brats-train does (default preprocessing, 16³ windows). */
export function tinyMetadata(
  unet: BratsModelMetadata["unet"],
  windowSize: [number, number, number] = [16, 16, 16],
): BratsModelMetadata {
  return {
    format: "brats-unet3d",
    version: 1,
    modalities: unet.modalities,
    labelConvention: "brats2021",
    outputs: unet.outputs,
    numClasses: unet.outputs === "regions" ? 3 : unet.numClasses,
    preprocessing: {
      canonical: true,
      spacing: [1, 1, 1],
      crop: true,
      margin: 0,
      normalization: "zscore-nonzero",
    },
    windowSize,
    overlap: 0.5,
    unet,
    training: { note: "random weights (test fixture)" },
  };
}

/** A seeded random-weight U-Net (depth 2, 2 base filters) saved as `<dir>/<name>.onnx`, with
 * brats metadata (windowSize: its sliding window). */
export async function tinyOnnxModel(
  dir: string,
  name: string,
  config: UNet3DConfig = {},
  windowSize: [number, number, number] = [16, 16, 16],
): Promise<string> {
  await setupTfjs({ backend: "cpu" });
  const model = createUNet3D({
    depth: 2,
    baseFilters: 2,
    dropout: 0,
    seed: 11,
    modalities: ["flair", "t1", "t1ce"],
    ...config,
  });
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.onnx`);
  try {
    const unet = unet3dConfigOf(model);
    if (unet === null) throw new Error("createUNet3D stored no config");
    await saveOnnx(model, path, { metadata: metadataProps(tinyMetadata(unet, windowSize)) });
  } finally {
    model.dispose();
  }
  return path;
}

export function captureIo(tty = false): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stderrIsTTY: tty,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}
