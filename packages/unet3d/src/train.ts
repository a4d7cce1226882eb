// The training loop: Adam with a learning-rate schedule over epochs of patches, validation of whole
// cases with sliding-window inference, atomic `last`/`best` checkpoints that hold everything a
// resume needs, early stopping and a clean stop on SIGINT.
//
// Adam is implemented here rather than taken from tf.train.adam: TF.js' AdamOptimizer fixes its
// learning rate at construction and, on setWeights, recomputes its bias-correction products as
// pow(β, t + 1) instead of the running products it multiplied up while training, so a resumed run
// would drift from an uninterrupted one. Here the moments are saved bit for bit, the step count is
// an integer and the bias corrections are computed in float64 from it, so a resumed run repeats
// the uninterrupted one exactly (same backend).
//
// Data comes from any `BatchSource` (PatchLoader of @brats/data fits): this package does not depend
// on @brats/data. Validation scores come from a passed-in scorer (the app uses @brats/metrics'
// evaluateCase); `regionDice` is the default.
import {
  mkdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
  writeFile,
  appendFile,
} from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "./errors.js";
import { predictVolume } from "./inference.js";
import { loadModel, saveModel } from "./io.js";
import { diceCELoss, regionDiceBCELoss } from "./losses.js";
import { unet3dConfigOf } from "./model.js";

/** A batch of training patches, channels-last (PatchLoader's Batch has these fields). */
export interface TrainBatch {
  /** [B][D][H][W][C]. */
  images: Float32Array;
  /** Classes 0..3 (0 background, 1 necrotic core, 2 edema, 3 enhancing), [B][D][H][W]. */
  labels: Uint8Array;
  shape: readonly [number, number, number, number, number];
}

/** Where training batches come from. `state()` must be JSON-serialisable and, given back to the
 * source factory, continue the stream at the batch `next()` would have returned. */
export interface BatchSource {
  next(): Promise<TrainBatch>;
  state(): unknown;
  close?(): Promise<void>;
}

/** A whole validation case, channels-last as the model takes it. */
export interface ValidationCase {
  id: string;
  /** [D][H][W][C]. */
  image: Float32Array;
  shape: [number, number, number, number];
  /** Ground-truth classes 0..3, [D][H][W]. */
  labels: Uint8Array;
}

export type Region = "WT" | "TC" | "ET";
export type RegionScores = Record<Region, number>;

/** Scores a predicted class map (classes 0..3, [D][H][W]) against a validation case. */
export type CaseScorer = (
  prediction: Uint8Array,
  c: ValidationCase,
) => RegionScores | Promise<RegionScores>;

export type Schedule = "poly" | "cosine" | "constant";

export interface ValidationOptions {
  cases: ValidationCase[];
  /** Validate after every `every`-th epoch (and after the last one). Default 1. */
  every?: number;
  /** Sliding-window size [D,H,W] (usually the patch size). */
  windowSize: [number, number, number];
  overlap?: number;
  batchSize?: number;
  /** Default: regionDice. */
  score?: CaseScorer;
}

export interface TrainOptions {
  /** Run folder: last/, best/, log.jsonl, metrics.csv. */
  outDir: string;
  /** The model of a fresh run (ignored on resume, where last/ is loaded). */
  model: tfl.LayersModel | (() => tfl.LayersModel);
  /** Makes the batch source: with null for a fresh run, with the saved `state()` on resume. */
  source: (state: unknown) => BatchSource | Promise<BatchSource>;
  epochs: number;
  stepsPerEpoch: number;
  /** Continue the run saved in outDir/last (a fresh run when there is none). Default false. */
  resume?: boolean;
  /** Peak learning rate. Default 1e-3. */
  learningRate?: number;
  /** Default "poly". */
  schedule?: Schedule;
  /** Exponent of the poly schedule (nnU-Net: 0.9). */
  polyPower?: number;
  /** Floor of the cosine schedule. Default 0. */
  minLearningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** "classes": softmax outputs, Dice + CE; "regions": sigmoid WT/TC/ET outputs, Dice + BCE.
   * Default: the model's own config, else "classes". */
  outputs?: "classes" | "regions";
  /** Overrides the loss (yTrue in the model's output layout). */
  loss?: (yTrue: tf.Tensor5D, yPred: tf.Tensor5D) => tf.Scalar;
  validation?: ValidationOptions;
  /** Stop after this many validations without a better mean Dice. Default: never. */
  patience?: number;
  /** Also save `last` every this many steps (besides every epoch end). Default: only at epoch ends. */
  checkpointEverySteps?: number;
  /** Stops like SIGINT: the current step finishes, `last` is saved. */
  signal?: AbortSignal;
  /** Install a SIGINT handler while training. Default true. */
  handleSigint?: boolean;
  onProgress?: (event: TrainEvent) => void;
}

export type TrainEvent =
  | {
      type: "step";
      epoch: number;
      /** Global step, 1-based. */
      step: number;
      stepInEpoch: number;
      stepsPerEpoch: number;
      totalSteps: number;
      loss: number;
      lr: number;
      /** Seconds since the run started (resumes included). */
      time: number;
      stepSeconds: number;
    }
  | { type: "validation"; epoch: number; done: number; total: number }
  | {
      type: "epoch";
      epoch: number;
      loss: number;
      lr: number;
      val: RegionScores | null;
      time: number;
      best: boolean;
    }
  | { type: "checkpoint"; name: "last" | "best"; epoch: number; step: number };

export type StopReason = "completed" | "early-stopped" | "interrupted";

export interface TrainResult {
  reason: StopReason;
  /** Epoch (1-based) reached and global steps done. */
  epoch: number;
  step: number;
  /** The trained model (the caller disposes it). */
  model: tfl.LayersModel;
  bestScore: number | null;
  bestEpoch: number | null;
  /** Epoch records of this run (resumes included). */
  history: EpochRecord[];
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  lr: number;
  val: RegionScores | null;
  time: number;
}

/** Everything besides the weights that a resume needs; saved as last/train-state.json. */
export interface TrainState {
  version: 1;
  /** Global steps done. */
  step: number;
  /** Epoch in progress (1-based) and steps of it done. */
  epoch: number;
  stepInEpoch: number;
  epochLossSum: number;
  elapsed: number;
  bestScore: number | null;
  bestEpoch: number | null;
  validationsSinceBest: number;
  history: EpochRecord[];
  sourceState: unknown;
  /** Training calls made by each seeded dropout layer (their masks follow the count). */
  dropoutCalls: Record<string, number>;
  /** Adam moment tensors in optimizer.bin: names and shapes, m of every variable then v. */
  moments: Array<{ name: string; shape: number[] }>;
  /** Bytes of log.jsonl and metrics.csv at this checkpoint (a resume truncates what came later). */
  logBytes: number;
  csvBytes: number;
  /** Set once the run has ended by completion or early stopping (a resume then returns at once). */
  finished: StopReason | null;
}

export const TRAIN_STATE_JSON = "train-state.json";
export const OPTIMIZER_BIN = "optimizer.bin";
export const LOG_JSONL = "log.jsonl";
export const METRICS_CSV = "metrics.csv";
const CSV_HEADER = "epoch,loss,lr,val_WT,val_TC,val_ET,val_mean,time\n";

function bad(message: string): UNet3DError {
  return new UNet3DError("BAD_CONFIG", message);
}

/**
 * Learning rate of step `step` (0-based) of `totalSteps`. poly: lr·(1 − t/T)^power (nnU-Net);
 * cosine: min + (lr − min)·(1 + cos(π t/T))/2; constant: lr.
 */
export function learningRateAt(
  step: number,
  totalSteps: number,
  opts: { learningRate: number; schedule?: Schedule; polyPower?: number; minLearningRate?: number },
): number {
  const { learningRate: lr, schedule = "poly", polyPower = 0.9, minLearningRate = 0 } = opts;
  const t = Math.min(Math.max(step, 0), totalSteps) / totalSteps;
  switch (schedule) {
    case "constant":
      return lr;
    case "poly":
      return lr * Math.pow(1 - t, polyPower);
    case "cosine":
      return minLearningRate + ((lr - minLearningRate) * (1 + Math.cos(Math.PI * t))) / 2;
    default:
      throw bad(`unknown schedule ${String(schedule)}`);
  }
}

/** Class maps (0 bg, 1 necrotic core, 2 edema, 3 enhancing) to the nested BraTS regions. */
function inRegion(cls: number, region: Region): boolean {
  if (region === "WT") return cls !== 0;
  if (region === "TC") return cls === 1 || cls === 3;
  return cls === 3;
}

/**
 * Dice of WT/TC/ET between two class maps; a region absent from both scores 1 (BraTS' convention).
 * The app scores with @brats/metrics instead; this is the dependency-free default.
 */
export function regionDice(prediction: ArrayLike<number>, truth: ArrayLike<number>): RegionScores {
  if (prediction.length !== truth.length) {
    throw bad(`prediction has ${prediction.length} voxels, truth ${truth.length}`);
  }
  const out = { WT: 0, TC: 0, ET: 0 };
  for (const region of ["WT", "TC", "ET"] as const) {
    let inter = 0;
    let sum = 0;
    for (let i = 0; i < truth.length; i++) {
      const p = inRegion(prediction[i]!, region);
      const t = inRegion(truth[i]!, region);
      if (p && t) inter++;
      sum += Number(p) + Number(t);
    }
    out[region] = sum === 0 ? 1 : (2 * inter) / sum;
  }
  return out;
}

/** Classes from sigmoid WT/TC/ET probabilities [V][3] thresholded at 0.5 (nested: ET ⊂ TC ⊂ WT). */
function regionsToClasses(probs: Float32Array, voxels: number): Uint8Array {
  const out = new Uint8Array(voxels);
  for (let v = 0; v < voxels; v++) {
    const wt = probs[3 * v]! > 0.5;
    const tc = probs[3 * v + 1]! > 0.5;
    const et = probs[3 * v + 2]! > 0.5;
    out[v] = et ? 3 : tc ? 1 : wt ? 2 : 0;
  }
  return out;
}

/** One-hot classes [B,D,H,W,4], or WT/TC/ET masks [B,D,H,W,3], as the loss wants them. */
function targetTensor(
  batch: TrainBatch,
  outputs: "classes" | "regions",
  classes: number,
): tf.Tensor5D {
  const [b, d, h, w] = batch.shape;
  const voxels = b * d * h * w;
  if (batch.labels.length !== voxels) {
    throw bad(
      `batch labels hold ${batch.labels.length} voxels, shape ${batch.shape.join("×")} wants ${voxels}`,
    );
  }
  const k = outputs === "classes" ? classes : 3;
  const y = new Float32Array(voxels * k);
  for (let v = 0; v < voxels; v++) {
    const c = batch.labels[v]!;
    if (outputs === "classes") {
      if (c >= classes) throw bad(`label ${c} at voxel ${v} is not a class below ${classes}`);
      y[v * k + c] = 1;
    } else {
      y[v * 3] = Number(inRegion(c, "WT"));
      y[v * 3 + 1] = Number(inRegion(c, "TC"));
      y[v * 3 + 2] = Number(inRegion(c, "ET"));
    }
  }
  return tf.tensor5d(y, [b, d, h, w, k]);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * The checkpoint folder `name`, or the previous one when a crash came between the two renames of
 * saveCheckpoint (`name` missing, `name.old` complete).
 */
async function checkpointDir(outDir: string, name: string): Promise<string | null> {
  const dir = join(outDir, name);
  if (await exists(join(dir, TRAIN_STATE_JSON))) return dir;
  const old = `${dir}.old`;
  if (await exists(join(old, TRAIN_STATE_JSON))) return old;
  return null;
}

interface SeededDropout {
  name: string;
  getClassName(): string;
  calls: number;
}

/** Seeded dropout layers draw mask n from seed + n, counting training calls in a private field;
 * a resume restores the count. */
function dropoutLayers(model: tfl.LayersModel): SeededDropout[] {
  return (model.layers as unknown as SeededDropout[]).filter(
    (l) => l.getClassName() === "SpatialDropout3D" && typeof l.calls === "number",
  );
}

interface Adam {
  variables: tf.Variable[];
  m: tf.Variable[];
  v: tf.Variable[];
}

function createAdam(model: tfl.LayersModel): Adam {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    variables,
    m: variables.map((x) => tf.variable(tf.zerosLike(x), false)),
    v: variables.map((x) => tf.variable(tf.zerosLike(x), false)),
  };
}

function disposeAdam(adam: Adam): void {
  tf.dispose([...adam.m, ...adam.v]);
}

async function saveCheckpoint(
  outDir: string,
  name: "last" | "best",
  model: tfl.LayersModel,
  adam: Adam,
  state: TrainState,
): Promise<void> {
  // Written whole into a temp folder, then swapped in by renames: a crash leaves either the old
  // checkpoint or the new one, never a model from one step with the optimizer of another.
  const dir = join(outDir, name);
  const tmp = join(outDir, `${name}.tmp-${process.pid}`);
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await saveModel(model, tmp);
  const parts: Uint8Array[] = [];
  for (const t of [...adam.m, ...adam.v]) {
    const data = await t.data<"float32">();
    parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const bin = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    bin.set(p, offset);
    offset += p.byteLength;
  }
  await writeFile(join(tmp, OPTIMIZER_BIN), bin);
  await writeFile(join(tmp, TRAIN_STATE_JSON), JSON.stringify(state, null, 2) + "\n");
  await rm(old, { recursive: true, force: true });
  if (await exists(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

async function loadAdamMoments(dir: string, adam: Adam, state: TrainState): Promise<void> {
  const n = adam.variables.length;
  if (state.moments.length !== 2 * n) {
    throw new UNet3DError(
      "BAD_CONFIG",
      `${dir}: optimizer state holds ${state.moments.length} moments, the model has ${n} trainable variables`,
    );
  }
  const bytes = await readFile(join(dir, OPTIMIZER_BIN));
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const floats = new Float32Array(copy.buffer);
  let offset = 0;
  state.moments.forEach((entry, i) => {
    const target = i < n ? adam.m[i]! : adam.v[i - n]!;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.shape.join(",") !== target.shape.join(",") || offset + size > floats.length) {
      throw new UNet3DError(
        "BAD_MODEL",
        `${dir}: optimizer moment ${entry.name} does not fit the model`,
      );
    }
    target.assign(tf.tensor(floats.subarray(offset, offset + size), target.shape));
    offset += size;
  });
}

function csvRow(r: EpochRecord): string {
  const v = r.val;
  const mean = v === null ? "" : String((v.WT + v.TC + v.ET) / 3);
  const cells = [
    r.epoch,
    r.loss,
    r.lr,
    v?.WT ?? "",
    v?.TC ?? "",
    v?.ET ?? "",
    mean,
    r.time.toFixed(3),
  ];
  return cells.join(",") + "\n";
}

async function validate(
  model: tfl.LayersModel,
  opts: ValidationOptions,
  outputs: "classes" | "regions",
  epoch: number,
  onProgress: ((e: TrainEvent) => void) | undefined,
): Promise<RegionScores> {
  const score = opts.score ?? ((p: Uint8Array, c: ValidationCase) => regionDice(p, c.labels));
  const sum = { WT: 0, TC: 0, ET: 0 };
  let done = 0;
  for (const c of opts.cases) {
    const [d, h, w] = c.shape;
    const result = await predictVolume(
      model,
      { data: c.image, shape: c.shape },
      {
        windowSize: opts.windowSize,
        ...(opts.overlap === undefined ? {} : { overlap: opts.overlap }),
        ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
        output: outputs === "classes" ? "labels" : "probabilities",
      },
    );
    const prediction =
      outputs === "classes"
        ? (result.data as Uint8Array)
        : regionsToClasses(result.data as Float32Array, d * h * w);
    const s = await score(prediction, c);
    sum.WT += s.WT;
    sum.TC += s.TC;
    sum.ET += s.ET;
    onProgress?.({ type: "validation", epoch, done: ++done, total: opts.cases.length });
  }
  const n = opts.cases.length;
  return { WT: sum.WT / n, TC: sum.TC / n, ET: sum.ET / n };
}

function checkOptions(o: TrainOptions): void {
  const positiveInt = (name: string, v: unknown) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
      throw bad(`${name} must be a positive integer, got ${String(v)}`);
  };
  positiveInt("epochs", o.epochs);
  positiveInt("stepsPerEpoch", o.stepsPerEpoch);
  if (o.learningRate !== undefined && !(o.learningRate > 0))
    throw bad(`learningRate must be > 0, got ${o.learningRate}`);
  if (o.patience !== undefined && !(o.patience >= 1))
    throw bad(`patience must be ≥ 1, got ${o.patience}`);
  if (o.checkpointEverySteps !== undefined)
    positiveInt("checkpointEverySteps", o.checkpointEverySteps);
  if (o.validation !== undefined) {
    if (o.validation.cases.length === 0) throw bad("validation needs at least one case");
    if (o.validation.every !== undefined) positiveInt("validation.every", o.validation.every);
  }
}

/**
 * Trains `model` (or, on resume, the model of outDir/last) and resolves when the epochs are done,
 * early stopping triggers or an interrupt (SIGINT, `signal`) has been honoured: the step in
 * progress finishes and `last` is saved, so a resume continues exactly where it stopped.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options);
  const {
    outDir,
    epochs,
    stepsPerEpoch,
    learningRate = 1e-3,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = 1e-8,
    handleSigint = true,
    onProgress,
  } = options;
  const totalSteps = epochs * stepsPerEpoch;
  const lrAt = (step: number) =>
    learningRateAt(step, totalSteps, {
      learningRate,
      ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
      ...(options.polyPower === undefined ? {} : { polyPower: options.polyPower }),
      ...(options.minLearningRate === undefined
        ? {}
        : { minLearningRate: options.minLearningRate }),
    });
  await mkdir(outDir, { recursive: true });
  const logPath = join(outDir, LOG_JSONL);
  const csvPath = join(outDir, METRICS_CSV);

  const lastDir = options.resume === true ? await checkpointDir(outDir, "last") : null;
  let state: TrainState;
  let model: tfl.LayersModel;
  if (lastDir !== null) {
    state = JSON.parse(await readFile(join(lastDir, TRAIN_STATE_JSON), "utf8")) as TrainState;
    model = await loadModel(lastDir);
    // Lines written after the checkpoint belong to steps that will be redone.
    if ((await fileSize(logPath)) > state.logBytes) await truncate(logPath, state.logBytes);
    if ((await fileSize(csvPath)) > state.csvBytes) await truncate(csvPath, state.csvBytes);
  } else {
    model = typeof options.model === "function" ? options.model() : options.model;
    await writeFile(logPath, "");
    await writeFile(csvPath, CSV_HEADER);
    state = {
      version: 1,
      step: 0,
      epoch: 1,
      stepInEpoch: 0,
      epochLossSum: 0,
      elapsed: 0,
      bestScore: null,
      bestEpoch: null,
      validationsSinceBest: 0,
      history: [],
      sourceState: null,
      dropoutCalls: {},
      moments: [],
      logBytes: 0,
      csvBytes: CSV_HEADER.length,
      finished: null,
    };
  }
  const outputs = options.outputs ?? unet3dConfigOf(model)?.outputs ?? "classes";
  const classes = unet3dConfigOf(model)?.numClasses ?? 4;
  const lossFn =
    options.loss ??
    ((yTrue: tf.Tensor5D, yPred: tf.Tensor5D) =>
      outputs === "classes" ? diceCELoss(yTrue, yPred) : regionDiceBCELoss(yTrue, yPred));
  const adam = createAdam(model);
  if (lastDir !== null) await loadAdamMoments(lastDir, adam, state);
  const dropouts = dropoutLayers(model);
  for (const layer of dropouts) layer.calls = state.dropoutCalls[layer.name] ?? 0;

  const source = await options.source(lastDir === null ? null : state.sourceState);

  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
  };
  if (handleSigint) process.on("SIGINT", interrupt);
  const signal = options.signal;
  if (signal?.aborted === true) interrupted = true;
  signal?.addEventListener("abort", interrupt);

  const runStart = performance.now();
  const elapsedAtStart = state.elapsed;
  const now = () => elapsedAtStart + (performance.now() - runStart) / 1000;

  const snapshot = async (): Promise<TrainState> => ({
    ...state,
    elapsed: now(),
    sourceState: source.state(),
    dropoutCalls: Object.fromEntries(dropouts.map((l) => [l.name, l.calls])),
    moments: [...adam.m, ...adam.v].map((t, i) => ({
      name: `${adam.variables[i % adam.variables.length]!.name}/${i < adam.variables.length ? "m" : "v"}`,
      shape: [...t.shape],
    })),
    logBytes: await fileSize(logPath),
    csvBytes: await fileSize(csvPath),
  });
  const checkpoint = async (name: "last" | "best") => {
    await saveCheckpoint(outDir, name, model, adam, await snapshot());
    onProgress?.({ type: "checkpoint", name, epoch: state.epoch, step: state.step });
  };

  let reason: StopReason = state.finished ?? "completed";
  try {
    while (state.finished === null && state.epoch <= epochs) {
      while (state.stepInEpoch < stepsPerEpoch) {
        if (interrupted) {
          reason = "interrupted";
          break;
        }
        const started = performance.now();
        const lr = lrAt(state.step);
        const batch = await source.next();
        const loss = await adamStep(model, adam, batch, lr, state.step + 1, {
          beta1,
          beta2,
          epsilon,
          outputs,
          classes,
          lossFn,
        });
        state.step++;
        state.stepInEpoch++;
        state.epochLossSum += loss;
        const time = now();
        await appendFile(
          logPath,
          JSON.stringify({ type: "step", epoch: state.epoch, step: state.step, loss, lr, time }) +
            "\n",
        );
        onProgress?.({
          type: "step",
          epoch: state.epoch,
          step: state.step,
          stepInEpoch: state.stepInEpoch,
          stepsPerEpoch,
          totalSteps,
          loss,
          lr,
          time,
          stepSeconds: (performance.now() - started) / 1000,
        });
        if (
          options.checkpointEverySteps !== undefined &&
          state.step % options.checkpointEverySteps === 0 &&
          state.stepInEpoch < stepsPerEpoch
        ) {
          await checkpoint("last");
        }
      }
      if (reason === "interrupted") break;

      // End of epoch: validate, log, checkpoint, maybe stop early.
      const epoch = state.epoch;
      const every = options.validation?.every ?? 1;
      const validating =
        options.validation !== undefined && (epoch % every === 0 || epoch === epochs);
      const val = validating
        ? await validate(model, options.validation!, outputs, epoch, onProgress)
        : null;
      const record: EpochRecord = {
        epoch,
        loss: state.epochLossSum / stepsPerEpoch,
        lr: lrAt(state.step - 1),
        val,
        time: now(),
      };
      state.history.push(record);
      // Unvalidated epochs have no "val" key (issue 4's format).
      const line = val === null ? { ...record, val: undefined } : record;
      await appendFile(logPath, JSON.stringify({ type: "epoch", ...line }) + "\n");
      await appendFile(csvPath, csvRow(record));
      let improved = false;
      if (val !== null) {
        const mean = (val.WT + val.TC + val.ET) / 3;
        if (state.bestScore === null || mean > state.bestScore) {
          state.bestScore = mean;
          state.bestEpoch = epoch;
          state.validationsSinceBest = 0;
          improved = true;
        } else {
          state.validationsSinceBest++;
        }
      }
      onProgress?.({
        type: "epoch",
        epoch,
        loss: record.loss,
        lr: record.lr,
        val,
        time: record.time,
        best: improved,
      });
      const stopEarly =
        options.patience !== undefined && state.validationsSinceBest >= options.patience;
      const finished = epoch === epochs || stopEarly;
      // The saved state points at the next epoch, so a resume starts there.
      if (!finished) {
        state.epoch++;
        state.stepInEpoch = 0;
        state.epochLossSum = 0;
      }
      if (stopEarly && epoch < epochs) reason = "early-stopped";
      if (finished) state.finished = reason;
      if (improved) await checkpoint("best");
      await checkpoint("last");
      if (finished) break;
    }
    if (reason === "interrupted") await checkpoint("last");
  } finally {
    if (handleSigint) process.off("SIGINT", interrupt);
    signal?.removeEventListener("abort", interrupt);
    disposeAdam(adam);
    await source.close?.();
  }
  return {
    reason,
    epoch: state.epoch,
    step: state.step,
    model,
    bestScore: state.bestScore,
    bestEpoch: state.bestEpoch,
    history: state.history,
  };
}

/** One Adam step (t is 1-based); returns the loss. */
async function adamStep(
  model: tfl.LayersModel,
  adam: Adam,
  batch: TrainBatch,
  lr: number,
  t: number,
  o: {
    beta1: number;
    beta2: number;
    epsilon: number;
    outputs: "classes" | "regions";
    classes: number;
    lossFn: (yTrue: tf.Tensor5D, yPred: tf.Tensor5D) => tf.Scalar;
  },
): Promise<number> {
  const x = tf.tensor5d(batch.images, [...batch.shape] as [number, number, number, number, number]);
  const y = targetTensor(batch, o.outputs, o.classes);
  try {
    const { value, grads } = tf.variableGrads(
      () => o.lossFn(y, model.apply(x, { training: true }) as tf.Tensor5D),
      adam.variables,
    );
    // Bias corrections in float64 from the integer step: exact on resume.
    const alpha = lr / (1 - Math.pow(o.beta1, t));
    const correction2 = 1 - Math.pow(o.beta2, t);
    tf.tidy(() => {
      adam.variables.forEach((variable, i) => {
        const g = grads[variable.name];
        if (g === undefined) return;
        const m = adam.m[i]!;
        const v = adam.v[i]!;
        const newM = tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1));
        const newV = tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
        m.assign(newM);
        v.assign(newV);
        const denom = tf.add(tf.sqrt(tf.div(newV, correction2)), o.epsilon);
        variable.assign(tf.sub(variable, tf.mul(tf.div(newM, denom), alpha)));
      });
    });
    const loss = (await value.data())[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    if (!Number.isFinite(loss)) {
      throw new UNet3DError(
        "BAD_CONFIG",
        `training loss is ${loss} at step ${t}: lower the learning rate`,
      );
    }
    return loss;
  } finally {
    tf.dispose([x, y]);
  }
}
