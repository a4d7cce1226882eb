import { describe, expect, it } from "vitest";
import { confusion, dice, jaccard, precision, sensitivity, specificity } from "./confusion.js";
import type { MetricsError } from "./errors.js";
import type { Confusion } from "./types.js";

describe("confusion", () => {
  it("counts tp/fp/fn/tn, treating any nonzero as inside", () => {
    const pred = Uint8Array.from([1, 1, 0, 0, 255, 0, 1]);
    const gt = Uint8Array.from([1, 0, 1, 0, 7, 0, 0]);
    expect(confusion(pred, gt)).toEqual({ tp: 2, fp: 2, fn: 1, tn: 2 });
  });

  it("rejects masks of different lengths with SHAPE_MISMATCH", () => {
    let code: string | undefined;
    try {
      confusion(new Uint8Array(3), new Uint8Array(4));
    } catch (e) {
      code = (e as MetricsError).code;
    }
    expect(code).toBe("SHAPE_MISMATCH");
  });
});

// c, then dice, jaccard, precision, sensitivity, specificity under "brats" and under "nan".
const cases: [string, Confusion, number[], number[]][] = [
  // 2·3/(6+1+2) = 2/3; 3/6; 3/4; 3/5; 4/5
  [
    "ordinary counts",
    { tp: 3, fp: 1, fn: 2, tn: 4 },
    [6 / 9, 3 / 6, 3 / 4, 3 / 5, 4 / 5],
    [6 / 9, 3 / 6, 3 / 4, 3 / 5, 4 / 5],
  ],
  // Both masks empty: every overlap ratio is 0/0 → 1 (brats) or NaN; specificity is defined.
  ["both empty", { tp: 0, fp: 0, fn: 0, tn: 10 }, [1, 1, 1, 1, 1], [NaN, NaN, NaN, NaN, 1]],
  // Prediction empty, ground truth not: dice 0/5, precision 0/0 → 0 (brats), sensitivity 0/5.
  ["prediction empty", { tp: 0, fp: 0, fn: 5, tn: 10 }, [0, 0, 0, 0, 1], [0, 0, NaN, 0, 1]],
  // Ground truth empty: sensitivity 0/0 → 0 (brats); specificity 10/13.
  [
    "ground truth empty",
    { tp: 0, fp: 3, fn: 0, tn: 10 },
    [0, 0, 0, 0, 10 / 13],
    [0, 0, 0, NaN, 10 / 13],
  ],
  // Both masks cover the whole image: specificity 0/0 with fp = fn = 0 → 1 (they agree).
  ["both full", { tp: 5, fp: 0, fn: 0, tn: 0 }, [1, 1, 1, 1, 1], [1, 1, 1, 1, NaN]],
  // Ground truth full, prediction not: specificity 0/0 with fn ≠ 0 → 0.
  [
    "ground truth full",
    { tp: 5, fp: 0, fn: 2, tn: 0 },
    [10 / 12, 5 / 7, 1, 5 / 7, 0],
    [10 / 12, 5 / 7, 1, 5 / 7, NaN],
  ],
  // An empty image: everything 0/0, the masks trivially agree.
  ["no voxels", { tp: 0, fp: 0, fn: 0, tn: 0 }, [1, 1, 1, 1, 1], [NaN, NaN, NaN, NaN, NaN]],
];

describe.each(cases)("ratios: %s", (_, c, brats, nan) => {
  const fns = [dice, jaccard, precision, sensitivity, specificity];
  it("brats policy (default)", () => {
    expect(fns.map((f) => f(c))).toEqual(brats);
    expect(fns.map((f) => f(c, { emptyPolicy: "brats" }))).toEqual(brats);
  });
  it("nan policy", () => {
    expect(fns.map((f) => f(c, { emptyPolicy: "nan" }))).toEqual(nan);
  });
});

describe("options", () => {
  it.each<[string, object]>([
    ["an unknown policy", { emptyPolicy: "zero" }],
    ["a negative emptyDistance", { emptyDistance: -1 }],
    ["a NaN emptyDistance", { emptyDistance: NaN }],
  ])("rejects %s with BAD_OPTION", (_, opts) => {
    let code: string | undefined;
    try {
      dice({ tp: 1, fp: 0, fn: 0, tn: 0 }, opts);
    } catch (e) {
      code = (e as MetricsError).code;
    }
    expect(code).toBe("BAD_OPTION");
  });
});
