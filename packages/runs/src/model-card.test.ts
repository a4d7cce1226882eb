// MODEL_CARD.md: the text from hand-made run states (table tests), and the card written from the
// files of a tiny run folder (made with @brats/unet3d train()).
import { readFileSync, writeFileSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EpochRecord } from "@brats/conventions";
import type { TrainState } from "@brats/unet3d";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type TrainConfig } from "./config.js";
import { exportRunOnnx } from "./export.js";
import { makeTinyRun, type TinyRun } from "./fixture.testutil.js";
import { renderModelCard, writeModelCard, type ModelCardInfo } from "./model-card.js";
import { readTrainState, type RunRecord } from "./record.js";

const epoch = (n: number, val: [number, number, number] | null): EpochRecord => ({
  epoch: n,
  loss: 1 / n,
  lr: 0.001,
  val: val === null ? null : { WT: val[0], TC: val[1], ET: val[2] },
  time: 10 * n,
});

function info(overrides: {
  finished?: TrainState["finished"];
  history?: EpochRecord[];
  bestEpoch?: number | null;
  val?: string[];
  train?: string[];
  config?: Partial<TrainConfig>;
  sessionBackend?: string;
  onnx?: ModelCardInfo["onnx"];
}): ModelCardInfo {
  const history = overrides.history ?? [
    epoch(1, [0.5, 0.25, 0.125]),
    epoch(2, [0.75, 0.5, 0.25]),
    epoch(3, [0.7, 0.4, 0.1]),
  ];
  const record: RunRecord = {
    config: {
      ...DEFAULT_CONFIG,
      data: "/data/BraTS 2020",
      out: "runs/fold 0",
      epochs: 5,
      patience: 2,
      ...overrides.config,
    },
    backend: "wasm",
    split: {
      train: overrides.train ?? ["BraTS20_Training_001", "BraTS20_Training_002"],
      val: overrides.val ?? ["BraTS20_Training_003"],
    },
    started: "2026-11-26T10:00:00.000Z",
  };
  const last = {
    step: 750,
    elapsed: 3725.25,
    history,
    bestEpoch: overrides.bestEpoch === undefined ? 2 : overrides.bestEpoch,
    finished: overrides.finished === undefined ? "completed" : overrides.finished,
  } as TrainState;
  return {
    runDir: "runs/fold 0",
    record,
    last,
    bestCheckpointEpoch: last.bestEpoch,
    ...(overrides.sessionBackend === undefined ? {} : { sessionBackend: overrides.sessionBackend }),
    onnx:
      overrides.onnx === undefined
        ? { file: "model.onnx", checkpoint: "best", bytes: 3 * 1024 * 1024 }
        : overrides.onnx,
    parameters: 5_648_784,
    written: "2026-11-26T11:00:00.000Z",
  };
}

describe("renderModelCard", () => {
  it.each<[string, Parameters<typeof info>[0], string[]]>([
    [
      "a completed run",
      {},
      [
        "Status: completed: 3 of 5 epochs.",
        "| Trainable parameters | 5,648,784 |",
        "| Backend | `wasm` |",
        "| Training time | 1 h 02 min (3725.3 s), all sessions |",
        "| Training cases (2) | `BraTS20_Training_001`, `BraTS20_Training_002` |",
        "| Validation cases (1) | `BraTS20_Training_003` |",
        "| best | 2 | 0.7500 | 0.5000 | 0.2500 | 0.5000 |",
        "| last | 3 | 0.7000 | 0.4000 | 0.1000 | 0.4000 |",
        "`model.onnx` (ONNX of `best/`, 3.0 MiB, configuration in its metadata)",
        "brats-infer --model 'runs/fold 0' --input CASE_OR_DATASET_DIR --out OUT_DIR\n",
        "brats-infer --model 'runs/fold 0/model.onnx' --input CASE_OR_DATASET_DIR --out OUT_DIR --engine onnx",
        "| Folder | `/data/BraTS 2020` |",
        "| Split | 20 % of the cases held out at random (seed 1) |",
        "Not for clinical use",
        "@brats ships no pretrained weights",
        '"modalities": ["flair", "t1", "t1ce"],',
        "written as BraTS labels 0, 1, 2, 4 (`brats2021`)",
      ],
    ],
    [
      "an early stop",
      { finished: "early-stopped" },
      [
        "Status: stopped early after 3 of 5 epochs (no better mean validation Dice in 2 validations).",
      ],
    ],
    [
      "an interruption",
      { finished: null },
      [
        "Status: interrupted after 3 of 5 epochs (750 steps); continue with `brats-train --data '/data/BraTS 2020' --out 'runs/fold 0' --resume`.",
      ],
    ],
    [
      "a resume on another backend",
      { sessionBackend: "cpu" },
      ["| Backend | `wasm (first session), cpu (latest session)` |"],
    ],
    [
      "no validation cases and no ONNX file",
      {
        val: [],
        history: [epoch(1, null)],
        bestEpoch: null,
        onnx: null,
        config: { split: { kind: "fold", k: 1, n: 5 }, labels: "brats2023" },
      },
      [
        "| Validation cases (0) | none |",
        "No validation cases: no validation metrics.",
        "| Split | fold 1 of a 5-fold split by case (seed 1) |",
        "written as BraTS labels 0, 1, 2, 3 (`brats2023`)",
        "export an ONNX file with `exportRunOnnx`",
      ],
    ],
    [
      "case ids that would break a table",
      { train: ["a|b", "c`d"] },
      ["| Training cases (2) | `a\\|b`, `` c`d `` |"],
    ],
  ])("%s", (_name, overrides, expected) => {
    const text = renderModelCard(info(overrides));
    for (const line of expected) expect(text).toContain(line);
  });

  // The whole text, byte for byte: the section renderers must add up to exactly this.
  it.each<[string, Parameters<typeof info>[0]]>([
    ["completed", {}],
    [
      "interrupted",
      {
        finished: null,
        val: [],
        history: [epoch(1, null)],
        bestEpoch: null,
        onnx: null,
        sessionBackend: "cpu",
        config: { split: { kind: "fold", k: 1, n: 5 }, labels: "brats2023", augment: false },
      },
    ],
    [
      "early-stopped",
      {
        finished: "early-stopped",
        config: { split: { kind: "ids", ids: ["BraTS20_Training_003"] }, patience: null },
        onnx: { file: "model.onnx", checkpoint: "last", bytes: 20_000 },
      },
    ],
    [
      "time-limit",
      {
        finished: "time-limit",
        config: { timeLimit: 1800, valEvery: null, outputs: "regions", augmentStrength: 1.5 },
      },
    ],
  ])("renders the whole %s card as pinned in __golden__", (name, overrides) => {
    const file = new URL(`./__golden__/model-card-${name}.md`, import.meta.url);
    // UPDATE_GOLDEN=1 rewrites the pinned cards (then read the diff before committing it).
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, renderModelCard(info(overrides)));
    const golden = readFileSync(file, "utf8");
    expect(renderModelCard(info(overrides))).toBe(golden);
  });

  it("leaves out what is absent", () => {
    const text = renderModelCard(
      info({ val: [], history: [epoch(1, null)], bestEpoch: null, onnx: null }),
    );
    expect(text).not.toContain("| best |");
    expect(text).not.toContain("--engine onnx");
    expect(text).not.toContain("`best/` (epoch");
  });
});

describe("writeModelCard of a tiny run", () => {
  let dir: string;
  let run: TinyRun;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-runs-model-card-"));
    run = await makeTinyRun(join(dir, "run"));
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes MODEL_CARD.md from the folder's own files, atomically", async () => {
    const out = run.runDir;
    const when = new Date("2026-11-26T20:00:00.000Z");
    const path = await writeModelCard(out, { now: when, parameters: 123, sessionBackend: "cpu" });
    expect(path).toBe(join(out, "MODEL_CARD.md"));
    const card = await readFile(path, "utf8");
    expect(card).toContain("Card written 2026-11-26T20:00:00.000Z.");
    expect(card).toContain("| Trainable parameters | 123 |");
    expect(card).toContain("Status: completed: 2 of 2 epochs.");
    expect(card).toContain("| Backend | `wasm (first session), cpu (latest session)` |");
    expect(card).toContain(
      "| Epochs and steps | 2 of 2 epochs, 4 steps (2 per epoch, batch 1, patches 16³) |",
    );
    expect(card).toContain("| Training cases (2) | `Case_0`, `Case_2` |");
    expect(card).toContain("| Validation cases (1) | `Case_1` |");
    // validation rows are the run's own numbers
    const last = await readTrainState(join(out, "last"));
    const e2 = last.history.find((h) => h.epoch === 2)!.val!;
    expect(card).toContain(
      `| last | 2 | ${e2.WT.toFixed(4)} | ${e2.TC.toFixed(4)} | ${e2.ET.toFixed(4)} | ${((e2.WT + e2.TC + e2.ET) / 3).toFixed(4)} |`,
    );
    const best = last.history.find((h) => h.epoch === last.bestEpoch)!.val!;
    expect(card).toContain(`| best | ${last.bestEpoch} | ${best.WT.toFixed(4)} |`);
    expect(card).toMatch(
      new RegExp(`Training time \\| .*\\(${last.elapsed.toFixed(1)} s\\), all sessions`),
    );
    // no model.onnx yet
    expect(card).toContain("export an ONNX file with `exportRunOnnx`");
    // the configuration block is config.json's
    const json = /```json\n([^]*?)\n```/.exec(card)![1]!;
    expect(JSON.parse(json)).toEqual(run.record.config);
    expect((await readdir(out)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("names the checkpoint model.onnx holds, read from its own metadata", async () => {
    await exportRunOnnx(run.runDir, undefined, { checkpoint: "last" });
    const card = await readFile(await writeModelCard(run.runDir), "utf8");
    expect(card).toContain("`model.onnx` (ONNX of `last/`");
    expect(card).toContain("--engine onnx");
    expect(card).toMatch(/\| Trainable parameters \| unknown \|/);
  });

  it.each<[string, (copy: string) => Promise<string>, string]>([
    ["a folder that is not a run", () => Promise.resolve(dir), "NOT_A_RUN"],
    [
      "a run without last/",
      async (copy) => {
        await cp(run.runDir, copy, { recursive: true });
        await rm(join(copy, "last"), { recursive: true });
        return copy;
      },
      "NO_CHECKPOINT",
    ],
  ])("%s: %s", async (name, make, code) => {
    const target = await make(join(dir, `case-${name.replace(/\W+/g, "-")}`));
    await expect(writeModelCard(target)).rejects.toMatchObject({ code });
  });
});
