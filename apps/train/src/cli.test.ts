// brats-train end to end: phantom cases (always) and the six real BraTS cases (when present).
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTrainingLog } from "@brats/conventions";
import { writePhantomDataset } from "@brats/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "@brats/unet3d";
import { DEFAULT_CONFIG, type RunRecord, type TrainConfig } from "@brats/runs";
import { main, type CliIo } from "./cli.js";
import { runTraining, type RunSummary } from "./run.js";

function captureIo(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stderrIsTTY: false,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}

const TINY = [
  "--backend",
  "wasm",
  "--patch",
  "16",
  "--base-filters",
  "2",
  "--depth",
  "2",
  "--workers",
  "0",
];

describe("brats-train", () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-train-app-"));
    data = join(dir, "data");
    await writePhantomDataset(data, { cases: 3, shape: [24, 24, 24], seed: 5 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints usage with --help and rejects bad options with status 2", async () => {
    const help = captureIo();
    expect(await main(["--help"], help)).toBe(0);
    expect(help.out).toContain("--fold k/n");
    for (const argv of [
      ["--data", "x"],
      ["--data", "x", "--out", "y", "--fold", "3/3"],
      ["--data", "x", "--out", "y", "--modalities", "flair,dwi"],
      ["--data", "x", "--out", "y", "--bogus"],
      ["--data", "x", "--out", "y", "--epochs", "0"],
    ]) {
      const io = captureIo();
      expect(await main(argv, io), argv.join(" ")).toBe(2);
      expect(io.err).toContain("brats-train:");
    }
  });

  it("trains 2 tiny epochs on 3 phantom cases and writes every output", async () => {
    const out = join(dir, "run");
    const configFile = join(dir, "config.json");
    await writeFile(
      configFile,
      JSON.stringify({ stepsPerEpoch: 2, dropout: 0, learningRate: 0.01 }),
    );
    const io = captureIo();
    const argv = [
      "--data",
      data,
      "--out",
      out,
      ...TINY,
      "--epochs",
      "2",
      "--val-split",
      "0.34",
      "--config",
      configFile,
      "--json",
    ];
    expect(await main(argv, io), io.err).toBe(0);
    expect(io.err).toContain("brats-train: tfjs backend: wasm + fast Conv3D kernels (asked for)\n");
    expect(io.err).toMatch(/backend wasm; 2 training, 1 validation case/);
    expect(io.err).toMatch(/epoch 2\/2 step 2\/2 \[#+\] loss \d+\.\d+ \d+\.\d+ step\/s ETA/);
    const summary = JSON.parse(io.out) as RunSummary;
    expect(summary.reason).toBe("completed");
    expect(summary.step).toBe(4);
    expect(summary.split.val).toHaveLength(1);
    for (const region of ["WT", "TC", "ET"] as const) {
      expect(summary.lastVal![region]).toBeGreaterThanOrEqual(0);
      expect(summary.lastVal![region]).toBeLessThanOrEqual(1);
    }
    const record = JSON.parse(await readFile(join(out, "config.json"), "utf8")) as RunRecord;
    expect(record.config.stepsPerEpoch).toBe(2);
    expect(record.config.learningRate).toBe(0.01);
    expect(record.backend).toBe("wasm");
    const log = parseTrainingLog(await readFile(join(out, "log.jsonl"), "utf8"));
    expect(log.skipped).toBe(0);
    expect(log.steps).toHaveLength(4);
    expect(log.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(Object.keys(log.epochs[1]!.val!).sort()).toEqual(["ET", "TC", "WT"]);
    const csv = (await readFile(join(out, "metrics.csv"), "utf8")).trim().split("\n");
    expect(csv).toHaveLength(3);
    for (const f of [
      "last/model.json",
      "last/weights.bin",
      "last/optimizer.bin",
      "last/train-state.json",
      "best/model.json",
    ]) {
      expect((await stat(join(out, f))).size, f).toBeGreaterThan(0);
    }
    const png = await readFile(join(out, "curves.png"));
    expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    // --resume of the finished run does no more steps.
    const again = captureIo();
    expect(await main(["--data", data, "--out", out, "--resume", "--json"], again), again.err).toBe(
      0,
    );
    expect((JSON.parse(again.out) as RunSummary).step).toBe(4);
  });

  it("--fold k/n trains on the other folds", async () => {
    const io = captureIo();
    const out = join(dir, "fold");
    const argv = [
      "--data",
      data,
      "--out",
      out,
      ...TINY,
      "--epochs",
      "1",
      "--steps-per-epoch",
      "1",
      "--fold",
      "1/3",
      "--json",
    ];
    expect(await main(argv, io), io.err).toBe(0);
    const s = JSON.parse(io.out) as RunSummary;
    expect(s.split.val).toHaveLength(1);
    expect(s.split.train).toHaveLength(2);
  });

  it("a run interrupted mid-epoch and resumed ends with the weights of an uninterrupted run (loader position included)", async () => {
    const config = (out: string): TrainConfig => ({
      ...DEFAULT_CONFIG,
      data,
      out,
      backend: "wasm",
      patch: 16,
      baseFilters: 2,
      depth: 2,
      workers: 1,
      epochs: 2,
      stepsPerEpoch: 3,
      split: { kind: "share", share: 0.34 },
      learningRate: 0.01,
    });
    const straight = await runTraining(config(join(dir, "straight")), { handleSigint: false });
    const controller = new AbortController();
    const first = await runTraining(config(join(dir, "resumed")), {
      handleSigint: false,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === "step" && e.step === 2) controller.abort();
      },
    });
    expect([first.reason, first.step]).toEqual(["interrupted", 2]);
    const second = await runTraining(config(join(dir, "resumed")), {
      resume: true,
      handleSigint: false,
    });
    expect([straight.step, second.step]).toEqual([6, 6]);
    const a = await loadModel(join(dir, "straight", "last"));
    const b = await loadModel(join(dir, "resumed", "last"));
    const wa = await Promise.all(a.getWeights().map((w) => w.data()));
    const wb = await Promise.all(b.getWeights().map((w) => w.data()));
    let worst = 0;
    wa.forEach((x, i) => {
      let diff = 0;
      let norm = 0;
      x.forEach((v, k) => {
        diff = Math.max(diff, Math.abs(v - wb[i]![k]!));
        norm = Math.max(norm, Math.abs(v));
      });
      worst = Math.max(worst, diff / Math.max(norm, 1e-12));
    });
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(second.lastVal).toEqual(straight.lastVal);
    a.dispose();
    b.dispose();
  });

  const brats = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../shared/data/brats");
  it("trains on five real BraTS cases and reports validation Dice on the sixth", async () => {
    if (!existsSync(brats)) {
      console.warn(`skipping the real-data run: ${brats} is absent`);
      return;
    }
    const io = captureIo();
    const out = join(dir, "real");
    const argv = [
      "--data",
      brats,
      "--out",
      out,
      "--backend",
      "wasm",
      "--patch",
      "32",
      "--base-filters",
      "2",
      "--depth",
      "2",
      "--workers",
      "0",
      "--epochs",
      "2",
      "--steps-per-epoch",
      "2",
      "--val",
      "BraTS2021_00006",
      "--val-overlap",
      "0",
      "--json",
    ];
    const started = performance.now();
    expect(await main(argv, io), io.err).toBe(0);
    const s = JSON.parse(io.out) as RunSummary;
    console.info(
      `real BraTS run: ${((performance.now() - started) / 1000).toFixed(1)} s, validation Dice ${JSON.stringify(s.lastVal)}`,
    );
    expect(s.split).toEqual({
      train: [
        "Brats17_2013_27_1",
        "Brats18_2013_3_1",
        "Brats18_CBICA_ABM_1",
        "Brats18_TCIA01_201_1",
        "Brats18_TCIA10_628_1",
      ],
      val: ["BraTS2021_00006"],
    });
    expect(s.reason).toBe("completed");
    for (const region of ["WT", "TC", "ET"] as const)
      expect(Number.isFinite(s.lastVal![region])).toBe(true);
  });
});
