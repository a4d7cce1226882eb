/**
 * One training step of the reference U-Net (createUNet3D() defaults: 5,648,784 parameters, 3
 * inputs, 4 classes, Dice + CE, Adam 1e-4) at 32³ from the same weights and batch on three
 * engines: the native path, the wasm path, and TF.js's cpu backend as a third opinion.
 *
 * The step is ill-conditioned: batch normalisation at batch 1 subtracts nearly equal terms, so
 * any change in float32 summation order (oneDNN's, XNNPACK's, the cpu backend's plain loops)
 * moves the early layers' gradients by a few 0.1 % to a few %, and the gradients of the conv
 * biases that feed a batch norm are exactly zero in exact arithmetic and pure rounding noise
 * (1e-10 to 1e-7 here) in float32. So the test calibrates itself: native may differ from wasm by no more
 * than three times what wasm differs from cpu (plus 1 % of the learning rate), per weight
 * tensor, in the Adam update; the loss agrees within 1e-5; the gradients of every tensor that
 * is not noise agree within 5 % (relative L2).
 */
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { releaseEngine, TEST_ENGINES, useEngine } from "./engines.testutil.js";
import type { TestEngine } from "./engines.testutil.js";
import { diceCELoss } from "./losses.js";
import { createUNet3D } from "./model.js";
import { registerBratsLayers } from "./register.js";

const SIZE = 32;
const LEARNING_RATE = 1e-4;

interface StepResult {
  loss: number;
  grads: Float32Array[];
  updates: Float32Array[];
}

async function referenceStep(engine: TestEngine | "cpu"): Promise<StepResult> {
  if (engine === "cpu") {
    releaseEngine();
    await tf.setBackend("cpu");
    registerBratsLayers();
  } else {
    await useEngine(engine);
  }
  const model = createUNet3D({ seed: 0 });
  const x = tf.randomNormal([1, SIZE, SIZE, SIZE, 3], 0, 1, "float32", 1);
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.cast(tf.floor(tf.randomUniform([1, SIZE, SIZE, SIZE], 0, 4, "float32", 2)), "int32"),
      4,
    ),
  );
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = await Promise.all(variables.map((v) => v.data<"float32">()));
  const { value, grads } = tf.variableGrads(
    () => diceCELoss(y, model.apply(x, { training: true }) as tf.Tensor),
    variables,
  );
  const loss = (await value.data())[0]!;
  const gradArrays = await Promise.all(variables.map((v) => grads[v.name]!.data<"float32">()));
  const optimizer = tf.train.adam(LEARNING_RATE);
  optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  const after = await Promise.all(variables.map((v) => v.data<"float32">()));
  tf.dispose([value, x, y, ...Object.values(grads)]);
  optimizer.dispose();
  model.dispose();
  const updates = after.map((a, i) => a.map((v, k) => v - before[i]![k]!));
  return { loss, grads: gradArrays, updates };
}

const rms = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k]! - b[k]!) ** 2;
  return Math.sqrt(s / a.length);
};

const relL2 = (a: Float32Array, ref: Float32Array): number => {
  let d = 0;
  let n = 0;
  for (let k = 0; k < a.length; k++) {
    d += (a[k]! - ref[k]!) ** 2;
    n += ref[k]! ** 2;
  }
  return Math.sqrt(d / n);
};

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe.runIf(TEST_ENGINES.includes("native"))(
  "a reference-model step, native against wasm",
  () => {
    afterAll(() => releaseEngine());

    it("loss, gradients and the Adam update agree", async () => {
      const wasm = await referenceStep("wasm");
      const native = await referenceStep("native");
      const cpu = await referenceStep("cpu");
      expect(Math.abs(native.loss - wasm.loss) / Math.abs(wasm.loss)).toBeLessThan(1e-5);
      expect(native.grads).toHaveLength(wasm.grads.length);
      const largest = Math.max(...wasm.grads.map(maxAbs));
      let compared = 0;
      wasm.grads.forEach((g, i) => {
        const where = `tensor ${i} (${g.length} weights)`;
        const bound = 3 * rms(wasm.updates[i]!, cpu.updates[i]!) + 0.01 * LEARNING_RATE;
        expect(rms(native.updates[i]!, wasm.updates[i]!), where).toBeLessThanOrEqual(bound);
        // Conv biases ahead of a batch norm: zero gradient up to rounding noise.
        if (maxAbs(g) < 1e-4 * largest) return;
        expect(relL2(native.grads[i]!, g), where).toBeLessThan(0.05);
        compared++;
      });
      // Every weight tensor but those noise-only biases (one per conv+BN pair) was compared.
      expect(compared).toBeGreaterThan(wasm.grads.length / 2);
    });
  },
);
