// Test-time augmentation (8 mirror flips), ensembles and WindowPredictor engines in predictVolume.
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { UNet3DError } from "./errors.js";
import { flipChannelsLast, MIRROR_FLIPS, slidingWindows, type Vec3 } from "./inference-splitter.js";
import {
  predictVolume,
  type Volume,
  type VolumePredictor,
  type WindowPredictor,
} from "./inference.js";
import { seeded } from "./seeded.testutil.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rand = seeded(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

function randomVolume(shape: [number, number, number, number], seed: number): Volume {
  return {
    data: randomArray(
      shape.reduce((a, b) => a * b, 1),
      seed,
      0,
      1,
    ),
    shape,
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UNet3DError);
  expect((error as UNet3DError).code).toBe(code);
}

/** A 3×3×3 kernel [3,3,3,C,K]; `symmetric` mirrors it along every axis (flip-equivariant conv). */
function kernel(c: number, k: number, seed: number, symmetric: boolean): Float32Array {
  const w = randomArray(27 * c * k, seed, -0.5, 0.5);
  if (!symmetric) return w;
  const out = new Float32Array(w.length);
  const at = (z: number, y: number, x: number, i: number, o: number) =>
    (((z * 3 + y) * 3 + x) * c + i) * k + o;
  for (let z = 0; z < 3; z++)
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 3; x++)
        for (let i = 0; i < c; i++)
          for (let o = 0; o < k; o++) {
            // the mean over the 8 mirror images is symmetric under every flip
            let sum = 0;
            for (const f of MIRROR_FLIPS) {
              const zz = f & 1 ? 2 - z : z;
              const yy = f & 2 ? 2 - y : y;
              const xx = f & 4 ? 2 - x : x;
              sum += w[at(zz, yy, xx, i, o)]!;
            }
            out[at(z, y, x, i, o)] = sum / 8;
          }
  return out;
}

/** A TF.js model: sigmoid(conv3d(x, w, same) + bias), K outputs. */
function tfConvModel(w: Float32Array, c: number, k: number, bias: number) {
  const filter = tf.tensor5d(w, [3, 3, 3, c, k]);
  const model = (x: tf.Tensor5D): tf.Tensor5D =>
    tf.tidy(() => tf.sigmoid(tf.add<tf.Tensor5D>(tf.conv3d(x, filter, 1, "same"), bias)));
  return { model, dispose: () => filter.dispose() };
}

/** The same function in plain JS, as a WindowPredictor (no TF.js involved). */
function jsConvPredictor(w: Float32Array, c: number, k: number, bias: number): WindowPredictor {
  return {
    predictWindows(input, [n, d, h, wd, ch]) {
      expect(ch).toBe(c);
      const out = new Float32Array(n * d * h * wd * k);
      for (let b = 0; b < n; b++)
        for (let z = 0; z < d; z++)
          for (let y = 0; y < h; y++)
            for (let x = 0; x < wd; x++)
              for (let o = 0; o < k; o++) {
                let sum = bias;
                for (let dz = 0; dz < 3; dz++) {
                  const zz = z + dz - 1;
                  if (zz < 0 || zz >= d) continue;
                  for (let dy = 0; dy < 3; dy++) {
                    const yy = y + dy - 1;
                    if (yy < 0 || yy >= h) continue;
                    for (let dx = 0; dx < 3; dx++) {
                      const xx = x + dx - 1;
                      if (xx < 0 || xx >= wd) continue;
                      const src = (((b * d + zz) * h + yy) * wd + xx) * c;
                      for (let i = 0; i < c; i++) {
                        sum += input[src + i]! * w[(((dz * 3 + dy) * 3 + dx) * c + i) * k + o]!;
                      }
                    }
                  }
                }
                out[(((b * d + z) * h + y) * wd + x) * k + o] = 1 / (1 + Math.exp(-sum));
              }
      return Promise.resolve(out);
    },
  };
}

/** A per-voxel function of the channels: softmax of a fixed linear map (K = 3), flip-equivariant. */
const perVoxel = (x: tf.Tensor5D): tf.Tensor5D =>
  tf.tidy(() => {
    const c = x.shape[4];
    const m = tf.tensor2d(randomArray(c * 3, 5), [c, 3]);
    const flat = tf.reshape(x, [-1, c]);
    const [n, d, h, w] = x.shape;
    return tf.reshape<tf.Rank.R5>(tf.softmax(tf.matMul(flat, m)), [n, d, h, w, 3]);
  });

/** Axes of a [N,D,H,W,K] tensor that flip f mirrors. */
function flipAxes(f: number): number[] {
  return [1, 2, 3].filter((_, i) => (f & (1 << i)) !== 0);
}

/** The hand-computed TTA of a model with tf.reverse: mean over f of flip(model(flip(x))). */
function ttaByHand(model: (x: tf.Tensor5D) => tf.Tensor5D) {
  return (x: tf.Tensor5D): tf.Tensor5D =>
    tf.tidy(() => {
      const outs = MIRROR_FLIPS.map((f) => {
        const axes = flipAxes(f);
        if (axes.length === 0) return model(x);
        return tf.reverse(model(tf.reverse(x, axes)), axes);
      });
      return tf.div(tf.addN(outs), outs.length);
    });
}

describe("flipChannelsLast", () => {
  // [2,2,3,1] volume 0..11 in one batch: index ((z·2 + y)·3 + x)
  const data = Float32Array.from({ length: 12 }, (_, i) => i);
  const cases: Array<[number, number[]]> = [
    [0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    [1, [6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5]], // D
    [2, [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]], // H
    [4, [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]], // W
    [7, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]], // all three: reversed
  ];
  it.each(cases)("flip %i of a single-channel volume", (flips, expected) => {
    expect(Array.from(flipChannelsLast(data, [1, 2, 2, 3, 1], flips))).toEqual(expected);
  });

  it("moves whole voxels (all channels) and keeps batches apart", () => {
    // [2 batches, 1, 1, 2 x, 2 channels]
    const v = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(flipChannelsLast(v, [2, 1, 1, 2, 2], 4))).toEqual([3, 4, 1, 2, 7, 8, 5, 6]);
    expect(Array.from(flipChannelsLast(v, [2, 1, 1, 2, 2], 3))).toEqual(Array.from(v));
  });

  it("is its own inverse and matches tf.reverse for every flip", () => {
    const shape: [number, number, number, number, number] = [2, 3, 4, 5, 3];
    const v = randomArray(2 * 3 * 4 * 5 * 3, 1);
    const t = tf.tensor5d(v, shape);
    for (const f of MIRROR_FLIPS) {
      const once = flipChannelsLast(v, shape, f);
      expect(Array.from(flipChannelsLast(once, shape, f))).toEqual(Array.from(v));
      const axes = flipAxes(f);
      const reversed = axes.length === 0 ? t.clone() : tf.reverse(t, axes);
      expect(Array.from(once)).toEqual(Array.from(reversed.dataSync()));
      reversed.dispose();
    }
    t.dispose();
  });

  it("rejects a size mismatch and in-place use", () => {
    const v = new Float32Array(12);
    expect(() => flipChannelsLast(v, [1, 2, 2, 2, 1], 1)).toThrow(UNet3DError);
    expect(() => flipChannelsLast(v, [1, 2, 2, 3, 1], 1, new Float32Array(11))).toThrow(
      UNet3DError,
    );
    expect(() => flipChannelsLast(v, [1, 2, 2, 3, 1], 1, v)).toThrow(UNet3DError);
  });
});

describe("predictVolume with tta", () => {
  const shape: [number, number, number, number] = [9, 11, 10, 2];
  const windowSize: Vec3 = [6, 6, 6];

  it("changes nothing for a per-voxel function of the channels", async () => {
    const volume = randomVolume(shape, 3);
    const before = tf.memory().numTensors;
    const plain = await predictVolume(perVoxel, volume, { windowSize });
    const tta = await predictVolume(perVoxel, volume, { windowSize, tta: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(plain.shape).toEqual([9, 11, 10, 3]);
    expect(maxAbsDiff(tta.data, plain.data)).toBeLessThanOrEqual(1e-6);
  });

  it("changes nothing for a mirror-symmetric 3×3×3 conv, in TF.js and as a WindowPredictor", async () => {
    const volume = randomVolume(shape, 4);
    const w = kernel(2, 3, 9, true);
    const tfModel = tfConvModel(w, 2, 3, 0.1);
    const jsModel = jsConvPredictor(w, 2, 3, 0.1);
    const before = tf.memory().numTensors;
    const plain = await predictVolume(tfModel.model, volume, { windowSize, overlap: 0.5 });
    for (const model of [tfModel.model, jsModel] as VolumePredictor[]) {
      const tta = await predictVolume(model, volume, { windowSize, overlap: 0.5, tta: true });
      expect(maxAbsDiff(tta.data, plain.data)).toBeLessThanOrEqual(1e-6);
    }
    expect(tf.memory().numTensors).toBe(before);
    tfModel.dispose();
  });

  it("averages the 8 flipped-back predictions of a model that is not flip-equivariant", async () => {
    const volume = randomVolume(shape, 5);
    const w = kernel(2, 3, 10, false);
    const { model, dispose } = tfConvModel(w, 2, 3, -0.2);
    // The kernel really is asymmetric: TTA moves the output.
    const plain = await predictVolume(model, volume, { windowSize });
    const tta = await predictVolume(model, volume, { windowSize, tta: true });
    expect(maxAbsDiff(tta.data, plain.data)).toBeGreaterThan(1e-3);
    // One window over the whole volume: the merge is the identity, TTA is the plain mean.
    const whole = { data: volume.data, shape };
    const single = await predictVolume(model, whole, {
      windowSize: [9, 11, 10],
      tta: true,
    });
    const x = tf.tensor5d(volume.data, [1, ...shape]);
    const expected = ttaByHand(model)(x);
    expect(maxAbsDiff(single.data, expected.dataSync())).toBeLessThanOrEqual(1e-6);
    x.dispose();
    expected.dispose();
    // Overlapping windows: per window, the same mean before the merge.
    const byHand = await predictVolume(ttaByHand(model), volume, { windowSize });
    expect(maxAbsDiff(tta.data, byHand.data)).toBeLessThanOrEqual(1e-6);
    // A WindowPredictor of the same function agrees.
    const js = await predictVolume(jsConvPredictor(w, 2, 3, -0.2), volume, {
      windowSize,
      tta: true,
    });
    expect(maxAbsDiff(js.data, byHand.data)).toBeLessThanOrEqual(1e-6);
    dispose();
  });

  it("gives labels from the averaged probabilities", async () => {
    const volume = randomVolume(shape, 6);
    const { model, dispose } = tfConvModel(kernel(2, 3, 11, false), 2, 3, 0);
    const probabilities = await predictVolume(model, volume, { windowSize, tta: true });
    const labels = await predictVolume(model, volume, {
      windowSize,
      tta: true,
      output: "labels",
    });
    const p = probabilities.data;
    for (let v = 0; v < labels.data.length; v++) {
      const c = [p[3 * v]!, p[3 * v + 1]!, p[3 * v + 2]!];
      expect(labels.data[v]).toBe(c.indexOf(Math.max(...c)));
    }
    dispose();
  });

  it("reports every window pass: windows × 8 flips × models", async () => {
    const volume = randomVolume([4, 4, 20, 1], 9);
    const windows = slidingWindows([4, 4, 20], [4, 4, 8], 0.5).length;
    expect(windows).toBe(4);
    const progress: Array<[number, number]> = [];
    let calls = 0;
    const counting = (x: tf.Tensor5D): tf.Tensor5D => {
      calls += x.shape[0];
      return tf.add<tf.Tensor5D>(x, 0);
    };
    await predictVolume([counting, counting], volume, {
      windowSize: [4, 4, 8],
      batchSize: 3,
      tta: true,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(calls).toBe(4 * 8 * 2);
    // batches of 3 and 1 windows, each through 8 flips × 2 models
    expect(progress.length).toBe(2 * 8 * 2);
    expect(progress.every(([, total]) => total === 64)).toBe(true);
    expect(progress.map(([done]) => done)).toEqual([
      ...Array.from({ length: 16 }, (_, i) => 3 * (i + 1)),
      ...Array.from({ length: 16 }, (_, i) => 48 + i + 1),
    ]);
  });
});

describe("predictVolume with ensembles", () => {
  const shape: [number, number, number, number] = [8, 10, 9, 2];
  const windowSize: Vec3 = [5, 6, 5];

  it("averages the models' probabilities (equal to averaging the merged maps)", async () => {
    const volume = randomVolume(shape, 12);
    const a = tfConvModel(kernel(2, 3, 13, false), 2, 3, 0.3);
    const b = tfConvModel(kernel(2, 3, 14, false), 2, 3, -0.3);
    const before = tf.memory().numTensors;
    const ensemble = await predictVolume([a.model, b.model], volume, { windowSize });
    const pa = await predictVolume(a.model, volume, { windowSize });
    const pb = await predictVolume(b.model, volume, { windowSize });
    const mean = pa.data.map((v, i) => (v + pb.data[i]!) / 2);
    expect(maxAbsDiff(ensemble.data, mean)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(pa.data, pb.data)).toBeGreaterThan(1e-2); // the two really differ
    // A single model in an array is that model.
    const alone = await predictVolume([a.model], volume, { windowSize });
    expect(Array.from(alone.data)).toEqual(Array.from(pa.data));
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
    b.dispose();
  });

  it("mixes TF.js models and WindowPredictors, with and without tta", async () => {
    const volume = randomVolume(shape, 15);
    const wa = kernel(2, 3, 16, false);
    const wb = kernel(2, 3, 17, false);
    const a = tfConvModel(wa, 2, 3, 0);
    const b = tfConvModel(wb, 2, 3, 0.5);
    const before = tf.memory().numTensors;
    for (const tta of [false, true]) {
      const tfOnly = await predictVolume([a.model, b.model], volume, { windowSize, tta });
      const mixed = await predictVolume([a.model, jsConvPredictor(wb, 2, 3, 0.5)], volume, {
        windowSize,
        tta,
      });
      const jsOnly = await predictVolume(
        [jsConvPredictor(wa, 2, 3, 0), jsConvPredictor(wb, 2, 3, 0.5)],
        volume,
        { windowSize, tta },
      );
      expect(maxAbsDiff(mixed.data, tfOnly.data)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(jsOnly.data, tfOnly.data)).toBeLessThanOrEqual(1e-6);
    }
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
    b.dispose();
  });

  it("passes a WindowPredictor the windows, channels-last, in batches", async () => {
    const volume = randomVolume([3, 4, 10, 2], 18);
    const seen: Array<[number, number, number, number, number]> = [];
    const identity: WindowPredictor = {
      predictWindows: (input, s) => {
        seen.push(s);
        expect(input.length).toBe(s.reduce((p, q) => p * q, 1));
        return Promise.resolve(input.slice());
      },
    };
    const out = await predictVolume(identity, volume, {
      windowSize: [3, 4, 4],
      overlap: 0.5,
      batchSize: 2,
    });
    expect(seen).toEqual([
      [2, 3, 4, 4, 2],
      [2, 3, 4, 4, 2],
    ]);
    expect(maxAbsDiff(out.data, volume.data)).toBeLessThanOrEqual(1e-6);
    // Returning the input view itself is fine too (it is read before the buffer is reused).
    const same = await predictVolume(
      { predictWindows: (input) => Promise.resolve(input) },
      volume,
      {
        windowSize: [3, 4, 4],
        tta: true,
      },
    );
    expect(maxAbsDiff(same.data, volume.data)).toBeLessThanOrEqual(1e-6);
  });

  it("rejects models that disagree on K, and bad predictor outputs", async () => {
    const volume = randomVolume([6, 6, 6, 1], 19);
    const constant =
      (k: number) =>
      (x: tf.Tensor5D): tf.Tensor5D =>
        tf.fill<tf.Rank.R5>([x.shape[0], x.shape[1], x.shape[2], x.shape[3], k], 0.5);
    const windowK2: WindowPredictor = {
      predictWindows: (input, [n, d, h, w]) => Promise.resolve(new Float32Array(n * d * h * w * 2)),
    };
    const before = tf.memory().numTensors;
    const options = { windowSize: [4, 4, 4] as Vec3 };
    await expectCode(predictVolume([constant(3), constant(2)], volume, options), "SHAPE_MISMATCH");
    await expectCode(predictVolume([constant(3), windowK2], volume, options), "SHAPE_MISMATCH");
    await expectCode(
      predictVolume([windowK2, constant(3)], volume, { ...options, tta: true }),
      "SHAPE_MISMATCH",
    );
    const badLength: WindowPredictor = {
      predictWindows: (input) => Promise.resolve(new Float32Array(input.length + 1)),
    };
    await expectCode(predictVolume(badLength, volume, options), "SHAPE_MISMATCH");
    const empty: WindowPredictor = { predictWindows: () => Promise.resolve(new Float32Array(0)) };
    await expectCode(predictVolume(empty, volume, options), "SHAPE_MISMATCH");
    const notFloat = {
      predictWindows: (input: Float32Array) => Promise.resolve(Float64Array.from(input)),
    } as unknown as WindowPredictor;
    await expectCode(predictVolume(notFloat, volume, options), "SHAPE_MISMATCH");
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [[], "BAD_CONFIG"],
    [[{}], "BAD_CONFIG"],
    [[null], "BAD_CONFIG"],
    [[{ predictWindows: 1 }], "BAD_CONFIG"],
  ])("rejects the model list %j", async (models, code) => {
    const volume = randomVolume([6, 6, 6, 1], 20);
    await expectCode(
      predictVolume(models as unknown as VolumePredictor[], volume, { windowSize: [4, 4, 4] }),
      code,
    );
  });

  it("rejects a non-boolean tta", async () => {
    const volume = randomVolume([6, 6, 6, 1], 21);
    await expectCode(
      predictVolume((x: tf.Tensor5D) => x, volume, {
        windowSize: [4, 4, 4],
        tta: "yes" as unknown as boolean,
      }),
      "BAD_CONFIG",
    );
  });

  it("disposes every tensor when one model of an ensemble throws under tta", async () => {
    const volume = randomVolume([6, 6, 6, 1], 22);
    let calls = 0;
    const failsLater = (x: tf.Tensor5D): tf.Tensor5D => {
      if (++calls === 5) throw new Error("model failed");
      return tf.add<tf.Tensor5D>(x, 1);
    };
    const before = tf.memory().numTensors;
    await expect(
      predictVolume([(x: tf.Tensor5D) => tf.mul<tf.Tensor5D>(x, 2), failsLater], volume, {
        windowSize: [4, 4, 4],
        tta: true,
      }),
    ).rejects.toThrow("model failed");
    expect(tf.memory().numTensors).toBe(before);
    const rejecting: WindowPredictor = {
      predictWindows: () => Promise.reject(new Error("engine failed")),
    };
    await expect(
      predictVolume([(x: tf.Tensor5D) => tf.mul<tf.Tensor5D>(x, 2), rejecting], volume, {
        windowSize: [4, 4, 4],
      }),
    ).rejects.toThrow("engine failed");
    expect(tf.memory().numTensors).toBe(before);
  });
});
