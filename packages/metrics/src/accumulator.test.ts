import type { LabelConvention } from "@brats/conventions";
import { describe, expect, it } from "vitest";
import { BratsMetric } from "./accumulator.js";
import { MetricsError } from "./errors.js";
import { evaluateCase } from "./evaluate.js";
import { summarizeCases } from "./summary.js";
import { volume } from "./test-utils.js";
import type { Shape } from "./types.js";

const shape: Shape = [4, 4, 4];
// gt: label 2 at (1,1,1), 4 at (2,1,1). predA matches it; predB misses the 4 (writes 2 instead).
const gt = volume(shape, [[1, 1, 1]], 2);
gt[2 + 4 * (1 + 4 * 1)] = 4;
const predA = Uint8Array.from(gt);
const predB = volume(
  shape,
  [
    [1, 1, 1],
    [2, 1, 1],
  ],
  2,
);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof MetricsError ? e.code : String(e);
  }
  return undefined;
}

describe("BratsMetric", () => {
  it("adds cases, keeps them in order and returns their metrics", () => {
    const metric = new BratsMetric();
    const a = metric.add("A", predA, gt, shape, [1, 1, 1]);
    expect(a).toEqual(evaluateCase(predA, gt, shape, [1, 1, 1]));
    metric.add("B", predB, gt, shape, [1, 1, 1]);
    expect(metric.cases.map((c) => c.caseId)).toEqual(["A", "B"]);
    expect(metric.cases[0]!.metrics).toEqual(a);
  });

  it("meanDice and summary over the cases", () => {
    const metric = new BratsMetric();
    metric.add("A", predA, gt, shape, [1, 1, 1]);
    metric.add("B", predB, gt, shape, [1, 1, 1]);
    // WT: 1 and 1. TC = ET = {4}: 1 for A; B has no 4 → Dice 0.
    expect(metric.meanDice()).toEqual({ WT: 1, TC: 0.5, ET: 0.5 });
    expect(metric.summary()).toEqual(summarizeCases(metric.cases.map((c) => c.metrics)));
    expect(metric.summary().ET.hd95.mean).toBe(373.12866 / 2);
  });

  it("applies its options to every case", () => {
    const metric = new BratsMetric({ emptyPolicy: "nan", labelMap: { 2: 4 } });
    // predB's labels both become 4: ET pred {x1, x2} vs gt {x2} → 2/3.
    expect(metric.add("B", predB, gt, shape, [1, 1, 1]).regions.ET.dice).toBe(2 / 3);
  });

  it("reset forgets every case", () => {
    const metric = new BratsMetric();
    metric.add("A", predA, gt, shape, [1, 1, 1]);
    metric.reset();
    expect(metric.cases).toEqual([]);
    expect(metric.meanDice().WT).toBeNaN();
    expect(metric.summary().WT.dice.n).toBe(0);
    metric.add("A", predA, gt, shape, [1, 1, 1]);
    expect(metric.cases.length).toBe(1);
  });

  it("rejects a case id added twice, keeping the first", () => {
    const metric = new BratsMetric();
    metric.add("A", predA, gt, shape, [1, 1, 1]);
    expect(codeOf(() => metric.add("A", predB, gt, shape, [1, 1, 1]))).toBe("BAD_OPTION");
    expect(metric.cases.length).toBe(1);
  });

  it("does not keep a case that fails", () => {
    const metric = new BratsMetric();
    expect(codeOf(() => metric.add("bad", new Uint8Array(3), gt, shape, [1, 1, 1]))).toBe(
      "SHAPE_MISMATCH",
    );
    expect(metric.cases.length).toBe(0);
    metric.add("bad", predA, gt, shape, [1, 1, 1]);
    expect(metric.cases.length).toBe(1);
  });

  it("checks its options when constructed", () => {
    expect(codeOf(() => new BratsMetric({ convention: "x" as LabelConvention }))).toBe(
      "BAD_OPTION",
    );
    expect(codeOf(() => new BratsMetric({ labelMap: { 3: 999 } }))).toBe("BAD_OPTION");
    expect(codeOf(() => new BratsMetric({ emptyDistance: -5 }))).toBe("BAD_OPTION");
  });
});
