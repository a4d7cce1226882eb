// The spatial custom layers: channel dropout, spatial attention and nearest up-sampling (3D,
// channels-last [N, D, H, W, C]).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Shape } from "@tensorflow/tfjs-layers";
import { UNet3DError } from "./errors.js";
import {
  isTraining,
  oneShape,
  oneTensor,
  optionalSeed,
  positiveInt,
  requireRank,
  type Kwargs,
  type LayerArgs,
} from "./layers-shared.js";

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
