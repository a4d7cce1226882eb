// One training run: a case folder and a config in, a run folder out (config.json, log.jsonl,
// metrics.csv, last/ and best/ checkpoints, curves.png, model.onnx, MODEL_CARD.md). The CLI parses
// arguments into a TrainConfig and calls runTraining; tests call it directly.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { classesToLabels, type LabelConvention } from "@brats/conventions";
import {
  discoverCases,
  PatchLoader,
  prepareCase,
  toChannelsLast,
  type CaseFiles,
  type LoaderState,
  type Modality,
} from "@brats/data";
import { evaluateCase } from "@brats/metrics";
import {
  countTrainableParams,
  createUNet3D,
  registerBratsLayers,
  registerFastConv3D,
  selectBackend,
  train,
  type BackendPreference,
  type CaseScorer,
  type Schedule,
  type StopReason,
  type TrainEvent,
  type ValidationCase,
} from "@brats/unet3d";
import { renderTrainingCurvesPng } from "@brats/viz";
import { exportRunOnnx } from "./export.js";
import { CONFIG_JSON, CURVES_PNG, writeAtomic } from "./files.js";
import { unetOptions } from "./metadata.js";
import { writeModelCard } from "./model-card.js";
import { splitCases, type Split, type SplitSpec } from "./split.js";

export { CONFIG_JSON, CURVES_PNG, MODEL_CARD_MD, MODEL_ONNX } from "./files.js";

export interface TrainConfig {
  data: string;
  out: string;
  modalities: Modality[];
  labels: LabelConvention;
  patch: number;
  epochs: number;
  stepsPerEpoch: number;
  batch: number;
  baseFilters: number;
  depth: number;
  normalization: "batch" | "instance" | "group";
  dropout: number;
  attention: boolean;
  split: SplitSpec;
  backend: BackendPreference;
  seed: number;
  workers: number;
  learningRate: number;
  schedule: Schedule;
  patience: number | null;
  valEvery: number;
  valOverlap: number;
  foregroundShare: number;
  augment: boolean;
}

export const DEFAULT_CONFIG: Omit<TrainConfig, "data" | "out"> = {
  modalities: ["flair", "t1", "t1ce"],
  labels: "brats2021",
  patch: 64,
  epochs: 100,
  stepsPerEpoch: 250,
  batch: 1,
  baseFilters: 16,
  depth: 4,
  normalization: "batch",
  dropout: 0.1,
  attention: true,
  split: { kind: "share", share: 0.2 },
  backend: "auto",
  seed: 1,
  workers: 1,
  learningRate: 1e-3,
  schedule: "poly",
  patience: null,
  valEvery: 1,
  valOverlap: 0.5,
  foregroundShare: 0.33,
  augment: true,
};

/** What config.json of a run holds. */
export interface RunRecord {
  config: TrainConfig;
  backend: string;
  split: Split;
  started: string;
}

export interface RunSummary {
  runDir: string;
  backend: string;
  reason: StopReason;
  epoch: number;
  step: number;
  seconds: number;
  bestEpoch: number | null;
  bestMeanDice: number | null;
  /** Validation Dice of the last validated epoch. */
  lastVal: { WT: number; TC: number; ET: number } | null;
  split: Split;
  resumed: boolean;
  /** model.onnx of the run (best/ checkpoint if any, else last/). */
  onnx: string;
  /** MODEL_CARD.md of the run. */
  modelCard: string;
}

export interface RunHooks {
  /** Called once the backend is chosen and the split made. */
  onStart?: (info: {
    backend: string;
    split: Split;
    resumed: boolean;
    config: TrainConfig;
  }) => void;
  onProgress?: (event: TrainEvent) => void;
  signal?: AbortSignal;
  handleSigint?: boolean;
}

async function writeCurves(runDir: string): Promise<void> {
  const log = await readFile(join(runDir, "log.jsonl"), "utf8");
  await writeAtomic(
    join(runDir, CURVES_PNG),
    renderTrainingCurvesPng(log, { title: "brats-train" }),
  );
}

/** Loads whole validation cases, preprocessed as the training cases, channels-last. */
async function loadValidation(
  files: CaseFiles[],
  config: TrainConfig,
): Promise<{ cases: ValidationCase[]; spacing: Map<string, [number, number, number]> }> {
  const cases: ValidationCase[] = [];
  const spacing = new Map<string, [number, number, number]>();
  for (const f of files) {
    const c = await prepareCase(f, {
      load: { modalities: config.modalities },
      convention: config.labels,
    });
    if (c.seg === null) throw new Error(`validation case ${c.id} has no segmentation`);
    const [x, y, z] = c.shape;
    // Fortran [x,y,z] per channel is row-major [z,y,x]: channels-last [D=z,H=y,W=x,C].
    cases.push({
      id: c.id,
      image: toChannelsLast(c.channels, c.shape),
      shape: [z, y, x, c.channels.length],
      labels: c.seg,
    });
    spacing.set(c.id, c.spacing);
  }
  return { cases, spacing };
}

/** WT/TC/ET Dice by @brats/metrics on the preprocessed grid (labels in the run's convention). */
function metricsScorer(
  convention: LabelConvention,
  spacing: Map<string, [number, number, number]>,
): CaseScorer {
  return (prediction, c) => {
    const [d, h, w] = c.shape;
    const m = evaluateCase(
      classesToLabels(prediction, convention),
      classesToLabels(c.labels, convention),
      [w, h, d],
      spacing.get(c.id) ?? [1, 1, 1],
      { convention },
    );
    return { WT: m.regions.WT.dice, TC: m.regions.TC.dice, ET: m.regions.ET.dice };
  };
}

/**
 * Trains as `config` says into config.out. With `resume`, the run folder's config.json is used
 * (the given config only supplies data and out) and training continues from last/.
 */
export async function runTraining(
  given: TrainConfig,
  opts: { resume?: boolean } & RunHooks = {},
): Promise<RunSummary> {
  const started = performance.now();
  const resume = opts.resume === true;
  let config = given;
  let record: RunRecord | null = null;
  if (resume) {
    record = JSON.parse(await readFile(join(given.out, CONFIG_JSON), "utf8")) as RunRecord;
    config = { ...record.config, data: given.data, out: given.out };
  }
  const backend = await selectBackend(config.backend);
  registerBratsLayers();
  if (backend.name === "wasm") registerFastConv3D();

  const all = await discoverCases(config.data);
  const labelled = all.filter((c) => c.seg !== undefined);
  if (labelled.length === 0) throw new Error(`no labelled BraTS cases under ${config.data}`);
  const split =
    record?.split ??
    splitCases(
      labelled.map((c) => c.id),
      config.split,
      config.seed,
    );
  const byId = new Map(labelled.map((c) => [c.id, c]));
  const filesOf = (ids: string[]) =>
    ids.map((id) => {
      const f = byId.get(id);
      if (f === undefined)
        throw new Error(`case ${id} of the run's split is not in ${config.data}`);
      return f;
    });
  const trainFiles = filesOf(split.train);
  const valFiles = filesOf(split.val);
  if (record === null) {
    record = { config, backend: backend.name, split, started: new Date().toISOString() };
    await mkdir(config.out, { recursive: true });
    await writeAtomic(join(config.out, CONFIG_JSON), JSON.stringify(record, null, 2) + "\n");
  }
  opts.onStart?.({ backend: backend.name, split, resumed: resume, config });

  const validation = valFiles.length > 0 ? await loadValidation(valFiles, config) : null;
  const patch = config.patch;
  const result = await train({
    outDir: config.out,
    resume,
    model: () => createUNet3D(unetOptions(config)),
    source: (state) => {
      const start = state as LoaderState | null;
      return new PatchLoader({
        cases: trainFiles,
        patchSize: patch,
        batchSize: config.batch,
        seed: config.seed,
        patchesPerEpoch: config.stepsPerEpoch * config.batch,
        workers: config.workers,
        augment: config.augment,
        foregroundShare: config.foregroundShare,
        load: { modalities: config.modalities },
        convention: config.labels,
        ...(start === null ? {} : { startEpoch: start.epoch, startIndex: start.index }),
      });
    },
    epochs: config.epochs,
    stepsPerEpoch: config.stepsPerEpoch,
    learningRate: config.learningRate,
    schedule: config.schedule,
    ...(config.patience === null ? {} : { patience: config.patience }),
    ...(validation === null
      ? {}
      : {
          validation: {
            cases: validation.cases,
            every: config.valEvery,
            windowSize: [patch, patch, patch],
            overlap: config.valOverlap,
            score: metricsScorer(config.labels, validation.spacing),
          },
        }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    handleSigint: opts.handleSigint ?? true,
    onProgress: (e) => {
      opts.onProgress?.(e);
    },
  });
  await writeCurves(config.out);
  // Also after an interruption or early stop: the folder always ends with a usable model and its card.
  const parameters = countTrainableParams(result.model);
  result.model.dispose();
  const onnx = await exportRunOnnx(config.out);
  const modelCard = await writeModelCard(config.out, {
    sessionBackend: backend.name,
    parameters,
  });
  const validated = result.history.filter((h) => h.val !== null);
  const summary: RunSummary = {
    runDir: config.out,
    backend: backend.name,
    reason: result.reason,
    epoch: result.epoch,
    step: result.step,
    seconds: (performance.now() - started) / 1000,
    bestEpoch: result.bestEpoch,
    bestMeanDice: result.bestScore,
    lastVal: validated.length === 0 ? null : validated[validated.length - 1]!.val,
    split,
    resumed: resume,
    onnx: onnx.path,
    modelCard,
  };
  return summary;
}
