/**
 * Every native kernel against TF.js's stock cpu kernels over the shapes the U-Net meets and edge
 * cases: strides 1 and 2, kernels 1/2/3, 'same'/'valid', odd sizes, several channel counts,
 * batch > 1; forward and both gradients. relErr = max|ours − cpu| / max|cpu| < 1e-4. (The stock
 * wasm Conv3D gradients of tfjs-backend-wasm 4.22 are wrong, so cpu is the reference.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { getOnednnStats, resetOnednnStats, unregisterOnednnKernels } from "./index.js";
import {
  ENGINES,
  nativeAvailable,
  onStockCpu,
  relErr,
  sizeOf,
  useEngine,
  values,
} from "./testutil.js";

type Shape5 = [number, number, number, number, number];
type Pad = "same" | "valid";
const TOLERANCE = 1e-4;
const run = nativeAvailable();

interface ConvCase {
  x: Shape5;
  filter: Shape5;
  strides: number | [number, number, number];
  pad: Pad;
}

const CONV_CASES: ConvCase[] = [
  // The U-Net's own: 3×3×3 'same' convs, 2×2×2 stride-2 'same' up-convs, the 7³ attention conv.
  { x: [1, 16, 16, 16, 3], filter: [3, 3, 3, 3, 16], strides: 1, pad: "same" },
  { x: [1, 8, 8, 8, 32], filter: [3, 3, 3, 32, 32], strides: 1, pad: "same" },
  { x: [1, 8, 8, 8, 16], filter: [2, 2, 2, 16, 32], strides: 2, pad: "same" },
  { x: [1, 12, 12, 12, 2], filter: [7, 7, 7, 2, 1], strides: 1, pad: "same" },
  { x: [1, 9, 9, 9, 16], filter: [1, 1, 1, 16, 4], strides: 1, pad: "valid" },
  // Edge cases: odd sizes, batch 2, stride 2 with kernel 3, mixed strides, 'valid' leftovers.
  { x: [2, 7, 9, 5, 5], filter: [3, 3, 3, 5, 6], strides: 2, pad: "same" },
  { x: [2, 7, 9, 5, 5], filter: [3, 3, 3, 5, 6], strides: 2, pad: "valid" },
  { x: [1, 8, 6, 10, 4], filter: [2, 3, 1, 4, 3], strides: [2, 1, 2], pad: "valid" },
  { x: [3, 5, 5, 5, 1], filter: [3, 2, 3, 1, 1], strides: 1, pad: "same" },
  { x: [1, 11, 6, 7, 7], filter: [1, 1, 1, 7, 5], strides: 2, pad: "valid" },
  { x: [1, 6, 6, 6, 8], filter: [2, 2, 2, 8, 8], strides: 2, pad: "valid" },
];

interface ConvResult {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** y = conv3d(x, w) and the gradients of sum(y · r) for a fixed r, on the current backend. */
function convForwardBackward(c: ConvCase): ConvResult {
  return tf.tidy(() => {
    const x = tf.tensor5d(values(sizeOf(c.x), 1), c.x);
    const w = tf.tensor5d(values(sizeOf(c.filter), 2), c.filter);
    const y = tf.conv3d(x, w, c.strides, c.pad);
    const r = tf.tensor(values(sizeOf(y.shape), 3), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.strides, c.pad), r)),
    )([x, w]);
    return {
      y: y.dataSync() as Float32Array,
      dx: dx!.dataSync() as Float32Array,
      dw: dw!.dataSync() as Float32Array,
    };
  });
}

interface PoolCase {
  x: Shape5;
  size: number | [number, number, number];
  strides: number | [number, number, number];
  pad: Pad;
  /** Quantise the input to a few levels so windows hold ties (TF.js picks the last maximum). */
  ties?: boolean;
}

const POOL_CASES: PoolCase[] = [
  { x: [1, 16, 16, 16, 16], size: 2, strides: 2, pad: "valid" },
  { x: [2, 7, 9, 5, 3], size: 2, strides: 2, pad: "same" },
  { x: [1, 7, 7, 7, 4], size: 3, strides: 2, pad: "same" },
  { x: [1, 6, 6, 6, 2], size: 3, strides: 1, pad: "valid" },
  { x: [1, 8, 8, 8, 5], size: 2, strides: 2, pad: "valid", ties: true },
  { x: [1, 5, 6, 7, 3], size: [2, 3, 3], strides: [1, 2, 1], pad: "same", ties: true },
];

/**
 * A non-cubic window where height and width differ: the cpu backend's MaxPool3DGrad is wrong
 * there (tfjs-backend-cpu 4.22 flattens a window position as wRow * filterHeight + wCol), so
 * this case is checked against the plain loops below instead.
 */
const NON_CUBIC: PoolCase = {
  x: [1, 5, 6, 7, 3],
  size: [2, 3, 1],
  strides: [1, 2, 1],
  pad: "valid",
  ties: true,
};

/** MaxPool3DGrad by definition ('valid' pads): each dy goes to its window's last maximum. */
function referencePoolGrad(c: PoolCase, x: Float32Array, dy: Float32Array): Float32Array {
  const [n, d, h, w, ch] = c.x;
  const [kd, kh, kw] = c.size as [number, number, number];
  const [sd, sh, sw] = c.strides as [number, number, number];
  const od = Math.floor((d - kd) / sd) + 1;
  const oh = Math.floor((h - kh) / sh) + 1;
  const ow = Math.floor((w - kw) / sw) + 1;
  const dx = new Float32Array(x.length);
  const at = (b: number, z: number, y: number, xx: number, k: number) =>
    (((b * d + z) * h + y) * w + xx) * ch + k;
  for (let b = 0; b < n; b++)
    for (let z = 0; z < od; z++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let k = 0; k < ch; k++) {
            let best = -Infinity;
            let where = -1;
            for (let a = 0; a < kd; a++)
              for (let e = 0; e < kh; e++)
                for (let f = 0; f < kw; f++) {
                  const i = at(b, z * sd + a, y * sh + e, xx * sw + f, k);
                  if (x[i]! >= best) {
                    best = x[i]!;
                    where = i;
                  }
                }
            dx[where]! += dy[(((b * od + z) * oh + y) * ow + xx) * ch + k]!;
          }
  return dx;
}

function poolForwardBackward(c: PoolCase): {
  x: Float32Array;
  r: Float32Array;
  y: Float32Array;
  dx: Float32Array;
} {
  return tf.tidy(() => {
    let xv = values(sizeOf(c.x), 4);
    if (c.ties === true) xv = xv.map((v) => Math.round(v * 3));
    const x = tf.tensor5d(xv, c.x);
    const pool = (a: tf.Tensor) => tf.maxPool3d(a as tf.Tensor5D, c.size, c.strides, c.pad);
    const y = pool(x);
    const r = tf.tensor(values(sizeOf(y.shape), 5), y.shape);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), r)))(x);
    return {
      x: xv,
      r: r.dataSync() as Float32Array,
      y: y.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array,
    };
  });
}

describe.runIf(run).each(ENGINES)(
  "native kernels on %s against the stock cpu kernels",
  (engine) => {
    beforeAll(() => useEngine(engine));
    afterAll(() => unregisterOnednnKernels());
    const onCpu = <T>(f: () => T): Promise<T> => onStockCpu(engine, f);

    it.each(CONV_CASES)("Conv3D x=$x filter=$filter strides=$strides $pad", async (c) => {
      resetOnednnStats();
      const ours = convForwardBackward(c);
      const stats = getOnednnStats();
      for (const name of ["Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"]) {
        expect(stats[name]?.fallback ?? 0, `${name}: ${stats[name]?.lastFallback}`).toBe(0);
        expect(stats[name]?.native ?? 0).toBeGreaterThan(0);
      }
      const ref = await onCpu(() => convForwardBackward(c));
      expect(relErr(ours.y, ref.y)).toBeLessThan(TOLERANCE);
      expect(relErr(ours.dx, ref.dx)).toBeLessThan(TOLERANCE);
      expect(relErr(ours.dw, ref.dw)).toBeLessThan(TOLERANCE);
    });

    it.each(POOL_CASES)("MaxPool3D x=$x size=$size strides=$strides $pad", async (c) => {
      resetOnednnStats();
      const ours = poolForwardBackward(c);
      const stats = getOnednnStats();
      for (const name of ["MaxPool3D", "MaxPool3DGrad"]) {
        expect(stats[name]?.fallback ?? 0, `${name}: ${stats[name]?.lastFallback}`).toBe(0);
        expect(stats[name]?.native ?? 0).toBeGreaterThan(0);
      }
      const ref = await onCpu(() => poolForwardBackward(c));
      expect(relErr(ours.y, ref.y)).toBeLessThan(TOLERANCE);
      expect(relErr(ours.dx, ref.dx)).toBeLessThan(TOLERANCE);
    });

    it("MaxPool3DGrad with a non-cubic window matches the definition", () => {
      const ours = poolForwardBackward(NON_CUBIC);
      expect(relErr(ours.dx, referencePoolGrad(NON_CUBIC, ours.x, ours.r))).toBeLessThan(TOLERANCE);
    });

    it("hands calls it does not cover (dilations > 1, TF.js's negative 'same' pads) to the kernel it displaced", () => {
      resetOnednnStats();
      const y = tf.tidy(() =>
        tf.conv3d(
          tf.ones<tf.Rank.R5>([1, 5, 5, 5, 1]),
          tf.ones<tf.Rank.R5>([2, 2, 2, 1, 1]),
          1,
          "valid",
          "NDHWC",
          2,
        ),
      );
      expect(y.shape).toEqual([1, 3, 3, 3, 1]);
      expect(Array.from(y.dataSync())).toEqual(new Array(27).fill(8));
      y.dispose();
      expect(getOnednnStats().Conv3D?.fallback).toBeGreaterThan(0);
      expect(getOnednnStats().Conv3D?.native ?? 0).toBe(0);
      // Kernel 1, stride 2, 'same' on an even size: TF.js computes a pad of -1 (it reads 2o + 1).
      const z = tf.tidy(() =>
        tf.conv3d(
          tf.reshape<tf.Rank.R5>(tf.range(0, 6), [1, 1, 1, 6, 1]),
          tf.ones<tf.Rank.R5>([1, 1, 1, 1, 1]),
          2,
          "same",
        ),
      );
      expect(Array.from(z.dataSync())).toEqual([1, 3, 5]);
      z.dispose();
      expect(getOnednnStats().Conv3D?.native ?? 0).toBe(0);
    });
  },
);
