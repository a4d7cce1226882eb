import { describe, expect, it } from "vitest";
import {
  CLASS_NAMES,
  classLabels,
  classRegionMasks,
  classesToLabels,
  labelToClassTable,
  labelsToClasses,
  NO_CLASS,
  NUM_CLASSES,
  regionMasks,
  regionsToClasses,
} from "./classes.js";
import { LABEL_CONVENTIONS, type LabelConvention } from "./labels.js";
import { classInRegion, labelConvention, labelInRegion, REGION_NAMES } from "./regions.js";
import { codeOf } from "./test-utils.js";

describe("class maps", () => {
  it("has four classes", () => {
    expect(CLASS_NAMES).toEqual(["background", "necrotic core", "edema", "enhancing"]);
    expect(NUM_CLASSES).toBe(CLASS_NAMES.length);
  });

  it.each<[LabelConvention, number[], Record<number, number>]>([
    ["brats2021", [0, 1, 2, 4], { 0: 0, 1: 1, 2: 2, 4: 3 }],
    ["brats2023", [0, 1, 2, 3], { 0: 0, 1: 1, 2: 2, 3: 3 }],
    // 2015's non-enhancing core (3) is read as the necrotic core and never written
    ["brats2015", [0, 1, 2, 4], { 0: 0, 1: 1, 2: 2, 3: 1, 4: 3 }],
  ])("%s: classes → labels %j, labels → classes %j", (convention, labels, classOf) => {
    expect(classLabels(convention)).toEqual(labels);
    const table = labelToClassTable(convention);
    expect(table).toHaveLength(256);
    const mapped: Record<number, number> = {};
    table.forEach((cls, label) => {
      if (cls !== NO_CLASS) mapped[label] = cls;
    });
    expect(mapped).toEqual(classOf);
  });

  it.each(LABEL_CONVENTIONS)(
    "%s: a label is in a region exactly when its class is",
    (convention) => {
      const table = labelToClassTable(convention);
      for (const label of [0, ...labelConvention(convention).labels]) {
        for (const region of REGION_NAMES) {
          expect(labelInRegion(label, region, convention), `${label} ${region}`).toBe(
            classInRegion(table[label]!, region),
          );
        }
      }
    },
  );
});

describe("labelsToClasses / classesToLabels", () => {
  const cases: Array<{
    convention: LabelConvention;
    labels: number[];
    classes: number[];
    back: number[];
  }> = [
    {
      convention: "brats2021",
      labels: [0, 1, 2, 4, 4, 0],
      classes: [0, 1, 2, 3, 3, 0],
      back: [0, 1, 2, 4, 4, 0],
    },
    {
      convention: "brats2023",
      labels: [0, 1, 2, 3, 3, 0],
      classes: [0, 1, 2, 3, 3, 0],
      back: [0, 1, 2, 3, 3, 0],
    },
    // 2015's non-enhancing core (3) joins the necrotic core; writing back cannot tell them apart.
    {
      convention: "brats2015",
      labels: [0, 1, 2, 3, 4, 0],
      classes: [0, 1, 2, 1, 3, 0],
      back: [0, 1, 2, 1, 4, 0],
    },
  ];
  for (const { convention, labels, classes, back } of cases) {
    it(`${convention}: ${labels.join(",")} → ${classes.join(",")} → ${back.join(",")}`, () => {
      expect([...labelsToClasses(labels, convention)]).toEqual(classes);
      expect([...classesToLabels(classes, convention)]).toEqual(back);
    });
  }

  it("defaults to brats2021 and accepts any numeric array", () => {
    expect([...labelsToClasses(new Float32Array([4, 2, 1]))]).toEqual([3, 2, 1]);
    expect([...classesToLabels(new Uint8Array([3, 2, 1, 0]))]).toEqual([4, 2, 1, 0]);
    expect(classLabels()).toEqual([0, 1, 2, 4]);
  });

  it.each([
    ["brats2021", 3],
    ["brats2023", 4],
    ["brats2015", 5],
    ["brats2021", 256],
    ["brats2021", -1],
    ["brats2021", 1.5],
    ["brats2021", Number.NaN],
  ] as Array<[LabelConvention, number]>)(
    "%s rejects label %s (BAD_LABELS)",
    (convention, value) => {
      expect(codeOf(() => labelsToClasses([0, value], convention))).toBe("BAD_LABELS");
    },
  );

  it("names the voxel and the expected labels", () => {
    expect(() => labelsToClasses([0, 0, 5], "brats2015")).toThrow(
      "label 5 at voxel 2 is not a brats2015 label (expected 0, 1, 2, 3, 4)",
    );
    expect(() => labelsToClasses([3])).toThrow("expected 0, 1, 2, 4)");
  });

  it.each([4, -1, 0.5, 255])("rejects class %s (BAD_LABELS)", (cls) => {
    expect(codeOf(() => classesToLabels([cls]))).toBe("BAD_LABELS");
    expect(codeOf(() => classRegionMasks([cls]))).toBe("BAD_LABELS");
  });

  it("rejects an unknown convention (BAD_OPTION)", () => {
    expect(codeOf(() => labelsToClasses([0], "brats2019" as LabelConvention))).toBe("BAD_OPTION");
    expect(codeOf(() => classesToLabels([0], "x" as LabelConvention))).toBe("BAD_OPTION");
    expect(codeOf(() => labelToClassTable("x" as LabelConvention))).toBe("BAD_OPTION");
  });
});

describe("regionMasks", () => {
  // Hand-computed from the conventions' region definitions.
  const cases: Array<{
    convention: LabelConvention;
    labels: number[];
    WT: number[];
    TC: number[];
    ET: number[];
  }> = [
    {
      convention: "brats2021",
      labels: [0, 1, 2, 4],
      WT: [0, 1, 1, 1],
      TC: [0, 1, 0, 1],
      ET: [0, 0, 0, 1],
    },
    {
      convention: "brats2023",
      labels: [0, 1, 2, 3],
      WT: [0, 1, 1, 1],
      TC: [0, 1, 0, 1],
      ET: [0, 0, 0, 1],
    },
    {
      convention: "brats2015",
      labels: [0, 1, 2, 3, 4],
      WT: [0, 1, 1, 1, 1],
      TC: [0, 1, 0, 1, 1],
      ET: [0, 0, 0, 0, 1],
    },
  ];
  for (const { convention, labels, WT, TC, ET } of cases) {
    it(convention, () => {
      const masks = regionMasks(labels, convention);
      expect([...masks.WT]).toEqual(WT);
      expect([...masks.TC]).toEqual(TC);
      expect([...masks.ET]).toEqual(ET);
    });
  }

  it("from classes: WT ≥ 1, TC ∈ {1, 3}, ET = 3", () => {
    const masks = classRegionMasks([0, 1, 2, 3]);
    expect([...masks.WT]).toEqual([0, 1, 1, 1]);
    expect([...masks.TC]).toEqual([0, 1, 0, 1]);
    expect([...masks.ET]).toEqual([0, 0, 0, 1]);
  });
});

describe("regionsToClasses", () => {
  // [WT, TC, ET] per voxel, channels-last, and the class the nested rule gives.
  it.each<[number[], number]>([
    [[0.1, 0.2, 0.3], 0],
    [[0.9, 0.2, 0.3], 2], // edema: in WT only
    [[0.9, 0.8, 0.3], 1], // necrotic core: in TC, not ET
    [[0.9, 0.8, 0.7], 3], // enhancing
    [[0.1, 0.1, 0.7], 3], // ET alone still wins: nesting imposed
    [[0.1, 0.7, 0.2], 1], // TC without WT is core
    [[0.5, 0.5, 0.5], 0], // strictly above the threshold
  ])("%j → class %i", (values, cls) => {
    expect([...regionsToClasses(values, 1)]).toEqual([cls]);
  });

  it("reads channels-first and channels-last alike", () => {
    const last = [0.9, 0.1, 0.1, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0, 0, 0];
    const first = [0.9, 0.9, 0.9, 0, 0.1, 0.9, 0.9, 0, 0.1, 0.1, 0.9, 0];
    expect([...regionsToClasses(last, 4)]).toEqual([2, 1, 3, 0]);
    expect([...regionsToClasses(first, 4, { stride: 1, channelStride: 4 })]).toEqual([2, 1, 3, 0]);
  });

  it("takes another threshold", () => {
    expect([...regionsToClasses([0.4, 0.3, 0.2], 1, { threshold: 0.25 })]).toEqual([1]);
    expect([...regionsToClasses([0.4, 0.3, 0.2], 1, { threshold: 0 })]).toEqual([3]);
    expect([...regionsToClasses([1, 1, 1], 1, { threshold: 1 })]).toEqual([0]);
  });

  it.each<[string, () => unknown]>([
    ["threshold above 1", () => regionsToClasses([1, 1, 1], 1, { threshold: 1.5 })],
    ["threshold NaN", () => regionsToClasses([1, 1, 1], 1, { threshold: NaN })],
    ["too few values", () => regionsToClasses([1, 1, 1, 1, 1], 2)],
    [
      "channels-first too short",
      () => regionsToClasses([1, 1, 1, 1, 1], 2, { stride: 1, channelStride: 3 }),
    ],
    ["stride 0", () => regionsToClasses([1, 1, 1], 1, { stride: 0 })],
    ["fractional voxels", () => regionsToClasses([1, 1, 1], 0.5)],
  ])("%s: BAD_OPTION", (_, call) => {
    expect(call).toThrow(expect.objectContaining({ code: "BAD_OPTION" }));
  });

  it("no voxels: an empty map", () => {
    expect(regionsToClasses([], 0)).toEqual(new Uint8Array(0));
  });
});
