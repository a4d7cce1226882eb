// Sliding-window inference over a whole volume, as MONAI's sliding_window_inference and
// nnU-Net's predict_sliding_window do it: overlapping windows, each prediction weighted by a
// Gaussian importance map centred on the window, merged into per-voxel weighted averages.
import * as tf from "@tensorflow/tfjs-core";
import { UNet3DError } from "./errors.js";

export type Vec3 = [number, number, number];

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

/** Weights below this are raised to it (MONAI's floor), so that no covered voxel divides by ~0. */
export const IMPORTANCE_FLOOR = 1e-3;

function badConfig(message: string): UNet3DError {
  return new UNet3DError("BAD_CONFIG", message);
}

function checkShape3(name: string, v: unknown): asserts v is Vec3 {
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    !v.every((n) => typeof n === "number" && Number.isInteger(n) && n >= 1)
  ) {
    throw badConfig(`${name} must be three positive integers, got ${JSON.stringify(v)}`);
  }
}

function checkOverlap(overlap: number): void {
  if (!(overlap >= 0 && overlap < 1)) {
    throw badConfig(`overlap must be in [0, 1), got ${overlap}`);
  }
}

/**
 * Start of each window along one axis, as MONAI's dense_patch_slices: step
 * floor(window × (1 − overlap)) (at least 1), the last window flush with the end. An axis
 * shorter than the window gets one window centred on it, starting at −floor((window − size)/2)
 * (the part outside the volume is padding).
 */
export function windowStarts(size: number, window: number, overlap: number): number[] {
  if (size <= window) return [0 - Math.floor((window - size) / 2)]; // 0 - x: never -0
  const step = Math.max(1, Math.floor(window * (1 - overlap)));
  const count = Math.ceil((size - window) / step) + 1;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.min(i * step, size - window);
    if (starts[starts.length - 1] !== start) starts.push(start);
  }
  return starts;
}

/**
 * Window starts [d,h,w] (z-major order) that cover a volume of the given spatial shape. Starts
 * are in volume coordinates; a negative start means the volume is smaller than the window along
 * that axis and is padded, half before and half after (MONAI's split).
 */
export function slidingWindows(volumeShape: Vec3, windowSize: Vec3, overlap = 0.5): Vec3[] {
  checkShape3("volume shape", volumeShape);
  checkShape3("windowSize", windowSize);
  checkOverlap(overlap);
  const [zs, ys, xs] = [0, 1, 2].map((a) => windowStarts(volumeShape[a]!, windowSize[a]!, overlap));
  const out: Vec3[] = [];
  for (const z of zs!) for (const y of ys!) for (const x of xs!) out.push([z, y, x]);
  return out;
}

/**
 * Gaussian importance map over a window, row-major [D,H,W]: a separable Gaussian centred on the
 * window's centre with σ = sigmaScale × size per axis, scaled to a maximum of 1 and raised to at
 * least IMPORTANCE_FLOOR (nnU-Net and MONAI clip it so that no weight is 0).
 */
export function gaussianImportance(windowSize: Vec3, sigmaScale = 1 / 8): Float32Array {
  checkShape3("windowSize", windowSize);
  if (!(sigmaScale > 0 && Number.isFinite(sigmaScale))) {
    throw badConfig(`sigmaScale must be a positive number, got ${sigmaScale}`);
  }
  const axes = windowSize.map((n) => {
    const sigma = sigmaScale * n;
    const centre = (n - 1) / 2;
    const g = new Float64Array(n);
    let max = 0;
    for (let i = 0; i < n; i++) {
      g[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma));
      max = Math.max(max, g[i]!);
    }
    for (let i = 0; i < n; i++) g[i]! /= max;
    return g;
  });
  const [gz, gy, gx] = axes as [Float64Array, Float64Array, Float64Array];
  const [d, h, w] = windowSize;
  const map = new Float32Array(d * h * w);
  let i = 0;
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const zy = gz[z]! * gy[y]!;
      for (let x = 0; x < w; x++) map[i++] = Math.max(zy * gx[x]!, IMPORTANCE_FLOOR);
    }
  }
  return map;
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

type Shape5 = [number, number, number, number, number];

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

/**
 * The mirroring combinations of test-time augmentation, as nnU-Net: bit 0 flips D, bit 1 H,
 * bit 2 W; 0 is the identity. Every flip is its own inverse.
 */
export const MIRROR_FLIPS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];

/**
 * Mirrors a batch of channels-last volumes [N,D,H,W,C] along D (flips & 1), H (flips & 2) and
 * W (flips & 4) into `out` (a new array when omitted). Works on any array of channels, so it
 * applies to windows and to model outputs alike.
 */
export function flipChannelsLast(
  data: Float32Array,
  shape: Shape5,
  flips: number,
  out: Float32Array = new Float32Array(data.length),
): Float32Array {
  const [n, d, h, w, c] = shape;
  if (data.length !== n * d * h * w * c || out.length !== data.length || out === data) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `flip of [${shape.join(",")}] needs ${n * d * h * w * c} values in distinct arrays`,
    );
  }
  const flipD = (flips & 1) !== 0;
  const flipH = (flips & 2) !== 0;
  const flipW = (flips & 4) !== 0;
  const row = w * c;
  for (let b = 0; b < n; b++) {
    for (let z = 0; z < d; z++) {
      const sz = flipD ? d - 1 - z : z;
      for (let y = 0; y < h; y++) {
        const sy = flipH ? h - 1 - y : y;
        const dst = ((b * d + z) * h + y) * row;
        const src = ((b * d + sz) * h + sy) * row;
        if (!flipW) {
          out.set(data.subarray(src, src + row), dst);
        } else if (c === 1) {
          for (let x = 0; x < w; x++) out[dst + x] = data[src + w - 1 - x]!;
        } else {
          for (let x = 0; x < w; x++) {
            const o = dst + x * c;
            const i = src + (w - 1 - x) * c;
            for (let k = 0; k < c; k++) out[o + k] = data[i + k]!;
          }
        }
      }
    }
  }
  return out;
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

  const [wd, wh, ww] = windowSize;
  const windowVoxels = wd * wh * ww;
  const windows = slidingWindows([D, H, W], windowSize, overlap);
  const weights =
    mode === "gaussian"
      ? gaussianImportance(windowSize, sigmaScale)
      : new Float32Array(windowVoxels).fill(1);
  const flips = tta ? MIRROR_FLIPS : [0];
  const passes = flips.length * models.length;
  const totalCalls = windows.length * passes;
  const maxBatch = Math.min(batchSize, windows.length);
  const batchInput = new Float32Array(maxBatch * windowVoxels * C);
  const flippedInput = tta ? new Float32Array(batchInput.length) : null;
  const weightSum = new Float32Array(D * H * W);
  let accumulated: Float32Array | null = null;
  // Sum over passes of one batch's outputs, and a buffer to flip outputs back into; only
  // needed when there is more than one pass. Sized once K is known.
  let passSum: Float32Array | null = null;
  let unflipped: Float32Array | null = null;
  let K = 0;
  let calls = 0;

  for (let first = 0; first < windows.length; first += batchSize) {
    const batch = windows.slice(first, first + batchSize);
    const n = batch.length;
    for (let b = 0; b < n; b++) {
      extractWindow(
        volume.data,
        [D, H, W, C],
        batch[b]!,
        windowSize,
        padValue,
        batchInput,
        b * windowVoxels * C,
      );
    }
    const inputShape: Shape5 = [n, wd, wh, ww, C];
    const original = batchInput.subarray(0, n * windowVoxels * C);
    let batchOutput: Float32Array | null = null;
    for (const flip of flips) {
      const input =
        flip === 0
          ? original
          : flipChannelsLast(
              original,
              inputShape,
              flip,
              flippedInput!.subarray(0, original.length),
            );
      for (const m of models) {
        const { values, k } = await runWindows(m, input, inputShape);
        calls += n;
        if (accumulated === null) {
          if (output === "labels" && k > 256) {
            throw badConfig(`labels output holds at most 256 classes, the model has ${k}`);
          }
          K = k;
          accumulated = new Float32Array(D * H * W * K);
          if (passes > 1) {
            passSum = new Float32Array(maxBatch * windowVoxels * K);
            if (tta) unflipped = new Float32Array(passSum.length);
          }
        } else if (k !== K) {
          throw new UNet3DError(
            "SHAPE_MISMATCH",
            `the models return ${K} and ${k} channels; an ensemble needs the same K`,
          );
        }
        if (passSum === null) {
          batchOutput = values;
        } else {
          const outputShape: Shape5 = [n, wd, wh, ww, K];
          const back =
            flip === 0
              ? values
              : flipChannelsLast(values, outputShape, flip, unflipped!.subarray(0, values.length));
          const sum = passSum.subarray(0, values.length);
          if (batchOutput === null) sum.set(back);
          else for (let i = 0; i < sum.length; i++) sum[i]! += back[i]!;
          batchOutput = sum;
        }
        onProgress?.(calls, totalCalls);
      }
    }
    const outputs = batchOutput!;
    if (passes > 1) for (let i = 0; i < outputs.length; i++) outputs[i]! /= passes;
    for (let b = 0; b < n; b++) {
      accumulateWindow(
        outputs.subarray(b * windowVoxels * K, (b + 1) * windowVoxels * K),
        weights,
        batch[b]!,
        windowSize,
        [D, H, W, K],
        accumulated!,
        weightSum,
      );
    }
  }

  // slidingWindows always yields at least one window, so the accumulator exists here.
  const merged = accumulated!;
  const voxels = D * H * W;
  if (output === "labels") {
    // Division by the positive weight sum does not change the argmax.
    const labels = new Uint8Array(voxels);
    for (let v = 0, o = 0; v < voxels; v++, o += K) {
      let best = 0;
      let bestValue = merged[o]!;
      for (let c = 1; c < K; c++) {
        const value = merged[o + c]!;
        if (value > bestValue) {
          bestValue = value;
          best = c;
        }
      }
      labels[v] = best;
    }
    return { data: labels, shape: [D, H, W] };
  }
  for (let v = 0, o = 0; v < voxels; v++, o += K) {
    const w = weightSum[v]!;
    for (let c = 0; c < K; c++) merged[o + c]! /= w;
  }
  return { data: merged, shape: [D, H, W, K] };
}

/** Copies one window of the volume into `out` at `offset`, padding what lies outside. */
function extractWindow(
  data: Float32Array,
  [D, H, W, C]: [number, number, number, number],
  [z0, y0, x0]: Vec3,
  [wd, wh, ww]: Vec3,
  padValue: number,
  out: Float32Array,
  offset: number,
): void {
  // Window columns that fall inside the volume along x (the rest is padding).
  const xFrom = Math.max(0, -x0);
  const xTo = Math.min(ww, W - x0);
  const rowLength = ww * C;
  let o = offset;
  for (let z = 0; z < wd; z++) {
    const sz = z0 + z;
    for (let y = 0; y < wh; y++, o += rowLength) {
      const sy = y0 + y;
      if (sz < 0 || sz >= D || sy < 0 || sy >= H) {
        out.fill(padValue, o, o + rowLength);
        continue;
      }
      if (xFrom > 0) out.fill(padValue, o, o + xFrom * C);
      const src = ((sz * H + sy) * W + x0 + xFrom) * C;
      out.set(data.subarray(src, src + (xTo - xFrom) * C), o + xFrom * C);
      if (xTo < ww) out.fill(padValue, o + xTo * C, o + rowLength);
    }
  }
}

/** Adds weight × output of one window into the accumulators, for its voxels inside the volume. */
function accumulateWindow(
  values: Float32Array,
  weights: Float32Array,
  [z0, y0, x0]: Vec3,
  [wd, wh, ww]: Vec3,
  [D, H, W, K]: [number, number, number, number],
  accumulated: Float32Array,
  weightSum: Float32Array,
): void {
  const zFrom = Math.max(0, -z0);
  const zTo = Math.min(wd, D - z0);
  const yFrom = Math.max(0, -y0);
  const yTo = Math.min(wh, H - y0);
  const xFrom = Math.max(0, -x0);
  const xTo = Math.min(ww, W - x0);
  for (let z = zFrom; z < zTo; z++) {
    for (let y = yFrom; y < yTo; y++) {
      const windowRow = (z * wh + y) * ww;
      const volumeRow = ((z0 + z) * H + (y0 + y)) * W + x0;
      for (let x = xFrom; x < xTo; x++) {
        const w = weights[windowRow + x]!;
        const v = volumeRow + x;
        weightSum[v]! += w;
        const src = (windowRow + x) * K;
        const dst = v * K;
        for (let c = 0; c < K; c++) accumulated[dst + c]! += w * values[src + c]!;
      }
    }
  }
}
