// runMetadata of a tiny run folder (made with @brats/unet3d train()), the preprocessing it claims
// against what prepareCase really does, and validationSummary.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generatePhantom, preprocessCase } from "@brats/data";
import type { EpochRecord } from "@brats/conventions";
import { loadModel, unet3dConfigOf } from "@brats/unet3d";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRAIN_PREPROCESSING } from "./config.js";
import { makeTinyRun, type TinyRun } from "./fixture.testutil.js";
import { runMetadata, validationSummary } from "./metadata.js";
import { readTrainState } from "./record.js";

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

describe("validationSummary", () => {
  const e = (epoch: number, val: [number, number, number] | null): EpochRecord => ({
    epoch,
    loss: 1,
    lr: 0.001,
    val: val === null ? null : { WT: val[0], TC: val[1], ET: val[2] },
    time: epoch,
  });
  it.each<[string, EpochRecord[], number | null, ReturnType<typeof validationSummary>]>([
    ["no history", [], null, { best: null, last: null }],
    ["no validation", [e(1, null), e(2, null)], null, { best: null, last: null }],
    [
      "best before last, last epoch not validated",
      [e(1, [0.3, 0.6, 0.9]), e(2, [0.1, 0.2, 0.3]), e(3, null)],
      1,
      {
        best: { epoch: 1, WT: 0.3, TC: 0.6, ET: 0.9, mean: 0.6 },
        last: { epoch: 2, WT: 0.1, TC: 0.2, ET: 0.3, mean: (0.1 + 0.2 + 0.3) / 3 },
      },
    ],
  ])("%s", (_name, history, best, expected) => {
    expect(validationSummary(history, best)).toEqual(expected);
  });
});

describe("runMetadata of a tiny run", () => {
  let dir: string;
  let run: TinyRun;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-runs-metadata-"));
    run = await makeTinyRun(join(dir, "run"));
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("describes the best checkpoint: inputs, labels, head, preprocessing, windows, network, provenance", async () => {
    const meta = await runMetadata(run.runDir);
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
    const model = await loadModel(join(run.runDir, "best"));
    expect(meta.unet).toEqual(unet3dConfigOf(model));
    model.dispose();
    expect(meta.unet).toMatchObject({ depth: 2, baseFilters: 2, dropout: 0.1, attention: true });
    const best = await readTrainState(join(run.runDir, "best"));
    const t = meta.training!;
    expect(t).toMatchObject({
      tool: "brats-train",
      run: "run",
      runDir: resolve(run.runDir),
      modelCard: "MODEL_CARD.md",
      checkpoint: "best",
      started: run.record.started,
      backend: "wasm",
      trainCases: run.record.split.train,
      valCases: ["Case_1"],
      epochs: run.result.bestEpoch,
      steps: best.step,
    });
    expect((t["config"] as Record<string, unknown>)["patch"]).toBe(16);
    expect(t["config"]).not.toHaveProperty("out");
    const val = t["validation"] as { best: { epoch: number; mean: number } };
    expect(val.best.epoch).toBe(run.result.bestEpoch);
    expect(val.best.mean).toBeCloseTo(run.result.bestScore!, 12);
  });

  it("describes last/ when asked, and says what is wrong with a folder", async () => {
    const meta = await runMetadata(run.runDir, { checkpoint: "last" });
    expect(meta.training).toMatchObject({
      checkpoint: "last",
      epochs: 2,
      steps: 4,
      finished: "completed",
    });
    await expect(runMetadata(dir)).rejects.toMatchObject({ code: "NOT_A_RUN" });
    const noBest = join(dir, "no-best");
    await cp(run.runDir, noBest, { recursive: true });
    await rm(join(noBest, "best"), { recursive: true });
    await expect(runMetadata(noBest, { checkpoint: "best" })).rejects.toMatchObject({
      code: "NO_CHECKPOINT",
    });
    // without best/, the default is last/
    expect((await runMetadata(noBest)).training).toMatchObject({ checkpoint: "last" });
    await rm(join(noBest, "last"), { recursive: true });
    await expect(runMetadata(noBest)).rejects.toMatchObject({ code: "NO_CHECKPOINT" });
  });

  it.each<[string, (runDir: string) => Promise<void>]>([
    [
      "a checkpoint trained on other modalities than config.json says",
      async (runDir) => {
        const path = join(runDir, "config.json");
        const record = JSON.parse(await readFile(path, "utf8")) as {
          config: { modalities: string[] };
        };
        record.config.modalities = ["t2", "flair", "t1"];
        await writeFile(path, JSON.stringify(record));
      },
    ],
    ["an unreadable model.json", (runDir) => writeFile(join(runDir, "best", "model.json"), "{")],
    ["no train-state.json", (runDir) => rm(join(runDir, "best", "train-state.json"))],
  ])("BAD_RUN: %s", async (name, spoil) => {
    const copy = join(dir, `bad-${name.replace(/\W+/g, "-")}`);
    await cp(run.runDir, copy, { recursive: true });
    await spoil(copy);
    await expect(runMetadata(copy)).rejects.toMatchObject({ name: "RunsError", code: "BAD_RUN" });
  });
});
