// ONNX export of a tiny run folder: the file and the in-memory bytes are one export, carry
// runMetadata's metadata and predict as the TF.js checkpoint they came from.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel, loadOnnxModel, parseModelMetadata, readOnnxModelInfo } from "@brats/unet3d";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportRunOnnx, runOnnxBytes } from "./export.js";
import { makeTinyRun, type TinyRun } from "./fixture.testutil.js";
import { runMetadata } from "./metadata.js";

describe("exportRunOnnx and runOnnxBytes of a tiny run", () => {
  let dir: string;
  let run: TinyRun;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-runs-export-"));
    run = await makeTinyRun(join(dir, "run"));
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes <run>/model.onnx of best/ whose metadata parses to runMetadata's, and which predicts as TF.js", async () => {
    const result = await exportRunOnnx(run.runDir);
    const path = join(run.runDir, "model.onnx");
    const bytes = new Uint8Array(await readFile(path));
    expect(result).toMatchObject({ path, checkpoint: "best", bytes: bytes.byteLength });
    expect(result.parameters).toBeGreaterThan(0);
    const meta = await runMetadata(run.runDir);
    expect(result.metadata).toEqual(meta);
    expect(parseModelMetadata(readOnnxModelInfo(bytes).props)).toEqual(meta);

    const session = await loadOnnxModel(bytes);
    const model = await loadModel(join(run.runDir, "best"));
    try {
      expect(session.metadata).toEqual(meta);
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

  it("exports any checkpoint to any path; in memory, the same bytes", async () => {
    const path = join(dir, "last.onnx");
    const result = await exportRunOnnx(run.runDir, path, { checkpoint: "last" });
    expect(result).toMatchObject({ path, checkpoint: "last" });
    const file = new Uint8Array(await readFile(path));
    expect(result.bytes).toBe(file.byteLength);
    const meta = parseModelMetadata(readOnnxModelInfo(file).props);
    expect(meta.training).toMatchObject({ checkpoint: "last", steps: 4 });

    const inMemory = await runOnnxBytes(run.runDir, { checkpoint: "last" });
    expect(Buffer.from(inMemory.onnx).equals(Buffer.from(file))).toBe(true);
    expect(inMemory).toMatchObject({
      checkpoint: "last",
      metadata: result.metadata,
      parameters: result.parameters,
    });
    expect((await runOnnxBytes(run.runDir)).checkpoint).toBe("best");
  });

  it.each<[string, (copy: string) => Promise<string>, string]>([
    ["a folder that is not a run", () => Promise.resolve(dir), "NOT_A_RUN"],
    [
      "a run without checkpoints",
      async (copy) => {
        await cp(run.runDir, copy, { recursive: true });
        await rm(join(copy, "best"), { recursive: true });
        await rm(join(copy, "last"), { recursive: true });
        return copy;
      },
      "NO_CHECKPOINT",
    ],
    [
      "weights that do not fit the model",
      async (copy) => {
        await cp(run.runDir, copy, { recursive: true });
        await writeFile(join(copy, "best", "weights.bin"), new Uint8Array(12));
        return copy;
      },
      "BAD_RUN",
    ],
  ])("%s: %s", async (name, make, code) => {
    const target = await make(join(dir, `case-${name.replace(/\W+/g, "-")}`));
    await expect(exportRunOnnx(target, join(dir, "x.onnx"))).rejects.toMatchObject({ code });
    await expect(runOnnxBytes(target)).rejects.toMatchObject({ code });
  });
});
