// Sliding-window inference over a whole volume, as MONAI's sliding_window_inference and
// nnU-Net's predict_sliding_window do it: overlapping windows, each prediction weighted by a
// Gaussian importance map centred on the window, merged into per-voxel weighted averages.
// This module is the inferer (options, models, passes); the splitter (inference-splitter.ts) cuts
// the windows and the merger (inference-merger.ts) averages their outputs.
import * as tf from "@tensorflow/tfjs-core";
import { UNet3DError } from "./errors.js";
import { gaussianImportance, WindowMerger } from "./inference-merger.js";
import {
  checkOverlap,
  checkShape3,
  extractWindow,
  flipChannelsLast,
  MIRROR_FLIPS,
  slidingWindows,
  type Shape5,
  type Vec3,
} from "./inference-splitter.js";

/**
 * An engine outside TF.js (e.g. onnxruntime): channels-last windows in, channels-last outputs
 * out. `input` holds `shape` = [N,D,H,W,C] row-major; the result must hold [N,D,H,W,K] for some
 * K ≥ 1. `input` is a view of a buffer predictVolume reuses once the promise settles: copy what
 * must outlive the call.
 */
export interface WindowPredictor {
  predictWindows(
    input: Float32Array,
    shape: [number, number, number, number, number],
  ): Promise<Float32Array>;
}

/**
 * Something that maps a batch of windows [N,D,H,W,C] to per-voxel outputs [N,D,H,W,K]: a TF.js
 * model (anything with predict(), its first output is used), a function of tensors, or a
 * WindowPredictor working on Float32Arrays.
 */
export type VolumePredictor =
  | { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] }
  | ((x: tf.Tensor5D) => tf.Tensor5D)
  | WindowPredictor;

/** A channels-last volume: shape [D,H,W,C], row-major, channel fastest. */
export interface Volume {
  data: Float32Array;
  shape: [number, number, number, number];
}

export interface PredictOptions {
  /** Window size [D,H,W] the model runs on. */
  windowSize: Vec3;
  /** Fraction of a window shared with its neighbour along each axis, in [0, 1). Default 0.5. */
  overlap?: number;
  /** σ of the Gaussian importance map as a fraction of the window size per axis. Default 1/8. */
  sigmaScale?: number;
  /** Windows per model call. Default 2. */
  batchSize?: number;
  /** "gaussian" (default) weights window centres more than borders; "constant" weights all voxels equally. */
  mode?: "gaussian" | "constant";
  /** Value of the padding used where a window extends past a volume smaller than it. Default 0. */
  padValue?: number;
  /** "probabilities" (default): merged model outputs [D,H,W,K]; "labels": their argmax [D,H,W]. */
  output?: "probabilities" | "labels";
  /**
   * Mirroring test-time augmentation (nnU-Net's): every window also runs flipped along each
   * combination of D, H and W (8 passes), each output is flipped back, and the 8 are averaged.
   * Default false.
   */
  tta?: boolean;
  /**
   * Called after every model call with the window passes done and their total: windows ×
   * flips (8 with tta, else 1) × models, so that a progress bar has the real ETA.
   */
  onProgress?: (done: number, total: number) => void;
}

export interface PredictResult {
  /** Float32Array [D,H,W,K] for "probabilities", Uint8Array [D,H,W] for "labels". */
  data: Float32Array | Uint8Array;
  shape: number[];
}

function badConfig(message: string): UNet3DError {
  return new UNet3DError("BAD_CONFIG", message);
}

function isVolumePredictor(model: unknown): model is VolumePredictor {
  if (typeof model === "function") return true;
  if (typeof model !== "object" || model === null) return false;
  const m = model as { predict?: unknown; predictWindows?: unknown };
  return typeof m.predict === "function" || typeof m.predictWindows === "function";
}

function isWindowPredictor(model: VolumePredictor): model is WindowPredictor {
  return (
    typeof model === "object" &&
    model !== null &&
    typeof (model as Partial<WindowPredictor>).predictWindows === "function"
  );
}

/** Runs a TF.js model on one batch and returns its (first) output, owned by the caller. */
function runTensorModel(
  model: Exclude<VolumePredictor, WindowPredictor>,
  x: tf.Tensor5D,
): tf.Tensor {
  return tf.tidy(() => {
    const raw = typeof model === "function" ? model(x) : model.predict(x);
    const y = Array.isArray(raw) ? raw[0] : raw;
    if (y === undefined) throw new UNet3DError("SHAPE_MISMATCH", "the model returned no output");
    // A model that returns its input must not hand the caller the tensor it will dispose.
    const owned = y === x ? y.clone() : y;
    return owned.dtype === "float32" ? owned : tf.cast(owned, "float32");
  });
}

/**
 * Runs one batch of windows [N,D,H,W,C] through any kind of predictor and returns its output
 * [N,D,H,W,K] as a Float32Array with K. Every tensor created here is disposed, also on errors.
 */
async function runWindows(
  model: VolumePredictor,
  input: Float32Array,
  shape: Shape5,
): Promise<{ values: Float32Array; k: number }> {
  const [n, d, h, w] = shape;
  const voxels = n * d * h * w;
  if (isWindowPredictor(model)) {
    const values: unknown = await model.predictWindows(input, [...shape]);
    if (!(values instanceof Float32Array) || values.length === 0 || values.length % voxels !== 0) {
      const got = values instanceof Float32Array ? `${values.length} values` : "not a Float32Array";
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `predictWindows returned ${got} for windows [${shape.join(",")}]; ` +
          `expected a Float32Array of ${voxels}·K values`,
      );
    }
    return { values, k: values.length / voxels };
  }
  let x: tf.Tensor5D | null = null;
  let y: tf.Tensor | null = null;
  try {
    x = tf.tensor5d(input, shape);
    y = runTensorModel(model, x);
    const out = y.shape;
    if (out.length !== 5 || [n, d, h, w].some((m, i) => out[i] !== m)) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `the model returned shape [${out.join(",")}] for windows [${shape.join(",")}]; ` +
          `expected [${[n, d, h, w].join(",")},K]`,
      );
    }
    const values = await y.data<"float32">();
    return { values, k: out[4] ?? 0 };
  } finally {
    x?.dispose();
    y?.dispose();
  }
}

type CheckedOptions = Required<Omit<PredictOptions, "onProgress">> &
  Pick<PredictOptions, "onProgress"> & { models: VolumePredictor[] };

/** predictVolume's arguments checked (BAD_CONFIG, SHAPE_MISMATCH), with the defaults filled in. */
function checkPredictArgs(
  model: VolumePredictor | VolumePredictor[],
  volume: Volume,
  options: PredictOptions,
): CheckedOptions {
  const {
    windowSize,
    overlap = 0.5,
    sigmaScale = 1 / 8,
    batchSize = 2,
    mode = "gaussian",
    padValue = 0,
    output = "probabilities",
    tta = false,
    onProgress,
  } = options;
  const models = Array.isArray(model) ? model : [model];
  if (models.length === 0) throw badConfig("predictVolume needs at least one model");
  if (!models.every(isVolumePredictor)) {
    throw badConfig("every model must have predict(), predictWindows() or be a function");
  }
  checkShape3("windowSize", windowSize);
  checkOverlap(overlap);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw badConfig(`batchSize must be a positive integer, got ${batchSize}`);
  }
  if (mode !== "gaussian" && mode !== "constant") throw badConfig(`unknown mode ${String(mode)}`);
  if (output !== "probabilities" && output !== "labels") {
    throw badConfig(`unknown output ${String(output)}`);
  }
  if (typeof tta !== "boolean") throw badConfig(`tta must be a boolean, got ${String(tta)}`);
  if (!(sigmaScale > 0 && Number.isFinite(sigmaScale))) {
    throw badConfig(`sigmaScale must be a positive number, got ${sigmaScale}`);
  }
  if (!Number.isFinite(padValue)) throw badConfig(`padValue must be finite, got ${padValue}`);
  const shape = volume.shape as unknown;
  if (
    !Array.isArray(shape) ||
    shape.length !== 4 ||
    !shape.every((n) => typeof n === "number" && Number.isInteger(n) && n >= 1)
  ) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `volume shape must be [D,H,W,C] positive integers, got ${JSON.stringify(shape)}`,
    );
  }
  const [D, H, W, C] = volume.shape;
  if (!(volume.data instanceof Float32Array) || volume.data.length !== D * H * W * C) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `volume data must be a Float32Array of ${D * H * W * C} values for shape [${volume.shape.join(",")}]`,
    );
  }
  return {
    models,
    windowSize,
    overlap,
    sigmaScale,
    batchSize,
    mode,
    padValue,
    output,
    tta,
    onProgress,
  };
}

/**
 * Runs batches of windows through every pass (each flip × each model) and averages the outputs,
 * flipped back. The first output fixes K; every later one must have the same.
 */
class PassRunner {
  /** Outputs per voxel, known after the first model call. */
  k = 0;
  private started = false;
  private calls = 0;
  private readonly flips: readonly number[];
  private readonly passes: number;
  private readonly totalCalls: number;
  private readonly flippedInput: Float32Array | null;
  // Sum over passes of one batch's outputs, and a buffer to flip outputs back into; only
  // needed when there is more than one pass. Sized once K is known.
  private passSum: Float32Array | null = null;
  private unflipped: Float32Array | null = null;

  constructor(
    private readonly opts: CheckedOptions,
    /** Windows in the largest batch × voxels per window. */
    private readonly maxBatchVoxels: number,
    inputLength: number,
    windowCount: number,
  ) {
    this.flips = opts.tta ? MIRROR_FLIPS : [0];
    this.passes = this.flips.length * opts.models.length;
    this.totalCalls = windowCount * this.passes;
    this.flippedInput = opts.tta ? new Float32Array(inputLength) : null;
  }

  /** The averaged outputs [n,wd,wh,ww,K] of a batch of windows [n,wd,wh,ww,C]. */
  async run(original: Float32Array, inputShape: Shape5): Promise<Float32Array> {
    const [n, wd, wh, ww] = inputShape;
    let batchOutput: Float32Array | null = null;
    for (const flip of this.flips) {
      const input =
        flip === 0
          ? original
          : flipChannelsLast(
              original,
              inputShape,
              flip,
              this.flippedInput!.subarray(0, original.length),
            );
      for (const m of this.opts.models) {
        const { values, k } = await runWindows(m, input, inputShape);
        this.calls += n;
        this.acceptChannels(k);
        if (this.passSum === null) {
          batchOutput = values;
        } else {
          const outputShape: Shape5 = [n, wd, wh, ww, this.k];
          const back =
            flip === 0
              ? values
              : flipChannelsLast(
                  values,
                  outputShape,
                  flip,
                  this.unflipped!.subarray(0, values.length),
                );
          const sum = this.passSum.subarray(0, values.length);
          if (batchOutput === null) sum.set(back);
          else for (let i = 0; i < sum.length; i++) sum[i]! += back[i]!;
          batchOutput = sum;
        }
        this.opts.onProgress?.(this.calls, this.totalCalls);
      }
    }
    const outputs = batchOutput!;
    if (this.passes > 1) for (let i = 0; i < outputs.length; i++) outputs[i]! /= this.passes;
    return outputs;
  }

  private acceptChannels(k: number): void {
    if (this.started) {
      if (k !== this.k) {
        throw new UNet3DError(
          "SHAPE_MISMATCH",
          `the models return ${this.k} and ${k} channels; an ensemble needs the same K`,
        );
      }
      return;
    }
    if (this.opts.output === "labels" && k > 256) {
      throw badConfig(`labels output holds at most 256 classes, the model has ${k}`);
    }
    this.started = true;
    this.k = k;
    if (this.passes > 1) {
      this.passSum = new Float32Array(this.maxBatchVoxels * k);
      if (this.opts.tta) this.unflipped = new Float32Array(this.passSum.length);
    }
  }
}

/**
 * Sliding-window inference over a channels-last volume [D,H,W,C]. Windows of `windowSize`
 * overlap by `overlap`; each window's output is weighted by a Gaussian importance map (or
 * constant weights) and merged into a weighted average per voxel. Several models form an
 * ensemble: their outputs are averaged per window before the merge (the same as averaging the
 * merged maps, since the merge is linear); all must return the same K. With `tta`, each window
 * also runs mirrored along the 8 flip combinations and the flipped-back outputs are averaged.
 * Memory beyond the models is one Float32Array of D·H·W·K outputs, one of D·H·W weights and a
 * few batches of windows, whatever the number of windows. Every tensor created here is
 * disposed, also when a model throws.
 */
export async function predictVolume(
  model: VolumePredictor | VolumePredictor[],
  volume: Volume,
  options: PredictOptions,
): Promise<PredictResult> {
  const opts = checkPredictArgs(model, volume, options);
  const { windowSize, batchSize } = opts;
  const [D, H, W, C] = volume.shape;
  const [wd, wh, ww] = windowSize;
  const windowVoxels = wd * wh * ww;
  const windows = slidingWindows([D, H, W], windowSize, opts.overlap);
  const weights =
    opts.mode === "gaussian"
      ? gaussianImportance(windowSize, opts.sigmaScale)
      : new Float32Array(windowVoxels).fill(1);
  const maxBatch = Math.min(batchSize, windows.length);
  const batchInput = new Float32Array(maxBatch * windowVoxels * C);
  const passes = new PassRunner(opts, maxBatch * windowVoxels, batchInput.length, windows.length);
  let merger: WindowMerger | null = null;

  for (let first = 0; first < windows.length; first += batchSize) {
    const batch = windows.slice(first, first + batchSize);
    const n = batch.length;
    for (let b = 0; b < n; b++) {
      extractWindow(
        volume.data,
        [D, H, W, C],
        batch[b]!,
        windowSize,
        opts.padValue,
        batchInput,
        b * windowVoxels * C,
      );
    }
    const original = batchInput.subarray(0, n * windowVoxels * C);
    const outputs = await passes.run(original, [n, wd, wh, ww, C]);
    merger ??= new WindowMerger([D, H, W], passes.k, weights, windowSize);
    merger.add(outputs, batch);
  }

  // slidingWindows always yields at least one window, so the merger exists here.
  const merged = merger!;
  if (opts.output === "labels") return { data: merged.labels(), shape: [D, H, W] };
  return { data: merged.averages(), shape: [D, H, W, merged.k] };
}
