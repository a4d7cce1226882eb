import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { UNet3DError } from "./errors.js";
import { gaussianImportance, IMPORTANCE_FLOOR } from "./inference-merger.js";
import { slidingWindows, windowStarts, type Vec3 } from "./inference-splitter.js";
import { predictVolume, type Volume } from "./inference.js";
import { seeded } from "./seeded.testutil.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function randomVolume(shape: [number, number, number, number], seed: number): Volume {
  const rand = seeded(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rand();
  return { data, shape };
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

describe("windowStarts", () => {
  // [size, window, overlap, starts]; step = floor(window·(1−overlap)), last flush with the end.
  const cases: Array<[number, number, number, number[]]> = [
    [240, 128, 0.5, [0, 64, 112]], // ceil(112/64)+1 = 3 windows
    [155, 128, 0.5, [0, 27]],
    [128, 128, 0.5, [0]], // exact fit
    [16, 8, 0, [0, 8]], // exact tiling without overlap
    [17, 8, 0, [0, 8, 9]],
    [12, 8, 0.75, [0, 2, 4]],
    [10, 4, 0.5, [0, 2, 4, 6]],
    [9, 8, 0.99, [0, 1]], // step floors at 1
    [5, 8, 0.5, [-1]], // smaller: centred, padding 1 before and 2 after
    [1, 4, 0.25, [-1]],
    [7, 8, 0, [0]], // pad 1: floor(1/2) = 0 before, 1 after
  ];
  it.each(cases)("size %i window %i overlap %f", (size, window, overlap, starts) => {
    expect(windowStarts(size, window, overlap)).toEqual(starts);
  });
});

describe("slidingWindows", () => {
  const cases: Array<[Vec3, Vec3, number]> = [
    [[16, 16, 16], [8, 8, 8], 0.5],
    [[16, 16, 16], [16, 16, 16], 0.5], // exact fit: one window
    [[17, 9, 31], [8, 8, 8], 0.5],
    [[17, 9, 31], [8, 8, 8], 0],
    [[17, 9, 31], [5, 3, 7], 0.25],
    [[20, 12, 11], [6, 4, 10], 0.75],
    [[5, 12, 3], [8, 4, 8], 0.5], // smaller than the window along z and x
    [[2, 2, 2], [4, 4, 4], 0.5], // smaller along every axis
    [[24, 24, 24], [8, 8, 8], 0], // exact tiling
  ];
  it.each(cases)("volume %j window %j overlap %f covers every voxel", (shape, window, overlap) => {
    const windows = slidingWindows(shape, window, overlap);
    const [D, H, W] = shape;
    const cover = new Uint16Array(D * H * W);
    for (const start of windows) {
      for (let a = 0; a < 3; a++) {
        if (shape[a]! >= window[a]!) {
          expect(start[a]).toBeGreaterThanOrEqual(0);
          expect(start[a]! + window[a]!).toBeLessThanOrEqual(shape[a]!);
        } else {
          expect(start[a]).toBe(-Math.floor((window[a]! - shape[a]!) / 2));
        }
      }
      const [z0, y0, x0] = start;
      for (let z = Math.max(0, z0); z < Math.min(D, z0 + window[0]); z++)
        for (let y = Math.max(0, y0); y < Math.min(H, y0 + window[1]); y++)
          for (let x = Math.max(0, x0); x < Math.min(W, x0 + window[2]); x++)
            cover[(z * H + y) * W + x]!++;
    }
    expect(Math.min(...cover)).toBeGreaterThanOrEqual(1);
    // Number of windows is the product of the per-axis counts, without duplicates.
    const perAxis = [0, 1, 2].map((a) => windowStarts(shape[a]!, window[a]!, overlap).length);
    expect(windows.length).toBe(perAxis[0]! * perAxis[1]! * perAxis[2]!);
    expect(new Set(windows.map((w) => w.join(","))).size).toBe(windows.length);
  });

  it("covers exactly once when the windows tile the volume", () => {
    const windows = slidingWindows([24, 24, 24], [8, 8, 8], 0);
    expect(windows.length).toBe(27);
    expect(windows[0]).toEqual([0, 0, 0]);
    expect(windows[1]).toEqual([0, 0, 8]); // z-major, x fastest
    expect(windows[26]).toEqual([16, 16, 16]);
  });

  it.each([
    [[8, 8, 8], [0, 8, 8], 0.5],
    [[8, 8, 8], [8, 8, 8], 1],
    [[8, 8, 8], [8, 8, 8], -0.1],
    [[8, 8.5, 8], [8, 8, 8], 0.5],
  ] as Array<[Vec3, Vec3, number]>)("rejects volume %j window %j overlap %f", (s, w, o) => {
    expect(() => slidingWindows(s, w, o)).toThrow(UNet3DError);
  });
});

describe("gaussianImportance", () => {
  it("is a separable Gaussian with σ = size/8, maximum 1, floored", () => {
    // Window 8: σ = 1, centre 3.5, so g(i) = exp(−(i−3.5)²/2) / exp(−0.125).
    const map = gaussianImportance([8, 8, 8]);
    const g = (i: number) => Math.exp(-((i - 3.5) ** 2) / 2) / Math.exp(-0.125);
    const at = (z: number, y: number, x: number) => map[(z * 8 + y) * 8 + x]!;
    expect(at(3, 3, 3)).toBe(1);
    expect(at(4, 3, 4)).toBe(1);
    expect(at(3, 3, 0)).toBeCloseTo(Math.exp(-6), 7); // g(0) = exp(−6.125)/exp(−0.125)
    expect(at(3, 2, 1)).toBeCloseTo(g(2) * g(1), 7);
    expect(at(0, 0, 0)).toBe(Math.fround(IMPORTANCE_FLOOR)); // exp(−18) is below the floor
    expect(Math.max(...map)).toBe(1);
    expect(Math.min(...map)).toBe(Math.fround(IMPORTANCE_FLOOR));
  });

  it("uses σ per axis and is symmetric about the centre", () => {
    const [d, h, w] = [5, 8, 12];
    const map = gaussianImportance([d, h, w], 0.25);
    for (let z = 0; z < d; z++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const v = map[(z * h + y) * w + x]!;
          expect(v).toBe(map[((d - 1 - z) * h + (h - 1 - y)) * w + (w - 1 - x)]!);
        }
    // Odd size: the centre voxel is the maximum 1; one voxel off along z: exp(−1/(2·1.25²)).
    expect(map[(1 * h + 3) * w + 5]! / map[(2 * h + 3) * w + 5]!).toBeCloseTo(
      Math.exp(-1 / (2 * 1.25 ** 2)),
      6,
    );
  });

  it("rejects a non-positive sigmaScale", () => {
    expect(() => gaussianImportance([4, 4, 4], 0)).toThrow(UNet3DError);
    expect(() => gaussianImportance([4, 4, 4], Number.NaN)).toThrow(UNet3DError);
  });
});

describe("predictVolume", () => {
  const constantModel =
    (k: number, value: number) =>
    (x: tf.Tensor5D): tf.Tensor5D =>
      tf.fill<tf.Rank.R5>([x.shape[0], x.shape[1], x.shape[2], x.shape[3], k], value);
  const identity = (x: tf.Tensor5D): tf.Tensor5D => x;

  it.each([
    [[17, 9, 31, 2], [8, 8, 8], 0.5, 2],
    [[12, 12, 12, 1], [6, 6, 6], 0.75, 3],
    [[5, 12, 3, 2], [8, 4, 8], 0.5, 1], // padded along z and x
    [[16, 16, 16, 1], [16, 16, 16], 0.5, 2], // one window
  ] as Array<[[number, number, number, number], Vec3, number, number]>)(
    "weights normalise: a constant model gives the constant (volume %j window %j)",
    async (shape, windowSize, overlap, batchSize) => {
      const volume = randomVolume(shape, 7);
      const [D, H, W] = shape;
      for (const mode of ["gaussian", "constant"] as const) {
        // 0.25 is a power of two, so weighted sums and their division are exact in float32.
        const exact = await predictVolume(constantModel(3, 0.25), volume, {
          windowSize,
          overlap,
          batchSize,
          mode,
        });
        expect(exact.shape).toEqual([D, H, W, 3]);
        expect(exact.data).toBeInstanceOf(Float32Array);
        expect(exact.data.every((v) => v === 0.25)).toBe(true);
        const other = await predictVolume(constantModel(2, 0.3), volume, {
          windowSize,
          overlap,
          mode,
        });
        expect(maxAbsDiff(other.data, new Float32Array(D * H * W * 2).fill(0.3))).toBeLessThan(
          1e-6,
        );
      }
    },
  );

  const identityCases: Array<[[number, number, number, number], Vec3, number, number]> = [];
  for (const overlap of [0, 0.25, 0.5, 0.75]) {
    for (const batchSize of [1, 2, 5]) {
      identityCases.push([[10, 13, 7, 2], [4, 6, 5], overlap, batchSize]);
    }
  }
  identityCases.push([[3, 9, 12, 2], [8, 8, 8], 0.5, 2]); // smaller than the window along z
  identityCases.push([[6, 6, 6, 3], [6, 6, 6], 0.5, 1]); // exact fit
  it.each(identityCases)(
    "an identity model passes volume %j through (window %j, overlap %f, batch %i)",
    async (shape, windowSize, overlap, batchSize) => {
      const volume = randomVolume(shape, 11);
      const before = tf.memory().numTensors;
      for (const model of [identity, (x: tf.Tensor5D) => tf.add<tf.Tensor5D>(x, 0)]) {
        const result = await predictVolume(model, volume, { windowSize, overlap, batchSize });
        expect(result.shape).toEqual(shape);
        expect(maxAbsDiff(result.data, volume.data)).toBeLessThanOrEqual(1e-6);
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it("accepts a LayersModel-like predict() and uses its first output", async () => {
    const volume = randomVolume([9, 9, 9, 2], 3);
    const model = {
      predict: (x: tf.Tensor) => [tf.mul(x, 2), tf.mul(x, 3)],
    };
    const before = tf.memory().numTensors;
    const result = await predictVolume(model, volume, { windowSize: [4, 4, 4], overlap: 0.5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(
      maxAbsDiff(
        result.data,
        volume.data.map((v) => 2 * v),
      ),
    ).toBeLessThanOrEqual(2e-6);
  });

  it("returns the argmax as labels", async () => {
    const volume = randomVolume([7, 8, 9, 4], 5);
    const result = await predictVolume(identity, volume, {
      windowSize: [4, 4, 4],
      output: "labels",
    });
    expect(result.shape).toEqual([7, 8, 9]);
    expect(result.data).toBeInstanceOf(Uint8Array);
    const expected = new Uint8Array(7 * 8 * 9);
    for (let v = 0; v < expected.length; v++) {
      const c = [0, 1, 2, 3].map((k) => volume.data[v * 4 + k]!);
      expected[v] = c.indexOf(Math.max(...c));
    }
    expect(Array.from(result.data)).toEqual(Array.from(expected));
  });

  it("pads a volume smaller than the window with padValue, centred, and crops back", async () => {
    // Volume [2,3,1,1] in a window [4,4,4]: padding before = floor((4-n)/2) = [1,0,1].
    const volume: Volume = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3, 1, 1] };
    const seen: number[][] = [];
    const spy = (x: tf.Tensor5D): tf.Tensor5D => {
      seen.push(Array.from(x.dataSync()));
      return tf.add<tf.Tensor5D>(x, 0);
    };
    const result = await predictVolume(spy, volume, { windowSize: [4, 4, 4], padValue: -9 });
    expect(seen.length).toBe(1);
    const input = seen[0]!;
    expect(input.length).toBe(64);
    for (let z = 0; z < 4; z++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++) {
          const [sz, sy, sx] = [z - 1, y, x - 1];
          const inside = sz >= 0 && sz < 2 && sy < 3 && sx === 0;
          expect(input[(z * 4 + y) * 4 + x]).toBe(inside ? volume.data[sz * 3 + sy]! : -9);
        }
    expect(Array.from(result.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("sends batches of at most batchSize windows and reports progress", async () => {
    const volume = randomVolume([4, 4, 20, 1], 9);
    expect(slidingWindows([4, 4, 20], [4, 4, 8], 0.5).length).toBe(4);
    const batches: number[] = [];
    const progress: Array<[number, number]> = [];
    await predictVolume(
      (x) => {
        batches.push(x.shape[0]);
        return tf.add<tf.Tensor5D>(x, 0);
      },
      volume,
      { windowSize: [4, 4, 8], batchSize: 3, onProgress: (d, t) => progress.push([d, t]) },
    );
    expect(batches).toEqual([3, 1]);
    expect(progress).toEqual([
      [3, 4],
      [4, 4],
    ]);
  });

  it("disposes its tensors when the model throws", async () => {
    const volume = randomVolume([8, 8, 8, 1], 1);
    const before = tf.memory().numTensors;
    const failing = (x: tf.Tensor5D): tf.Tensor5D => {
      tf.add(x, 1);
      throw new Error("model failed");
    };
    await expect(predictVolume(failing, volume, { windowSize: [4, 4, 4] })).rejects.toThrow(
      "model failed",
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a model whose output does not match the window", async () => {
    const volume = randomVolume([8, 8, 8, 1], 1);
    const before = tf.memory().numTensors;
    const shrinking = (x: tf.Tensor5D): tf.Tensor5D =>
      tf.slice(x, [0, 0, 0, 0, 0], [-1, 2, -1, -1, -1]);
    await expectCode(predictVolume(shrinking, volume, { windowSize: [4, 4, 4] }), "SHAPE_MISMATCH");
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [{ windowSize: [4, 4, 4], overlap: 1 }, "BAD_CONFIG"],
    [{ windowSize: [4, 4], overlap: 0.5 }, "BAD_CONFIG"],
    [{ windowSize: [4, 4, 4], batchSize: 0 }, "BAD_CONFIG"],
    [{ windowSize: [4, 4, 4], batchSize: 1.5 }, "BAD_CONFIG"],
    [{ windowSize: [4, 4, 4], sigmaScale: -1 }, "BAD_CONFIG"],
    [{ windowSize: [4, 4, 4], mode: "median" }, "BAD_CONFIG"],
    [{ windowSize: [4, 4, 4], output: "logits" }, "BAD_CONFIG"],
    [{ windowSize: [4, 4, 4], padValue: Number.NaN }, "BAD_CONFIG"],
  ])("rejects options %j", async (options, code) => {
    const volume = randomVolume([8, 8, 8, 1], 1);
    await expectCode(predictVolume(identity, volume, options as never), code);
  });

  it.each([
    [{ data: new Float32Array(511), shape: [8, 8, 8, 1] }],
    [{ data: new Float64Array(512), shape: [8, 8, 8, 1] }],
    [{ data: new Float32Array(512), shape: [8, 8, 8] }],
    [{ data: new Float32Array(0), shape: [0, 8, 8, 1] }],
  ])("rejects volume %#", async (volume) => {
    await expectCode(
      predictVolume(identity, volume as never, { windowSize: [4, 4, 4] }),
      "SHAPE_MISMATCH",
    );
  });
});
