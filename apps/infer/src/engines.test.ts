// The two engines on a real brats-train run folder (a tiny model trained for a few steps on
// phantoms): tfjs (the checkpoint on wasm) and onnx (the run exported in memory, and the run's
// model.onnx) give the same probabilities and segmentations; checkpoints and model cards.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverCases, prepareForInference, type Modality } from "@brats/data";
import { readNifti } from "@brats/nifti";
import { DEFAULT_CONFIG } from "@brats/runs";
import { runTraining, type RunSummary } from "@brats/train-app";
import { predictVolume } from "@brats/unet3d";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./cli.js";
import { loadModels } from "./models.js";
import { runInference } from "./run.js";
import { preprocessOptions } from "./segment.js";
import { captureIo, phantomDataset } from "./test-utils.js";

let dir: string;
let data: string;
let run: RunSummary;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "brats-infer-engines-"));
  data = await phantomDataset(join(dir, "data"), 3, 8);
  run = await runTraining(
    {
      ...DEFAULT_CONFIG,
      data,
      out: join(dir, "run"),
      patch: 16,
      epochs: 1,
      stepsPerEpoch: 2,
      baseFilters: 2,
      depth: 2,
      workers: 0,
      backend: "wasm",
      split: { kind: "ids", ids: ["Phantom_00002"] },
    },
    { handleSigint: false },
  );
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("tfjs and onnx engines", () => {
  it("give the same probabilities on a whole case (max |Δ| < 1e-4)", async () => {
    const onnx = await loadModels([run.runDir], { engine: "onnx" });
    const tfjs = await loadModels([run.runDir], { engine: "tfjs", backend: "wasm" });
    try {
      expect(onnx.engine).toBe("onnx");
      expect(tfjs.engine).toBe("tfjs");
      expect(tfjs.backend).toBe("wasm");
      expect(onnx.models[0]!.checkpoint).toBe("best");
      expect(onnx.metadata).toEqual(tfjs.metadata);
      const [files] = await discoverCases(join(data, "Phantom_00000"));
      const meta = onnx.metadata;
      const prepared = await prepareForInference(files!, {
        modalities: meta.modalities as Modality[],
        preprocess: preprocessOptions(meta),
      });
      const volume = { data: prepared.image, shape: prepared.shape };
      const options = { windowSize: meta.windowSize, overlap: meta.overlap };
      const a = (await predictVolume(onnx.predictors, volume, options)).data as Float32Array;
      const b = (await predictVolume(tfjs.predictors, volume, options)).data as Float32Array;
      expect(a.length).toBe(b.length);
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
      console.log(
        `onnx vs tfjs-wasm: max |Δ probability| = ${max.toExponential(2)} over ${a.length} values`,
      );
      expect(max).toBeLessThan(1e-4);
    } finally {
      await onnx.dispose();
      await tfjs.dispose();
    }
  });

  it("segment the same cases through runInference; the run's model.onnx equals the run folder", async () => {
    const outOnnx = join(dir, "out-onnx");
    const outTfjs = join(dir, "out-tfjs");
    const outFile = join(dir, "out-file");
    const viaOnnx = await runInference({
      models: [run.runDir],
      input: data,
      out: outOnnx,
      engine: "onnx",
    });
    const viaTfjs = await runInference({
      models: [run.runDir],
      input: data,
      out: outTfjs,
      engine: "tfjs",
      backend: "wasm",
    });
    const viaFile = await runInference({
      models: [run.onnx],
      input: data,
      out: outFile,
      engine: "onnx",
    });
    for (const s of [viaOnnx, viaTfjs, viaFile]) expect(s.counts.done).toBe(3);
    expect(viaTfjs.backend).toBe("wasm");
    let differing = 0;
    let total = 0;
    for (const c of viaOnnx.cases) {
      const a = (await readNifti(join(outOnnx, `${c.id}.nii.gz`))).data as Uint8Array;
      const b = (await readNifti(join(outTfjs, `${c.id}.nii.gz`))).data as Uint8Array;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
      total += a.length;
      // model.onnx was exported from the same best/ checkpoint with the same metadata.
      const file = await readFile(join(outFile, `${c.id}.nii.gz`));
      expect(file.equals(await readFile(join(outOnnx, `${c.id}.nii.gz`))), c.id).toBe(true);
    }
    console.log(`onnx vs tfjs segmentations: ${differing} of ${total} voxels differ`);
    expect(differing / total).toBeLessThan(1e-3);
    // The report links the run's model card.
    const card = join(run.runDir, "MODEL_CARD.md");
    expect(existsSync(card)).toBe(true);
    expect(viaOnnx.models[0]!.modelCard).toBe(card);
    expect(viaFile.models[0]!.modelCard).toBe(card);
    expect(await readFile(viaOnnx.report!, "utf8")).toContain("MODEL_CARD.md");
  });

  it("--checkpoint picks the run's checkpoint; the CLI prints engine, backend and models", async () => {
    const io = captureIo();
    const out = join(dir, "out-last");
    const argv = ["--model", run.runDir, "--input", join(data, "Phantom_00001")];
    expect(
      await main(
        [...argv, "--out", out, "--engine", "tfjs", "--backend", "cpu", "--checkpoint", "last"],
        io,
      ),
    ).toBe(0);
    expect(io.err).toMatch(
      /brats-infer: tfjs backend: cpu( \+ onednn)? \(asked for(; oneDNN [\d.]+ on \d+ threads?|; onednn unavailable: [^)]+)?\)\n/,
    );
    expect(io.err).toContain(`engine tfjs, backend cpu; model: ${run.runDir} (last)`);
    const missing = captureIo();
    await rm(join(run.runDir, "best"), { recursive: true, force: true });
    expect(await main([...argv, "--checkpoint", "best", "--out", join(dir, "x")], missing)).toBe(1);
    expect(missing.err).toContain(`BAD_MODEL: ${run.runDir} has no best/ checkpoint`);
  });
});
