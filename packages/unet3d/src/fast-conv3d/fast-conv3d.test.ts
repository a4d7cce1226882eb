/**
 * The fast wasm Conv3D kernels against TF.js's stock kernels.
 *
 * Reference: the stock *cpu* kernels. The stock wasm Conv3DBackpropInputV2 (every stride) and
 * Conv3DBackpropFilterV2 (stride > 1) of tfjs-backend-wasm 4.22 return wrong values (their loop
 * bounds are off), so they cannot serve as a reference; the stock wasm forward is also checked.
 * Error measure: relErr(a, ref) = max|a − ref| / max|ref|, required < 1e-4.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { UNet3DError } from "../errors.js";
import { registerBratsLayers } from "../register.js";
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_STACK_BYTES,
  getFastConv3DStats,
  isFastConv3DRegistered,
  registerFastConv3D,
  resetFastConv3DStats,
  unregisterFastConv3D,
} from "./index.js";

type Shape5 = [number, number, number, number, number];
type Strides = number | [number, number, number];
type Pad = "same" | "valid";

const TOLERANCE = 1e-4;

function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(a.length).toBe(ref.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Deterministic values in [-0.5, 0.5) (an LCG), so every backend sees the same inputs. */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface ConvCase {
  x: Shape5;
  filter: Shape5;
  strides: Strides;
  pad: Pad;
}

/** y = conv3d(x, W), dx = Conv3DBackpropInputV2(dy, W), dW = Conv3DBackpropFilterV2(x, dy). */
function runKernels(c: ConvCase): { y: Float32Array; dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor5d(values(sizeOf(c.x), 1), c.x);
    const w = tf.tensor5d(values(sizeOf(c.filter), 2), c.filter);
    const y = tf.conv3d(x, w, c.strides, c.pad);
    const dy = tf.tensor(values(y.size, 3), y.shape);
    const dx = tf
      .engine()
      .runKernel<tf.Tensor>(
        tf.Conv3DBackpropInputV2,
        { dy, filter: w },
        { strides: c.strides, pad: c.pad, inputShape: c.x },
      );
    const dw = tf
      .engine()
      .runKernel<tf.Tensor>(
        tf.Conv3DBackpropFilterV2,
        { x, dy },
        { strides: c.strides, pad: c.pad, filterShape: c.filter },
      );
    expect(dx.shape).toEqual(c.x);
    expect(dw.shape).toEqual(c.filter);
    return {
      y: y.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array,
      dw: dw.dataSync() as Float32Array,
    };
  });
}

async function onBackend<T>(name: "cpu" | "wasm", f: () => T): Promise<T> {
  expect(await tf.setBackend(name)).toBe(true);
  return f();
}

const CASES: ConvCase[] = [
  // 3×3×3, stride 1, the U-Net's convolution, odd sizes and several channel counts.
  { x: [1, 5, 7, 9, 3], filter: [3, 3, 3, 3, 4], strides: 1, pad: "same" },
  { x: [2, 5, 7, 9, 1], filter: [3, 3, 3, 1, 16], strides: 1, pad: "same" },
  { x: [1, 5, 7, 9, 16], filter: [3, 3, 3, 16, 4], strides: 1, pad: "valid" },
  { x: [2, 6, 5, 7, 4], filter: [3, 3, 3, 4, 3], strides: 1, pad: "valid" },
  // 3×3×3, stride 2.
  { x: [1, 5, 7, 9, 4], filter: [3, 3, 3, 4, 16], strides: 2, pad: "same" },
  { x: [2, 7, 6, 9, 3], filter: [3, 3, 3, 3, 1], strides: 2, pad: "valid" },
  // 2×2×2: stride 1 (asymmetric 'same' pads) and stride 2 (the patchwise path).
  { x: [1, 5, 7, 9, 3], filter: [2, 2, 2, 3, 4], strides: 1, pad: "same" },
  { x: [1, 5, 6, 7, 4], filter: [2, 2, 2, 4, 3], strides: 1, pad: "valid" },
  { x: [2, 6, 8, 4, 16], filter: [2, 2, 2, 16, 16], strides: 2, pad: "same" },
  { x: [1, 7, 5, 9, 3], filter: [2, 2, 2, 3, 4], strides: 2, pad: "same" },
  { x: [1, 7, 5, 9, 4], filter: [2, 2, 2, 4, 1], strides: 2, pad: "valid" },
  // 1×1×1: stride 1, and stride 2 where TF.js's 'same' pads are negative on even sizes.
  { x: [2, 5, 7, 9, 16], filter: [1, 1, 1, 16, 4], strides: 1, pad: "same" },
  { x: [1, 6, 8, 4, 3], filter: [1, 1, 1, 3, 4], strides: 2, pad: "same" },
  { x: [1, 5, 7, 9, 4], filter: [1, 1, 1, 4, 3], strides: 2, pad: "valid" },
  // Mixed kernel sizes and strides per axis.
  { x: [1, 5, 7, 9, 3], filter: [1, 3, 2, 3, 4], strides: [1, 2, 1], pad: "same" },
  { x: [2, 9, 7, 5, 1], filter: [3, 1, 3, 1, 3], strides: [2, 1, 2], pad: "valid" },
  { x: [1, 6, 7, 8, 4], filter: [2, 3, 1, 4, 4], strides: [2, 1, 2], pad: "same" },
];

const label = (c: ConvCase) =>
  `x=[${c.x.join(",")}] W=[${c.filter.join(",")}] s=${JSON.stringify(c.strides)} ${c.pad}`;

describe("fast Conv3D kernels on wasm", () => {
  beforeAll(async () => {
    expect(await tf.setBackend("wasm")).toBe(true);
    registerBratsLayers(); // the Conv3DBackpropInputV2 gradient, for conv3dTranspose below
  });

  afterAll(async () => {
    unregisterFastConv3D();
    await tf.setBackend("cpu");
  });

  it.each(CASES.map((c) => [label(c), c] as const))(
    "%s: forward, input and filter gradients match the stock cpu kernels",
    async (_name, c) => {
      const ref = await onBackend("cpu", () => runKernels(c));
      const stockWasm = await onBackend("wasm", () => runKernels(c));
      // Small blocks: several im2col chunks and depth-stacked Conv2D blocks.
      registerFastConv3D({ chunkBytes: 8192, stackBytes: 4096 });
      resetFastConv3DStats();
      const fast = runKernels(c);
      const stats = getFastConv3DStats();
      registerFastConv3D({ chunkBytes: DEFAULT_CHUNK_BYTES, stackBytes: DEFAULT_STACK_BYTES });
      const fastOneChunk = runKernels(c); // default sizes: one block of each at these sizes
      unregisterFastConv3D();

      expect(stats.fast).toEqual({
        Conv3D: 1,
        Conv3DBackpropInputV2: 1,
        Conv3DBackpropFilterV2: 1,
      });
      expect(stats.fallback).toEqual({
        Conv3D: 0,
        Conv3DBackpropInputV2: 0,
        Conv3DBackpropFilterV2: 0,
      });
      expect(relErr(stockWasm.y, ref.y)).toBeLessThan(TOLERANCE);
      expect(relErr(fast.y, ref.y)).toBeLessThan(TOLERANCE);
      expect(relErr(fast.y, stockWasm.y)).toBeLessThan(TOLERANCE);
      expect(relErr(fast.dx, ref.dx)).toBeLessThan(TOLERANCE);
      expect(relErr(fast.dw, ref.dw)).toBeLessThan(TOLERANCE);
      expect(relErr(fastOneChunk.y, ref.y)).toBeLessThan(TOLERANCE);
      expect(relErr(fastOneChunk.dx, ref.dx)).toBeLessThan(TOLERANCE);
      expect(relErr(fastOneChunk.dw, ref.dw)).toBeLessThan(TOLERANCE);
    },
  );

  it("tf.grads of conv3d (the layers' training path) matches cpu", async () => {
    const c: ConvCase = { x: [2, 6, 5, 7, 4], filter: [3, 3, 3, 4, 16], strides: 1, pad: "same" };
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor5d(values(sizeOf(c.x), 4), c.x);
        const w = tf.tensor5d(values(sizeOf(c.filter), 5), c.filter);
        const g = tf.tensor(values(2 * 6 * 5 * 7 * 16, 6), [2, 6, 5, 7, 16]);
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.strides, c.pad), g));
        return tf
          .grads(f)([x, w])
          .map((t) => t.dataSync() as Float32Array);
      });
    const ref = await onBackend("cpu", run);
    await tf.setBackend("wasm");
    registerFastConv3D();
    resetFastConv3DStats();
    const fast = run();
    const stats = getFastConv3DStats();
    unregisterFastConv3D();
    expect(stats.fast.Conv3D).toBe(1);
    expect(stats.fast.Conv3DBackpropInputV2).toBe(1);
    expect(stats.fast.Conv3DBackpropFilterV2).toBe(1);
    expect(relErr(fast[0]!, ref[0]!)).toBeLessThan(TOLERANCE);
    expect(relErr(fast[1]!, ref[1]!)).toBeLessThan(TOLERANCE);
  });

  // conv3dTranspose with kernel = stride = 2 (the U-Net's up-convolution): forward and both
  // gradients through tf.grads; the reference is the same ops on the cpu backend.
  const transposeCases: Array<{ x: Shape5; out: Shape5; pad: Pad }> = [
    { x: [1, 3, 4, 5, 8], out: [1, 6, 8, 10, 4], pad: "same" },
    { x: [2, 3, 4, 2, 16], out: [2, 6, 8, 4, 16], pad: "valid" },
    { x: [1, 4, 3, 5, 3], out: [1, 7, 5, 9, 1], pad: "same" },
  ];
  it.each(transposeCases)(
    "conv3dTranspose 2×2×2 stride 2 $x → $out ($pad) and its gradients match cpu",
    async (c) => {
      const filterShape: Shape5 = [2, 2, 2, c.out[4], c.x[4]];
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor5d(values(sizeOf(c.x), 7), c.x);
          const w = tf.tensor5d(values(sizeOf(filterShape), 8), filterShape);
          const g = tf.tensor(values(sizeOf(c.out), 9), c.out);
          const up = (a: tf.Tensor, b: tf.Tensor) =>
            tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, c.out, 2, c.pad);
          const y = up(x, w);
          const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(up(a, b), g)))([
            x,
            w,
          ]);
          return [y, ...grads].map((t) => t.dataSync() as Float32Array);
        });
      const ref = await onBackend("cpu", run);
      await tf.setBackend("wasm");
      registerFastConv3D({ chunkBytes: 4096 });
      resetFastConv3DStats();
      const fast = run();
      const stats = getFastConv3DStats();
      unregisterFastConv3D();
      // y and ∂x run Conv3DBackpropInputV2 and Conv3D; ∂W runs Conv3DBackpropFilterV2.
      expect(stats.fast.Conv3DBackpropInputV2).toBe(2);
      expect(stats.fast.Conv3D).toBe(1);
      expect(stats.fast.Conv3DBackpropFilterV2).toBe(1);
      for (let i = 0; i < 3; i++) expect(relErr(fast[i]!, ref[i]!)).toBeLessThan(TOLERANCE);
    },
  );

  it("frees every intermediate tensor on the wasm heap", async () => {
    await tf.setBackend("wasm");
    const c: ConvCase = { x: [1, 5, 7, 9, 3], filter: [3, 3, 3, 3, 4], strides: 1, pad: "same" };
    const patchwise: ConvCase = {
      x: [1, 6, 8, 4, 4],
      filter: [2, 2, 2, 4, 4],
      strides: 2,
      pad: "same",
    };
    registerFastConv3D({ chunkBytes: 4096, stackBytes: 4096 });
    runKernels(c); // warm-up: lets the backend create anything it keeps for good
    const backend = tf.backend();
    const before = { tensors: tf.memory().numTensors, dataIds: backend.numDataIds() };
    runKernels(c);
    runKernels(patchwise);
    unregisterFastConv3D();
    expect(tf.memory().numTensors).toBe(before.tensors);
    expect(backend.numDataIds()).toBe(before.dataIds);
  });

  it("sends dilated convolutions to the stock kernel", async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor5d(values(1 * 7 * 7 * 7 * 2, 10), [1, 7, 7, 7, 2]);
        const w = tf.tensor5d(values(3 * 3 * 3 * 2 * 3, 11), [3, 3, 3, 2, 3]);
        return tf.conv3d(x, w, 1, "valid", "NDHWC", 2).dataSync() as Float32Array;
      });
    const ref = await onBackend("cpu", run);
    await tf.setBackend("wasm");
    registerFastConv3D();
    resetFastConv3DStats();
    const out = run();
    const stats = getFastConv3DStats();
    unregisterFastConv3D();
    expect(stats.fallback.Conv3D).toBe(1);
    expect(stats.fast.Conv3D).toBe(0);
    expect(relErr(out, ref)).toBeLessThan(TOLERANCE);
  });
});

describe("registerFastConv3D / unregisterFastConv3D", () => {
  const names = [tf.Conv3D, tf.Conv3DBackpropInputV2, tf.Conv3DBackpropFilterV2];
  const kernelFuncs = () => names.map((n) => tf.getKernel(n, "wasm")?.kernelFunc);

  it("swaps the three wasm kernels, leaves other backends alone, and restores the stock ones", () => {
    expect(isFastConv3DRegistered()).toBe(false);
    const stock = kernelFuncs();
    const cpu = names.map((n) => tf.getKernel(n, "cpu")?.kernelFunc);
    expect(stock.every((f) => typeof f === "function")).toBe(true);

    registerFastConv3D();
    registerFastConv3D({ chunkBytes: 1 << 20 }); // again: only updates the options
    expect(isFastConv3DRegistered()).toBe(true);
    const fast = kernelFuncs();
    fast.forEach((f, i) => expect(f).not.toBe(stock[i]));
    expect(names.map((n) => tf.getKernel(n, "cpu")?.kernelFunc)).toEqual(cpu);

    unregisterFastConv3D();
    unregisterFastConv3D(); // again: no-op
    expect(isFastConv3DRegistered()).toBe(false);
    kernelFuncs().forEach((f, i) => expect(f).toBe(stock[i]));
  });

  it.each([
    { chunkBytes: 0 },
    { chunkBytes: -1 },
    { chunkBytes: 100 },
    { chunkBytes: Number.NaN },
    { chunkBytes: Number.POSITIVE_INFINITY },
    { stackBytes: 4095 },
    { stackBytes: Number.NaN },
  ])("rejects %o with BAD_CONFIG", (options) => {
    let error: unknown;
    try {
      registerFastConv3D(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UNet3DError);
    expect((error as UNet3DError).code).toBe("BAD_CONFIG");
    expect(isFastConv3DRegistered()).toBe(false);
  });
});
