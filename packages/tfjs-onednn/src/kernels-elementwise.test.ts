/**
 * The native element-wise, reduction and copy kernels against the stock cpu kernels, on shapes
 * above MIN_NATIVE_ELEMENTS (below it the displaced kernels run) and the broadcast patterns a
 * training step issues: same shape, per-channel [C], per-voxel [..., 1], scalars, middle axes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { getOnednnStats, resetOnednnStats, unregisterOnednnKernels } from "./index.js";
import { reductionView } from "./kernels-elementwise.js";
import {
  ENGINES,
  nativeAvailable,
  onStockCpu,
  relErr,
  sizeOf,
  values,
  useEngine,
} from "./testutil.js";

const TOLERANCE = 1e-5;
const run = nativeAvailable();

const t = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(values(sizeOf(shape), seed), shape);

interface Case {
  name: string;
  kernel: string;
  f: () => tf.Tensor | tf.Tensor[];
}

const BIG: number[] = [2, 10, 12, 14, 16]; // 53,760 elements

const CASES: Case[] = [
  { name: "Add same shape", kernel: "Add", f: () => tf.add(t(BIG, 1), t(BIG, 2)) },
  { name: "Sub per-channel [C]", kernel: "Sub", f: () => tf.sub(t(BIG, 1), t([16], 2)) },
  {
    name: "Multiply per-voxel [...,1]",
    kernel: "Multiply",
    f: () => tf.mul(t(BIG, 1), t([2, 10, 12, 14, 1], 2)),
  },
  {
    name: "Multiply [C] first",
    kernel: "Multiply",
    f: () => tf.mul(t([1, 16], 3), t([3400, 16], 2)),
  },
  { name: "RealDiv by a scalar", kernel: "RealDiv", f: () => tf.div(t(BIG, 1), tf.scalar(3)) },
  {
    name: "RealDiv scalar by x",
    kernel: "RealDiv",
    f: () => tf.div(tf.scalar(2), tf.add(tf.abs(t(BIG, 1)), 1)),
  },
  {
    name: "Add middle-axis broadcast",
    kernel: "Add",
    f: () => tf.add(t([4, 1, 64, 64], 1), t([4, 8, 1, 64], 2)),
  },
  { name: "Maximum", kernel: "Maximum", f: () => tf.maximum(t(BIG, 1), t([1, 1, 1, 1, 16], 2)) },
  {
    name: "SquaredDifference",
    kernel: "SquaredDifference",
    f: () => tf.squaredDifference(t(BIG, 1), t([16], 2)),
  },
  {
    name: "Equal with ties (bool out)",
    kernel: "Equal",
    f: () => {
      const x = tf.round(tf.mul(t(BIG, 1), 4));
      return tf.cast(tf.equal(x, tf.max(x, -1, true)), "float32");
    },
  },
  {
    name: "Tile float32 [1,1,1,C]",
    kernel: "Tile",
    f: () => tf.tile(t([1, 1, 1, 16], 4), [1, 1, 2048, 1]),
  },
  { name: "Tile every axis", kernel: "Tile", f: () => tf.tile(t([2, 3, 5, 7], 4), [3, 4, 2, 5]) },
  {
    name: "Tile int32",
    kernel: "Tile",
    f: () => tf.cast(tf.tile(tf.tensor([1, 2, 3], [3, 1], "int32"), [2, 9000]), "float32"),
  },
  {
    name: "Tile bool",
    kernel: "Tile",
    f: () => tf.cast(tf.tile(tf.greater(t([3, 2], 5), 0), [9000, 1]), "float32"),
  },
  { name: "Sum over voxels (all but C)", kernel: "Sum", f: () => tf.sum(t(BIG, 1), [0, 1, 2, 3]) },
  { name: "Sum last axis keepDims", kernel: "Sum", f: () => tf.sum(t(BIG, 1), -1, true) },
  { name: "Sum middle axes", kernel: "Sum", f: () => tf.sum(t(BIG, 1), [1, 2, 3]) },
  { name: "Sum everything", kernel: "Sum", f: () => tf.sum(t(BIG, 1)) },
  { name: "Mean over rows", kernel: "Mean", f: () => tf.mean(t([3360, 16], 1), 0) },
  { name: "Mean last axis", kernel: "Mean", f: () => tf.mean(t(BIG, 1), -1, true) },
  { name: "Max last axis", kernel: "Max", f: () => tf.max(t(BIG, 1), -1, true) },
  { name: "Max over voxels", kernel: "Max", f: () => tf.max(t(BIG, 1), [1, 2, 3]) },
  {
    name: "Concat last axis",
    kernel: "Concat",
    f: () => tf.concat([t(BIG, 1), t([2, 10, 12, 14, 3], 2), t([2, 10, 12, 14, 1], 3)], -1),
  },
  {
    name: "Concat first axis",
    kernel: "Concat",
    f: () => tf.concat([t(BIG, 1), t([1, 10, 12, 14, 16], 2)], 0),
  },
  {
    name: "SplitV last axis",
    kernel: "SplitV",
    f: () => tf.split(t([2, 10, 12, 14, 32], 1), [16, 9, 7], -1),
  },
  { name: "SplitV middle axis", kernel: "SplitV", f: () => tf.split(t(BIG, 1), 2, 1) },
  {
    name: "FusedBatchNorm with offset and scale",
    kernel: "FusedBatchNorm",
    f: () =>
      tf.batchNorm(
        t(BIG, 1),
        t([16], 2),
        tf.add(tf.abs(t([16], 3)), 0.1),
        t([16], 4),
        t([16], 5),
        1e-3,
      ),
  },
  {
    name: "FusedBatchNorm plain",
    kernel: "FusedBatchNorm",
    f: () => tf.batchNorm(t(BIG, 1), t([16], 2), tf.abs(t([16], 3)), undefined, undefined, 1e-3),
  },
  {
    name: "BatchNorm gradient on [voxels, C], as the U-Net's layer (Tile, Sum, Multiply)",
    kernel: "Tile",
    f: () =>
      tf.grads((x: tf.Tensor, g: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.batchNorm(x, tf.mean(x, 0), tf.moments(x, 0).variance, t([16], 6), g, 1e-3),
            t([3360, 16], 9),
          ),
        ),
      )([t([3360, 16], 1), tf.add(t([16], 2), 1)]),
  },
];

function outputs(f: () => tf.Tensor | tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const out = f();
    return (Array.isArray(out) ? out : [out]).map((x) => Float32Array.from(x.dataSync()));
  });
}

describe.runIf(run).each(ENGINES)(
  "native element-wise kernels on %s against the stock cpu kernels",
  (engine) => {
    beforeAll(() => useEngine(engine));
    afterAll(() => unregisterOnednnKernels());

    it.each(CASES)("$name", async ({ kernel, f }) => {
      resetOnednnStats();
      const ours = outputs(f);
      const s = getOnednnStats()[kernel];
      expect(s?.native ?? 0, `${kernel}: ${s?.lastFallback}`).toBeGreaterThan(0);
      const ref = await onStockCpu(engine, () => outputs(f));
      expect(ours.length).toBe(ref.length);
      ours.forEach((o, i) => expect(relErr(o, ref[i]!)).toBeLessThan(TOLERANCE));
    });

    it("Identity shares the buffer instead of copying, and disposal stays balanced", () => {
      const before = tf.memory().numTensors;
      const x = t(BIG, 1);
      const y = tf.clone(x);
      expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
      x.dispose();
      expect(y.dataSync()[5]).toBeCloseTo(values(sizeOf(BIG), 1)[5]!, 6);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it("small tensors stay on the displaced kernels", () => {
      resetOnednnStats();
      tf.tidy(() => tf.add(t([4, 4], 1), t([4, 4], 2)).dataSync());
      expect(getOnednnStats().Add?.native ?? 0).toBe(0);
      expect(getOnednnStats().Add?.fallback).toBe(1);
    });
  },
);

describe("reductionView", () => {
  it.each([
    { shape: [2, 3, 4], axes: [1], want: { outer: 2, mid: 3, inner: 4 } },
    { shape: [2, 3, 4], axes: [0, 1], want: { outer: 1, mid: 6, inner: 4 } },
    { shape: [2, 3, 4], axes: [2], want: { outer: 6, mid: 4, inner: 1 } },
    { shape: [1, 1, 5, 16], axes: [0, 1, 2], want: { outer: 1, mid: 5, inner: 16 } },
    { shape: [2, 1, 3, 4], axes: [0, 2], want: { outer: 1, mid: 6, inner: 4 } },
    { shape: [2, 3, 4], axes: [0, 2], want: null },
  ])("$shape over $axes", ({ shape, axes, want }) => {
    expect(reductionView(shape, axes)).toEqual(want);
  });
});
