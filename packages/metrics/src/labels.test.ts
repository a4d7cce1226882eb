import { describe, expect, it } from "vitest";
import { MetricsError } from "./errors.js";
import {
  isLabelValue,
  LABEL_CONVENTIONS,
  labelConvention,
  labelLookup,
  REGION_NAMES,
} from "./labels.js";
import type { LabelConvention } from "./labels.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof MetricsError ? e.code : `not a MetricsError: ${String(e)}`;
  }
  return undefined;
}

describe("labelConvention", () => {
  it.each<[LabelConvention, number[], number[], number[], number[]]>([
    ["brats2021", [1, 2, 4], [1, 2, 4], [1, 4], [4]],
    ["brats2023", [1, 2, 3], [1, 2, 3], [1, 3], [3]],
    ["brats2015", [1, 2, 3, 4], [1, 2, 3, 4], [1, 3, 4], [4]],
  ])("%s: labels %j, WT %j, TC %j, ET %j", (name, labels, wt, tc, et) => {
    const info = labelConvention(name);
    expect(info).toEqual({ name, labels, regions: { WT: wt, TC: tc, ET: et } });
  });

  it("returns a fresh object each time", () => {
    const a = labelConvention("brats2021");
    a.labels.push(9);
    a.regions.WT.push(9);
    expect(labelConvention("brats2021").labels).toEqual([1, 2, 4]);
    expect(labelConvention("brats2021").regions.WT).toEqual([1, 2, 4]);
  });

  it("rejects an unknown convention with BAD_OPTION", () => {
    expect(codeOf(() => labelConvention("brats2019" as LabelConvention))).toBe("BAD_OPTION");
  });

  it("lists the conventions and regions in reporting order", () => {
    expect(LABEL_CONVENTIONS).toEqual(["brats2021", "brats2023", "brats2015"]);
    expect(REGION_NAMES).toEqual(["WT", "TC", "ET"]);
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
