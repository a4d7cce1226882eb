/**
 * The fast kernels under the real model: the gradients of a tiny U-Net's loss (3×3×3 convs,
 * 2×2×2 stride-2 up-convolutions, 1×1×1 attention and head convs) on wasm + fast kernels match
 * the stock cpu backend. The model code is the same on both backends.
 */
import { afterAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { diceCELoss } from "../losses.js";
import { createUNet3D } from "../model.js";
import { registerBratsLayers } from "../register.js";
import {
  getFastConv3DStats,
  registerFastConv3D,
  resetFastConv3DStats,
  unregisterFastConv3D,
} from "./index.js";

/** max|a − ref| / max|ref| */
function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

describe("fast Conv3D inside createUNet3D", () => {
  afterAll(async () => {
    unregisterFastConv3D();
    await tf.setBackend("cpu");
  });

  it("loss gradients of every weight match the stock cpu backend", async () => {
    registerBratsLayers();
    expect(await tf.setBackend("cpu")).toBe(true);
    const model = createUNet3D({
      depth: 2,
      baseFilters: 4,
      dropout: 0,
      seed: 11,
      normalization: "instance",
    });
    const x = tf.randomNormal([1, 16, 16, 16, 3], 0, 1, "float32", 12);
    const labels = tf.oneHot(tf.randomUniform([1, 16, 16, 16], 0, 4, "int32", 13), 4);
    const gradients = () => {
      const out = new Map<string, Float32Array>();
      let loss = Number.NaN;
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() =>
          diceCELoss(labels, model.apply(x, { training: true }) as tf.Tensor),
        );
        loss = value.dataSync()[0]!;
        for (const [name, g] of Object.entries(grads)) out.set(name, g.dataSync() as Float32Array);
      });
      return { loss, grads: out };
    };

    const ref = gradients();
    expect(await tf.setBackend("wasm")).toBe(true);
    registerFastConv3D();
    resetFastConv3DStats();
    const fast = gradients();
    const stats = getFastConv3DStats();
    unregisterFastConv3D();

    expect(stats.fast.Conv3D).toBeGreaterThan(0);
    expect(stats.fast.Conv3DBackpropInputV2).toBeGreaterThan(0);
    expect(stats.fast.Conv3DBackpropFilterV2).toBeGreaterThan(0);
    expect(Object.values(stats.fallback).every((v) => v === 0)).toBe(true);
    expect(Math.abs(fast.loss - ref.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.loss)));
    expect(fast.grads.size).toBe(ref.grads.size);
    const kernels = [...ref.grads.keys()].filter((name) => name.includes("kernel"));
    expect(kernels.length).toBeGreaterThan(10);
    // Conv biases followed by instance norm have zero gradients mathematically (the norm
    // removes them); their float32 noise (~1e-9) is compared against the largest gradient.
    const maxAbs = (v: Float32Array) => v.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
    const globalScale = Math.max(...[...ref.grads.values()].map(maxAbs));
    let meaningful = 0;
    for (const [name, g] of ref.grads) {
      const a = fast.grads.get(name)!;
      expect(relErr(a, g) * (maxAbs(g) / globalScale), name).toBeLessThan(1e-4);
      if (maxAbs(g) > 1e-3 * globalScale) {
        meaningful++;
        expect(relErr(a, g), name).toBeLessThan(1e-4);
      }
    }
    expect(meaningful).toBeGreaterThan(30);
  });
});
