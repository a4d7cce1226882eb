import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { UNet3DError } from "./errors.js";
import {
  BatchNormalization3D,
  GroupNormalization,
  InstanceNormalization,
  SpatialAttention3D,
  SpatialDropout3D,
  UpSampling3D,
} from "./layers.js";
import { registerBratsLayers } from "./register.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(
      Math.abs((actual[i] as number) - (expected[i] as number)),
      `element ${i}`,
    ).toBeLessThanOrEqual(tol);
  }
}

// 2×2×2 voxels × 2 channels, voxels in row-major (d, h, w) order.
const ATT_INPUT = [
  [1, 3],
  [-2, 0],
  [4, 4],
  [0.5, -0.5],
  [-1, -3],
  [2, -2],
  [0, 0],
  [6, -4],
];
// x · sigmoid(0.5·mean − 0.25·max + 0.1), worked out per voxel (float64).
const ATT_EXPECTED = [
  [0.5866175789173301, 1.7598527367519905],
  [-0.802624679775096, 0.0],
  [3.0010404223804708, 3.0010404223804708],
  [0.24687516275024482, -0.24687516275024482],
  [-0.34298953732650117, -1.0289686119795034],
  [0.802624679775096, -0.802624679775096],
  [0.0, 0.0],
  [1.734302984249976, -1.156201989499984],
];

describe("SpatialAttention3D", () => {
  it("gates every voxel by sigmoid(conv([mean_c, max_c])) with known 1×1×1 weights", () => {
    const layer = new SpatialAttention3D({ name: "att" });
    layer.build([1, 2, 2, 2, 2]);
    layer.setWeights([tf.tensor5d([0.5, -0.25], [1, 1, 1, 2, 1]), tf.tensor1d([0.1])]);
    const x = tf.tensor5d(ATT_INPUT.flat(), [1, 2, 2, 2, 2]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 2, 2, 2, 2]);
    expectClose(values(y), ATT_EXPECTED.flat(), 1e-6);
  });

  it("counts 2·k³ + 1 trainable weights like nn.Conv3d(2, 1, k)", () => {
    for (const [k, params] of [
      [1, 3],
      [3, 55],
      [5, 251],
    ] as const) {
      const layer = new SpatialAttention3D({ kernelSize: k });
      layer.build([null, 8, 8, 8, 4]);
      expect(layer.countParams()).toBe(params);
      expect(layer.trainableWeights.length).toBe(2);
    }
  });

  it("with k = 3 matches a direct zero-padded convolution over the [mean, max] maps", () => {
    const layer = new SpatialAttention3D({ kernelSize: 3, seed: 7 });
    const [n, d, h, w, c] = [2, 3, 4, 5, 3];
    const x = tf.randomNormal([n, d, h, w, c], 0, 1, "float32", 11);
    const y = values(layer.apply(x) as tf.Tensor);
    const [kernelT, biasT] = layer.getWeights() as [tf.Tensor, tf.Tensor];
    const kernel = values(kernelT); // [3,3,3,2,1]
    const bias = values(biasT)[0]!;
    const xs = values(x);
    const at = (b: number, i: number, j: number, l: number, ch: number): number =>
      xs[(((b * d + i) * h + j) * w + l) * c + ch]!;
    const maps = (b: number, i: number, j: number, l: number): [number, number] => {
      let sum = 0;
      let max = -Infinity;
      for (let ch = 0; ch < c; ch++) {
        sum += at(b, i, j, l, ch);
        max = Math.max(max, at(b, i, j, l, ch));
      }
      return [sum / c, max];
    };
    for (let b = 0; b < n; b++)
      for (let i = 0; i < d; i++)
        for (let j = 0; j < h; j++)
          for (let l = 0; l < w; l++) {
            let logit = bias;
            for (let a = 0; a < 3; a++)
              for (let e = 0; e < 3; e++)
                for (let f = 0; f < 3; f++) {
                  const [ii, jj, ll] = [i + a - 1, j + e - 1, l + f - 1];
                  if (ii < 0 || jj < 0 || ll < 0 || ii >= d || jj >= h || ll >= w) continue;
                  const [mean, max] = maps(b, ii, jj, ll);
                  const base = ((a * 3 + e) * 3 + f) * 2;
                  logit += kernel[base]! * mean + kernel[base + 1]! * max;
                }
            const gate = 1 / (1 + Math.exp(-logit));
            for (let ch = 0; ch < c; ch++) {
              const idx = (((b * d + i) * h + j) * w + l) * c + ch;
              expect(Math.abs(y[idx]! - at(b, i, j, l, ch) * gate)).toBeLessThan(1e-5);
            }
          }
  });

  it("initialises like PyTorch (uniform in ±1/√(2k³)) and deterministically with a seed", () => {
    const a = new SpatialAttention3D({ kernelSize: 3, seed: 5 });
    const b = new SpatialAttention3D({ kernelSize: 3, seed: 5 });
    a.build([1, 4, 4, 4, 2]);
    b.build([1, 4, 4, 4, 2]);
    const wa = values(a.getWeights()[0]!);
    expect(wa).toEqual(values(b.getWeights()[0]!));
    const bound = 1 / Math.sqrt(54);
    expect(Math.max(...wa.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(new Set(wa).size).toBe(54);
  });

  it("rejects even kernels and non-5D input", () => {
    expect(() => new SpatialAttention3D({ kernelSize: 2 })).toThrow(UNet3DError);
    const layer = new SpatialAttention3D();
    expect(() => layer.build([4, 4, 4, 2])).toThrowError(
      expect.objectContaining({ code: "SHAPE_MISMATCH" }),
    );
  });
});

describe("BatchNormalization3D", () => {
  // Channel 0 = 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3);
  // channel 1 = 0, 0, 0, 4 (mean 1, biased var 3, unbiased 4); two samples of two voxels.
  const X = (): tf.Tensor => tf.tensor5d([1, 0, 2, 0, 3, 0, 4, 4], [2, 1, 2, 1, 2]);

  it("normalises with the batch statistics over N, D, H, W in training and updates the moving ones", () => {
    const layer = new BatchNormalization3D();
    const y = values(layer.apply(X(), { training: true }) as tf.Tensor);
    const s0 = Math.sqrt(1.25 + 1e-5);
    const s1 = Math.sqrt(3 + 1e-5);
    expectClose(
      y,
      [-1.5 / s0, -1 / s1, -0.5 / s0, -1 / s1, 0.5 / s0, -1 / s1, 1.5 / s0, 3 / s1],
      2e-6,
    );
    const [gamma, beta, movingMean, movingVariance] = layer.getWeights().map(values);
    expect(gamma).toEqual([1, 1]);
    expect(beta).toEqual([0, 0]);
    // momentum 0.9: 0.9·0 + 0.1·mean, 0.9·1 + 0.1·unbiased variance.
    expectClose(movingMean!, [0.25, 0.1], 1e-7);
    expectClose(movingVariance!, [0.9 + 0.1 * (5 / 3), 0.9 + 0.1 * 4], 1e-6);
    expect(layer.trainableWeights.map((w) => w.originalName.split("/").pop())).toEqual([
      "gamma",
      "beta",
    ]);
    expect(layer.nonTrainableWeights.map((w) => w.originalName.split("/").pop())).toEqual([
      "moving_mean",
      "moving_variance",
    ]);
  });

  it("uses the moving statistics and gamma/beta at inference, and leaves them alone", () => {
    const layer = new BatchNormalization3D({ momentum: 0.5, epsilon: 1e-3 });
    layer.build([null, 1, 2, 1, 2]);
    layer.setWeights([
      tf.tensor1d([2, 3]),
      tf.tensor1d([1, -1]),
      tf.tensor1d([2, 0]),
      tf.tensor1d([4, 0.25]),
    ]);
    const y = values(layer.apply(X()) as tf.Tensor);
    const a = Math.sqrt(4 + 1e-3);
    const b = Math.sqrt(0.25 + 1e-3);
    const expected = [1, 0, 2, 0, 3, 0, 4, 4].map((v, i) =>
      i % 2 === 0 ? (2 * (v - 2)) / a + 1 : (3 * v) / b - 1,
    );
    expectClose(y, expected, 2e-6);
    expect(values(layer.getWeights()[2]!)).toEqual([2, 0]);
    expect(layer.countParams()).toBe(8);
  });

  it("rejects a momentum outside [0, 1]", () => {
    expect(() => new BatchNormalization3D({ momentum: 1.5 })).toThrowError(
      expect.objectContaining({ code: "BAD_CONFIG" }),
    );
  });
});

describe("InstanceNormalization", () => {
  it("normalises each sample and channel over D, H, W, then applies gamma/beta", () => {
    // Sample 0: channel 0 = 1,2,3,4 (mean 2.5, var 1.25), channel 1 constant 5.
    // Sample 1: channel 0 = 10,10,10,30 (mean 15, var 75), channel 1 = -1,1,-1,1 (mean 0, var 1).
    const x = tf.tensor5d([1, 5, 2, 5, 3, 5, 4, 5, 10, -1, 10, 1, 10, -1, 30, 1], [2, 2, 2, 1, 2]);
    const layer = new InstanceNormalization();
    layer.build(x.shape);
    layer.setWeights([tf.tensor1d([2, 1]), tf.tensor1d([0, 3])]);
    const s0 = Math.sqrt(1.25 + 1e-5);
    const s1 = Math.sqrt(75 + 1e-5);
    const s2 = Math.sqrt(1 + 1e-5);
    const expected = [
      (2 * -1.5) / s0,
      3,
      (2 * -0.5) / s0,
      3,
      (2 * 0.5) / s0,
      3,
      (2 * 1.5) / s0,
      3,
      (2 * -5) / s1,
      3 - 1 / s2,
      (2 * -5) / s1,
      3 + 1 / s2,
      (2 * -5) / s1,
      3 - 1 / s2,
      (2 * 15) / s1,
      3 + 1 / s2,
    ];
    expectClose(values(layer.apply(x) as tf.Tensor), expected, 2e-6);
    expect(layer.countParams()).toBe(4);
  });

  it("without center/scale has no weights and gives zero mean, unit variance", () => {
    const layer = new InstanceNormalization({ center: false, scale: false });
    const x = tf.randomNormal([1, 4, 4, 4, 3], 3, 2, "float32", 3);
    const y = layer.apply(x) as tf.Tensor;
    expect(layer.countParams()).toBe(0);
    const { mean, variance } = tf.moments(y, [0, 1, 2, 3]);
    expectClose(values(mean), [0, 0, 0], 1e-5);
    expectClose(values(variance), [1, 1, 1], 1e-4);
  });
});

describe("GroupNormalization", () => {
  it("pools the statistics over D, H, W and the channels of each group", () => {
    // Two voxels × 4 channels, 2 groups: group 0 = {1,3,5,7} (mean 4, var 5),
    // group 1 = {10,10,10,30} (mean 15, var 75).
    const x = tf.tensor5d([1, 3, 10, 10, 5, 7, 10, 30], [1, 2, 1, 1, 4]);
    const layer = new GroupNormalization({ groups: 2 });
    const y = values(layer.apply(x) as tf.Tensor);
    const g0 = Math.sqrt(5 + 1e-5);
    const g1 = Math.sqrt(75 + 1e-5);
    expectClose(y, [-3 / g0, -1 / g0, -5 / g1, -5 / g1, 1 / g0, 3 / g0, -5 / g1, 15 / g1], 2e-6);
    expect(layer.countParams()).toBe(8);
  });

  it("equals instance norm when groups = channels, and rejects groups that do not divide C", () => {
    const x = tf.randomNormal([2, 3, 3, 3, 4], 0, 1, "float32", 9);
    const g = values(new GroupNormalization({ groups: 4 }).apply(x) as tf.Tensor);
    const i = values(new InstanceNormalization().apply(x) as tf.Tensor);
    expectClose(g, i, 1e-6);
    expect(() => new GroupNormalization({ groups: 3 }).apply(x)).toThrowError(
      expect.objectContaining({ code: "BAD_CONFIG" }),
    );
  });
});

describe("SpatialDropout3D", () => {
  it("drops whole channels per sample in training and scales the rest by 1/(1 − rate)", () => {
    const layer = new SpatialDropout3D({ rate: 0.5, seed: 42 });
    const x = tf.ones([3, 2, 3, 4, 16]);
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const ys = values(y);
    let dropped = 0;
    for (let n = 0; n < 3; n++)
      for (let c = 0; c < 16; c++) {
        const seen = new Set<number>();
        for (let v = 0; v < 24; v++) seen.add(ys[(n * 24 + v) * 16 + c]!);
        expect(seen.size, `sample ${n} channel ${c} is all-or-nothing`).toBe(1);
        const value = [...seen][0]!;
        expect([0, 2]).toContain(value);
        if (value === 0) dropped++;
      }
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(48);
  });

  it("drops about `rate` of the channels and keeps the expectation", () => {
    const layer = new SpatialDropout3D({ rate: 0.3, seed: 1 });
    const y = values(layer.apply(tf.ones([1, 1, 1, 1, 4000]), { training: true }) as tf.Tensor);
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros / 4000).toBeGreaterThan(0.27);
    expect(zeros / 4000).toBeLessThan(0.33);
    const mean = y.reduce((a, b) => a + b, 0) / 4000;
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
  });

  it("is the identity at inference", () => {
    const layer = new SpatialDropout3D({ rate: 0.5, seed: 3 });
    const x = tf.randomNormal([2, 3, 3, 3, 8], 0, 1, "float32", 4);
    expect(values(layer.apply(x) as tf.Tensor)).toEqual(values(x));
    expect(values(layer.apply(x, { training: false }) as tf.Tensor)).toEqual(values(x));
  });

  it("is reproducible with a seed and draws a new mask every training call", () => {
    const x = tf.ones([1, 1, 1, 1, 64]);
    const a = new SpatialDropout3D({ rate: 0.5, seed: 9 });
    const b = new SpatialDropout3D({ rate: 0.5, seed: 9 });
    const a1 = values(a.apply(x, { training: true }) as tf.Tensor);
    const a2 = values(a.apply(x, { training: true }) as tf.Tensor);
    expect(values(b.apply(x, { training: true }) as tf.Tensor)).toEqual(a1);
    expect(values(b.apply(x, { training: true }) as tf.Tensor)).toEqual(a2);
    expect(a2).not.toEqual(a1);
  });

  it("rejects rates outside [0, 1)", () => {
    for (const rate of [-0.1, 1, Number.NaN]) {
      expect(() => new SpatialDropout3D({ rate })).toThrowError(
        expect.objectContaining({ code: "BAD_CONFIG" }),
      );
    }
  });
});

describe("UpSampling3D", () => {
  it("repeats every voxel 2×2×2 times (nearest)", () => {
    const x = tf.tensor5d([0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 2, 2, 1]);
    const y = new UpSampling3D().apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 4, 4, 4, 1]);
    const ys = values(y);
    for (let d = 0; d < 4; d++)
      for (let h = 0; h < 4; h++)
        for (let w = 0; w < 4; w++) {
          expect(ys[(d * 4 + h) * 4 + w]).toBe(((d >> 1) * 2 + (h >> 1)) * 2 + (w >> 1));
        }
  });

  it("takes a factor per axis and keeps channels interleaved", () => {
    // [1, 1, 2, 1, 2]: two voxels along H with channels (a, b).
    const x = tf.tensor5d([1, 10, 2, 20], [1, 1, 2, 1, 2]);
    const layer = new UpSampling3D({ size: [2, 1, 3] });
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 2, 2, 3, 2]);
    expect(values(y)).toEqual([
      1, 10, 1, 10, 1, 10, 2, 20, 2, 20, 2, 20, 1, 10, 1, 10, 1, 10, 2, 20, 2, 20, 2, 20,
    ]);
    expect(layer.computeOutputShape([null, 4, null, 5, 2])).toEqual([null, 8, null, 15, 2]);
  });

  it("sums the gradient over each repeated block", () => {
    const x = tf.randomNormal([1, 2, 3, 2, 2], 0, 1, "float32", 2);
    const g = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(new UpSampling3D({ size: [2, 3, 1] }).apply(t) as tf.Tensor, 2)),
    )(x);
    expect(values(g)).toEqual(new Array(24).fill(12));
  });
});

describe("serialisation of the custom layers", () => {
  it("getConfig/className survive a model.json round trip (toJSON → modelFromJSON)", async () => {
    registerBratsLayers();
    registerBratsLayers(); // idempotent
    const input = tfl.input({ shape: [4, 4, 4, 4] });
    let x = new BatchNormalization3D({ momentum: 0.8, name: "bn" }).apply(
      input,
    ) as tfl.SymbolicTensor;
    x = new InstanceNormalization({ epsilon: 1e-4, name: "in" }).apply(x) as tfl.SymbolicTensor;
    x = new GroupNormalization({ groups: 2, center: false, name: "gn" }).apply(
      x,
    ) as tfl.SymbolicTensor;
    x = new SpatialAttention3D({ kernelSize: 3, seed: 1, name: "att" }).apply(
      x,
    ) as tfl.SymbolicTensor;
    x = new SpatialDropout3D({ rate: 0.2, seed: 8, name: "drop" }).apply(x) as tfl.SymbolicTensor;
    x = new UpSampling3D({ size: [1, 2, 2], name: "up" }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    const text = JSON.stringify(model.toJSON(null, false));
    for (const name of [
      "BatchNormalization3D",
      "InstanceNormalization",
      "GroupNormalization",
      "SpatialAttention3D",
      "SpatialDropout3D",
      "UpSampling3D",
    ]) {
      expect(text).toContain(`"class_name":"${name}"`);
    }
    const copy = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(text) });
    const configs = Object.fromEntries(copy.layers.map((l) => [l.name, l.getConfig()]));
    expect(configs["bn"]).toMatchObject({
      momentum: 0.8,
      epsilon: 1e-5,
      center: true,
      scale: true,
    });
    expect(configs["in"]).toMatchObject({ epsilon: 1e-4, center: true, scale: true });
    expect(configs["gn"]).toMatchObject({ groups: 2, center: false, scale: true });
    expect(configs["att"]).toMatchObject({ kernelSize: 3, seed: 1 });
    expect(configs["drop"]).toMatchObject({ rate: 0.2, seed: 8 });
    expect(configs["up"]).toMatchObject({ size: [1, 2, 2] });
    expect(copy.outputs[0]!.shape).toEqual([null, 4, 8, 8, 4]);
  });
});

describe("the layers on the wasm backend", () => {
  it("give the cpu backend's outputs", async () => {
    const build = (): tfl.LayersModel => {
      const input = tfl.input({ shape: [4, 4, 4, 4] });
      let x = new BatchNormalization3D({ name: "bn" }).apply(input) as tfl.SymbolicTensor;
      x = new InstanceNormalization({ name: "in" }).apply(x) as tfl.SymbolicTensor;
      x = new GroupNormalization({ groups: 2, name: "gn" }).apply(x) as tfl.SymbolicTensor;
      x = new SpatialAttention3D({ kernelSize: 3, seed: 1, name: "att" }).apply(
        x,
      ) as tfl.SymbolicTensor;
      x = new UpSampling3D({ name: "up" }).apply(x) as tfl.SymbolicTensor;
      return tfl.model({ inputs: input, outputs: x });
    };
    const xData = values(tf.randomNormal([2, 4, 4, 4, 4], 0, 1, "float32", 5));
    const cpu = values(build().predict(tf.tensor5d(xData, [2, 4, 4, 4, 4])) as tf.Tensor);
    expect(await tf.setBackend("wasm")).toBe(true);
    try {
      expect(tf.getBackend()).toBe("wasm");
      const wasm = values(build().predict(tf.tensor5d(xData, [2, 4, 4, 4, 4])) as tf.Tensor);
      expectClose(wasm, cpu, 1e-5);
    } finally {
      await tf.setBackend("cpu");
    }
  });
});
