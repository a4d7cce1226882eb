import { describe, expect, it } from "vitest";
import { MetricsError } from "./errors.js";
import {
  mean,
  pairwiseSum,
  percentile,
  percentileInPlace,
  populationStd,
  select,
} from "./stats.js";
import { rng } from "./test-utils.js";

const squares = Array.from({ length: 20 }, (_, i) => 0.1 * (i + 1) * (i + 1));
const modular = Array.from({ length: 37 }, (_, i) => ((i * 7919) % 101) / 7);

describe("percentile (numpy linear)", () => {
  // Hand: [1,2,3,4] at 95: index 3·0.95 = 2.85 between 3 and 4 → 3.85 (numpy's float: 3.8499999999999996).
  // Expected values are np.percentile(values, q) from /usr/bin/python3 (numpy 1.24.2), exact.
  it.each<[string, number[], number, number]>([
    ["[1,2,3,4] at 95", [1, 2, 3, 4], 95, 3.8499999999999996],
    ["[1,2,3,4] at 25", [1, 2, 3, 4], 25, 1.75],
    ["[1,2,3,4] at 50", [1, 2, 3, 4], 50, 2.5],
    ["[1,2,3,4] at 75", [4, 3, 2, 1], 75, 3.25],
    ["[3,3,6] at 95", [3, 6, 3], 95, 5.699999999999999],
    ["[0,0,0,1,2,0,0,0] at 95", [0, 0, 0, 1, 2, 0, 0, 0], 95, 1.6499999999999995],
    ["0.1·i² at 95", squares, 95, 36.295],
    ["0.1·i² at 33.3", squares, 33.3, 5.390499999999999],
    ["0.1·i² at 0", squares, 0, 0.1],
    ["0.1·i² at 100", squares, 100, 40.0],
    ["0.1·i² at 50", squares, 50, 11.05],
    ["(7919·i mod 101)/7 at 95", modular, 95, 13.514285714285712],
    ["(7919·i mod 101)/7 at 5", modular, 5, 0.7714285714285714],
    ["(7919·i mod 101)/7 at 62.5", modular, 62.5, 8.928571428571429],
    ["one value", [7], 95, 7],
  ])("%s", (_, values, q, expected) => {
    expect(percentile(values, q)).toBe(expected);
    expect(percentile(Float64Array.from(values), q)).toBe(expected);
    expect(percentileInPlace(Float64Array.from(values), q)).toBe(expected);
  });

  it("does not modify its input", () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it("is NaN for no values or any NaN (numpy propagates NaN)", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([1, NaN, 3], 50)).toBeNaN();
  });

  it.each([-1, 101, NaN])("rejects q = %d with BAD_OPTION", (q) => {
    expect(() => percentile([1, 2], q)).toThrow(MetricsError);
    try {
      percentile([1, 2], q);
    } catch (e) {
      expect((e as MetricsError).code).toBe("BAD_OPTION");
    }
  });

  it("selection agrees with sorting on random data with ties", () => {
    const random = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 60);
      const values = Float64Array.from({ length: n }, () => Math.floor(random() * 10) / 4);
      const sorted = Float64Array.from(values).sort();
      for (const q of [0, 5, 25, 50, 95, 99.9, 100]) {
        expect(percentileInPlace(Float64Array.from(values), q)).toBe(percentile(sorted, q));
      }
      const k = Math.floor(random() * n);
      const copy = Float64Array.from(values);
      select(copy, k);
      expect(copy[k]).toBe(sorted[k]);
      for (let i = 0; i < n; i++) {
        if (i < k) expect(copy[i]).toBeLessThanOrEqual(copy[k]!);
        if (i > k) expect(copy[i]).toBeGreaterThanOrEqual(copy[k]!);
      }
    }
  });
});

describe("numpy summation", () => {
  // 300 values spanning 13 orders of magnitude: a running sum rounds differently from numpy's
  // pairwise sum. Expected: np.sum / np.mean / np.std of the same list (numpy 1.24.2);
  // Python's sequential sum(c) gives 25555555.555554 instead.
  const spread = Array.from({ length: 300 }, (_, i) => 10 ** (((i * 37) % 13) - 6));

  it("pairwiseSum, mean and populationStd equal numpy bit for bit", () => {
    expect(pairwiseSum(spread)).toBe(25555555.555554003);
    expect(mean(spread)).toBe(85185.18518518);
    expect(populationStd(spread)).toBe(264923.6902695643);
    let sequential = 0;
    for (const v of spread) sequential += v;
    expect(sequential).not.toBe(25555555.555554003);
  });

  it.each<[number[], number, number]>([
    // mean 2.5, deviations ±0.5, ±1.5 → variance (0.25·2 + 2.25·2)/4 = 1.25.
    [[1, 2, 3, 4], 2.5, Math.sqrt(1.25)],
    // np.mean / np.std of [0.1, 0.2, 0.7].
    [[0.1, 0.2, 0.7], 0.3333333333333333, 0.262466929133727],
    [[5], 5, 0],
  ])("mean/std of %j", (values, m, s) => {
    expect(mean(values)).toBe(m);
    expect(populationStd(values)).toBe(s);
  });

  it("is NaN without values", () => {
    expect(mean([])).toBeNaN();
    expect(populationStd([])).toBeNaN();
  });
});
