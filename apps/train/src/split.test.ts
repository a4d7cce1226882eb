import { describe, expect, it } from "vitest";
import { shuffledIds, splitCases, SplitError } from "./split.js";

const ids = Array.from({ length: 11 }, (_, i) => `case_${String(i).padStart(2, "0")}`);

describe("splitCases", () => {
  it("--fold k/n: the n validation sets partition the cases, and each fold trains on the rest", () => {
    const n = 5;
    const folds = Array.from({ length: n }, (_, k) => splitCases(ids, { kind: "fold", k, n }, 42));
    const validated = folds.flatMap((f) => f.val);
    expect([...validated].sort()).toEqual(ids);
    expect(new Set(validated).size).toBe(ids.length);
    for (const f of folds) {
      expect([...f.train, ...f.val].sort()).toEqual(ids);
      expect(f.val.filter((id) => f.train.includes(id))).toEqual([]);
      // 11 cases in 5 folds: sizes 3, 2, 2, 2, 2.
      expect(f.val.length === 2 || f.val.length === 3).toBe(true);
    }
    expect(folds.map((f) => f.val.length).sort()).toEqual([2, 2, 2, 2, 3]);
  });

  it("is seeded: same seed same folds whatever the input order, another seed other folds", () => {
    const a = splitCases(ids, { kind: "fold", k: 1, n: 3 }, 7);
    const b = splitCases([...ids].reverse(), { kind: "fold", k: 1, n: 3 }, 7);
    expect(b).toEqual(a);
    expect(shuffledIds(ids, 7)).not.toEqual(shuffledIds(ids, 8));
  });

  it("--val-split holds out round(share · n) cases, at least one", () => {
    expect(splitCases(ids, { kind: "share", share: 0.2 }, 1).val).toHaveLength(2);
    expect(splitCases(ids.slice(0, 3), { kind: "share", share: 0.1 }, 1).val).toHaveLength(1);
    expect(splitCases(ids, { kind: "share", share: 0 }, 1).val).toEqual([]);
  });

  it("--val takes the named cases", () => {
    const s = splitCases(ids, { kind: "ids", ids: ["case_03", "case_00"] }, 1);
    expect(s.val).toEqual(["case_00", "case_03"]);
    expect(s.train).toHaveLength(9);
  });

  it.each([
    [{ kind: "fold", k: 5, n: 5 }],
    [{ kind: "fold", k: 0, n: 1 }],
    [{ kind: "ids", ids: ["nope"] }],
    [{ kind: "share", share: 1 }],
  ] as const)("rejects %j", (spec) => {
    expect(() => splitCases(ids, spec as never, 1)).toThrow(SplitError);
  });
});
