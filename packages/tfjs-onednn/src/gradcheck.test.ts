/**
 * The native gradients against central finite differences of the native forward kernels, on tiny
 * shapes (every element of x and of the filter is perturbed): Conv3D's input and filter
 * gradients for strides 1 and 2 and both paddings, and MaxPool3D's gradient on inputs without
 * ties (a tie is a kink where no finite difference is meaningful). f = Σ op(x) · r for a fixed
 * r; float32 forward passes, so h = 1e-2 and a tolerance of 1e-2 of the largest gradient.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { getOnednnStats, resetOnednnStats, unregisterOnednnKernels } from "./index.js";
import { ENGINES, nativeAvailable, sizeOf, values, useEngine } from "./testutil.js";

type Shape5 = [number, number, number, number, number];
const H = 1e-2;
const TOLERANCE = 1e-2;
const run = nativeAvailable();

/** max |analytic − numeric| / max |numeric| over every element of `at`'s argument `which`. */
function worstError(
  f: (args: Float32Array[]) => number,
  args: Float32Array[],
  which: number,
  analytic: Float32Array,
): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < args[which]!.length; i++) {
    const plus = args.map((a) => a.slice());
    const minus = args.map((a) => a.slice());
    plus[which]![i]! += H;
    minus[which]![i]! -= H;
    const numeric = (f(plus) - f(minus)) / (2 * H);
    diff = Math.max(diff, Math.abs(numeric - analytic[i]!));
    scale = Math.max(scale, Math.abs(numeric));
  }
  return diff / scale;
}

describe.runIf(run).each(ENGINES)("native gradients on %s against finite differences", (engine) => {
  beforeAll(() => useEngine(engine));
  afterAll(() => unregisterOnednnKernels());

  it.each([
    {
      x: [1, 4, 3, 5, 2] as Shape5,
      filter: [3, 3, 3, 2, 3] as Shape5,
      strides: 1,
      pad: "same" as const,
    },
    {
      x: [2, 5, 4, 3, 2] as Shape5,
      filter: [3, 2, 3, 2, 2] as Shape5,
      strides: 2,
      pad: "same" as const,
    },
    {
      x: [1, 5, 5, 4, 3] as Shape5,
      filter: [2, 2, 2, 3, 2] as Shape5,
      strides: 2,
      pad: "valid" as const,
    },
  ])("Conv3D x=$x filter=$filter strides=$strides $pad", ({ x, filter, strides, pad }) => {
    const xv = values(sizeOf(x), 11);
    const wv = values(sizeOf(filter), 12);
    const outShape = tf.tidy(
      () => tf.conv3d(tf.tensor5d(xv, x), tf.tensor5d(wv, filter), strides, pad).shape,
    );
    const r = tf.tensor(values(sizeOf(outShape), 13), outShape);
    const op = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, strides, pad), r));
    const f = ([a, b]: Float32Array[]) =>
      tf.tidy(() => op(tf.tensor5d(a!, x), tf.tensor5d(b!, filter)).dataSync()[0]!);
    resetOnednnStats();
    const [dx, dw] = tf.tidy(() =>
      tf
        .grads(op)([tf.tensor5d(xv, x), tf.tensor5d(wv, filter)])
        .map((g) => g.dataSync() as Float32Array),
    );
    const stats = getOnednnStats();
    expect(stats.Conv3DBackpropInputV2?.native).toBeGreaterThan(0);
    expect(stats.Conv3DBackpropFilterV2?.native).toBeGreaterThan(0);
    expect(worstError(f, [xv, wv], 0, dx!)).toBeLessThan(TOLERANCE);
    expect(worstError(f, [xv, wv], 1, dw!)).toBeLessThan(TOLERANCE);
    r.dispose();
  });

  it.each([
    { x: [1, 4, 4, 4, 2] as Shape5, size: 2, strides: 2, pad: "valid" as const },
    { x: [1, 5, 3, 4, 2] as Shape5, size: 3, strides: 2, pad: "same" as const },
  ])("MaxPool3D x=$x size=$size strides=$strides $pad", ({ x, size, strides, pad }) => {
    // Distinct values 0.1 apart, shuffled: no ties, and h = 1e-2 never reorders a window.
    const n = sizeOf(x);
    const order = Array.from(values(n, 21), (v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    const xv = new Float32Array(n);
    order.forEach(([, i], rank) => (xv[i] = 0.1 * rank));
    const outShape = tf.tidy(() => tf.maxPool3d(tf.tensor5d(xv, x), size, strides, pad).shape);
    const r = tf.tensor(values(sizeOf(outShape), 22), outShape);
    const op = (a: tf.Tensor) =>
      tf.sum(tf.mul(tf.maxPool3d(a as tf.Tensor5D, size, strides, pad), r));
    const f = ([a]: Float32Array[]) => tf.tidy(() => op(tf.tensor5d(a!, x)).dataSync()[0]!);
    resetOnednnStats();
    const dx = tf.tidy(() => tf.grad(op)(tf.tensor5d(xv, x)).dataSync() as Float32Array);
    expect(getOnednnStats().MaxPool3DGrad?.native).toBeGreaterThan(0);
    expect(worstError(f, [xv], 0, dx)).toBeLessThan(TOLERANCE);
    r.dispose();
  });
});
