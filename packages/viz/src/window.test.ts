import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getScaledData, readNifti } from "@brats/nifti";
import { describe, expect, it } from "vitest";
import { pixelAt } from "./rgba.js";
import { applyWindow, percentileWindow, windowFromLevel } from "./window.js";

/** Values 1000·frac(i·2654435761 / 2³²), every fifth one 0: exact in both JS and numpy. */
function hashed(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) =>
    i % 5 === 0 ? 0 : (((i * 2654435761) % 2 ** 32) / 2 ** 32) * 1000,
  );
}

/** Reference: numpy's linear percentile by full sort (as numpy 1.24 computes it). */
function sortedPercentile(values: number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const vi = (n - 1) * (p / 100);
  if (vi >= n - 1) return sorted[n - 1]!;
  const lo = Math.floor(vi);
  const g = vi - lo;
  const a = sorted[lo]!;
  const b = sorted[lo + 1]!;
  return g >= 0.5 ? b - (b - a) * (1 - g) : a + (b - a) * g;
}

describe("percentileWindow", () => {
  it("hand-computed small cases (numpy linear: virtual index (n − 1)·p/100)", () => {
    // nonzero values 1..5; p = 25 → index 1 → 2; p = 10 → index 0.4 → 1.4; p = 90 → 3.6 → 4.6
    const v = [0, 3, 0, 1, 5, 2, 0, 4];
    expect(percentileWindow(v, 25, 75)).toEqual({ low: 2, high: 4 });
    const w = percentileWindow(v, 10, 90);
    expect(w.low).toBeCloseTo(1.4, 12);
    expect(w.high).toBeCloseTo(4.6, 12);
    expect(percentileWindow(v, 0, 100)).toEqual({ low: 1, high: 5 });
    // with zeros: 0,0,0,1,2,3,4,5; p = 50 → index 3.5 → 1.5
    expect(percentileWindow(v, 50, 100, { ignoreZeros: false })).toEqual({ low: 1.5, high: 5 });
  });

  it("ignores NaN and ±Infinity", () => {
    expect(percentileWindow([NaN, 1, Infinity, 3, -Infinity, 2], 0, 100)).toEqual({
      low: 1,
      high: 3,
    });
  });

  it("a single value, equal values, and no counted values", () => {
    expect(percentileWindow([0, 0, 7, 0], 0.5, 99.5)).toEqual({ low: 7, high: 7 });
    expect(percentileWindow([4, 4, 4], 10, 90)).toEqual({ low: 4, high: 4 });
    expect(percentileWindow([0, 0, 0])).toEqual({ low: 0, high: 0 });
    expect(percentileWindow([])).toEqual({ low: 0, high: 0 });
  });

  // np.percentile(v[v != 0], [lo, hi]) and np.percentile(v, [lo, hi]) of hashed(20000) (16000
  // nonzero), numpy 1.24.2 via /usr/bin/python3, repr() pasted.
  const numpyTable: Array<[number, number, number, number, number, number]> = [
    [0.5, 99.5, 4.944934264058247, 994.9152844620402, 0.0, 993.6296057549772],
    [0, 100, 0.019200611859560013, 999.939709668979, 0.0, 999.939709668979],
    [2, 98, 20.018209884874523, 979.743317286484, 0.0, 974.8966771224514],
    [50, 50, 499.88076358567923, 499.88076358567923, 374.95238217525184, 374.95238217525184],
    [33.3, 66.6, 332.89750389219256, 665.9539896701461, 166.17465596203687, 582.4509221767074],
    [10, 90, 99.95395664591344, 899.9062620801851, 0.0, 874.7821487719195],
  ];
  const v = hashed(20000);
  for (const [lo, hi, nzLow, nzHigh, allLow, allHigh] of numpyTable) {
    it(`equals numpy exactly at [${lo}, ${hi}]`, () => {
      expect(percentileWindow(v, lo, hi)).toEqual({ low: nzLow, high: nzHigh });
      expect(percentileWindow(v, lo, hi, { ignoreZeros: false })).toEqual({
        low: allLow,
        high: allHigh,
      });
    });
  }

  it("defaults to 0.5–99.5 of the nonzero values", () => {
    expect(percentileWindow(v)).toEqual({ low: 4.944934264058247, high: 994.9152844620402 });
  });

  it("matches a full sort on skewed, duplicated, negative and integer data", () => {
    let seed = 7;
    const rand = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const cases: Array<[string, number[]]> = [
      // one outlier squeezes everything else into the first histogram bin
      ["outlier", [...Array.from({ length: 5000 }, () => 1 + rand() * 1e-6), 1e9]],
      ["many duplicates", Array.from({ length: 10000 }, () => Math.floor(rand() * 4))],
      ["negative and positive", Array.from({ length: 3001 }, () => (rand() - 0.5) * 2000)],
      [
        "int16-like MRI",
        Array.from({ length: 40000 }, () => (rand() < 0.6 ? 0 : Math.floor(rand() ** 3 * 4000))),
      ],
      ["two values", [5, 0, 9]],
    ];
    for (const [name, values] of cases) {
      for (const [lo, hi] of [
        [0.5, 99.5],
        [0, 100],
        [1, 99],
        [25, 75],
        [49.99, 50.01],
      ] as const) {
        for (const ignoreZeros of [true, false]) {
          const counted = values.filter((x) => !ignoreZeros || x !== 0);
          expect(
            percentileWindow(values, lo, hi, { ignoreZeros }),
            `${name} ${lo} ${hi} ${String(ignoreZeros)}`,
          ).toEqual({
            low: sortedPercentile(counted, lo),
            high: sortedPercentile(counted, hi),
          });
        }
      }
    }
  });

  it("accepts typed arrays of any kind", () => {
    const ints = Int16Array.from([0, -3, 10, 20, 0, 30]);
    expect(percentileWindow(ints, 0, 50)).toEqual({ low: -3, high: 15 });
    expect(percentileWindow(Uint8Array.from([0, 1, 2, 3]), 0, 100)).toEqual({ low: 1, high: 3 });
  });

  it("rejects bad percentiles", () => {
    expect(() => percentileWindow([1], -1, 50)).toThrow(RangeError);
    expect(() => percentileWindow([1], 0, 101)).toThrow(RangeError);
    expect(() => percentileWindow([1], 60, 40)).toThrow(RangeError);
    expect(() => percentileWindow([1], NaN, 40)).toThrow(RangeError);
  });

  it("a 240×240×155 volume takes well under 100 ms", () => {
    let seed = 3;
    const volume = new Int16Array(240 * 240 * 155);
    for (let i = 0; i < volume.length; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      // ~1/6 brain voxels, as in BraTS
      volume[i] = seed % 6 === 0 ? seed >>> 20 : 0;
    }
    percentileWindow(volume); // warm-up
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      percentileWindow(volume);
      times.push(performance.now() - t0);
    }
    // generous bound for loaded CI machines; the measured time is reported by the bench
    expect(Math.min(...times)).toBeLessThan(500);
  });
});

describe("applyWindow", () => {
  it("maps low → 0 and high → 255 linearly, clamped; NaN is black; opaque grey", () => {
    // window [10, 60]: grey = round((v − 10)·255/50) = round(5.1·(v − 10))
    const slice = Float32Array.from([10, 60, 20, 30, 5, 100, NaN, 47]);
    const img = applyWindow(slice, { low: 10, high: 60 }, 4, 2);
    const expected = [0, 255, 51, 102, 0, 255, 0, 189]; // 5.1·37 = 188.7 → 189
    expected.forEach((g, i) => {
      expect(pixelAt(img, i % 4, Math.floor(i / 4))).toEqual([g, g, g, 255]);
    });
  });

  it("a window with high ≤ low thresholds at low", () => {
    const img = applyWindow(Float32Array.from([1, 2, 3]), { low: 2, high: 2 }, 3, 1);
    expect([0, 1, 2].map((x) => pixelAt(img, x, 0)[0])).toEqual([0, 0, 255]);
  });

  it("rejects a size that does not match the slice, and non-finite windows", () => {
    expect(() => applyWindow(new Float32Array(6), { low: 0, high: 1 }, 4, 2)).toThrow(RangeError);
    expect(() => applyWindow(new Float32Array(6), { low: 0, high: NaN }, 3, 2)).toThrow(RangeError);
  });

  it("windowFromLevel: centre ± width/2", () => {
    expect(windowFromLevel(40, 80)).toEqual({ low: 0, high: 80 });
    expect(() => windowFromLevel(40, -1)).toThrow(RangeError);
  });
});

// Real BraTS volumes (research data, never copied): <repo>/../shared/data/brats.
const BRATS = fileURLToPath(new URL("../../../../shared/data/brats/", import.meta.url));
const haveBrats = existsSync(BRATS);
if (!haveBrats) console.warn(`skipping real-volume window tests: ${BRATS} not found`);

describe.skipIf(!haveBrats)("percentileWindow on real BraTS volumes", () => {
  // np.percentile(f[f != 0], [0.5, 99.5]) and np.percentile(f, [1, 99]) of img.get_fdata(),
  // numpy 1.24.2 via /usr/bin/python3
  const table: Array<[string, string, [number, number], [number, number]]> = [
    ["BraTS2021_00006", "flair", [171, 3430], [0, 2602]],
    ["BraTS2021_00006", "t1ce", [491, 7789], [0, 3097]],
    ["Brats18_CBICA_ABM_1", "flair", [17, 413], [0, 241]],
    ["Brats18_CBICA_ABM_1", "t1ce", [96, 792], [0, 456]],
  ];
  for (const [id, modality, brain, all] of table) {
    it(`${id} ${modality}: raw int16 and scaled float32 give numpy's values`, async () => {
      const image = await readNifti(`${BRATS}${id}/${id}_${modality}.nii.gz`);
      for (const values of [image.data as ArrayLike<number>, getScaledData(image, "float32")]) {
        expect(percentileWindow(values)).toEqual({ low: brain[0], high: brain[1] });
        expect(percentileWindow(values, 1, 99, { ignoreZeros: false })).toEqual({
          low: all[0],
          high: all[1],
        });
      }
    });
  }
});
