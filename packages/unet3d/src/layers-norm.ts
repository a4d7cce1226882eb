// The normalisation layers: group and instance norm (any rank >= 3) and batch norm past tfjs-layers'
// rank-4 limit, all over the last (channel) axis.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Shape } from "@tensorflow/tfjs-layers";
import { UNet3DError } from "./errors.js";
import {
  isTraining,
  oneShape,
  oneTensor,
  positiveInt,
  type Kwargs,
  type LayerArgs,
} from "./layers-shared.js";

// ----------------------------------------------------------------------------- Group/Instance norm

export interface GroupNormalizationArgs extends LayerArgs {
  /** Number of channel groups; must divide the channel count. Default 8. */
  groups?: number;
  /** Added to the variance; default 1e-5 (PyTorch's GroupNorm/InstanceNorm3d). */
  epsilon?: number;
  /** Learn a per-channel offset beta. Default true. */
  center?: boolean;
  /** Learn a per-channel scale gamma. Default true. */
  scale?: boolean;
}

/** Normalises each sample and channel group over the spatial axes and the group's channels
 * (biased variance, as PyTorch), then applies the per-channel affine gamma·x + beta. */
function groupNormalize(
  x: tf.Tensor,
  groups: number,
  epsilon: number,
  gamma: tf.Tensor | null,
  beta: tf.Tensor | null,
): tf.Tensor {
  return tf.tidy(() => {
    const shape = x.shape;
    const n = shape[0];
    const c = shape[shape.length - 1] as number;
    let spatial = 1;
    for (let i = 1; i < shape.length - 1; i++) spatial *= shape[i] as number;
    const grouped = tf.reshape(x, [n, spatial, groups, c / groups]);
    const { mean, variance } = tf.moments(grouped, [1, 3], true);
    const normalized = tf.reshape(
      tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon))),
      shape,
    );
    let y = normalized;
    if (gamma !== null) y = tf.mul(y, gamma);
    if (beta !== null) y = tf.add(y, beta);
    return y;
  });
}

abstract class ChannelGroupNorm extends tfl.layers.Layer {
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  protected gamma: tfl.LayerVariable | null = null;
  protected beta: tfl.LayerVariable | null = null;

  constructor(args: GroupNormalizationArgs) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(Number.isFinite(this.epsilon) && this.epsilon > 0)) {
      throw new UNet3DError("BAD_CONFIG", `epsilon must be a positive number, got ${this.epsilon}`);
    }
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }

  /** Number of groups for `channels` channels (validated). */
  protected abstract groupsFor(channels: number): number;

  override build(inputShape: Shape | Shape[]): void {
    const shape = oneShape(inputShape, this.getClassName());
    if (shape.length < 3) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `${this.getClassName()} expects [N, ..., C] with rank >= 3`,
      );
    }
    const channels = shape[shape.length - 1];
    if (channels === null || channels === undefined) {
      throw new UNet3DError("SHAPE_MISMATCH", `${this.getClassName()} needs a known channel count`);
    }
    this.groupsFor(channels);
    const perChannel = (
      name: string,
      init: ReturnType<typeof tfl.initializers.ones>,
      trainable: boolean,
    ) => this.addWeight(name, [channels], "float32", init, undefined, trainable);
    if (this.scale) this.gamma = perChannel("gamma", tfl.initializers.ones(), true);
    if (this.center) this.beta = perChannel("beta", tfl.initializers.zeros(), true);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape, this.getClassName());
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = oneTensor(inputs, this.getClassName());
    const channels = x.shape[x.shape.length - 1] as number;
    return groupNormalize(
      x,
      this.groupsFor(channels),
      this.epsilon,
      this.gamma === null ? null : this.gamma.read(),
      this.beta === null ? null : this.beta.read(),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { epsilon: this.epsilon, center: this.center, scale: this.scale, ...super.getConfig() };
  }
}

/** Group normalisation (Wu & He 2018) over channels-last input of any rank >= 3. */
export class GroupNormalization extends ChannelGroupNorm {
  static readonly className = "GroupNormalization";
  readonly groups: number;

  constructor(args: GroupNormalizationArgs = {}) {
    super(args);
    this.groups = positiveInt(args.groups ?? 8, "GroupNormalization groups");
  }

  protected groupsFor(channels: number): number {
    if (channels % this.groups !== 0) {
      throw new UNet3DError(
        "BAD_CONFIG",
        `GroupNormalization: ${channels} channels cannot be split into ${this.groups} groups`,
      );
    }
    return this.groups;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { groups: this.groups, ...super.getConfig() };
  }
}

export type InstanceNormalizationArgs = Omit<GroupNormalizationArgs, "groups">;

/** Instance normalisation: per sample and channel over the spatial axes (group norm with one
 * channel per group), with affine gamma/beta — PyTorch's InstanceNorm3d(affine=True). */
export class InstanceNormalization extends ChannelGroupNorm {
  static readonly className = "InstanceNormalization";

  constructor(args: InstanceNormalizationArgs = {}) {
    super(args);
  }

  protected groupsFor(channels: number): number {
    return channels;
  }
}

// ----------------------------------------------------------------------------- BatchNormalization3D

export interface BatchNormalization3DArgs extends LayerArgs {
  /** Keras-style momentum: moving = momentum·moving + (1 − momentum)·batch. Default 0.9, i.e.
   * PyTorch's BatchNorm momentum 0.1. */
  momentum?: number;
  /** Added to the variance; default 1e-5 (PyTorch's). */
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
}

/**
 * Batch normalisation over the last (channel) axis of input of any rank >= 2. tfjs-layers'
 * BatchNormalization stops at rank 4, so the 3D U-Net needs its own: training normalises with the
 * batch statistics over N, D, H, W and updates the moving mean and the moving (unbiased, as
 * PyTorch and TF's fused kernel) variance; inference uses the moving statistics. Weights, in
 * order: gamma, beta, moving_mean, moving_variance (as Keras).
 */
/**
 * Training-mode batch norm of [M, C] rows over axis 0 as one differentiable op with its own
 * gradient: y = γ (x − μ) / √(σ² + ε) + β with the batch's μ, σ². Composed from tf.moments and
 * tf.batchNorm, TF.js would keep x − μ, its square and its Tile-heavy batchNorm gradient's
 * intermediates alive until the step's backward pass ends; here the forward keeps only y (and
 * the saved x, μ, σ², γ), and the backward is the closed form
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + ε) · (dy − dβ/M − x̂·dγ/M),  x̂ = (x − μ)/√(σ² + ε).
 * Returns y and the batch's μ and σ² (biased), which the caller disposes.
 */
export function batchNormTraining(
  flat: tf.Tensor2D,
  gamma: tf.Tensor | undefined,
  beta: tf.Tensor | undefined,
  epsilon: number,
): { y: tf.Tensor2D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const [rows, channels] = flat.shape;
  let stats: [tf.Tensor1D, tf.Tensor1D] | null = null;
  const op = tf.customGrad((x, g, b, save) => {
    const xs = x as tf.Tensor2D;
    const { mean, variance } = tf.moments(xs, 0);
    stats = [tf.keep(mean.clone()) as tf.Tensor1D, tf.keep(variance.clone()) as tf.Tensor1D];
    (save as tf.GradSaveFunc)([xs, mean, variance, g as tf.Tensor1D]);
    const value = tf.batchNorm(xs, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, epsilon);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const d = dy as tf.Tensor2D;
        const [sx, sMean, sVar, sGamma] = saved as [
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor1D,
        ];
        const inv = tf.rsqrt(tf.add(sVar, epsilon));
        const xhat = tf.mul(tf.sub(sx, sMean), inv);
        const dBeta = tf.sum(d, 0);
        const dGamma = tf.sum(tf.mul(d, xhat), 0);
        const centred = tf.sub(tf.sub(d, tf.div(dBeta, rows)), tf.mul(xhat, tf.div(dGamma, rows)));
        return [tf.mul(centred, tf.mul(sGamma, inv)), dGamma, dBeta];
      });
    return { value, gradFunc };
  });
  const g = gamma ?? tf.ones([channels]);
  const b = beta ?? tf.zeros([channels]);
  const y = op(flat, g, b) as tf.Tensor2D;
  if (gamma === undefined) g.dispose();
  if (beta === undefined) b.dispose();
  const [mean, variance] = stats!;
  return { y, mean, variance };
}

export class BatchNormalization3D extends tfl.layers.Layer {
  static readonly className = "BatchNormalization3D";
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;
  private movingMean: tfl.LayerVariable | null = null;
  private movingVariance: tfl.LayerVariable | null = null;

  constructor(args: BatchNormalization3DArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.9;
    if (!(Number.isFinite(this.momentum) && this.momentum >= 0 && this.momentum <= 1)) {
      throw new UNet3DError("BAD_CONFIG", `momentum must be in [0, 1], got ${this.momentum}`);
    }
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(Number.isFinite(this.epsilon) && this.epsilon > 0)) {
      throw new UNet3DError("BAD_CONFIG", `epsilon must be a positive number, got ${this.epsilon}`);
    }
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = oneShape(inputShape, "BatchNormalization3D");
    const channels = shape[shape.length - 1];
    if (shape.length < 2 || channels === null || channels === undefined) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        "BatchNormalization3D needs rank >= 2 and a known channel count",
      );
    }
    const perChannel = (
      name: string,
      init: ReturnType<typeof tfl.initializers.ones>,
      trainable: boolean,
    ) => this.addWeight(name, [channels], "float32", init, undefined, trainable);
    if (this.scale) this.gamma = perChannel("gamma", tfl.initializers.ones(), true);
    if (this.center) this.beta = perChannel("beta", tfl.initializers.zeros(), true);
    this.movingMean = perChannel("moving_mean", tfl.initializers.zeros(), false);
    this.movingVariance = perChannel("moving_variance", tfl.initializers.ones(), false);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape, "BatchNormalization3D");
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = oneTensor(inputs, "BatchNormalization3D");
    const movingMean = this.movingMean;
    const movingVariance = this.movingVariance;
    if (movingMean === null || movingVariance === null) {
      throw new UNet3DError("BAD_CONFIG", "BatchNormalization3D called before build()");
    }
    const channels = x.shape[x.shape.length - 1] as number;
    const count = x.size / channels;
    const gamma = this.gamma === null ? undefined : this.gamma.read();
    const beta = this.beta === null ? undefined : this.beta.read();
    return tf.tidy(() => {
      // [M, C]: tf.batchNorm (the fused kernel) handles rank <= 4 only.
      const flat = tf.reshape(x, [count, channels]);
      if (!isTraining(kwargs)) {
        const y = tf.batchNorm(
          flat,
          movingMean.read(),
          movingVariance.read(),
          beta,
          gamma,
          this.epsilon,
        );
        return tf.reshape(y, x.shape);
      }
      const { y, mean, variance } = batchNormTraining(
        flat as tf.Tensor2D,
        gamma,
        beta,
        this.epsilon,
      );
      tf.tidy(() => {
        const m = this.momentum;
        const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
        movingMean.write(tf.add(tf.mul(movingMean.read(), m), tf.mul(mean, 1 - m)));
        movingVariance.write(tf.add(tf.mul(movingVariance.read(), m), tf.mul(unbiased, 1 - m)));
      });
      tf.dispose([mean, variance]);
      return tf.reshape(y, x.shape);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...super.getConfig(),
    };
  }
}
