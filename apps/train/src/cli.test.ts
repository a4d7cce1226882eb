// brats-train end to end: phantom cases (always) and the six real BraTS cases (when present).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTrainingLog } from "@brats/conventions";
import { writePhantomDataset } from "@brats/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "@brats/unet3d";
import { DEFAULT_CONFIG, type RunRecord, type TrainConfig } from "@brats/runs";
import { helpText, parseCli, runCliMain } from "@brats/kit/cli";
import { tempHostName } from "@brats/kit/fs";
import { CLI, main, trainingProgress, type CliIo } from "./cli.js";
import { runTraining, type RunSummary } from "./run.js";

/** The CLI as bin/brats-train.js runs it: main under runCliMain (errors printed, exit status). */
function cli(argv: string[], io: CliIo): Promise<number> {
  return runCliMain(CLI, main, { argv, io, setExitCode: () => undefined });
}

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

  it("--help lists every option the parser accepts, one per line; --version is the package's", async () => {
    const help = captureIo();
    expect(await cli(["--help"], help)).toBe(0);
    expect(help.out).toBe(helpText(CLI));
    const lines = help.out.split("\n");
    for (const name of [...Object.keys(CLI.options), "help", "version"]) {
      expect(
        lines.filter((l) => new RegExp(`^  (-\\w, )?--${name}( |$)`).test(l)),
        name,
      ).toHaveLength(1);
      // ... and the parser takes it (boolean or with a value).
      const o = (CLI.options as Record<string, { type: string }>)[name];
      const argv = o?.type === "string" ? [`--${name}`, "1"] : [`--${name}`];
      expect(() => parseCli(CLI, argv), name).not.toThrow(/unknown option/);
    }
    expect(help.out).toContain("--val-every K");
    expect(help.out).toContain("--val-overlap F");
    const version = captureIo();
    expect(await cli(["--version"], version)).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(version.out).toBe(`${pkg.version}\n`);
  });

  it.each([
    [
      ["--epoch", "3"],
      "brats-train: unknown option --epoch (did you mean --epochs?)\nsee brats-train --help\n",
    ],
    [
      ["--data", "a", "--data", "b"],
      "brats-train: --data given more than once\nsee brats-train --help\n",
    ],
    [["--data", "x"], "brats-train: missing required option --out\nsee brats-train --help\n"],
    [[], "brats-train: missing required options --data and --out\nsee brats-train --help\n"],
    [["--data", "x", "--out", "y", "--fold", "3/3"], "--fold k/n needs n ≥ 2 and k < n, got 3/3"],
    [["--data", "x", "--out", "y", "--modalities", "flair,dwi"], "unknown modality dwi"],
    [["--data", "x", "--out", "y", "--epochs", "0"], "--epochs must be a positive integer, got 0"],
    [
      ["--data", "x", "--out", "y", "--val-split", "1"],
      "--val-split must be a number in [0, 1), got 1",
    ],
    [["--data", "x", "--out", "y", "--backend", "metal"], "--backend must be one of"],
    [
      ["--data", "x", "--out", "y", "--time-limit", "30x"],
      "--time-limit must be a duration like 90s, 30m, 2h or 1h30m (a bare number is minutes), got 30x",
    ],
    [["--data", "x", "--out", "y", "--time-limit", "0"], "--time-limit must be a duration"],
    [
      ["--data", "x", "--out", "y", "--val-every", "never"],
      "--val-every must be a positive integer, got never",
    ],
    [["--data", "x", "--out", "y", "stray"], 'unexpected argument "stray"'],
  ])("usage error %j: one short line, status 2", async (argv, message) => {
    const io = captureIo();
    expect(await cli(argv, io)).toBe(2);
    expect(io.err).toContain(message);
    expect(io.err.trim().split("\n")).toHaveLength(2);
    expect(io.err).toMatch(/\nsee brats-train --help\n$/);
    expect(io.out).toBe("");
  });

  it.each([
    [
      ["--data", "/nonexistent", "--out", "/tmp/x"],
      "--data: no such file or directory: /nonexistent",
    ],
    [
      ["--data", ".", "--out", "/nonexistent-run", "--resume"],
      "--out: no such file or directory: /nonexistent-run",
    ],
    [
      ["--data", ".", "--out", "/tmp/x", "--config", "/nonexistent.json"],
      "--config: no such file or directory: /nonexistent.json",
    ],
  ])("a missing input path %j is NOT_FOUND, status 2", async (argv, message) => {
    await expect(main(argv, captureIo())).rejects.toMatchObject({ code: "NOT_FOUND" });
    const io = captureIo();
    expect(await cli(argv, io)).toBe(2);
    expect(io.err).toBe(`brats-train: ${message}\n`);
  });

  it("bin/brats-train.js runs main with exit codes", async () => {
    // The committed bin, beside a dist/cli.js that is the source (so no build is needed).
    const root = join(dir, "program");
    await mkdir(join(root, "bin"), { recursive: true });
    await mkdir(join(root, "dist"), { recursive: true });
    await copyFile(
      fileURLToPath(new URL("../bin/brats-train.js", import.meta.url)),
      join(root, "bin", "brats-train.js"),
    );
    const source = fileURLToPath(new URL("./cli.ts", import.meta.url));
    await writeFile(join(root, "dist", "cli.js"), `export * from ${JSON.stringify(source)};\n`);
    await writeFile(join(root, "package.json"), '{ "type": "module" }\n');
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        ["--conditions=source", "--import", "tsx", join(root, "bin", "brats-train.js"), ...args],
        { cwd: fileURLToPath(new URL("../", import.meta.url)), encoding: "utf8" },
      );
    const help = run(["--help"]);
    expect([help.status, help.stdout]).toEqual([0, helpText(CLI)]);
    const unknown = run(["--epoch", "3"]);
    expect([unknown.status, unknown.stderr]).toEqual([
      2,
      "brats-train: unknown option --epoch (did you mean --epochs?)\nsee brats-train --help\n",
    ]);
    const missing = run(["--data", "/nonexistent", "--out", join(root, "run")]);
    expect([missing.status, missing.stderr]).toEqual([
      2,
      "brats-train: --data: no such file or directory: /nonexistent\n",
    ]);
  });

  it.each([
    // step 3 of 4 (epoch 2 of 2, step 1 of 2), 0.5 s per step: 1 step left.
    [
      { epoch: 2, step: 3, stepInEpoch: 1, stepsPerEpoch: 2, totalSteps: 4, loss: 0.25 },
      [0.5, 0.5],
      0.75,
      "epoch 2/2 step 1/2 loss 0.2500 2.00 step/s",
      0.5,
    ],
    [
      { epoch: 1, step: 1, stepInEpoch: 1, stepsPerEpoch: 250, totalSteps: 25000, loss: 1 },
      [2],
      1 / 25000,
      "epoch 1/100 step 1/250 loss 1.0000 0.50 step/s",
      49998,
    ],
    [
      { epoch: 1, step: 1, stepInEpoch: 1, stepsPerEpoch: 1, totalSteps: 1, loss: 1 },
      [],
      1,
      "epoch 1/1 step 1/1 loss 1.0000 0.00 step/s",
      0,
    ],
  ])(
    "trainingProgress %#: the run's share done, the step's text, ETA from recent step times",
    (step, recent, fraction, text, eta) => {
      const epochs = step.totalSteps / step.stepsPerEpoch;
      const e = { type: "step" as const, lr: 1e-3, time: 1, stepSeconds: 1, ...step };
      expect(trainingProgress(e, epochs, recent)).toEqual({ fraction, text, eta });
    },
  );

  it.each([
    // 10 of 1000 steps done but 60 of 120 s spent: the time decides, ETA 60 s.
    [{ step: 10, time: 60 }, 120, 0.5, 60],
    // 900 of 1000 steps in 60 of 600 s: the steps decide (100 steps × 1 s left).
    [{ step: 900, time: 60 }, 600, 0.9, 100],
    // Past the limit (a last step overran): full, no negative ETA.
    [{ step: 10, time: 130 }, 120, 1, 0],
  ])(
    "trainingProgress under a time limit %#: steps or time, whichever ends first",
    (at, limit, fraction, eta) => {
      const e = {
        type: "step" as const,
        epoch: 1,
        stepInEpoch: 1,
        stepsPerEpoch: 250,
        totalSteps: 1000,
        loss: 1,
        lr: 1e-3,
        stepSeconds: 1,
        ...at,
      };
      const p = trainingProgress(e, 4, [1, 1], limit);
      expect([p.fraction, p.eta]).toEqual([fraction, eta]);
    },
  );

  it("--time-limit ends a run on its budget as a normal finish, with every final file", async () => {
    const out = join(dir, "timed");
    const io = captureIo();
    const started = performance.now();
    const argv = [
      "--data",
      data,
      "--out",
      out,
      ...TINY,
      "--epochs",
      "1000",
      "--steps-per-epoch",
      "5",
      "--val-split",
      "0.34",
      "--time-limit",
      "12s",
      "--json",
    ];
    expect(await cli(argv, io), io.err).toBe(0);
    const wall = (performance.now() - started) / 1000;
    const summary = JSON.parse(io.out) as RunSummary;
    expect(summary.reason).toBe("time-limit");
    expect(summary.step).toBeGreaterThan(0);
    expect(summary.step).toBeLessThan(5000);
    // Validated once, at the end (the default under a time limit), and that time reported.
    expect(summary.lastVal).not.toBeNull();
    expect(summary.validationSeconds).toBeGreaterThan(0);
    const record = JSON.parse(await readFile(join(out, "config.json"), "utf8")) as RunRecord;
    expect([record.config.timeLimit, record.config.valEvery]).toEqual([12, null]);
    const log = parseTrainingLog(await readFile(join(out, "log.jsonl"), "utf8"));
    const validated = log.epochs.filter((e) => e.val !== undefined);
    expect(validated.map((e) => e.epoch)).toEqual([log.epochs.at(-1)!.epoch]);
    // The run's own clock (train-state.json) stays within the budget; the app's wall time adds
    // setup, the ONNX export and the card, a few seconds on a tiny model.
    const state = JSON.parse(await readFile(join(out, "last", "train-state.json"), "utf8")) as {
      elapsed: number;
      finished: string;
    };
    expect(state.finished).toBe("time-limit");
    expect(state.elapsed).toBeLessThanOrEqual(12.5);
    expect(wall).toBeGreaterThan(6);
    for (const f of [
      "model.onnx",
      "MODEL_CARD.md",
      "curves.png",
      "best/model.json",
      "last/optimizer.bin",
    ]) {
      expect((await stat(join(out, f))).size, f).toBeGreaterThan(0);
    }
    const card = await readFile(join(out, "MODEL_CARD.md"), "utf8");
    expect(card).toContain("ended on its time limit of 12 s");
    expect(card).toContain("validation included");
    // The schedule followed the clock: the last step's learning rate is near the poly's end.
    const lrs = log.steps.map((s) => s.lr!);
    expect(lrs.at(-1)!).toBeLessThan(lrs[0]! * 0.3);
  });

  it("never starts over in an existing run folder: exit 2 untouched, unless --resume or --overwrite", async () => {
    const out = join(dir, "kept");
    const argv = ["--data", data, "--out", out, ...TINY, "--epochs", "1", "--steps-per-epoch", "1"];
    expect(await cli(argv, captureIo())).toBe(0);
    const files = ["config.json", "log.jsonl", "metrics.csv", "model.onnx", "MODEL_CARD.md"];
    const before = await Promise.all(files.map((f) => readFile(join(out, f))));
    const lastBefore = await stat(join(out, "last", "weights.bin"));

    const again = captureIo();
    expect(await cli(argv, again)).toBe(2);
    expect(again.err).toMatch(/already holds a run \(.*config\.json.*\); --resume continues it/);
    expect(await Promise.all(files.map((f) => readFile(join(out, f))))).toEqual(before);
    expect((await stat(join(out, "last", "weights.bin"))).mtimeMs).toBe(lastBefore.mtimeMs);

    // A checkpoint save killed by kill -9 leaves a temp folder of a dead pid: the next start removes it.
    const leftover = join(out, `.last.tmp-${tempHostName()}-999999-0123456789ab`);
    await mkdir(leftover);
    await writeFile(join(leftover, "weights.bin"), "partial");
    const replaced = captureIo();
    expect(await cli([...argv, "--overwrite"], replaced), replaced.err).toBe(0);
    expect(replaced.err).toMatch(/--overwrite: removed the previous run's .*config\.json.*last/);
    expect(replaced.err).toContain("leftover temp(s) of killed sessions: .last.tmp-");
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(join(out, "model.onnx"))).toBe(true);

    const both = captureIo();
    expect(await cli([...argv, "--overwrite", "--resume"], both)).toBe(2);
    expect(both.err).toContain("pick one");
  }, 120_000);

  it("an --out that cannot be a folder fails at once with status 2 (no spinning under /proc)", async () => {
    const io = captureIo();
    const started = performance.now();
    expect(await cli(["--data", data, "--out", "/proc/brats-train-test/run", ...TINY], io)).toBe(2);
    expect(io.err).toMatch(/cannot (create|write into) \/proc/);
    expect(performance.now() - started).toBeLessThan(5000);
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
    expect(await cli(argv, io), io.err).toBe(0);
    // The native oneDNN kernels where their addon loads (CI builds it), else the wasm ones alone.
    expect(io.err).toMatch(
      /brats-train: tfjs backend: wasm (\+ onednn )?\+ fast Conv3D kernels \(asked for(; oneDNN [\d.]+ on \d+ threads?|; onednn unavailable: [^)]+)?\)\n/,
    );
    expect(io.err).toMatch(/backend wasm; 2 training, 1 validation case/);
    // Not a terminal: the bar prints a plain line at the end of each epoch (kit's one style).
    expect(io.err).toMatch(
      /\n\[#{24}\] 100% epoch 2\/2 step 2\/2 loss \d+\.\d{4} \d+\.\d{2} step\/s ETA 0s\n/,
    );
    expect(io.err).toMatch(/\n\[#{12}-{12}\] {2}50% epoch 1\/2 step 2\/2 loss .* ETA \S+\n/);
    expect(io.err).not.toContain("\r");
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
    expect(await cli(["--data", data, "--out", out, "--resume", "--json"], again), again.err).toBe(
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
