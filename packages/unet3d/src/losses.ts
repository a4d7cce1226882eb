/**
 * Segmentation losses on channels-last tensors [N, D, H, W, K] (any rank >= 2 works: the last
 * axis is the class/region axis, all others are pooled). yTrue is one-hot (classes) or binary
 * (regions); yPred holds probabilities (softmax or sigmoid outputs of the model).
 *
 * Every function has the (yTrue, yPred) => Scalar shape tfjs-layers' `compile({loss})` accepts.
 */
import * as tf from "@tensorflow/tfjs-core";
import { UNet3DError } from "./errors.js";

export interface DiceOptions {
  /** Added to numerator and denominator of every class's Dice; default 1e-5 (the reference's). */
  smooth?: number;
}

export interface CrossEntropyOptions {
  /** Probabilities are clipped to [epsilon, 1 − epsilon] before the log; default 1e-7 (Keras). */
  epsilon?: number;
}

export type DiceCEOptions = DiceOptions & CrossEntropyOptions;

function checkPair(yTrue: tf.Tensor, yPred: tf.Tensor, what: string): void {
  if (yTrue.rank < 2 || !tf.util.arraysEqual(yTrue.shape, yPred.shape)) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `${what}: yTrue [${yTrue.shape.join(", ")}] and yPred [${yPred.shape.join(", ")}] must have the same shape, rank >= 2`,
    );
  }
}

function smoothOf(opts: DiceOptions | undefined): number {
  const smooth = opts?.smooth ?? 1e-5;
  if (!(Number.isFinite(smooth) && smooth >= 0))
    throw new UNet3DError("BAD_CONFIG", `smooth must be >= 0, got ${smooth}`);
  return smooth;
}

function epsilonOf(opts: CrossEntropyOptions | undefined): number {
  const eps = opts?.epsilon ?? 1e-7;
  if (!(Number.isFinite(eps) && eps > 0 && eps < 0.5)) {
    throw new UNet3DError("BAD_CONFIG", `epsilon must be in (0, 0.5), got ${eps}`);
  }
  return eps;
}

/** All axes but the last (batch and space are pooled per class, as in the reference). */
function pooledAxes(x: tf.Tensor): number[] {
  return Array.from({ length: x.rank - 1 }, (_, i) => i);
}

function diceTerm(yTrue: tf.Tensor, yPred: tf.Tensor, smooth: number): tf.Scalar {
  const axes = pooledAxes(yPred);
  const intersection = tf.sum(tf.mul(yTrue, yPred), axes);
  const denominator = tf.add(tf.sum(yTrue, axes), tf.sum(yPred, axes));
  const dice = tf.div(tf.add(tf.mul(intersection, 2), smooth), tf.add(denominator, smooth));
  return tf.sub(1, tf.mean(dice));
}

/**
 * Soft Dice loss: 1 − mean over classes k of (2·Σ t·p + s) / (Σ t + Σ p + s), the sums running over
 * batch and space. An absent class predicted absent scores Dice 1 thanks to s.
 */
export function softDiceLoss(yTrue: tf.Tensor, yPred: tf.Tensor, opts?: DiceOptions): tf.Scalar {
  checkPair(yTrue, yPred, "softDiceLoss");
  const smooth = smoothOf(opts);
  return tf.tidy(() => diceTerm(yTrue, yPred, smooth));
}

/** Categorical cross-entropy: −mean over voxels of Σ_k t_k·log(clip(p_k)). */
export function categoricalCrossEntropy(
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  opts?: CrossEntropyOptions,
): tf.Scalar {
  checkPair(yTrue, yPred, "categoricalCrossEntropy");
  const eps = epsilonOf(opts);
  return tf.tidy(() => {
    const logP = tf.log(tf.clipByValue(yPred, eps, 1 - eps));
    return tf.neg(tf.mean(tf.sum(tf.mul(yTrue, logP), -1))) as tf.Scalar;
  });
}

/** Binary cross-entropy averaged over every element: −mean(t·log p + (1 − t)·log(1 − p)). */
export function binaryCrossEntropy(
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  opts?: CrossEntropyOptions,
): tf.Scalar {
  checkPair(yTrue, yPred, "binaryCrossEntropy");
  const eps = epsilonOf(opts);
  return tf.tidy(() => {
    const p = tf.clipByValue(yPred, eps, 1 - eps);
    const ll = tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p))));
    return tf.neg(tf.mean(ll)) as tf.Scalar;
  });
}

/** Soft Dice + categorical cross-entropy, unweighted (the reference's dice_ce_loss). */
export function diceCELoss(yTrue: tf.Tensor, yPred: tf.Tensor, opts?: DiceCEOptions): tf.Scalar {
  checkPair(yTrue, yPred, "diceCELoss");
  const smooth = smoothOf(opts);
  epsilonOf(opts);
  return tf.tidy(() =>
    tf.add(diceTerm(yTrue, yPred, smooth), categoricalCrossEntropy(yTrue, yPred, opts)),
  );
}

/** For region outputs (sigmoid WT/TC/ET, nnU-Net style): soft Dice over regions + binary CE. */
export function regionDiceBCELoss(
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  opts?: DiceCEOptions,
): tf.Scalar {
  checkPair(yTrue, yPred, "regionDiceBCELoss");
  const smooth = smoothOf(opts);
  epsilonOf(opts);
  return tf.tidy(() =>
    tf.add(diceTerm(yTrue, yPred, smooth), binaryCrossEntropy(yTrue, yPred, opts)),
  );
}
