// One training run: a case folder and a config in, a run folder out (config.json, log.jsonl,
// metrics.csv, last/ and best/ checkpoints, curves.png, model.onnx, MODEL_CARD.md; the format is
// @brats/runs'). The CLI parses arguments into a TrainConfig and calls runTraining; tests call it
// directly.
import { classesToLabels, type LabelConvention } from "@brats/conventions";
import {
  augmentationOfStrength,
  discoverCases,
  PatchLoader,
  prepareCase,
  toChannelsLast,
  type CaseFiles,
  type LoaderState,
} from "@brats/data";
import { evaluateCase } from "@brats/metrics";
import { checkWritableFolder, makeDirs, removeStaleTemps } from "@brats/kit/fs";
import {
  CURVES_PNG,
  existingRunFiles,
  exportRunOnnx,
  readRunLog,
  readRunRecord,
  removeRunFiles,
  RunsError,
  unetOptions,
  writeModelCard,
  writeRunFile,
  writeRunRecord,
  type RunRecord,
  type Split,
  type TrainConfig,
} from "@brats/runs";
import {
  countTrainableParams,
  createUNet3D,
  setupTfjs,
  train,
  type CaseScorer,
  type StopReason,
  type TrainEvent,
  type ValidationCase,
} from "@brats/unet3d";
import { renderTrainingCurvesPng } from "@brats/viz";
import { splitCases } from "./split.js";

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
  /** Seconds spent validating, over the run's sessions. */
  validationSeconds: number;
  split: Split;
  resumed: boolean;
  /** model.onnx of the run (best/ checkpoint if any, else last/). */
  onnx: string;
  /** MODEL_CARD.md of the run. */
  modelCard: string;
}

export interface RunHooks {
  /** Receives setupTfjs's report line (the backend, its fast kernels and why). */
  log?: (line: string) => void;
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
  const log = await readRunLog(runDir);
  await writeRunFile(runDir, CURVES_PNG, renderTrainingCurvesPng(log, { title: "brats-train" }));
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
 * Before anything is made: the run folder must be (or become) a writable folder (a FolderError
 * otherwise, e.g. under /proc); a new run never lands on an old one: RUN_EXISTS unless `resume`,
 * or `overwrite`, which first removes the old run's files and says which. Temp files and folders
 * that killed sessions left (a checkpoint save cut short) are removed.
 */
async function claimRunFolder(
  out: string,
  resume: boolean,
  opts: { overwrite?: boolean; log?: (line: string) => void },
): Promise<void> {
  await checkWritableFolder(out);
  if (!resume) {
    const existing = await existingRunFiles(out);
    if (existing.length > 0 && opts.overwrite !== true) {
      throw new RunsError(
        "RUN_EXISTS",
        `${out} already holds a run (${existing.join(", ")}); --resume continues it, ` +
          `--overwrite replaces it, or choose another --out`,
      );
    }
    if (existing.length > 0) {
      const removed = await removeRunFiles(out);
      opts.log?.(`--overwrite: removed the previous run's ${removed.join(", ")} from ${out}`);
    }
  }
  await makeDirs(out);
  const stale = await removeStaleTemps(out);
  if (stale.length > 0) {
    opts.log?.(`removed ${stale.length} leftover temp(s) of killed sessions: ${stale.join(", ")}`);
  }
}

/**
 * Trains as `config` says into config.out. With `resume`, the run folder's config.json is used
 * (the given config only supplies data and out) and training continues from last/; with
 * `overwrite`, an old run there is removed first (else RUN_EXISTS, see claimRunFolder).
 */
export async function runTraining(
  given: TrainConfig,
  opts: { resume?: boolean; overwrite?: boolean } & RunHooks = {},
): Promise<RunSummary> {
  const started = performance.now();
  const resume = opts.resume === true;
  await claimRunFolder(given.out, resume, opts);
  let config = given;
  let record: RunRecord | null = null;
  if (resume) {
    record = await readRunRecord(given.out);
    config = { ...record.config, data: given.data, out: given.out };
  }
  const backend = await setupTfjs({
    backend: config.backend,
    trainStep: { patch: config.patch, batch: config.batch, baseFilters: config.baseFilters },
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });

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
    await writeRunRecord(config.out, record);
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
        augment: config.augment ? augmentationOfStrength(config.augmentStrength ?? 1) : false,
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
    // The budget covers this session's setup (backend, reading the validation cases) too.
    ...(config.timeLimit === undefined || config.timeLimit === null
      ? {}
      : { timeLimit: Math.max(1e-3, config.timeLimit - (performance.now() - started) / 1000) }),
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
    validationSeconds: result.history.reduce((sum, h) => sum + (h.valSeconds ?? 0), 0),
    split,
    resumed: resume,
    onnx: onnx.path,
    modelCard,
  };
  return summary;
}
