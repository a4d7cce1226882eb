// Helpers shared by the ONNX tests: non-trivial normalisation statistics and biases (a freshly
// built model has γ = 1, β = 0, μ = 0, σ² = 1 and zero biases, which would hide folding errors),
// and the TF.js reference prediction.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { seeded } from "../seeded.testutil.js";

const RANGES: Record<string, [number, number]> = {
  gamma: [0.5, 1.5],
  beta: [-0.2, 0.2],
  moving_mean: [-0.3, 0.3],
  moving_variance: [0.5, 2],
  bias: [-0.1, 0.1],
};

/** Replaces every γ, β, moving mean/variance and bias of the model by seeded random values. */
export function randomizeStatistics(model: tfl.LayersModel, seed: number): void {
  const next = seeded(seed);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.getWeights().map((value, i) => {
      const tail = layer.weights[i]!.originalName.split("/").pop()!;
      const range = RANGES[tail];
      if (range === undefined) return value;
      const data = Float32Array.from(
        { length: value.size },
        () => range[0] + (range[1] - range[0]) * next(),
      );
      return tf.tensor(data, value.shape);
    });
    layer.setWeights(values);
  }
}

/** Seeded normal-ish input (sum of uniforms), channels-last [N, D, H, W, C]. */
export function randomInput(shape: number[], seed: number): Float32Array {
  const next = seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => next() + next() + next() - 1.5);
}

/** TF.js model.predict on channels-last data; returns channels-last values. */
export function tfPredict(
  model: tfl.LayersModel,
  data: Float32Array,
  shape: number[],
): Float32Array {
  return tf.tidy(() => {
    const y = model.predict(tf.tensor(data, shape)) as tf.Tensor;
    return y.dataSync() as Float32Array;
  });
}

/** Channels-last [N, S, C] → channels-first [N, C, S]. */
export function toChannelsFirst(
  data: Float32Array,
  n: number,
  spatial: number,
  c: number,
): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let v = 0; v < spatial; v++)
      for (let k = 0; k < c; k++) out[(b * c + k) * spatial + v] = data[(b * spatial + v) * c + k]!;
  return out;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
