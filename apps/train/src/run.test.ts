// runTraining's run folder is what @brats/runs reads: the metadata and model.onnx of a tiny phantom
// run, the setup line, and the model card written at the end of a run, after an interruption and
// after the resume.
import { readdir, readFile, rm, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writePhantomDataset } from "@brats/data";
import {
  DEFAULT_CONFIG,
  readTrainState,
  runMetadata,
  writeModelCard,
  type RunRecord,
  type TrainConfig,
} from "@brats/runs";
import { parseModelMetadata, readOnnxModelInfo } from "@brats/unet3d";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTraining, type RunSummary } from "./run.js";

describe("the run folder of a tiny phantom run", () => {
  let dir: string;
  let out: string;
  let summary: RunSummary;
  const lines: string[] = [];
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
      { handleSigint: false, log: (line) => lines.push(line) },
    );
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("sets TF.js up once and says so", () => {
    // The native kernels go in front where @brats/tfjs-onednn's addon loads (with oneDNN's version
    // and threads), else the line says why not.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^tfjs backend: wasm (\+ onednn )?\+ fast Conv3D kernels \(asked for; (oneDNN \S+ on \d+ threads?|onednn unavailable: .+)\)$/,
    );
  });

  it("has the metadata of best/: the run's cases, backend, progress and validation", async () => {
    const meta = await runMetadata(out);
    expect(meta).toMatchObject({ windowSize: [16, 16, 16], overlap: 0.25 });
    const best = await readTrainState(join(out, "best"));
    expect(meta.training).toMatchObject({
      tool: "brats-train",
      run: "run",
      runDir: resolve(out),
      checkpoint: "best",
      backend: "wasm",
      trainCases: ["Phantom_00000", "Phantom_00002"],
      valCases: ["Phantom_00001"],
      epochs: summary.bestEpoch,
      steps: best.step,
    });
    const val = meta.training!["validation"] as { best: { epoch: number; mean: number } };
    expect(val.best.epoch).toBe(summary.bestEpoch);
    expect(val.best.mean).toBeCloseTo(summary.bestMeanDice!, 12);
  });

  it("ends with model.onnx of best/, whose metadata parses to runMetadata's", async () => {
    expect(summary.onnx).toBe(join(out, "model.onnx"));
    const bytes = new Uint8Array(await readFile(summary.onnx));
    expect(parseModelMetadata(readOnnxModelInfo(bytes).props)).toEqual(await runMetadata(out));
  });
});

describe("MODEL_CARD.md of a tiny run on phantoms", () => {
  let dir: string;
  let data: string;
  const config = (out: string): TrainConfig => ({
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
    dropout: 0,
    learningRate: 0.01,
    split: { kind: "share", share: 0.34 },
  });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-model-card-"));
    data = join(dir, "data");
    await writePhantomDataset(data, { cases: 3, shape: [24, 24, 24], seed: 5 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is written at the end of a run, after an interruption, and updated by the resume", async () => {
    const out = join(dir, "run");
    // Interrupt after the first step of epoch 2.
    const abort = new AbortController();
    const first = await runTraining(config(out), {
      handleSigint: false,
      signal: abort.signal,
      onProgress: (e) => {
        if (e.type === "step" && e.step === 3) abort.abort();
      },
    });
    expect(first.reason).toBe("interrupted");
    expect(first.modelCard).toBe(join(out, "MODEL_CARD.md"));
    const interrupted = await readFile(first.modelCard, "utf8");
    expect(interrupted).toContain("Status: interrupted after 1 of 2 epochs (3 steps)");
    expect(interrupted).toContain(`--out ${out} --resume`);
    const split = first.split;
    expect(split.val).toHaveLength(1);
    expect(interrupted).toContain(
      `| Training cases (2) | ${split.train.map((id) => `\`${id}\``).join(", ")} |`,
    );
    expect(interrupted).toContain(`| Validation cases (1) | \`${split.val[0]}\` |`);
    expect(interrupted).toContain("| Backend | `wasm` |");

    const second = await runTraining(config(out), { resume: true, handleSigint: false });
    expect(second.reason).toBe("completed");
    const card = await readFile(second.modelCard, "utf8");
    expect(card).toContain("Status: completed: 2 of 2 epochs.");
    expect(card).toContain(
      "| Epochs and steps | 2 of 2 epochs, 4 steps (2 per epoch, batch 1, patches 16³) |",
    );
    // validation rows are the run's own numbers
    const last = await readTrainState(join(out, "last"));
    const e2 = last.history.find((h) => h.epoch === 2)!.val!;
    expect(card).toContain(
      `| last | 2 | ${e2.WT.toFixed(4)} | ${e2.TC.toFixed(4)} | ${e2.ET.toFixed(4)} | ${((e2.WT + e2.TC + e2.ET) / 3).toFixed(4)} |`,
    );
    const best = last.history.find((h) => h.epoch === last.bestEpoch)!.val!;
    expect(card).toContain(`| best | ${last.bestEpoch} | ${best.WT.toFixed(4)} |`);
    expect(card).toMatch(/\| Trainable parameters \| [\d,]+ \|/);
    expect(card).toContain("`model.onnx` (ONNX of `best/`");
    expect(card).toMatch(
      new RegExp(`Training time \\| .*\\(${last.elapsed.toFixed(1)} s\\), all sessions`),
    );
    // the configuration block is config.json's
    const json = /```json\n([^]*?)\n```/.exec(card)![1]!;
    const record = JSON.parse(await readFile(join(out, "config.json"), "utf8")) as RunRecord;
    expect(JSON.parse(json)).toEqual(record.config);
    // written atomically: no temporary file left beside it
    expect((await readdir(out)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("can be rewritten from the folder alone, and needs a run folder", async () => {
    const out = join(dir, "run");
    const before = await readFile(join(out, "MODEL_CARD.md"), "utf8");
    const when = new Date("2026-11-26T20:00:00.000Z");
    await writeModelCard(out, { now: when, parameters: 123 });
    const after = await readFile(join(out, "MODEL_CARD.md"), "utf8");
    expect(after).toContain("Card written 2026-11-26T20:00:00.000Z.");
    expect(after).toContain("| Trainable parameters | 123 |");
    const strip = (t: string) =>
      t.replace(/Card written \S+\./, "").replace(/\| Trainable parameters \| [\d,]+ \|/, "");
    expect(strip(after)).toBe(strip(before));
    await expect(writeModelCard(data)).rejects.toMatchObject({ code: "NOT_A_RUN" });
  });
});
