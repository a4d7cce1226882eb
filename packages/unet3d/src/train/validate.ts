// Validation of whole cases with sliding-window inference, scored per BraTS region.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "../errors.js";
import { slidingWindows } from "../inference-splitter.js";
import { predictVolume } from "../inference.js";
import type { Clock } from "./budget.js";
import { classInRegion, regionsToClasses, type RegionScores } from "@brats/conventions";
import type { TrainEvent, ValidationCase, ValidationOptions } from "./options.js";

/**
 * Dice of WT/TC/ET between two class maps; a region absent from both scores 1 (BraTS' convention).
 * The app scores with @brats/metrics instead; this is the dependency-free default.
 */
export function regionDice(prediction: ArrayLike<number>, truth: ArrayLike<number>): RegionScores {
  if (prediction.length !== truth.length) {
    throw new UNet3DError(
      "BAD_CONFIG",
      `prediction has ${prediction.length} voxels, truth ${truth.length}`,
    );
  }
  const out = { WT: 0, TC: 0, ET: 0 };
  for (const region of ["WT", "TC", "ET"] as const) {
    let inter = 0;
    let sum = 0;
    for (let i = 0; i < truth.length; i++) {
      const p = classInRegion(prediction[i]!, region);
      const t = classInRegion(truth[i]!, region);
      if (p && t) inter++;
      sum += Number(p) + Number(t);
    }
    out[region] = sum === 0 ? 1 : (2 * inter) / sum;
  }
  return out;
}

/** Mean region scores of the model over the validation cases. */
export async function validate(
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
        : regionsToClasses(result.data, d * h * w);
    const s = await score(prediction, c);
    sum.WT += s.WT;
    sum.TC += s.TC;
    sum.ET += s.ET;
    onProgress?.({ type: "validation", epoch, done: ++done, total: opts.cases.length });
  }
  const n = opts.cases.length;
  return { WT: sum.WT / n, TC: sum.TC / n, ET: sum.ET / n };
}

/** What merging, the argmax and scoring add to the windows' forward passes, as a share (measured
 * on the shared cases at 64³ windows: about 10 %; kept high so a time budget errs early). */
const VALIDATION_OVERHEAD = 1.25;

/**
 * Seconds a validation of `opts.cases` should take: its sliding windows times one timed forward
 * pass of a window (after a warm-up pass), plus overhead.
 * A time-limited run holds this back until a real validation has been measured.
 */
export async function estimateValidationSeconds(
  model: tfl.LayersModel,
  opts: ValidationOptions,
  clock: Clock,
): Promise<number> {
  let windows = 0;
  for (const c of opts.cases) {
    windows += slidingWindows(
      [c.shape[0], c.shape[1], c.shape[2]],
      opts.windowSize,
      opts.overlap ?? 0.5,
    ).length;
  }
  const channels = opts.cases[0]!.shape[3];
  const input = tf.zeros([1, ...opts.windowSize, channels]);
  const forward = async (): Promise<void> => {
    const output = model.predict(input) as tf.Tensor;
    await output.data();
    output.dispose();
  };
  // The first pass warms the kernels up (several times a warm window on wasm + oneDNN); time the second.
  await forward();
  const started = clock();
  await forward();
  const seconds = clock() - started;
  input.dispose();
  return windows * seconds * VALIDATION_OVERHEAD;
}
