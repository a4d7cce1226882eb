import { LABEL_CONVENTIONS, tumourLabels, type LabelConvention } from "@brats/conventions";
import { describe, expect, it } from "vitest";
import { ERROR_COLORS, errorStyles, labelStyles, TISSUE_COLORS } from "./colors.js";

const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
const YELLOW = [255, 255, 0];
const BLUE = [0, 0, 255];

describe("labelStyles", () => {
  const table: Array<[LabelConvention, Array<[number, string, number[]]>]> = [
    [
      "brats2021",
      [
        [1, "NCR", RED],
        [2, "ED", GREEN],
        [4, "ET", YELLOW],
      ],
    ],
    [
      "brats2023",
      [
        [1, "NCR", RED],
        [2, "ED", GREEN],
        [3, "ET", YELLOW],
      ],
    ],
    [
      "brats2015",
      [
        [1, "NCR", RED],
        [2, "ED", GREEN],
        [3, "NET", BLUE],
        [4, "ET", YELLOW],
      ],
    ],
  ];
  for (const [convention, expected] of table) {
    it(`${convention}: ${expected.map(([v, s]) => `${v} ${s}`).join(", ")}`, () => {
      expect(labelStyles(convention).map((s) => [s.value, s.short, s.color])).toEqual(expected);
      for (const s of labelStyles(convention)) expect(s.name.length).toBeGreaterThan(2);
    });
  }

  it("defaults to brats2021 and returns fresh copies", () => {
    expect(labelStyles()).toEqual(labelStyles("brats2021"));
    const a = labelStyles();
    a[0]!.color[0] = 0;
    expect(labelStyles()[0]!.color).toEqual(RED);
  });

  it.each(LABEL_CONVENTIONS)("%s: the conventions' labels and names, coloured by tissue", (c) => {
    expect(labelStyles(c)).toEqual(
      tumourLabels(c).map((l) => ({ ...l, color: [...TISSUE_COLORS[l.short]] })),
    );
  });

  it("rejects unknown conventions", () => {
    expect(() => labelStyles("brats2030" as LabelConvention)).toThrow(RangeError);
  });
});

describe("error colours", () => {
  it("FP magenta, FN cyan, TP green; legend entries", () => {
    expect([ERROR_COLORS.fp, ERROR_COLORS.fn, ERROR_COLORS.tp]).toEqual([
      [255, 0, 255],
      [0, 255, 255],
      GREEN,
    ]);
    expect(errorStyles().map((e) => e.short)).toEqual(["FP", "FN", "TP"]);
    expect(errorStyles(false).map((e) => [e.short, e.color])).toEqual([
      ["FP", [255, 0, 255]],
      ["FN", [0, 255, 255]],
    ]);
  });
});
