import { LABEL_CONVENTIONS, labelConvention, type LabelConvention } from "@brats/conventions";
import { describe, expect, it } from "vitest";
import { MetricsError } from "./errors.js";
import { conventionInfo, isLabelValue, labelLookup } from "./labels.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof MetricsError ? e.code : `not a MetricsError: ${String(e)}`;
  }
  return undefined;
}

describe("conventionInfo", () => {
  it("is @brats/conventions' labelConvention", () => {
    for (const name of LABEL_CONVENTIONS)
      expect(conventionInfo(name)).toEqual(labelConvention(name));
  });

  it("rejects an unknown convention with BAD_OPTION", () => {
    expect(codeOf(() => conventionInfo("brats2019" as LabelConvention))).toBe("BAD_OPTION");
  });
});

describe("isLabelValue", () => {
  it.each([
    [0, true],
    [4, true],
    [255, true],
    [256, false],
    [300, false],
    [-1, false],
    [2.5, false],
    [NaN, false],
    [Infinity, false],
  ])("%d → %s", (v, ok) => {
    expect(isLabelValue(v)).toBe(ok);
  });
});

describe("labelLookup", () => {
  it("is the identity without a map", () => {
    const { table, extra } = labelLookup();
    expect(table[0]).toBe(0);
    expect(table[3]).toBe(3);
    expect(table[255]).toBe(255);
    expect(extra.size).toBe(0);
  });

  it("remaps the listed labels only; keys outside 0..255 go to `extra`", () => {
    const { table, extra } = labelLookup({ 3: 4, 5: 0, [-1]: 0, 1000: 2 });
    expect([table[1], table[2], table[3], table[4], table[5]]).toEqual([1, 2, 4, 4, 0]);
    expect(extra.get(-1)).toBe(0);
    expect(extra.get(1000)).toBe(2);
  });

  it.each<[string, unknown]>([
    ["a target above 255", { 3: 256 }],
    ["a fractional target", { 3: 2.5 }],
    ["a negative target", { 3: -1 }],
    ["a string target", { 3: "4" }],
    ["a fractional key", { "2.5": 1 }],
    ["a non-numeric key", { ET: 4 }],
    ["an array", [4]],
    ["null", null],
  ])("rejects %s with BAD_OPTION", (_, map) => {
    expect(codeOf(() => labelLookup(map as Record<number, number>))).toBe("BAD_OPTION");
  });
});
