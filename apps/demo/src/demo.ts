// The whole job on an embedded default, with nothing to download: synthetic BraTS-like cases →
// a small 3D U-Net trained on the CPU → the held-out case segmented by the ONNX engine → evaluated
// → a results folder with the segmentation, metrics, overlays, training curves and an HTML report.
import { existsSync } from "node:fs";
import { copyFile, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writePhantomDataset } from "@brats/data";
import { makeDirs } from "@brats/kit/fs";
import {
  runInference,
  type InferenceEvent,
  type InferenceSummary,
  type EngineChoice,
} from "@brats/infer-app";
import {
  CURVES_PNG,
  DEFAULT_CONFIG,
  MODEL_CARD_MD,
  MODEL_ONNX,
  type TrainConfig,
} from "@brats/runs";
import { runTraining, type RunSummary } from "@brats/train-app";
import type { BackendPreference, TrainEvent } from "@brats/unet3d";

/** Sizes of one demo: the synthetic data, the model and the training budget. */
export interface DemoPreset {
  /** Synthetic training cases (one of them is held out for validation during training). */
  trainCases: number;
  /** Voxels along x, y, z of every synthetic case. */
  shape: [number, number, number];
  patch: number;
  epochs: number;
  stepsPerEpoch: number;
  baseFilters: number;
  depth: number;
  learningRate: number;
  /** Validate every this many epochs (validation on a whole case costs a few steps). */
  valEvery: number;
}

/**
 * "full" is what `pnpm demo` runs (a few minutes on a 2-core CPU, WT Dice about 0.8 on the
 * held-out case); "ci" is the reduced size the end-to-end test runs (it checks the outputs, not
 * the accuracy).
 */
export const DEMO_PRESETS: Readonly<Record<"full" | "ci", DemoPreset>> = {
  full: {
    trainCases: 8,
    shape: [64, 64, 64],
    patch: 32,
    epochs: 8,
    stepsPerEpoch: 40,
    baseFilters: 8,
    depth: 3,
    learningRate: 0.005,
    valEvery: 2,
  },
  ci: {
    trainCases: 3,
    shape: [48, 48, 32],
    patch: 16,
    epochs: 2,
    stepsPerEpoch: 6,
    baseFilters: 4,
    depth: 2,
    learningRate: 0.005,
    valEvery: 1,
  },
};

export interface DemoOptions {
  /** Folder for everything the demo writes; default ./brats-demo. Replaced when it holds an earlier demo. */
  out?: string;
  preset?: "full" | "ci" | DemoPreset;
  seed?: number;
  /** Training backend (default auto: wasm here). */
  backend?: BackendPreference;
  /** Inference engine; default onnx. */
  engine?: EngineChoice;
  /** Progress and stage lines (default: nothing). */
  log?: (line: string) => void;
  /** Training and inference progress, for a bar. */
  onTrainEvent?: (event: TrainEvent) => void;
  onInferenceEvent?: (event: InferenceEvent) => void;
}

export interface DemoSummary {
  out: string;
  data: { train: string; test: string };
  run: string;
  results: string;
  files: {
    segmentation: string;
    metricsCsv: string;
    metricsJson: string;
    overlays: string[];
    curves: string;
    modelCard: string;
    model: string;
    report: string;
  };
  heldOut: string;
  dice: { WT: number; TC: number; ET: number };
  training: RunSummary;
  inference: InferenceSummary;
  seconds: { data: number; training: number; inference: number; total: number };
}

/** Marks a folder as the demo's, so that a re-run may replace it and nothing else. */
const MARKER = ".brats-demo";

export class DemoError extends Error {
  override name = "DemoError";
  constructor(
    readonly code: "OUT_NOT_DEMO" | "NO_OUTPUT",
    message: string,
  ) {
    super(message);
  }
}

async function prepareOut(out: string): Promise<void> {
  if (existsSync(out)) {
    const entries = await readdir(out);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new DemoError(
        "OUT_NOT_DEMO",
        `${out} exists and is not a demo folder; choose another --out or remove it`,
      );
    }
    await rm(out, { recursive: true, force: true });
  }
  await makeDirs(out);
  await writeFile(
    join(out, MARKER),
    "written by brats-demo; re-running the demo replaces this folder\n",
  );
}

const seconds = (from: number): number => (performance.now() - from) / 1000;

export async function runDemo(opts: DemoOptions = {}): Promise<DemoSummary> {
  const started = performance.now();
  const preset =
    typeof opts.preset === "object" ? opts.preset : DEMO_PRESETS[opts.preset ?? "full"];
  const seed = opts.seed ?? 1;
  const log = opts.log ?? (() => undefined);
  const out = resolve(opts.out ?? "brats-demo");
  await prepareOut(out);

  const trainDir = join(out, "data", "train");
  const testDir = join(out, "data", "test");
  log(
    `1/3 data: ${preset.trainCases} synthetic training cases and 1 held-out case, ` +
      `${preset.shape.join("×")} voxels, in ${join(out, "data")}`,
  );
  let t = performance.now();
  await writePhantomDataset(trainDir, { cases: preset.trainCases, shape: preset.shape, seed });
  // A different seed and prefix: the held-out case shares no RNG stream with the training cases.
  await writePhantomDataset(testDir, {
    cases: 1,
    shape: preset.shape,
    seed: seed + 1_000_003,
    prefix: "Heldout",
  });
  const dataSeconds = seconds(t);

  const runDir = join(out, "run");
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    data: trainDir,
    out: runDir,
    patch: preset.patch,
    epochs: preset.epochs,
    stepsPerEpoch: preset.stepsPerEpoch,
    baseFilters: preset.baseFilters,
    depth: preset.depth,
    learningRate: preset.learningRate,
    valEvery: preset.valEvery,
    split: { kind: "share", share: 1 / preset.trainCases },
    backend: opts.backend ?? "auto",
    seed,
  };
  log(
    `2/3 training: ${preset.epochs} epochs × ${preset.stepsPerEpoch} steps of ${preset.patch}³ patches, ` +
      `base ${preset.baseFilters} filters, depth ${preset.depth}, into ${runDir}`,
  );
  t = performance.now();
  const training = await runTraining(config, {
    handleSigint: true,
    // setupTfjs's line: the backend, its fast kernels and why.
    log: (line) => log(`    ${line}`),
    onStart: (info) =>
      log(`    backend ${info.backend}; validation case ${info.split.val.join(", ")}`),
    ...(opts.onTrainEvent === undefined ? {} : { onProgress: opts.onTrainEvent }),
  });
  const trainingSeconds = seconds(t);
  if (training.reason === "interrupted") {
    throw new DemoError("NO_OUTPUT", "training was interrupted; nothing to segment");
  }
  const model = join(runDir, MODEL_ONNX);

  const results = join(out, "results");
  log(`3/3 inference: ${opts.engine ?? "onnx"} engine on the held-out case, into ${results}`);
  t = performance.now();
  const inference = await runInference(
    {
      models: [model],
      input: testDir,
      out: results,
      engine: opts.engine ?? "onnx",
      overlays: true,
    },
    {
      log: (line) => log(`    ${line}`),
      ...(opts.onInferenceEvent === undefined ? {} : { onEvent: opts.onInferenceEvent }),
    },
  );
  const inferenceSeconds = seconds(t);
  const result = inference.cases[0];
  if (result === undefined || result.status === "failed" || result.segmentation === null) {
    throw new DemoError(
      "NO_OUTPUT",
      `inference failed: ${result?.error?.message ?? "no case was segmented"}`,
    );
  }
  if (inference.metrics === null || result.dice === null || inference.report === null) {
    throw new DemoError("NO_OUTPUT", "the held-out case was not evaluated");
  }
  // The results folder holds everything a reader needs, also the curves and the model card.
  const curves = join(results, "training-curves.png");
  await copyFile(join(runDir, CURVES_PNG), curves);
  const modelCard = join(results, MODEL_CARD_MD);
  await copyFile(join(runDir, MODEL_CARD_MD), modelCard);

  return {
    out,
    data: { train: trainDir, test: testDir },
    run: runDir,
    results,
    files: {
      segmentation: result.segmentation,
      metricsCsv: inference.metrics.csv,
      metricsJson: inference.metrics.json,
      overlays: result.overlays,
      curves,
      modelCard,
      model,
      report: inference.report,
    },
    heldOut: result.id,
    dice: result.dice,
    training,
    inference,
    seconds: {
      data: dataSeconds,
      training: trainingSeconds,
      inference: inferenceSeconds,
      total: seconds(started),
    },
  };
}
