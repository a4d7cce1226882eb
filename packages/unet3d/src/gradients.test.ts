import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { numericGradient, sampleIndices, worstMismatch } from "./gradcheck.testutil.js";
import { registerConv3DTransposeGradient } from "./gradients.js";
import {
  BatchNormalization3D,
  GroupNormalization,
  InstanceNormalization,
  SpatialAttention3D,
} from "./layers.js";
import { registerBratsLayers } from "./register.js";

type Shape5 = [number, number, number, number, number];
interface Case {
  name: string;
  out: Shape5; // conv3dTranspose output = the forward conv's input
  dy: Shape5; // conv3dTranspose input
  filter: Shape5; // [kd, kh, kw, outChannels, inChannels]
  strides: number | [number, number, number];
  pad: "same" | "valid";
}

const CASES: Case[] = [
  {
    name: "k2 s2 valid (the U-Net up-convolution)",
    out: [1, 4, 4, 4, 4],
    dy: [1, 2, 2, 2, 3],
    filter: [2, 2, 2, 4, 3],
    strides: 2,
    pad: "valid",
  },
  {
    name: "k3 s1 same, odd sizes",
    out: [1, 3, 5, 3, 2],
    dy: [1, 3, 5, 3, 2],
    filter: [3, 3, 3, 2, 2],
    strides: 1,
    pad: "same",
  },
  {
    name: "k3 s2 same, odd output",
    out: [1, 5, 5, 5, 2],
    dy: [1, 3, 3, 3, 3],
    filter: [3, 3, 3, 2, 3],
    strides: 2,
    pad: "same",
  },
  {
    name: "k2 s1 valid, batch 2",
    out: [2, 3, 3, 3, 1],
    dy: [2, 2, 2, 2, 2],
    filter: [2, 2, 2, 1, 2],
    strides: 1,
    pad: "valid",
  },
  {
    name: "k1 s[1,2,1] valid",
    out: [1, 2, 4, 3, 3],
    dy: [1, 2, 2, 3, 2],
    filter: [1, 1, 1, 3, 2],
    strides: [1, 2, 1],
    pad: "valid",
  },
];

function checkConvTransposeGrads(c: Case, seed: number): void {
  const dy = tf.randomNormal(c.dy, 0, 1, "float32", seed);
  const filter = tf.randomNormal(c.filter, 0, 1, "float32", seed + 1);
  const probe = tf.randomNormal(c.out, 0, 1, "float32", seed + 2);
  const f = (a: tf.Tensor, w: tf.Tensor): tf.Scalar =>
    tf.sum(
      tf.mul(
        tf.conv3dTranspose(a as tf.Tensor5D, w as tf.Tensor5D, c.out, c.strides, c.pad),
        probe,
      ),
    );
  const [gDy, gFilter] = tf.grads(f)([dy, filter]) as [tf.Tensor, tf.Tensor];
  expect(gDy.shape).toEqual(c.dy);
  expect(gFilter.shape).toEqual(c.filter);
  // f is linear in each argument, so central differences are exact up to float32 rounding.
  const iDy = sampleIndices(dy.size, 40);
  const nDy = numericGradient((a) => f(a, filter), dy, iDy, 0.25);
  const aDy = iDy.map((i) => gDy.dataSync()[i] as number);
  expect(worstMismatch(aDy, nDy, 1e-3, 1e-3), `${c.name}: d/d(dy)`).toBeLessThanOrEqual(1);
  const iW = sampleIndices(filter.size, 40);
  const nW = numericGradient((w) => f(dy, w), filter, iW, 0.25);
  const aW = iW.map((i) => gFilter.dataSync()[i] as number);
  expect(worstMismatch(aW, nW, 1e-3, 1e-3), `${c.name}: d/d(filter)`).toBeLessThanOrEqual(1);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("Conv3DBackpropInputV2 gradient", () => {
  it("is missing from stock TF.js (tfjs#6323) until registered", () => {
    const dy = tf.ones([1, 1, 1, 1, 1]);
    const w = tf.ones([2, 2, 2, 1, 1]);
    const f = (a: tf.Tensor): tf.Scalar =>
      tf.sum(tf.conv3dTranspose(a as tf.Tensor5D, w as tf.Tensor5D, [1, 2, 2, 2, 1], 2, "valid"));
    expect(() => tf.grad(f)(dy)).toThrow(/Conv3DBackpropInputV2/);
    registerConv3DTransposeGradient();
    registerConv3DTransposeGradient(); // idempotent, no "overriding" registration
    expect(tf.getGradient(tf.Conv3DBackpropInputV2)).toBeDefined();
    // Each input voxel feeds 8 outputs with weight 1.
    expect(Array.from(tf.grad(f)(dy).dataSync())).toEqual([8]);
  });

  for (const [i, c] of CASES.entries()) {
    it(`matches finite differences: ${c.name}`, () => {
      registerConv3DTransposeGradient();
      checkConvTransposeGrads(c, 100 + 10 * i);
    });
  }

  it("is used on the wasm backend too (input gradient equal to the cpu one)", async () => {
    // Only d/d(dy) is compared: it runs the wasm Conv3D kernel, which agrees with the cpu one.
    // d/d(filter) runs Conv3DBackpropFilterV2, which stock tfjs-backend-wasm 4.22 computes wrongly
    // for stride 2 (as its Conv3DBackpropInputV2, i.e. conv3dTranspose itself, for every case we
    // compared against the cpu backend); fast-conv3d replaces those kernels.
    registerConv3DTransposeGradient();
    const c = CASES[0]!;
    const dyData = tf.randomNormal(c.dy, 0, 1, "float32", 1).dataSync().slice();
    const wData = tf.randomNormal(c.filter, 0, 1, "float32", 2).dataSync().slice();
    const probeData = tf.randomNormal(c.out, 0, 1, "float32", 3).dataSync().slice();
    const run = (): number[] => {
      const w = tf.tensor5d(wData, c.filter);
      const probe = tf.tensor5d(probeData, c.out);
      const g = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv3dTranspose(x as tf.Tensor5D, w, c.out, c.strides, c.pad), probe)),
      )(tf.tensor5d(dyData, c.dy));
      return Array.from(g.dataSync());
    };
    const cpu = run();
    expect(await tf.setBackend("wasm")).toBe(true);
    try {
      expect(tf.getBackend()).toBe("wasm");
      expect(worstMismatch(run(), cpu, 1e-4, 1e-4)).toBeLessThanOrEqual(1);
    } finally {
      await tf.setBackend("cpu");
    }
  });

  it("lets a Conv3DTranspose layer train (it learns a teacher up-convolution)", () => {
    registerBratsLayers();
    const input = tfl.input({ shape: [2, 2, 2, 2] });
    const up = tfl.layers.conv3dTranspose({
      filters: 1,
      kernelSize: 2,
      strides: 2,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    });
    const model = tfl.model({ inputs: input, outputs: up.apply(input) as tfl.SymbolicTensor });
    const x = tf.randomNormal([4, 2, 2, 2, 2], 0, 1, "float32", 5);
    // A target the layer can represent: another transposed convolution of the same input.
    const teacher = tf.randomNormal<tf.Rank.R5>([2, 2, 2, 1, 2], 0, 1, "float32", 6);
    const target = tf.conv3dTranspose(x as tf.Tensor5D, teacher, [4, 4, 4, 4, 1], 2, "valid");
    const opt = tf.train.adam(0.05);
    const loss = (): tf.Scalar =>
      tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, target)));
    const first = loss().dataSync()[0]!;
    for (let step = 0; step < 60; step++) opt.minimize(loss);
    const last = loss().dataSync()[0]!;
    expect(last).toBeLessThan(0.05 * first);
  });
});

describe("custom layer gradients against finite differences", () => {
  const layers: Array<[string, () => tfl.layers.Layer, boolean]> = [
    ["SpatialAttention3D k=3", () => new SpatialAttention3D({ kernelSize: 3, seed: 4 }), false],
    ["InstanceNormalization", () => new InstanceNormalization(), false],
    ["GroupNormalization", () => new GroupNormalization({ groups: 2 }), false],
    ["BatchNormalization3D, training (batch statistics)", () => new BatchNormalization3D(), true],
  ];
  for (const [name, make, training] of layers) {
    it(name, () => {
      const layer = make();
      const x = tf.randomNormal([2, 3, 3, 2, 4], 0, 1, "float32", 21);
      const probe = tf.randomNormal([2, 3, 3, 2, 4], 0, 1, "float32", 22);
      const f = (t: tf.Tensor): tf.Scalar =>
        tf.sum(tf.mul(layer.apply(t, { training }) as tf.Tensor, probe));
      const analytic = tf.grad(f)(x).dataSync();
      const idx = sampleIndices(x.size, 24);
      const numeric = numericGradient(f, x, idx, 1e-2);
      expect(
        worstMismatch(
          idx.map((i) => analytic[i] as number),
          numeric,
          3e-3,
          3e-3,
        ),
      ).toBeLessThanOrEqual(1);
      // And with respect to the layer's own weights.
      const { grads } = tf.variableGrads(() => f(x));
      for (const w of layer.trainableWeights) {
        const g = grads[w.originalName];
        expect(g, w.originalName).toBeDefined();
        const wVal = w.read();
        const wi = sampleIndices(wVal.size, 12);
        const wn = numericGradient(
          (v) => {
            const saved = wVal.clone();
            w.write(v);
            try {
              return f(x);
            } finally {
              w.write(saved);
            }
          },
          wVal,
          wi,
          1e-2,
        );
        const ga = g!.dataSync();
        expect(
          worstMismatch(
            wi.map((i) => ga[i] as number),
            wn,
            3e-3,
            3e-3,
          ),
          w.originalName,
        ).toBeLessThanOrEqual(1);
      }
    });
  }
});
