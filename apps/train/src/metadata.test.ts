// runMetadata and the run's model.onnx: the metadata of a tiny phantom run, the preprocessing it
// claims against what prepareCase really does, and the ONNX file's metadata and outputs against the
// TF.js checkpoint it came from.
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generatePhantom, preprocessCase, writePhantomDataset } from "@brats/data";
import {
  loadModel,
  loadOnnxModel,
  parseModelMetadata,
  readOnnxModelInfo,
  unet3dConfigOf,
} from "@brats/unet3d";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportRunOnnx } from "./export.js";
import { TRAIN_PREPROCESSING, readTrainState, runMetadata } from "./metadata.js";
import { DEFAULT_CONFIG, runTraining, type RunSummary } from "./run.js";

describe("TRAIN_PREPROCESSING", () => {
  it("is what prepareCase's defaults do (an LPS phantom with 1.5 × 1 × 2 mm voxels)", () => {
    const phantom = generatePhantom({ shape: [30, 26, 18], seed: 3, spacing: [1.5, 1, 2] });
    const p = TRAIN_PREPROCESSING;
    const asOptions = {
      spacing: p.spacing,
      margin: p.margin,
      canonical: p.canonical,
      crop: p.crop,
      normalize: p.normalization === "zscore-nonzero",
    };
    const byDefault = preprocessCase(phantom).case;
    const byMetadata = preprocessCase(phantom, asOptions).case;
    expect(byMetadata.shape).toEqual(byDefault.shape);
    expect(byMetadata.affine).toEqual(byDefault.affine);
    for (let c = 0; c < byDefault.channels.length; c++) {
      expect(
        Buffer.from(byMetadata.channels[c]!.buffer).equals(
          Buffer.from(byDefault.channels[c]!.buffer),
        ),
      ).toBe(true);
    }
    // the comparison can fail: one different setting changes the result
    expect(preprocessCase(phantom, { ...asOptions, spacing: null }).case.shape).not.toEqual(
      byDefault.shape,
    );
  });
});

describe("runMetadata and model.onnx of a tiny phantom run", () => {
  let dir: string;
  let out: string;
  let summary: RunSummary;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-run-metadata-"));
    const data = join(dir, "data");
    await writePhantomDataset(data, { cases: 3, shape: [24, 24, 24], seed: 5 });
    out = join(dir, "run");
    summary = await runTraining(
      {
        ...DEFAULT_CONFIG,
        data,
        out,
        backend: "wasm",
        patch: 16,
        baseFilters: 2,
        depth: 2,
        workers: 0,
        epochs: 2,
        stepsPerEpoch: 2,
        learningRate: 0.01,
        valOverlap: 0.25,
        split: { kind: "ids", ids: ["Phantom_00001"] },
      },
      { handleSigint: false },
    );
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("describes the best checkpoint: inputs, labels, head, preprocessing, windows, network, provenance", async () => {
    const meta = await runMetadata(out);
    expect(meta).toMatchObject({
      format: "brats-unet3d",
      version: 1,
      modalities: ["flair", "t1", "t1ce"],
      labelConvention: "brats2021",
      outputs: "classes",
      numClasses: 4,
      preprocessing: {
        canonical: true,
        spacing: [1, 1, 1],
        crop: true,
        margin: 0,
        normalization: "zscore-nonzero",
      },
      windowSize: [16, 16, 16],
      overlap: 0.25,
    });
    const model = await loadModel(join(out, "best"));
    expect(meta.unet).toEqual(unet3dConfigOf(model));
    model.dispose();
    expect(meta.unet).toMatchObject({ depth: 2, baseFilters: 2, dropout: 0.1, attention: true });
    const best = await readTrainState(join(out, "best"));
    const t = meta.training!;
    expect(t).toMatchObject({
      tool: "brats-train",
      run: "run",
      runDir: resolve(out),
      modelCard: "MODEL_CARD.md",
      checkpoint: "best",
      backend: "wasm",
      trainCases: ["Phantom_00000", "Phantom_00002"],
      valCases: ["Phantom_00001"],
      epochs: summary.bestEpoch,
      steps: best.step,
    });
    expect((t["config"] as Record<string, unknown>)["patch"]).toBe(16);
    expect(t["config"]).not.toHaveProperty("out");
    const val = t["validation"] as { best: { epoch: number; mean: number } };
    expect(val.best.epoch).toBe(summary.bestEpoch);
    expect(val.best.mean).toBeCloseTo(summary.bestMeanDice!, 12);
  });

  it("describes last/ when asked, and says what is wrong with a folder", async () => {
    const meta = await runMetadata(out, { checkpoint: "last" });
    expect(meta.training).toMatchObject({
      checkpoint: "last",
      epochs: 2,
      steps: 4,
      finished: "completed",
    });
    await expect(runMetadata(join(dir, "data"))).rejects.toMatchObject({ code: "NOT_A_RUN" });
    const noBest = join(dir, "no-best");
    await cp(out, noBest, { recursive: true });
    await rm(join(noBest, "best"), { recursive: true });
    await expect(runMetadata(noBest, { checkpoint: "best" })).rejects.toMatchObject({
      code: "NO_CHECKPOINT",
    });
    // without best/, the default is last/
    expect((await runMetadata(noBest)).training).toMatchObject({ checkpoint: "last" });
    await rm(join(noBest, "last"), { recursive: true });
    await expect(runMetadata(noBest)).rejects.toMatchObject({ code: "NO_CHECKPOINT" });
  });

  it("writes model.onnx of best/ whose metadata parses to runMetadata's, and which predicts as TF.js", async () => {
    expect(summary.onnx).toBe(join(out, "model.onnx"));
    const bytes = new Uint8Array(await readFile(summary.onnx));
    const props = readOnnxModelInfo(bytes).props;
    expect(parseModelMetadata(props)).toEqual(await runMetadata(out));

    const session = await loadOnnxModel(bytes);
    const model = await loadModel(join(out, "best"));
    try {
      expect(session.metadata).toEqual(await runMetadata(out));
      const shape: [number, number, number, number, number] = [1, 16, 16, 16, 3];
      const input = new Float32Array(16 * 16 * 16 * 3).map((_, i) => Math.sin(i * 0.37) * 2);
      const fromOnnx = await session.predictWindows(input, shape);
      const fromTf = tf.tidy(() =>
        (model.predict(tf.tensor5d(input, shape)) as tf.Tensor).dataSync(),
      );
      expect(fromOnnx.length).toBe(fromTf.length);
      let maxDiff = 0;
      for (let i = 0; i < fromTf.length; i++)
        maxDiff = Math.max(maxDiff, Math.abs(fromOnnx[i]! - fromTf[i]!));
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      model.dispose();
      await session.dispose();
    }
  });

  it("exports any checkpoint to any path on request", async () => {
    const path = join(dir, "last.onnx");
    const result = await exportRunOnnx(out, path, { checkpoint: "last" });
    expect(result).toMatchObject({ path, checkpoint: "last" });
    expect(result.parameters).toBeGreaterThan(0);
    const meta = parseModelMetadata(readOnnxModelInfo(new Uint8Array(await readFile(path))).props);
    expect(meta.training).toMatchObject({ checkpoint: "last", steps: 4 });
    expect(result.bytes).toBe((await readFile(path)).byteLength);
  });
});
