/**
 * The cpu-only native kernels (kernels-unary.ts) against the stock cpu kernels: the unary ops with
 * their edge values (0 for ReLU and Step, NaN, values outside a clip's bounds), the last-axis
 * Softmax and the float comparisons (bool out), all above MIN_NATIVE_ELEMENTS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import { getOnednnStats, resetOnednnStats, unregisterOnednnKernels } from "./index.js";
import { nativeAvailable, onStockCpu, sizeOf, useEngine, values } from "./testutil.js";

const run = nativeAvailable();
const SHAPE = [1, 16, 16, 16, 5];
const N = sizeOf(SHAPE);

/** Values in [-2, 2) with exact zeros, NaNs and ties sprinkled in. */
function edgy(seed: number): tf.Tensor {
  const v = values(N, seed).map((x) => 4 * x);
  for (let i = 0; i < N; i += 97) v[i] = 0;
  for (let i = 5; i < N; i += 1013) v[i] = NaN;
  return tf.tensor(v, SHAPE);
}
const positive = (seed: number): tf.Tensor =>
  tf.tensor(
    values(N, seed).map((x) => x + 0.75),
    SHAPE,
  );

const CASES: { kernel: string; f: () => tf.Tensor; tolerance: number }[] = [
  { kernel: "Relu", f: () => tf.relu(edgy(1)), tolerance: 0 },
  { kernel: "Step", f: () => tf.step(edgy(1), 0.25), tolerance: 0 },
  { kernel: "Sqrt", f: () => tf.sqrt(positive(2)), tolerance: 1e-7 },
  { kernel: "Square", f: () => tf.square(edgy(3)), tolerance: 0 },
  { kernel: "Sigmoid", f: () => tf.sigmoid(edgy(4)), tolerance: 1e-6 },
  { kernel: "Log", f: () => tf.log(positive(5)), tolerance: 1e-6 },
  { kernel: "Exp", f: () => tf.exp(edgy(6)), tolerance: 1e-6 },
  { kernel: "Rsqrt", f: () => tf.rsqrt(positive(7)), tolerance: 1e-6 },
  { kernel: "ClipByValue", f: () => tf.clipByValue(edgy(8), -0.5, 1.25), tolerance: 0 },
  { kernel: "Neg", f: () => tf.neg(edgy(9)), tolerance: 0 },
  {
    kernel: "Softmax",
    f: () =>
      tf.softmax(
        tf.tensor(
          values(N, 10).map((x) => 20 * x),
          SHAPE,
        ),
      ),
    tolerance: 1e-6,
  },
  { kernel: "Greater", f: () => tf.greater(edgy(11), tf.round(edgy(11))), tolerance: 0 },
  { kernel: "GreaterEqual", f: () => tf.greaterEqual(edgy(12), tf.scalar(0)), tolerance: 0 },
  { kernel: "Less", f: () => tf.less(edgy(13), tf.tensor([0, 1, -1, 0.5, 2])), tolerance: 0 },
  { kernel: "LessEqual", f: () => tf.lessEqual(edgy(14), tf.scalar(0)), tolerance: 0 },
];

/** The output's values and dtype; NaN compared as equal to NaN. */
function output(f: () => tf.Tensor): { dtype: string; values: number[] } {
  return tf.tidy(() => {
    const y = f();
    return { dtype: y.dtype, values: Array.from(y.dataSync()) };
  });
}

function worstDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    if (!Number.isNaN(a[i]))
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  }
  return worst;
}

describe.runIf(run)("cpu-only native kernels against the stock cpu kernels", () => {
  beforeAll(() => useEngine("cpu"));
  afterAll(() => unregisterOnednnKernels());

  it.each(CASES)("$kernel", async ({ kernel, f, tolerance }) => {
    resetOnednnStats();
    const ours = output(f);
    const s = getOnednnStats()[kernel];
    expect(s?.native ?? 0, `${kernel}: ${s?.lastFallback}`).toBeGreaterThan(0);
    const ref = await onStockCpu("cpu", () => output(f));
    expect(ours.dtype).toBe(ref.dtype);
    expect(worstDiff(ours.values, ref.values)).toBeLessThanOrEqual(tolerance);
  });

  it("Softmax over another axis than the last goes to the stock kernel", () => {
    resetOnednnStats();
    // TF.js itself transposes for other axes, so the kernel only ever sees the last one;
    // rank-1 input below the size threshold stays on the stock kernel.
    tf.tidy(() => tf.softmax(tf.tensor([1, 2, 3])).dataSync());
    expect(getOnednnStats().Softmax?.native ?? 0).toBe(0);
  });

  it("a training step's ReLU gradient (Step) runs natively on cpu", () => {
    resetOnednnStats();
    const x = edgy(20);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.relu(v)))(x);
    const want = Array.from(x.dataSync()).map((v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : 0));
    expect(worstDiff(Array.from(g.dataSync()), want)).toBe(0);
    expect(getOnednnStats().Relu?.native).toBeGreaterThan(0);
    tf.dispose([x, g]);
  });
});
