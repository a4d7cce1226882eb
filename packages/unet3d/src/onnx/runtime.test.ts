import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import { predictVolume } from "../inference.js";
import { metadataProps, type BratsModelMetadata } from "../metadata.js";
import { createUNet3D, unet3dConfigOf } from "../model.js";
import { registerBratsLayers } from "../register.js";
import { exportOnnx } from "./export.js";
import { maxAbsDiff, randomInput, randomizeStatistics, tfPredict } from "./onnx.testutil.js";
import { ProtoWriter } from "./proto.js";
import { loadOnnxModel } from "./runtime.js";

let dir = "";
let model: tfl.LayersModel;
let meta: BratsModelMetadata;
let bytes: Uint8Array;
let path = "";

beforeAll(async () => {
  await tf.setBackend("cpu");
  registerBratsLayers();
  dir = mkdtempSync(join(tmpdir(), "brats-onnx-runtime-"));
  model = createUNet3D({ depth: 2, baseFilters: 4, seed: 21 });
  randomizeStatistics(model, 22);
  meta = {
    format: "brats-unet3d",
    version: 1,
    modalities: ["flair", "t1", "t1ce"],
    labelConvention: "brats2021",
    outputs: "classes",
    numClasses: 4,
    preprocessing: {
      canonical: true,
      spacing: null,
      crop: true,
      margin: 4,
      normalization: "zscore-nonzero",
    },
    windowSize: [16, 16, 16],
    overlap: 0.5,
    unet: unet3dConfigOf(model)!,
  };
  bytes = exportOnnx(model, { metadata: metadataProps(meta) });
  path = join(dir, "model.onnx");
  writeFileSync(path, bytes);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadOnnxModel", () => {
  it("loads a file: metadata, props, providers, channels", async () => {
    const m = await loadOnnxModel(path, { threads: 1 });
    try {
      expect(m.metadata).toEqual(meta);
      expect(Object.keys(m.props)).toEqual(["brats"]);
      expect(m.executionProviders).toEqual(["cpu"]);
      expect(m.notes).toEqual([]);
      expect(m.inputChannels).toBe(3);
      expect(m.outputChannels).toBe(4);
    } finally {
      await m.dispose();
    }
  });

  it("predictWindows (channels-last in and out) agrees with TF.js predict", async () => {
    const m = await loadOnnxModel(bytes);
    try {
      const shape: [number, number, number, number, number] = [2, 16, 16, 8, 3];
      const x = randomInput(shape, 31);
      const got = await m.predictWindows(x, shape);
      const expected = tfPredict(model, x, shape);
      expect(got.length).toBe(2 * 16 * 16 * 8 * 4);
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
    } finally {
      await m.dispose();
    }
  });

  it("predictVolume accepts an OnnxModel and agrees with the TF.js model", async () => {
    const m = await loadOnnxModel(bytes);
    try {
      const volume = {
        data: randomInput([20, 24, 12, 3], 41),
        shape: [20, 24, 12, 3] as [number, number, number, number],
      };
      const options = {
        windowSize: [16, 16, 16] as [number, number, number],
        overlap: 0.5,
        batchSize: 2,
      };
      const viaOnnx = await predictVolume(m, volume, options);
      const viaTf = await predictVolume(model, volume, options);
      expect(viaOnnx.shape).toEqual([20, 24, 12, 4]);
      expect(maxAbsDiff(viaOnnx.data as Float32Array, viaTf.data as Float32Array)).toBeLessThan(
        1e-4,
      );
    } finally {
      await m.dispose();
    }
  });

  it("a model without metadata has metadata null", async () => {
    const m = await loadOnnxModel(exportOnnx(model));
    expect(m.metadata).toBeNull();
    expect(m.props).toEqual({});
    await m.dispose();
  });

  it("cuda requested: used when available, else cpu with a note", async () => {
    const m = await loadOnnxModel(bytes, { executionProviders: ["cuda", "cpu"] });
    try {
      expect(m.executionProviders).toContain("cpu");
      if (!m.executionProviders.includes("cuda")) {
        expect(m.executionProviders).toEqual(["cpu"]);
        expect(m.notes.join(" ")).toMatch(/CUDA/);
      }
    } finally {
      await m.dispose();
    }
  });
});

/** A minimal ONNX model: one node of `op` from x to y (float [1]). */
function tinyModel(
  op: string,
  input = "x",
  output = "y",
  props: Record<string, string> = {},
): Uint8Array {
  const valueInfo = (name: string): ProtoWriter =>
    new ProtoWriter()
      .string(1, name)
      .message(
        2,
        new ProtoWriter().message(
          1,
          new ProtoWriter()
            .int(1, 1)
            .message(2, new ProtoWriter().message(1, new ProtoWriter().int(1, 1))),
        ),
      );
  const graph = new ProtoWriter()
    .message(1, new ProtoWriter().string(1, input).string(2, output).string(4, op))
    .string(2, "g")
    .message(11, valueInfo(input))
    .message(12, valueInfo(output));
  const w = new ProtoWriter()
    .int(1, 7)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, "").int(2, 13));
  for (const [k, v] of Object.entries(props))
    w.message(14, new ProtoWriter().string(1, k).string(2, v));
  return w.finish();
}

describe("loadOnnxModel and predictWindows: errors", () => {
  it.each<[string, () => Promise<unknown>, string]>([
    ["missing file", () => loadOnnxModel(join(dir, "missing.onnx")), "IO"],
    [
      "bytes that are not ONNX",
      () => loadOnnxModel(new TextEncoder().encode("hello")),
      "BAD_MODEL",
    ],
    ["no image input", () => loadOnnxModel(tinyModel("Identity")), "BAD_MODEL"],
    [
      "an operator onnxruntime does not know",
      () => loadOnnxModel(tinyModel("NoSuchOp", "image", "probabilities")),
      "ONNX_RUNTIME",
    ],
    [
      "invalid brats metadata",
      () => loadOnnxModel(tinyModel("Identity", "image", "probabilities", { brats: "{}" })),
      "BAD_METADATA",
    ],
    ["threads 0", () => loadOnnxModel(bytes, { threads: 0 }), "BAD_CONFIG"],
    [
      "unknown provider",
      () => loadOnnxModel(bytes, { executionProviders: ["gpu" as "cuda"] }),
      "BAD_CONFIG",
    ],
    ["no provider", () => loadOnnxModel(bytes, { executionProviders: [] }), "BAD_CONFIG"],
  ])("%s → %s", async (_name, load, code) => {
    await expect(load()).rejects.toMatchObject({ code });
  });

  it("bad windows → SHAPE_MISMATCH; a disposed model → BAD_CONFIG", async () => {
    const m = await loadOnnxModel(bytes);
    const ok: [number, number, number, number, number] = [1, 8, 8, 8, 3];
    await expect(m.predictWindows(new Float32Array(8 * 8 * 8 * 3 - 1), ok)).rejects.toMatchObject({
      code: "SHAPE_MISMATCH",
    });
    await expect(
      m.predictWindows(new Float32Array(8 * 8 * 8 * 2), [1, 8, 8, 8, 2]),
    ).rejects.toMatchObject({
      code: "SHAPE_MISMATCH",
    });
    await expect(
      m.predictWindows(new Float32Array(8 * 8 * 3), [1, 8, 8, 3] as unknown as typeof ok),
    ).rejects.toMatchObject({ code: "SHAPE_MISMATCH" });
    // A window size the network cannot take (not divisible by 2^depth) fails inside onnxruntime.
    await expect(
      m.predictWindows(new Float32Array(6 * 6 * 6 * 3), [1, 6, 6, 6, 3]),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^(ONNX_RUNTIME|SHAPE_MISMATCH)$/),
    });
    await m.dispose();
    await m.dispose(); // idempotent
    await expect(m.predictWindows(new Float32Array(8 * 8 * 8 * 3), ok)).rejects.toMatchObject({
      code: "BAD_CONFIG",
    });
  });
});
