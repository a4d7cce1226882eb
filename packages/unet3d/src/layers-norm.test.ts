// batchNormTraining's closed-form gradient against TF.js's own gradient of the composite
// (tf.moments + tf.batchNorm) it replaces, on the cpu backend (exact reference kernels).
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { batchNormTraining } from "./layers-norm.js";
import { seeded } from "./seeded.testutil.js";

const relErr = (a: Float32Array, ref: Float32Array): number => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - ref[i]!));
    s = Math.max(s, Math.abs(ref[i]!));
  }
  return d / s;
};

describe("batchNormTraining", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it.each([
    { rows: 7, channels: 3 },
    { rows: 300, channels: 16 },
  ])(
    "y, μ, σ² and the gradients of x, γ, β match the composite ($rows × $channels)",
    ({ rows, channels }) => {
      const rand = seeded(rows);
      const data = (n: number, scale = 1, shift = 0) =>
        Float32Array.from({ length: n }, () => shift + scale * (rand() - 0.5));
      const x = tf.tensor2d(data(rows * channels, 4, 1), [rows, channels]);
      const gamma = tf.tensor1d(data(channels, 1, 1));
      const beta = tf.tensor1d(data(channels));
      const r = tf.tensor2d(data(rows * channels), [rows, channels]);
      const eps = 1e-5;
      const composite = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, 0);
        return tf.sum(
          tf.mul(tf.batchNorm(a, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, eps), r),
        );
      };
      const fused = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const out = batchNormTraining(a as tf.Tensor2D, g, b, eps);
        tf.dispose([out.mean, out.variance]);
        return tf.sum(tf.mul(out.y, r));
      };
      const want = tf.grads(composite)([x, gamma, beta]);
      const got = tf.grads(fused)([x, gamma, beta]);
      got.forEach((g, i) =>
        expect(
          relErr(g.dataSync() as Float32Array, want[i]!.dataSync() as Float32Array),
        ).toBeLessThan(1e-4),
      );
      const out = batchNormTraining(x, gamma, beta, eps);
      const ref = tf.moments(x, 0);
      expect(
        relErr(out.mean.dataSync() as Float32Array, ref.mean.dataSync() as Float32Array),
      ).toBeLessThan(1e-6);
      expect(
        relErr(out.variance.dataSync() as Float32Array, ref.variance.dataSync() as Float32Array),
      ).toBeLessThan(1e-6);
      const refY = tf.batchNorm(x, ref.mean, ref.variance, beta, gamma, eps);
      expect(
        relErr(out.y.dataSync() as Float32Array, refY.dataSync() as Float32Array),
      ).toBeLessThan(1e-6);
    },
  );

  it("works without γ and β and leaks no tensors", () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 9], [4, 2]);
    const before = tf.memory().numTensors;
    const dx = tf.grad((a: tf.Tensor) => {
      const out = batchNormTraining(a as tf.Tensor2D, undefined, undefined, 1e-5);
      tf.dispose([out.mean, out.variance]);
      return tf.sum(tf.square(out.y));
    })(x);
    // d/dx Σ x̂² = 0: Σ x̂² = M for every x (per channel), so the gradient vanishes.
    for (const v of dx.dataSync()) expect(Math.abs(v)).toBeLessThan(1e-3);
    dx.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
