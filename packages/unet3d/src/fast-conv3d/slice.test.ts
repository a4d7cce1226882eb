/**
 * The collapsing wasm Slice and SplitV against the stock cpu backend: pure copies, so the results
 * must be bit-identical for every dtype, rank and begin/size/axis case.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { registerFastConv3D, unregisterFastConv3D } from "./index.js";
import { collapseSlice, getFastSliceStats, resetFastSliceStats } from "./slice.js";

type DType = "float32" | "int32";

/** Distinct values per element (negative and fractional for float32). */
function values(size: number, dtype: DType): Float32Array | Int32Array {
  if (dtype === "int32") return Int32Array.from({ length: size }, (_, i) => i * 7 - 1000);
  return Float32Array.from({ length: size }, (_, i) => Math.fround(Math.sin(i + 1) * 1e3) / 7);
}

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  expect(await tf.setBackend(name)).toBe(true);
  return f();
}

async function data(t: tf.Tensor): Promise<{ shape: number[]; values: number[] }> {
  const v = Array.from(await t.data());
  const shape = t.shape;
  t.dispose();
  return { shape, values: v };
}

describe("collapseSlice", () => {
  it.each([
    {
      name: "channel slice of 5-D → 2-D",
      in: { shape: [1, 4, 5, 6, 8], begin: [0, 0, 0, 0, 3], size: [1, 4, 5, 6, 2] },
      out: { shape: [120, 8], begin: [0, 3], size: [120, 2] },
    },
    {
      name: "depth slice of 5-D → 2-D",
      in: { shape: [1, 4, 5, 6, 8], begin: [0, 1, 0, 0, 0], size: [1, 2, 5, 6, 8] },
      out: { shape: [1, 960], begin: [0, 240], size: [1, 480] },
    },
    {
      name: "height slice of 5-D → 2-D",
      in: { shape: [2, 4, 5, 6, 8], begin: [0, 0, 2, 0, 0], size: [2, 4, 3, 6, 8] },
      out: { shape: [8, 240], begin: [0, 96], size: [8, 144] },
    },
    {
      name: "two partial axes of 5-D → 3-D",
      in: { shape: [2, 4, 5, 6, 8], begin: [0, 1, 0, 0, 2], size: [2, 2, 5, 6, 3] },
      out: { shape: [2, 120, 8], begin: [0, 30, 2], size: [2, 60, 3] },
    },
    {
      name: "outer slice with whole inner axes → 1-D",
      in: { shape: [3, 4, 5], begin: [1, 0, 0], size: [2, 4, 5] },
      out: { shape: [60], begin: [20], size: [40] },
    },
  ])("$name", ({ in: spec, out }) => {
    expect(collapseSlice(spec)).toEqual(out);
  });

  it("returns null when no axis is taken whole", () => {
    expect(collapseSlice({ shape: [3, 4, 5], begin: [0, 1, 1], size: [3, 2, 3] })).toBeNull();
    expect(collapseSlice({ shape: [6], begin: [1], size: [2] })).toBeNull();
  });
});

describe("fast Slice and SplitV on wasm", () => {
  beforeAll(async () => {
    expect(await tf.setBackend("wasm")).toBe(true);
    registerFastConv3D();
  });
  afterAll(async () => {
    unregisterFastConv3D();
    await tf.setBackend("cpu");
  });

  const sliceCases: Array<{ shape: number[]; begin: number[]; size: number[] }> = [
    { shape: [5, 7], begin: [1, 0], size: [3, 7] },
    { shape: [5, 7], begin: [0, 2], size: [5, 4] },
    { shape: [5, 7], begin: [2, 3], size: [-1, -1] },
    { shape: [4, 5, 6], begin: [0, 0, 1], size: [4, 5, 4] },
    { shape: [4, 5, 6], begin: [0, 2, 0], size: [-1, 2, -1] },
    { shape: [4, 5, 6], begin: [1, 1, 1], size: [2, 3, 4] },
    { shape: [2, 3, 4, 5], begin: [0, 0, 0, 2], size: [2, 3, 4, 3] },
    { shape: [2, 3, 4, 5], begin: [1, 0, 1, 0], size: [1, 3, 2, 5] },
    { shape: [2, 3, 4, 5, 6], begin: [0, 0, 0, 0, 2], size: [2, 3, 4, 5, 3] },
    { shape: [2, 3, 4, 5, 6], begin: [0, 1, 0, 0, 0], size: [2, 2, 4, 5, 6] },
    { shape: [2, 3, 4, 5, 6], begin: [0, 0, 1, 0, 0], size: [-1, -1, 2, -1, -1] },
    { shape: [2, 3, 4, 5, 6], begin: [1, 1, 1, 1, 1], size: [1, 2, 3, 4, 5] },
    { shape: [2, 3, 4, 5, 6], begin: [0, 2, 0, 3, 0], size: [2, 1, 4, 2, 6] },
    { shape: [1, 8, 8, 8, 12], begin: [0, 0, 0, 0, 4], size: [1, 8, 8, 8, -1] },
  ];

  for (const dtype of ["float32", "int32"] as const) {
    it.each(sliceCases)(`${dtype} Slice of $shape at $begin size $size`, async (c) => {
      const x = values(tf.util.sizeFromShape(c.shape), dtype);
      const run = () => data(tf.slice(tf.tensor(x, c.shape, dtype), c.begin, c.size));
      const ref = await onBackend("cpu", run);
      const fast = await onBackend("wasm", run);
      expect(fast.shape).toEqual(ref.shape);
      expect(fast.values).toEqual(ref.values);
    });
  }

  const splitCases: Array<{ shape: number[]; splits: number | number[]; axis: number }> = [
    { shape: [6, 4], splits: [1, 3], axis: 1 },
    { shape: [6, 4], splits: 3, axis: 0 },
    { shape: [3, 4, 6], splits: [1, 2, 3], axis: -1 },
    { shape: [3, 4, 6], splits: [1, -1], axis: 1 },
    { shape: [2, 3, 4, 6], splits: 2, axis: 2 },
    { shape: [1, 4, 4, 4, 12], splits: [4, 8], axis: 4 },
    { shape: [2, 3, 4, 5, 6], splits: [2, 1, 3], axis: -1 },
    { shape: [2, 3, 4, 5, 6], splits: [1, -1], axis: 1 },
    { shape: [2, 3, 4, 5, 6], splits: 2, axis: 0 },
    { shape: [2, 3, 4, 5, 6], splits: [3, 2], axis: -2 },
  ];

  for (const dtype of ["float32", "int32"] as const) {
    it.each(splitCases)(`${dtype} SplitV of $shape into $splits on axis $axis`, async (c) => {
      const x = values(tf.util.sizeFromShape(c.shape), dtype);
      const run = async () => {
        const parts = tf.split(tf.tensor(x, c.shape, dtype), c.splits, c.axis);
        return Promise.all(parts.map(data));
      };
      const ref = await onBackend("cpu", run);
      resetFastSliceStats();
      const fast = await onBackend("wasm", run);
      expect(getFastSliceStats().fast.SplitV).toBe(1);
      expect(fast).toEqual(ref);
    });
  }

  it("takes the collapsed path for a 5-D channel slice and falls back when nothing merges", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor(values(2 * 3 * 4 * 5 * 6, "float32"), [2, 3, 4, 5, 6]);
    resetFastSliceStats();
    tf.slice(x, [0, 0, 0, 0, 1], [2, 3, 4, 5, 2]).dispose();
    expect(getFastSliceStats().fast.Slice).toBe(1);
    tf.slice(x, [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]).dispose();
    expect(getFastSliceStats().fallback.Slice).toBe(1);
    x.dispose();
  });

  it("frees every intermediate: no tensors or bytes leak", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor(values(2 * 3 * 4 * 5 * 6, "float32"), [2, 3, 4, 5, 6]);
    const before = tf.memory();
    tf.split(x, [2, 4], -1).forEach((t) => t.dispose());
    tf.slice(x, [0, 1, 0, 0, 0], [2, 2, 4, 5, 6]).dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
  });
});

describe("registration", () => {
  it("registerFastConv3D replaces the wasm Slice and SplitV; unregisterFastConv3D restores stock", () => {
    unregisterFastConv3D();
    const stockSlice = tf.getKernel("Slice", "wasm");
    const stockSplitV = tf.getKernel("SplitV", "wasm");
    expect(stockSlice).toBeDefined();
    expect(stockSplitV).toBeDefined();
    registerFastConv3D();
    expect(tf.getKernel("Slice", "wasm")).not.toBe(stockSlice);
    expect(tf.getKernel("SplitV", "wasm")).not.toBe(stockSplitV);
    expect(tf.getKernel("Slice", "cpu")?.backendName).toBe("cpu");
    unregisterFastConv3D();
    expect(tf.getKernel("Slice", "wasm")).toBe(stockSlice);
    expect(tf.getKernel("SplitV", "wasm")).toBe(stockSplitV);
  });
});
