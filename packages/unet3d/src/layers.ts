/**
 * Custom tfjs-layers layers of the BraTS 3D U-Net (channels-last, [N, D, H, W, C]).
 *
 * Every class has a static `className` and a `getConfig()` whose keys survive tfjs-layers'
 * camelCase ↔ snake_case conversion, so a model using them round-trips through model.json once
 * `registerBratsLayers()` (register.ts) has registered the classes. Importing this module has no
 * side effects.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Shape } from "@tensorflow/tfjs-layers";
import { UNet3DError } from "./errors.js";

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Record<string, unknown>;

function oneTensor(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1 || inputs[0] === undefined) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `${layer} expects exactly one input tensor, got ${inputs.length}`,
      );
    }
    return inputs[0];
  }
  return inputs;
}

function oneShape(inputShape: Shape | Shape[], layer: string): Shape {
  // A single shape is an array of numbers/nulls; a list of shapes is an array of arrays.
  if (inputShape.length > 0 && Array.isArray(inputShape[0])) {
    const shapes = inputShape as Shape[];
    if (shapes.length !== 1 || shapes[0] === undefined) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `${layer} expects exactly one input, got ${shapes.length}`,
      );
    }
    return shapes[0];
  }
  return inputShape as Shape;
}

function requireRank(shape: Shape | readonly number[], rank: number, layer: string): void {
  if (shape.length !== rank) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `${layer} expects rank-${rank} input [N, D, H, W, C], got shape [${shape.join(", ")}]`,
    );
  }
}

function isTraining(kwargs: Kwargs | undefined): boolean {
  return kwargs?.["training"] === true;
}

/** JSON turns `undefined` into `null`; treat both as "not given". */
function optionalSeed(seed: number | null | undefined): number | undefined {
  if (seed === null || seed === undefined) return undefined;
  if (!Number.isFinite(seed))
    throw new UNet3DError("BAD_CONFIG", `seed must be a finite number, got ${seed}`);
  return seed;
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new UNet3DError("BAD_CONFIG", `${what} must be a positive integer, got ${value}`);
  }
  return value;
}

// ----------------------------------------------------------------------------- SpatialDropout3D

export interface SpatialDropout3DArgs extends LayerArgs {
  /** Fraction of channels to drop, in [0, 1). */
  rate: number;
  /** Seed of the channel masks; the n-th training call uses seed + n, so masks differ between
   * steps but the sequence is reproducible. */
  seed?: number | null;
}

/**
 * Drops whole channels (noise shape [N, 1, 1, 1, C]) during training and scales the kept ones by
 * 1 / (1 - rate); identity at inference. Same as Keras SpatialDropout3D and PyTorch Dropout3d.
 */
export class SpatialDropout3D extends tfl.layers.Layer {
  static readonly className = "SpatialDropout3D";
  readonly rate: number;
  readonly seed: number | undefined;
  private calls = 0;

  constructor(args: SpatialDropout3DArgs) {
    super(args);
    if (!(Number.isFinite(args.rate) && args.rate >= 0 && args.rate < 1)) {
      throw new UNet3DError(
        "BAD_CONFIG",
        `SpatialDropout3D rate must be in [0, 1), got ${args.rate}`,
      );
    }
    this.rate = args.rate;
    this.seed = optionalSeed(args.seed);
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape, "SpatialDropout3D");
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = oneTensor(inputs, "SpatialDropout3D");
    requireRank(x.shape, 5, "SpatialDropout3D");
    if (!isTraining(kwargs) || this.rate === 0) return tf.clone(x);
    const seed = this.seed === undefined ? undefined : this.seed + this.calls;
    this.calls++;
    return tf.tidy(() => {
      const keep = 1 - this.rate;
      const [n, , , , c] = x.shape as [number, number, number, number, number];
      // floor(keep + U[0,1)) is 1 with probability `keep`, else 0.
      const u = tf.randomUniform([n, 1, 1, 1, c], 0, 1, "float32", seed);
      const mask = tf.div(tf.floor(tf.add(u, keep)), keep);
      return tf.mul(x, mask);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { rate: this.rate, seed: this.seed ?? null, ...super.getConfig() };
  }
}

// ----------------------------------------------------------------------------- SpatialAttention3D

export interface SpatialAttention3DArgs extends LayerArgs {
  /** Edge of the cubic conv kernel over the [mean, max] maps; odd, default 1 (1×1×1). */
  kernelSize?: number;
  /** Seed of the kernel/bias initialisers. */
  seed?: number | null;
}

/**
 * sigmoid(Conv3D(1, k, 'same')([mean_c(x), max_c(x)])) * x — the spatial attention of the
 * reference design. Its conv has 2·k³ weights and 1 bias, like PyTorch's nn.Conv3d(2, 1, k).
 * Initialised as PyTorch does: kernel and bias uniform in ±1/√(2·k³).
 */
export class SpatialAttention3D extends tfl.layers.Layer {
  static readonly className = "SpatialAttention3D";
  readonly kernelSize: number;
  readonly seed: number | undefined;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: SpatialAttention3DArgs = {}) {
    super(args);
    this.kernelSize = positiveInt(args.kernelSize ?? 1, "SpatialAttention3D kernelSize");
    if (this.kernelSize % 2 !== 1) {
      // An even kernel with 'same' padding shifts the attention map by half a voxel.
      throw new UNet3DError(
        "BAD_CONFIG",
        `SpatialAttention3D kernelSize must be odd, got ${this.kernelSize}`,
      );
    }
    this.seed = optionalSeed(args.seed);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = oneShape(inputShape, "SpatialAttention3D");
    requireRank(shape, 5, "SpatialAttention3D");
    const k = this.kernelSize;
    const bound = 1 / Math.sqrt(2 * k * k * k);
    this.kernel = this.addWeight(
      "kernel",
      [k, k, k, 2, 1],
      "float32",
      tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.seed }),
      undefined,
      true,
    );
    this.bias = this.addWeight(
      "bias",
      [1],
      "float32",
      tfl.initializers.randomUniform({
        minval: -bound,
        maxval: bound,
        seed: this.seed === undefined ? undefined : this.seed + 1,
      }),
      undefined,
      true,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape, "SpatialAttention3D");
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = oneTensor(inputs, "SpatialAttention3D") as tf.Tensor5D;
    requireRank(x.shape, 5, "SpatialAttention3D");
    if (this.kernel === null || this.bias === null) {
      throw new UNet3DError("BAD_CONFIG", "SpatialAttention3D called before build()");
    }
    const kernel = this.kernel.read() as tf.Tensor5D;
    const bias = this.bias.read();
    return tf.tidy(() => {
      const maps = tf.concat([tf.mean(x, -1, true), tf.max(x, -1, true)], -1) as tf.Tensor5D;
      const logits = tf.add(tf.conv3d(maps, kernel, 1, "same"), bias);
      return tf.mul(x, tf.sigmoid(logits));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { kernelSize: this.kernelSize, seed: this.seed ?? null, ...super.getConfig() };
  }
}

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
      const { mean, variance } = tf.moments(flat, 0);
      const y = tf.batchNorm(flat, mean, variance, beta, gamma, this.epsilon);
      tf.tidy(() => {
        const m = this.momentum;
        const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
        movingMean.write(tf.add(tf.mul(movingMean.read(), m), tf.mul(mean, 1 - m)));
        movingVariance.write(tf.add(tf.mul(movingVariance.read(), m), tf.mul(unbiased, 1 - m)));
      });
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

// ----------------------------------------------------------------------------- UpSampling3D

export interface UpSampling3DArgs extends LayerArgs {
  /** Repeat factors along D, H, W (or one factor for all three). Default 2. */
  size?: number | [number, number, number];
}

/** Nearest-neighbour up-sampling: repeats every voxel size[0]×size[1]×size[2] times. */
export class UpSampling3D extends tfl.layers.Layer {
  static readonly className = "UpSampling3D";
  readonly size: [number, number, number];

  constructor(args: UpSampling3DArgs = {}) {
    super(args);
    const size = args.size ?? 2;
    const triple: number[] = typeof size === "number" ? [size, size, size] : [...size];
    if (triple.length !== 3) {
      throw new UNet3DError(
        "BAD_CONFIG",
        `UpSampling3D size needs 3 factors, got ${triple.length}`,
      );
    }
    this.size = triple.map((s) => positiveInt(s, "UpSampling3D size")) as [number, number, number];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = oneShape(inputShape, "UpSampling3D");
    requireRank(shape, 5, "UpSampling3D");
    return shape.map((d, i) =>
      i >= 1 && i <= 3 && d !== null ? d * (this.size[i - 1] as number) : d,
    );
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = oneTensor(inputs, "UpSampling3D");
    requireRank(x.shape, 5, "UpSampling3D");
    return tf.tidy(() => {
      // One axis at a time with rank-4 tiles: tfjs only differentiates tile up to rank 4.
      let y = x;
      for (let axis = 1; axis <= 3; axis++) {
        const factor = this.size[axis - 1] as number;
        if (factor === 1) continue;
        const s = y.shape;
        const outer = s.slice(0, axis).reduce((a, b) => a * b, 1);
        const inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
        const len = s[axis] as number;
        const tiled = tf.tile(tf.reshape(y, [outer, len, 1, inner]), [1, 1, factor, 1]);
        const next = s.slice();
        next[axis] = len * factor;
        y = tf.reshape(tiled, next);
      }
      return y === x ? tf.clone(x) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { size: [...this.size], ...super.getConfig() };
  }
}

/** Every custom layer class of this package (registered by registerBratsLayers()). */
export const BRATS_LAYER_CLASSES = [
  BatchNormalization3D,
  SpatialDropout3D,
  SpatialAttention3D,
  GroupNormalization,
  InstanceNormalization,
  UpSampling3D,
] as const;
