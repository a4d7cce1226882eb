import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core alone registers no gradients (tfjs-layers or @tensorflow/tfjs do it on import).
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { numericGradient, sampleIndices, worstMismatch } from "./gradcheck.testutil.js";
import {
  binaryCrossEntropy,
  categoricalCrossEntropy,
  diceCELoss,
  regionDiceBCELoss,
  softDiceLoss,
} from "./losses.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const scalar = (t: tf.Scalar): number => t.dataSync()[0]!;

// Two voxels, two classes: voxel 0 is class 0 (p = 0.8), voxel 1 is class 1 (p = 0.6).
const T2 = (): tf.Tensor => tf.tensor5d([1, 0, 0, 1], [1, 1, 1, 2, 2]);
const P2 = (): tf.Tensor => tf.tensor5d([0.8, 0.2, 0.4, 0.6], [1, 1, 1, 2, 2]);

describe("loss values worked out by hand", () => {
  const cases: Array<[string, () => number, number]> = [
    // Dice class 0: 2·0.8 / (1 + 1.2) = 8/11; class 1: 2·0.6 / (1 + 0.8) = 2/3 → 1 − 23/33.
    ["softDice, smooth 0", () => scalar(softDiceLoss(T2(), P2(), { smooth: 0 })), 10 / 33],
    // (1.6 + 1)/(2.2 + 1) = 13/16, (1.2 + 1)/(1.8 + 1) = 11/14 → 1 − 179/224.
    ["softDice, smooth 1", () => scalar(softDiceLoss(T2(), P2(), { smooth: 1 })), 45 / 224],
    [
      "categorical CE",
      () => scalar(categoricalCrossEntropy(T2(), P2())),
      -(Math.log(0.8) + Math.log(0.6)) / 2,
    ],
    [
      "Dice + CE, smooth 0",
      () => scalar(diceCELoss(T2(), P2(), { smooth: 0 })),
      10 / 33 - (Math.log(0.8) + Math.log(0.6)) / 2,
    ],
    // Batch and space are pooled per class: sample 0 perfect, sample 1 split 50/50 →
    // class 0: 2·1/(1 + 1.5) = 0.8, class 1: 2·0.5/(1 + 0.5) = 2/3 → 1 − 11/15.
    [
      "softDice pools the batch",
      () =>
        scalar(
          softDiceLoss(
            tf.tensor5d([1, 0, 0, 1], [2, 1, 1, 1, 2]),
            tf.tensor5d([1, 0, 0.5, 0.5], [2, 1, 1, 1, 2]),
            { smooth: 0 },
          ),
        ),
      4 / 15,
    ],
    // A class absent from truth and prediction scores Dice 1 thanks to the smoothing.
    [
      "softDice, perfect with an absent class",
      () =>
        scalar(
          softDiceLoss(
            tf.tensor5d([1, 0, 0, 1, 0, 0], [1, 1, 1, 2, 3]),
            tf.tensor5d([1, 0, 0, 1, 0, 0], [1, 1, 1, 2, 3]),
          ),
        ),
      0,
    ],
    // p = 0 for the true class is clipped to 1e-7.
    [
      "CE clips p = 0",
      () => scalar(categoricalCrossEntropy(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]))),
      -Math.log(1e-7),
    ],
    [
      "CE with epsilon 1e-3",
      () =>
        scalar(
          categoricalCrossEntropy(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]), { epsilon: 1e-3 }),
        ),
      -Math.log(1e-3),
    ],
    [
      "binary CE",
      () => scalar(binaryCrossEntropy(tf.tensor2d([[1, 0, 1]]), tf.tensor2d([[0.9, 0.2, 0.5]]))),
      -(Math.log(0.9) + Math.log(0.8) + Math.log(0.5)) / 3,
    ],
    // Region Dice: 1.8/1.9, 0/0.2, 1/1.5 → 1 − 92/171; plus the binary CE above.
    [
      "region Dice + BCE, smooth 0",
      () =>
        scalar(
          regionDiceBCELoss(tf.tensor2d([[1, 0, 1]]), tf.tensor2d([[0.9, 0.2, 0.5]]), {
            smooth: 0,
          }),
        ),
      79 / 171 - (Math.log(0.9) + Math.log(0.8) + Math.log(0.5)) / 3,
    ],
  ];
  for (const [name, actual, expected] of cases) {
    it(name, () => {
      expect(Math.abs(actual() - expected)).toBeLessThan(2e-6 * Math.max(1, Math.abs(expected)));
    });
  }

  it("categorical CE on softmax(logits) equals tf.losses.softmaxCrossEntropy(logits)", () => {
    const logits = tf.randomNormal([2, 3, 3, 2, 4], 0, 2, "float32", 1);
    const labels = tf.oneHot(tf.randomUniform([2, 3, 3, 2], 0, 4, "int32", 2), 4);
    const ours = scalar(categoricalCrossEntropy(labels, tf.softmax(logits)));
    const theirs = tf.losses.softmaxCrossEntropy(labels, logits).dataSync()[0]!;
    expect(Math.abs(ours - theirs)).toBeLessThan(1e-5);
  });

  it("rejects mismatched shapes and bad options with typed errors", () => {
    expect(() => softDiceLoss(tf.zeros([1, 2, 2, 2, 4]), tf.zeros([1, 2, 2, 2, 3]))).toThrowError(
      expect.objectContaining({ code: "SHAPE_MISMATCH" }),
    );
    expect(() => softDiceLoss(T2(), P2(), { smooth: -1 })).toThrowError(
      expect.objectContaining({ code: "BAD_CONFIG" }),
    );
    expect(() => categoricalCrossEntropy(T2(), P2(), { epsilon: 0 })).toThrowError(
      expect.objectContaining({ code: "BAD_CONFIG" }),
    );
  });

  it("leaks no tensors", () => {
    const t = T2();
    const p = P2();
    const before = tf.memory().numTensors;
    const losses = [
      softDiceLoss(t, p),
      categoricalCrossEntropy(t, p),
      diceCELoss(t, p),
      regionDiceBCELoss(t, p),
    ];
    expect(tf.memory().numTensors).toBe(before + losses.length);
  });
});

describe("loss gradients against finite differences", () => {
  const shape: [number, number, number, number, number] = [2, 2, 3, 2, 4];
  const labels = (): tf.Tensor =>
    tf.oneHot(tf.randomUniform(shape.slice(0, 4), 0, 4, "int32", 3), 4);
  const regions = (): tf.Tensor =>
    tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, "float32", 4), 0.5), "float32");
  const logits = (): tf.Tensor => tf.randomNormal(shape, 0, 1.5, "float32", 5);

  const cases: Array<[string, () => tf.Tensor, (t: tf.Tensor, z: tf.Tensor) => tf.Scalar]> = [
    ["softDice ∘ softmax", labels, (t, z) => softDiceLoss(t, tf.softmax(z))],
    ["categorical CE ∘ softmax", labels, (t, z) => categoricalCrossEntropy(t, tf.softmax(z))],
    ["Dice + CE ∘ softmax", labels, (t, z) => diceCELoss(t, tf.softmax(z))],
    ["region Dice + BCE ∘ sigmoid", regions, (t, z) => regionDiceBCELoss(t, tf.sigmoid(z))],
  ];
  for (const [name, truth, loss] of cases) {
    it(`${name}: w.r.t. the logits`, () => {
      const t = truth();
      const z = logits();
      const f = (x: tf.Tensor): tf.Scalar => loss(t, x);
      const analytic = tf.grad(f)(z).dataSync();
      const idx = sampleIndices(z.size, 32);
      const numeric = numericGradient(f, z, idx, 1e-2);
      expect(Math.max(...numeric.map(Math.abs)), "a non-trivial gradient").toBeGreaterThan(1e-3);
      expect(
        worstMismatch(
          idx.map((i) => analytic[i]!),
          numeric,
          2e-4,
          1e-2,
        ),
      ).toBeLessThanOrEqual(1);
    });
  }

  it("soft Dice w.r.t. the probabilities directly", () => {
    const t = labels();
    const p = tf.softmax(logits());
    const f = (x: tf.Tensor): tf.Scalar => softDiceLoss(t, x);
    const analytic = tf.grad(f)(p).dataSync();
    const idx = sampleIndices(p.size, 32);
    const numeric = numericGradient(f, p, idx, 1e-2);
    expect(
      worstMismatch(
        idx.map((i) => analytic[i]!),
        numeric,
        2e-4,
        1e-2,
      ),
    ).toBeLessThanOrEqual(1);
  });
});
