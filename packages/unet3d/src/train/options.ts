// What a caller of train() passes in and gets back, and the checks of the options.
//
// Data comes from any `BatchSource` (PatchLoader of @brats/data fits): this package does not depend
// on @brats/data. Validation scores come from a passed-in scorer (the app uses @brats/metrics'
// evaluateCase); `regionDice` (validate.ts) is the default.
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "../errors.js";
import type { EpochRecord, RegionScores } from "@brats/conventions";
import type { Schedule } from "./schedule.js";

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

/** Scores a predicted class map (classes 0..3, [D][H][W]) against a validation case. */
export type CaseScorer = (
  prediction: Uint8Array,
  c: ValidationCase,
) => RegionScores | Promise<RegionScores>;

export interface ValidationOptions {
  cases: ValidationCase[];
  /**
   * Validate after every `every`-th epoch and after the last one (under a time limit, the one the
   * budget ends); null: only after the last. Default 1.
   */
  every?: number | null;
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
  /**
   * Seconds the whole run may take, earlier sessions of a resumed run and validation included.
   * Before each step the loop checks that the step and the run's end (a final validation and
   * checkpoint, measured or estimated) still fit; when not, it validates, saves and returns
   * "time-limit". The schedule then follows the time spent. `epochs` stays a cap.
   */
  timeLimit?: number;
  /** Seconds on a monotonic clock, for the budget and the logged times. Default performance.now(). */
  clock?: () => number;
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
      /** Seconds the validation took, when there was one. */
      valSeconds?: number;
    }
  | { type: "checkpoint"; name: "last" | "best"; epoch: number; step: number };

export type StopReason = "completed" | "early-stopped" | "time-limit" | "interrupted";

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

function bad(message: string): UNet3DError {
  return new UNet3DError("BAD_CONFIG", message);
}

/** Throws BAD_CONFIG for options train() cannot run with. */
export function checkOptions(o: TrainOptions): void {
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
  if (o.timeLimit !== undefined && !(o.timeLimit > 0 && Number.isFinite(o.timeLimit)))
    throw bad(`timeLimit must be a positive number of seconds, got ${o.timeLimit}`);
  if (o.validation !== undefined) {
    if (o.validation.cases.length === 0) throw bad("validation needs at least one case");
    if (o.validation.every !== undefined && o.validation.every !== null)
      positiveInt("validation.every", o.validation.every);
  }
}
