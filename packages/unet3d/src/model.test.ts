import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import { diceCELoss } from "./losses.js";
import {
  countTrainableParams,
  createUNet3D,
  resolveUNet3DConfig,
  trainableParamsByLayer,
  unet3dConfigOf,
  type UNet3DConfig,
} from "./model.js";
import { registerBratsLayers } from "./register.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  registerBratsLayers();
});

// Trainable parameters of the modules of ../shared/peers/pytorch_unet3d.py, transcribed from its
// UNet3D.__init__: nn.Conv3d(cin, cout, k) has cin·cout·k³ weights + cout biases, BatchNorm3d(c)
// has 2c (weight, bias), ConvTranspose3d(cin, cout, 2) cin·cout·8 + cout, SpatialAttention's
// nn.Conv3d(2, 1, 1) 3, the head nn.Conv3d(16, 4, 1) 68.
function pytorchReference(
  cin = 3,
  filters = [16, 32, 64, 128],
  bott = 256,
  ncls = 4,
): Array<{ name: string; params: number }> {
  const conv = (a: number, b: number, k: number): number => a * b * k ** 3 + b;
  const rows: Array<{ name: string; params: number }> = [];
  const block = (prefix: string, a: number, b: number): void => {
    rows.push(
      { name: `${prefix}_conv1`, params: conv(a, b, 3) },
      { name: `${prefix}_norm1`, params: 2 * b },
    );
    rows.push(
      { name: `${prefix}_conv2`, params: conv(b, b, 3) },
      { name: `${prefix}_norm2`, params: 2 * b },
    );
  };
  let c = cin;
  filters.forEach((f, i) => {
    block(`enc${i + 1}`, c, f);
    c = f;
  });
  block("bott", c, bott);
  c = bott;
  for (let i = filters.length; i >= 1; i--) {
    const f = filters[i - 1]!;
    rows.push({ name: `up${i}`, params: c * f * 8 + f }, { name: `att${i}`, params: 3 });
    block(`dec${i}`, 2 * f, f);
    c = f;
  }
  rows.push({ name: "head", params: conv(c, ncls, 1) });
  return rows;
}

const TINY: UNet3DConfig = { depth: 2, baseFilters: 4, seed: 1 };

describe("createUNet3D with the defaults", () => {
  it("has exactly 5,648,784 trainable parameters, layer by layer as the PyTorch reference", () => {
    const model = createUNet3D({ seed: 0 });
    expect(countTrainableParams(model)).toBe(5_648_784);
    const reference = pytorchReference();
    expect(reference.reduce((a, r) => a + r.params, 0)).toBe(5_648_784);
    expect(trainableParamsByLayer(model)).toEqual(reference);
    // BatchNorm's moving mean/variance exist but are not trainable.
    expect(model.nonTrainableWeights.length).toBe(2 * 18);
    expect(model.inputs[0]!.shape).toEqual([null, null, null, null, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, null, null, null, 4]);
    const names = model.layers.map((l) => l.name);
    for (const n of [
      "enc1_conv1",
      "enc1_relu2",
      "pool4",
      "bott_dropout",
      "up4",
      "att1",
      "concat1",
      "dec1_conv1",
      "head",
      "head_softmax",
    ]) {
      expect(names).toContain(n);
    }
    expect(model.getLayer("bott_dropout").getClassName()).toBe("SpatialDropout3D");
    expect(model.getLayer("att1").getClassName()).toBe("SpatialAttention3D");
    expect(model.getLayer("up1").getClassName()).toBe("Conv3DTranspose");
  });

  it("stores the resolved configuration in the model", () => {
    const model = createUNet3D({ depth: 1, baseFilters: 2 });
    expect(unet3dConfigOf(model)).toEqual({
      inputShape: [null, null, null, 3],
      modalities: ["flair", "t1", "t1ce"],
      depth: 1,
      baseFilters: 2,
      normalization: "batch",
      groups: 8,
      dropout: 0.1,
      attention: true,
      attentionKernelSize: 1,
      outputs: "classes",
      numClasses: 4,
      upsampling: "transpose",
      seed: null,
    });
  });
});

describe("createUNet3D variants (tiny)", () => {
  it("maps [N, 16³, 3] to softmax probabilities over 4 classes", () => {
    const model = createUNet3D(TINY);
    const y = model.predict(tf.randomNormal([1, 16, 16, 16, 3], 0, 1, "float32", 2)) as tf.Tensor;
    expect(y.shape).toEqual([1, 16, 16, 16, 4]);
    const sums = tf.sum(y, -1).dataSync();
    expect(Math.max(...Array.from(sums, (s) => Math.abs(s - 1)))).toBeLessThan(1e-5);
  });

  it("regions: three sigmoid channels", () => {
    const model = createUNet3D({ ...TINY, outputs: "regions" });
    const y = model.predict(tf.randomNormal([2, 8, 8, 8, 3], 0, 1, "float32", 2)) as tf.Tensor;
    expect(y.shape).toEqual([2, 8, 8, 8, 3]);
    const v = y.dataSync();
    expect(v.every((p) => p > 0 && p < 1)).toBe(true);
    expect(model.getLayer("head_sigmoid").getClassName()).toBe("Activation");
  });

  it("counts what each option adds or removes", () => {
    const base = countTrainableParams(createUNet3D(TINY));
    // 2 levels × one 2-weight + 1-bias attention conv.
    expect(countTrainableParams(createUNet3D({ ...TINY, attention: false }))).toBe(base - 2 * 3);
    // k = 3: 2·27 + 1 = 55 per attention instead of 3.
    expect(countTrainableParams(createUNet3D({ ...TINY, attentionKernelSize: 3 }))).toBe(
      base + 2 * 52,
    );
    // Instance/group norm have the same gamma/beta as batch norm (and no moving statistics).
    const inst = createUNet3D({ ...TINY, normalization: "instance" });
    expect(countTrainableParams(inst)).toBe(base);
    expect(inst.nonTrainableWeights.length).toBe(0);
    expect(inst.getLayer("enc1_norm1").getClassName()).toBe("InstanceNormalization");
    const group = createUNet3D({ ...TINY, normalization: "group", groups: 2 });
    expect(countTrainableParams(group)).toBe(base);
    expect(group.getLayer("dec2_norm2").getClassName()).toBe("GroupNormalization");
    // up-sampling: a 1×1×1 conv (c·f + f) in place of the 2×2×2 transpose (c·f·8 + f).
    const up = createUNet3D({ ...TINY, upsampling: "upsample" });
    const transposeUps = 16 * 8 * 8 + 8 + 8 * 4 * 8 + 4;
    const upsampleConvs = 16 * 8 + 8 + 8 * 4 + 4;
    expect(countTrainableParams(up)).toBe(base - transposeUps + upsampleConvs);
    expect(up.getLayer("up1").getClassName()).toBe("UpSampling3D");
    const drop0 = createUNet3D({ ...TINY, dropout: 0 });
    expect(drop0.layers.some((l) => l.name === "bott_dropout")).toBe(false);
  });

  it("every variant runs forward on 8³", () => {
    const variants: UNet3DConfig[] = [
      { ...TINY, normalization: "instance", upsampling: "upsample" },
      { ...TINY, normalization: "group", groups: 4, attentionKernelSize: 3 },
      { ...TINY, attention: false, dropout: 0, numClasses: 2 },
      { ...TINY, inputShape: [8, 8, 16, 4] },
    ];
    for (const cfg of variants) {
      const model = createUNet3D(cfg);
      const shape = model.inputs[0]!.shape.map((d) => d ?? 8);
      shape[0] = 1;
      const y = model.predict(tf.randomNormal(shape, 0, 1, "float32", 3)) as tf.Tensor;
      expect(y.shape.slice(0, 4)).toEqual(shape.slice(0, 4));
      expect(y.shape[4]).toBe(cfg.numClasses ?? 4);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    }
  });

  it("is deterministic with a seed", () => {
    const weights = (m: tfl.LayersModel): Float32Array[] =>
      m.getWeights().map((w) => w.dataSync() as Float32Array);
    const a = weights(createUNet3D({ ...TINY, seed: 42 }));
    const b = weights(createUNet3D({ ...TINY, seed: 42 }));
    const c = weights(createUNet3D({ ...TINY, seed: 43 }));
    const d = weights(createUNet3D({ ...TINY, seed: undefined }));
    const e = weights(createUNet3D({ ...TINY, seed: undefined }));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(e).not.toEqual(d);
    // Equally-shaped layers get different weights (distinct derived seeds).
    const m = createUNet3D({ ...TINY, seed: 42 });
    const k1 = m.getLayer("enc2_conv2").getWeights()[0]!.dataSync();
    const k2 = m.getLayer("dec2_conv2").getWeights()[0]!.dataSync();
    expect(Array.from(k1)).not.toEqual(Array.from(k2));
  });

  it("training mode reaches the inner layers through model.apply (BatchNorm statistics, dropout)", () => {
    const model = createUNet3D({ ...TINY, dropout: 0.5 });
    const x = tf.randomNormal([1, 8, 8, 8, 3], 2, 1, "float32", 9);
    const moving = (): number[] =>
      Array.from(model.getLayer("enc1_norm1").getWeights()[2]!.dataSync());
    const start = moving();
    const p1 = (model.predict(x) as tf.Tensor).dataSync();
    const p2 = (model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(p2)).toEqual(Array.from(p1)); // inference: deterministic, statistics untouched
    expect(moving()).toEqual(start);
    model.apply(x, { training: true });
    expect(moving()).not.toEqual(start);
  });

  it("trains through model.fit with diceCELoss (dropout and BatchNorm in training mode)", async () => {
    const model = createUNet3D({ ...TINY, inputShape: [8, 8, 8, 3] });
    model.compile({ optimizer: tf.train.adam(1e-2), loss: diceCELoss });
    const x = tf.randomNormal([2, 8, 8, 8, 3], 0, 1, "float32", 7);
    const y = tf.oneHot(tf.randomUniform([2, 8, 8, 8], 0, 4, "int32", 8), 4);
    const before = model.getLayer("up1").getWeights()[0]!.dataSync().slice();
    const history = await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 });
    expect(history.history["loss"]!.every((l) => Number.isFinite(l as number))).toBe(true);
    const after = model.getLayer("up1").getWeights()[0]!.dataSync();
    expect(Array.from(after)).not.toEqual(Array.from(before)); // the up-convolution received gradients
  });
});

describe("configuration errors", () => {
  const bad: Array<[string, UNet3DConfig]> = [
    ["depth 0", { depth: 0 }],
    ["fractional baseFilters", { baseFilters: 2.5 }],
    ["spatial size not divisible by 2^depth", { inputShape: [24, 32, 32, 3] }],
    ["channels vs modalities", { inputShape: [null, null, null, 4], modalities: ["t1", "t2"] }],
    ["groups not dividing filters", { normalization: "group", groups: 3 }],
    ["dropout 1", { dropout: 1 }],
    ["even attention kernel", { attentionKernelSize: 2 }],
    ["regions with 4 classes", { outputs: "regions", numClasses: 4 }],
    ["one class", { numClasses: 1 }],
    ["unknown normalization", { normalization: "layer" as "batch" }],
    ["empty modalities", { modalities: [] }],
  ];
  for (const [name, cfg] of bad) {
    it(name, () => {
      expect(() => resolveUNet3DConfig(cfg)).toThrowError(
        expect.objectContaining({ code: "BAD_CONFIG" }),
      );
      expect(() => createUNet3D(cfg)).toThrowError(expect.objectContaining({ code: "BAD_CONFIG" }));
    });
  }

  it("names the channels of a non-default channel count", () => {
    expect(resolveUNet3DConfig({ inputShape: [null, null, null, 4] }).modalities).toEqual([
      "channel0",
      "channel1",
      "channel2",
      "channel3",
    ]);
    expect(resolveUNet3DConfig({ modalities: ["t1", "t2"] }).inputShape).toEqual([
      null,
      null,
      null,
      2,
    ]);
  });
});
