import { describe, expect, it } from "vitest";
import { METRIC_NAMES, summarize, summarizeCases } from "./summary.js";
import type { CaseMetrics, MetricSet } from "./types.js";

describe("summarize", () => {
  it.each<
    [
      string,
      number[],
      { mean: number; std: number; median: number; q25: number; q75: number; n: number },
    ]
  >([
    // mean 2.5; population variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25; quartiles at index 0.75 and 2.25.
    [
      "1, 2, 3, 4",
      [4, 1, 3, 2],
      { mean: 2.5, std: Math.sqrt(1.25), median: 2.5, q25: 1.75, q75: 3.25, n: 4 },
    ],
    // Non-finite values are left out of every statistic and of n.
    [
      "1, 2, 3, 4 with NaN and ±Infinity",
      [1, NaN, 2, Infinity, 3, -Infinity, 4],
      { mean: 2.5, std: Math.sqrt(1.25), median: 2.5, q25: 1.75, q75: 3.25, n: 4 },
    ],
    // Dice of five cases: mean 0.76; deviations 0.14, 0.04, 0.04, -0.26, 0.04 → variance 0.092/5 = 0.0184.
    [
      "0.9, 0.8, 0.8, 0.5, 0.8",
      [0.9, 0.8, 0.8, 0.5, 0.8],
      { mean: 0.76, std: 0.13564659966250536, median: 0.8, q25: 0.8, q75: 0.8, n: 5 },
    ],
    ["one value", [5], { mean: 5, std: 0, median: 5, q25: 5, q75: 5, n: 1 }],
    ["no finite values", [NaN], { mean: NaN, std: NaN, median: NaN, q25: NaN, q75: NaN, n: 0 }],
    ["nothing", [], { mean: NaN, std: NaN, median: NaN, q25: NaN, q75: NaN, n: 0 }],
  ])("%s", (_, values, expected) => {
    const got = summarize(values);
    expect(got.n).toBe(expected.n);
    for (const k of ["mean", "std", "median", "q25", "q75"] as const) {
      if (Number.isNaN(expected[k])) expect(got[k]).toBeNaN();
      else expect(got[k]).toBeCloseTo(expected[k], 14);
    }
  });

  it("takes typed arrays and matches numpy bit for bit", () => {
    // [0.5, 0.25, 0.75]: mean 0.5, variance (0 + 0.0625 + 0.0625)/3, quartiles at indexes 0.5, 1.5.
    expect(summarize(Float32Array.from([0.5, 0.25, 0.75]))).toEqual({
      mean: 0.5,
      std: Math.sqrt(0.125 / 3),
      median: 0.5,
      q25: 0.375,
      q75: 0.625,
      n: 3,
    });
    // np.mean and np.std of [0.1, 0.2, 0.7] (numpy 1.24.2).
    expect(summarize([0.1, 0.2, 0.7])).toMatchObject({
      mean: 0.3333333333333333,
      std: 0.262466929133727,
      median: 0.2,
    });
  });
});

function metricSet(dice: number, hd95: number): MetricSet {
  return {
    dice,
    hd95,
    hd: hd95 + 1,
    assd: hd95 / 2,
    sensitivity: dice,
    specificity: 1,
    precision: dice,
    jaccard: dice / (2 - dice),
    volumePredMl: 10,
    volumeGtMl: 12,
  };
}

function caseOf(wt: number, tc: number, et: number, etHd95: number): CaseMetrics {
  return {
    regions: { WT: metricSet(wt, 2), TC: metricSet(tc, 4), ET: metricSet(et, etHd95) },
    labels: { "1": metricSet(tc, 4), "2": metricSet(wt, 2), "4": metricSet(et, etHd95) },
  };
}

describe("summarizeCases", () => {
  const cases = [
    caseOf(0.9, 0.8, 0.7, 3),
    caseOf(0.7, 0.6, 0, 373.12866),
    caseOf(0.8, 0.7, NaN, NaN),
  ];
  const summary = summarizeCases(cases);

  it("summarizes every metric of every region", () => {
    expect(Object.keys(summary)).toEqual(["WT", "TC", "ET"]);
    expect(Object.keys(summary.WT)).toEqual([...METRIC_NAMES]);
  });

  it("computes the statistics per region and metric over the cases", () => {
    // WT Dice 0.9, 0.7, 0.8: mean 0.8, population std √(0.02/3), quartiles at indexes 0.5 and 1.5.
    expect(summary.WT.dice.mean).toBeCloseTo(0.8, 15);
    expect(summary.WT.dice.std).toBeCloseTo(Math.sqrt(0.02 / 3), 15);
    expect(summary.WT.dice.median).toBe(0.8);
    expect(summary.WT.dice.q25).toBeCloseTo(0.75, 15);
    expect(summary.WT.dice.q75).toBeCloseTo(0.85, 15);
    expect(summary.WT.volumeGtMl).toEqual({ mean: 12, std: 0, median: 12, q25: 12, q75: 12, n: 3 });
  });

  it("drops non-finite values (a NaN-policy case) from n", () => {
    // ET Dice 0.7, 0, NaN → n 2, mean 0.35; ET hd95 3, 373.12866 → median 188.06433.
    expect(summary.ET.dice).toMatchObject({ n: 2, mean: 0.35, median: 0.35 });
    expect(summary.ET.hd95.n).toBe(2);
    expect(summary.ET.hd95.median).toBeCloseTo((3 + 373.12866) / 2, 12);
  });

  it("gives n = 0 and NaN statistics without cases", () => {
    expect(summarizeCases([]).TC.dice.n).toBe(0);
    expect(summarizeCases([]).TC.dice.mean).toBeNaN();
  });
});
