import { describe, expect, it } from "vitest";
import { LABEL_CONVENTIONS, tumourLabels, type LabelConvention } from "./labels.js";
import {
  checkRegionName,
  classInRegion,
  labelConvention,
  labelInRegion,
  REGION_CLASSES,
  REGION_NAMES,
  REGION_TITLES,
  regionLabels,
  type RegionName,
} from "./regions.js";
import { codeOf } from "./test-utils.js";

describe("labelConvention", () => {
  it.each<[LabelConvention, number[], number[], number[], number[]]>([
    ["brats2021", [1, 2, 4], [1, 2, 4], [1, 4], [4]],
    ["brats2023", [1, 2, 3], [1, 2, 3], [1, 3], [3]],
    ["brats2015", [1, 2, 3, 4], [1, 2, 3, 4], [1, 3, 4], [4]],
  ])("%s: labels %j, WT %j, TC %j, ET %j", (name, labels, wt, tc, et) => {
    expect(labelConvention(name)).toEqual({ name, labels, regions: { WT: wt, TC: tc, ET: et } });
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

  it.each(LABEL_CONVENTIONS)("%s: its labels are the tumour labels", (name) => {
    expect(labelConvention(name).labels).toEqual(tumourLabels(name).map((l) => l.value));
  });
});

describe("regions", () => {
  it("lists the regions in reporting order, with their titles", () => {
    expect(REGION_NAMES).toEqual(["WT", "TC", "ET"]);
    expect(REGION_TITLES).toEqual({
      WT: "Whole tumour",
      TC: "Tumour core",
      ET: "Enhancing tumour",
    });
  });

  const table: Array<[LabelConvention, RegionName, number[]]> = [
    ["brats2021", "WT", [1, 2, 4]],
    ["brats2021", "TC", [1, 4]],
    ["brats2021", "ET", [4]],
    ["brats2023", "WT", [1, 2, 3]],
    ["brats2023", "TC", [1, 3]],
    ["brats2023", "ET", [3]],
    ["brats2015", "WT", [1, 2, 3, 4]],
    ["brats2015", "TC", [1, 3, 4]],
    ["brats2015", "ET", [4]],
  ];
  it.each(table)("%s %s = %j", (convention, region, labels) => {
    expect(regionLabels(region, convention)).toEqual(labels);
    for (let label = 0; label <= 5; label++) {
      expect(labelInRegion(label, region, convention), `label ${label}`).toBe(
        labels.includes(label),
      );
    }
  });

  it("defaults to brats2021 and rejects unknown regions and conventions", () => {
    expect(regionLabels("ET")).toEqual([4]);
    expect(labelInRegion(4, "ET")).toBe(true);
    expect(codeOf(() => regionLabels("XX" as RegionName))).toBe("BAD_OPTION");
    expect(codeOf(() => labelInRegion(1, "XX" as RegionName))).toBe("BAD_OPTION");
    expect(codeOf(() => regionLabels("WT", "x" as LabelConvention))).toBe("BAD_OPTION");
    expect(codeOf(() => checkRegionName("wt"))).toBe("BAD_OPTION");
    expect(codeOf(() => checkRegionName("TC"))).toBeUndefined();
  });

  // Classes 0 background, 1 necrotic core, 2 oedema, 3 enhancing; -1 and 4 are no class.
  const classes: Array<[RegionName, boolean[]]> = [
    ["WT", [false, true, true, true, false, false]],
    ["TC", [false, true, false, true, false, false]],
    ["ET", [false, false, false, true, false, false]],
  ];
  it.each(classes)("classInRegion(c, %s) for c = 0, 1, 2, 3, 4, -1: %j", (region, expected) => {
    expect([0, 1, 2, 3, 4, -1].map((c) => classInRegion(c, region))).toEqual(expected);
    expect(REGION_CLASSES[region]).toEqual([0, 1, 2, 3].filter((c) => classInRegion(c, region)));
  });

  it("classInRegion rejects an unknown region", () => {
    expect(codeOf(() => classInRegion(1, "NCR" as RegionName))).toBe("BAD_OPTION");
  });
});
