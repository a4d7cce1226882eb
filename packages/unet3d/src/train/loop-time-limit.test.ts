// train() under a time limit, on a clock the test drives: each training batch "takes" stepSeconds
// and each validated case valSeconds, so budgets, reserves and the schedule are exact numbers.
import "@tensorflow/tfjs-backend-wasm";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNet3DError } from "../errors.js";
import { releaseEngine, useEngine } from "../engines.testutil.js";
import { findCheckpoint, type TrainState } from "./checkpoint.js";
import { parseTrainingLog } from "@brats/conventions";
import { train } from "./loop.js";
import { N, source, tinyModel, validationCases } from "./loop.testutil.js";
import type { TrainEvent, TrainOptions } from "./options.js";

/** A clock, a source whose batches advance it, and a scorer whose cases advance it. */
function timed(stepSeconds: number, valSeconds: number) {
  const t = { now: 0 };
  return {
    t,
    clock: () => t.now,
    source: (state: unknown) => {
      const inner = source(state);
      return {
        ...inner,
        next: () => {
          t.now += stepSeconds;
          return inner.next();
        },
      };
    },
    score: () => {
      t.now += valSeconds;
      return { WT: 0.5, TC: 0.5, ET: 0.5 };
    },
  };
}

const readState = async (dir: string) =>
  JSON.parse(await readFile(join(dir, "last", "train-state.json"), "utf8")) as TrainState;

describe("train with a time limit (driven clock)", () => {
  let dir: string;
  beforeAll(async () => {
    await useEngine("wasm");
    dir = await mkdtemp(join(tmpdir(), "brats-budget-"));
  });
  afterAll(async () => {
    releaseEngine();
    await rm(dir, { recursive: true, force: true });
  });

  function options(name: string, c: ReturnType<typeof timed>, extra: Partial<TrainOptions> = {}) {
    const steps: Array<Extract<TrainEvent, { type: "step" }>> = [];
    const epochs: Array<Extract<TrainEvent, { type: "epoch" }>> = [];
    const opts: TrainOptions = {
      outDir: join(dir, name),
      model: tinyModel,
      source: c.source,
      epochs: 100,
      stepsPerEpoch: 3,
      learningRate: 0.01,
      schedule: "cosine",
      handleSigint: false,
      timeLimit: 100,
      clock: c.clock,
      validation: { cases: validationCases(), windowSize: [N, N, N], score: c.score, every: 1 },
      onProgress: (e) => {
        if (e.type === "step") steps.push(e);
        if (e.type === "epoch") epochs.push(e);
      },
      ...extra,
    };
    return { opts, steps, epochs };
  }

  it("stops when one more step and the measured validation would not fit: exit as a finish", async () => {
    // 10 s steps, 25 s validations every epoch of 3 steps. Epoch 1: 30 s + 25 s. Then a step fits
    // while spent + 10 + 25 ≤ 100: at 55 and 65, not at 75. Final validation: 75 + 25 = 100.
    const c = timed(10, 25);
    const { opts, steps, epochs } = options("measured", c);
    const result = await train(opts);
    expect(result.reason).toBe("time-limit");
    expect(result.step).toBe(5);
    expect(steps.map((s) => s.time)).toEqual([10, 20, 30, 65, 75]);
    expect(epochs.map((e) => [e.epoch, e.time, e.valSeconds])).toEqual([
      [1, 55, 25],
      [2, 100, 25],
    ]);
    // The partial last epoch's loss is the mean of its 2 steps.
    expect(epochs[1]!.loss).toBeCloseTo((steps[3]!.loss + steps[4]!.loss) / 2, 6);
    expect(c.t.now).toBeLessThanOrEqual(100);
    const state = await readState(opts.outDir);
    expect(state.finished).toBe("time-limit");
    expect(state.step).toBe(5);
    expect(state.history.map((h) => h.valSeconds)).toEqual([25, 25]);
    const log = await readFile(join(opts.outDir, "log.jsonl"), "utf8");
    expect(log).toContain('"valSeconds":25');
    result.model.dispose();
    // Resuming a run that ended on its budget does nothing more.
    const again = await train({ ...opts, resume: true });
    expect([again.reason, again.step]).toEqual(["time-limit", 5]);
    again.model.dispose();
  });

  it("validates only at the end with every: null, and the schedule reaches its end at the limit", async () => {
    // 1 s steps, one 5 s validation at the end (estimated 0 on this clock: the step estimate
    // and measured checkpoints are all that is held back), 60 s budget: 60 steps at most.
    const c = timed(1, 5);
    const { opts, steps, epochs } = options("schedule", c, {
      stepsPerEpoch: 10,
      validation: { cases: validationCases(), windowSize: [N, N, N], score: c.score, every: null },
    });
    const result = await train(opts);
    expect(result.reason).toBe("time-limit");
    expect(epochs.filter((e) => e.val !== null).map((e) => e.epoch)).toEqual([
      epochs.at(-1)!.epoch,
    ]);
    const lrs = steps.map((s) => s.lr);
    expect(lrs[0]).toBe(0.01);
    for (let i = 1; i < lrs.length; i++) expect(lrs[i]!).toBeLessThanOrEqual(lrs[i - 1]!);
    // The last step starts at t = step − 1 s of a 60 s budget: cosine there is below 0.1 % of the peak.
    expect(lrs.at(-1)!).toBeLessThan(1e-5);
    expect(result.step).toBeGreaterThanOrEqual(50);
    result.model.dispose();
  });

  it("a resumed run keeps counting the budget it had", async () => {
    // Interrupted after step 4 (at 65 s: 4 steps and epoch 1's validation), resumed on a clock
    // that has moved on by an hour: the resumed session has the 35 s left and holds back the 25 s
    // validation the first session measured, so it takes the uninterrupted run's path.
    const c = timed(10, 25);
    const abort = new AbortController();
    const first = options("resume", c, {
      signal: abort.signal,
      onProgress: (e) => {
        if (e.type === "step" && e.step === 4) abort.abort();
      },
    });
    const interrupted = await train(first.opts);
    expect([interrupted.reason, interrupted.step]).toEqual(["interrupted", 4]);
    interrupted.model.dispose();
    expect((await readState(first.opts.outDir)).elapsed).toBe(65);
    c.t.now += 3600;
    const second = options("resume", c, { resume: true });
    const resumed = await train(second.opts);
    expect(resumed.reason).toBe("time-limit");
    // 65 + 10 + 25 ≤ 100: step 5 (ending at 75); 75 + 10 + 25 > 100: the final validation.
    expect(second.steps.map((s) => [s.step, s.time])).toEqual([[5, 75]]);
    expect(second.epochs.map((e) => [e.epoch, e.time])).toEqual([[2, 100]]);
    const state = await readState(first.opts.outDir);
    expect(state.elapsed).toBe(100);
    expect(state.finished).toBe("time-limit");
    resumed.model.dispose();
  });

  it("validates the model it ends with when a slow checkpoint leaves no time for the next epoch", async () => {
    // 10 s steps, 3 per epoch, validating only at the end (5 s a case, estimated 0 on this
    // clock). After epoch 1 (30 s) a step fits, so epoch 1 is not validated; its checkpoint then
    // "takes" 65 s, unforeseen: at 95 s no step of epoch 2 fits. The run still validates the
    // model it ends with, as epoch 1's amended record (a later log line replaces the first).
    const c = timed(10, 5);
    let slowed = false;
    const epochs: Array<Extract<TrainEvent, { type: "epoch" }>> = [];
    const { opts } = options("slow-checkpoint", c, {
      validation: { cases: validationCases(), windowSize: [N, N, N], score: c.score, every: null },
      onProgress: (e) => {
        if (e.type === "epoch") epochs.push(e);
        if (e.type === "checkpoint" && e.name === "last" && !slowed) {
          slowed = true;
          c.t.now += 65;
        }
      },
    });
    const result = await train(opts);
    expect([result.reason, result.step]).toEqual(["time-limit", 3]);
    expect(epochs.map((e) => [e.epoch, e.val === null, e.valSeconds ?? null])).toEqual([
      [1, true, null],
      [1, false, 5],
    ]);
    expect(result.history.map((h) => [h.epoch, h.valSeconds])).toEqual([[1, 5]]);
    expect(result.bestEpoch).toBe(1);
    const log = parseTrainingLog(await readFile(join(opts.outDir, "log.jsonl"), "utf8"));
    expect(log.epochs.map((e) => [e.epoch, e.val])).toEqual([[1, { WT: 0.5, TC: 0.5, ET: 0.5 }]]);
    const state = await readState(opts.outDir);
    expect([state.finished, state.bestEpoch]).toEqual(["time-limit", 1]);
    expect(await findCheckpoint(opts.outDir, "best")).not.toBeNull();
    result.model.dispose();
  });

  it("ends at once, with last saved, when the budget is spent before the first step", async () => {
    const c = timed(10, 25);
    const { opts, steps } = options("tiny", c, { timeLimit: 0.001, validation: undefined });
    let now = 0;
    const result = await train({ ...opts, clock: () => (now += 0.01) });
    expect(result.reason).toBe("time-limit");
    expect(result.step).toBe(0);
    expect(steps).toEqual([]);
    expect((await readState(opts.outDir)).finished).toBe("time-limit");
    result.model.dispose();
  });

  it("estimates a first validation from one timed window: windows × its time × 1.25", async () => {
    // Each clock read advances 2 s, so the timed window takes 2 s; a 16³ case at 16³ windows
    // has 1 window, a 16×16×40 case at overlap 0.5 has 4 (starts 0, 8, 16, 24).
    const { estimateValidationSeconds } = await import("./validate.js");
    let now = 0;
    const clock = () => (now += 2);
    const model = tinyModel();
    const cases = validationCases();
    const long = { ...cases[0]!, shape: [16, 16, 40, 2] as [number, number, number, number] };
    long.image = new Float32Array(16 * 16 * 40 * 2);
    long.labels = new Uint8Array(16 * 16 * 40);
    const opts = {
      cases: [cases[0]!, long],
      windowSize: [N, N, N] as [number, number, number],
      overlap: 0.5,
    };
    expect(await estimateValidationSeconds(model, opts, clock)).toBe((1 + 4) * 2 * 1.25);
    model.dispose();
  });

  it.each([0, -1, Number.POSITIVE_INFINITY, Number.NaN])("rejects timeLimit %d", async (limit) => {
    const c = timed(1, 1);
    const { opts } = options(`bad-${limit}`, c, { timeLimit: limit });
    const error = await train(opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UNet3DError);
    expect((error as UNet3DError).code).toBe("BAD_CONFIG");
  });
});
