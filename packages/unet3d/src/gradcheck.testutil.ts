/** Finite-difference gradient checking for tests (float32: TF.js has no float64 kernels). */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Central differences (f(x + h·e_i) − f(x − h·e_i)) / 2h of a scalar function at the given flat
 * indices of x. For functions linear in x this is exact up to float32 rounding, so h can be large.
 */
export function numericGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  indices: readonly number[],
  h: number,
): number[] {
  const base = x.dataSync().slice() as Float32Array;
  const at = (data: Float32Array): number =>
    tf.tidy(() => f(tf.tensor(data, x.shape, "float32")).dataSync()[0] as number);
  return indices.map((i) => {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] = (plus[i] as number) + h;
    minus[i] = (minus[i] as number) - h;
    // Divide by the step float32 actually took, not the nominal h.
    const step = plus[i] - minus[i];
    return (at(plus) - at(minus)) / step;
  });
}

/** Largest |a − n| / (atol + rtol·max(|a|, |n|)) over the pairs: ≤ 1 means they agree. */
export function worstMismatch(
  analytic: readonly number[],
  numeric: readonly number[],
  atol: number,
  rtol: number,
): number {
  let worst = 0;
  analytic.forEach((a, i) => {
    const n = numeric[i] as number;
    worst = Math.max(worst, Math.abs(a - n) / (atol + rtol * Math.max(Math.abs(a), Math.abs(n))));
  });
  return worst;
}

/** `count` distinct flat indices spread over [0, size) (all of them when size ≤ count). */
export function sampleIndices(size: number, count: number): number[] {
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * size) / count));
}
