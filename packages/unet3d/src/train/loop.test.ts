// train(): exact resume, SIGINT mid-epoch, early stopping. Tiny U-Nets (depth 2,
// 2 base filters, 16³ patches) on wasm with the fast Conv3D kernels, and with the native oneDNN
// kernels in front of them, where resume must be bit-identical (fixed thread count).
import "@tensorflow/tfjs-backend-wasm";
import { mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseEngine, TEST_ENGINES, useEngine } from "../engines.testutil.js";
import { loadModel } from "../io.js";
import type { TrainState } from "./checkpoint.js";
import { train } from "./loop.js";
import { N, source, tinyModel, validationCases } from "./loop.testutil.js";
import type { BatchSource, TrainEvent } from "./options.js";

async function weightsOf(model: tfl.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map((w) => w.data<"float32">()));
}

function maxRelativeDifference(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    expect(y.length).toBe(x.length);
    let diff = 0;
    let norm = 0;
    for (let k = 0; k < x.length; k++) {
      diff = Math.max(diff, Math.abs(x[k]! - y[k]!));
      norm = Math.max(norm, Math.abs(x[k]!));
    }
    worst = Math.max(worst, diff / Math.max(norm, 1e-12));
  });
  return worst;
}

const stepLosses = (log: string) =>
  log
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; step?: number; loss: number })
    .filter((r) => r.type === "step")
    .map((r) => [r.step, r.loss]);

describe.each(TEST_ENGINES)("train (%s)", (engine) => {
  let dir: string;
  beforeAll(async () => {
    await useEngine(engine);
    dir = await mkdtemp(join(tmpdir(), "brats-train-"));
  });
  afterAll(async () => {
    releaseEngine();
    await rm(dir, { recursive: true, force: true });
  });

  const common = {
    epochs: 2,
    stepsPerEpoch: 3,
    learningRate: 0.01,
    schedule: "cosine" as const,
    handleSigint: false,
    validation: { cases: validationCases(), windowSize: [N, N, N] as [number, number, number] },
  };

  it("a run stopped after 4 steps and resumed ends with the weights of an uninterrupted run", async () => {
    const straightDir = join(dir, "straight");
    const straight = await train({ ...common, outDir: straightDir, model: tinyModel(), source });
    expect(straight.reason).toBe("completed");
    expect(straight.step).toBe(6);
    const want = await weightsOf(straight.model);

    const resumedDir = join(dir, "resumed");
    const controller = new AbortController();
    const first = await train({
      ...common,
      outDir: resumedDir,
      model: tinyModel(),
      source,
      signal: controller.signal,
      onProgress: (e: TrainEvent) => {
        if (e.type === "step" && e.step === 4) controller.abort();
      },
    });
    expect(first.reason).toBe("interrupted");
    expect(first.step).toBe(4);
    first.model.dispose();
    const saved = JSON.parse(
      await readFile(join(resumedDir, "last", "train-state.json"), "utf8"),
    ) as TrainState;
    expect([saved.step, saved.epoch, saved.stepInEpoch]).toEqual([4, 2, 1]);
    expect(saved.sourceState).toEqual({ index: 4 });

    const second = await train({
      ...common,
      outDir: resumedDir,
      model: tinyModel(),
      source,
      resume: true,
    });
    expect(second.reason).toBe("completed");
    expect(second.step).toBe(6);
    const got = await weightsOf(second.model);
    expect(maxRelativeDifference(want, got)).toBe(0);
    // The log of the resumed run has the same steps with the same losses.
    const logA = await readFile(join(straightDir, "log.jsonl"), "utf8");
    const logB = await readFile(join(resumedDir, "log.jsonl"), "utf8");
    expect(stepLosses(logB)).toEqual(stepLosses(logA));
    const epochsB = logB
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; val?: unknown });
    expect(epochsB.filter((r) => r.type === "epoch")).toHaveLength(2);
    expect(second.history.map((h) => h.val)).toEqual(straight.history.map((h) => h.val));
    const csv = (await readFile(join(resumedDir, "metrics.csv"), "utf8")).trim().split("\n");
    expect(csv[0]).toBe("epoch,loss,lr,val_WT,val_TC,val_ET,val_mean,time");
    expect(csv).toHaveLength(3);
    // Resuming a finished run does nothing more.
    const third = await train({
      ...common,
      outDir: resumedDir,
      model: tinyModel(),
      source,
      resume: true,
    });
    expect([third.reason, third.step]).toEqual(["completed", 6]);
    for (const r of [straight, second, third]) r.model.dispose();
  });

  it("SIGINT mid-epoch finishes the step and leaves a loadable last checkpoint", async () => {
    const outDir = join(dir, "sigint");
    let opened: (BatchSource & { closed: boolean }) | null = null;
    const result = await train({
      ...common,
      handleSigint: true,
      outDir,
      model: tinyModel(),
      source: (s) => (opened = source(s)),
      onProgress: (e) => {
        if (e.type === "step" && e.step === 2) process.emit("SIGINT");
      },
    });
    expect(result.reason).toBe("interrupted");
    expect(result.step).toBe(2);
    expect(opened!.closed).toBe(true);
    expect(process.listenerCount("SIGINT")).toBe(0);
    const last = await loadModel(join(outDir, "last"));
    const a = await weightsOf(last);
    const b = await weightsOf(result.model);
    expect(maxRelativeDifference(a, b)).toBe(0);
    last.dispose();
    result.model.dispose();
    // A crash between the checkpoint's renames leaves last.old, which a resume uses.
    await rename(join(outDir, "last"), join(outDir, "last.old"));
    const resumed = await train({
      ...common,
      outDir,
      model: tinyModel(),
      source,
      resume: true,
      epochs: 1,
      stepsPerEpoch: 3,
    });
    expect([resumed.reason, resumed.step]).toEqual(["completed", 3]);
    resumed.model.dispose();
  });

  it("stops early after `patience` validations without improvement and keeps the best", async () => {
    const outDir = join(dir, "early");
    const scores = [0.3, 0.5, 0.4, 0.5, 0.45, 0.9];
    let calls = 0;
    const result = await train({
      ...common,
      epochs: 6,
      stepsPerEpoch: 1,
      patience: 2,
      outDir,
      model: tinyModel(),
      source,
      validation: {
        ...common.validation,
        score: () => {
          const s = scores[calls++]!;
          return { WT: s, TC: s, ET: s };
        },
      },
    });
    // Best at epoch 2 (0.5); epochs 3 and 4 do not beat it (0.5 is not better): stop after 4.
    expect(result.reason).toBe("early-stopped");
    expect(result.epoch).toBe(4);
    expect(result.bestEpoch).toBe(2);
    expect(result.bestScore).toBeCloseTo(0.5, 12);
    const best = JSON.parse(
      await readFile(join(outDir, "best", "train-state.json"), "utf8"),
    ) as TrainState;
    expect(best.bestEpoch).toBe(2);
    result.model.dispose();
  });
});
