import { describe, expect, it } from "vitest";
import {
  checkLabelConvention,
  DEFAULT_LABEL_CONVENTION,
  isLabelConvention,
  LABEL_CONVENTIONS,
  tumourLabels,
  type LabelConvention,
  type TissueCode,
} from "./labels.js";
import { codeOf } from "./test-utils.js";

describe("label conventions", () => {
  it("lists brats2021 (the default), brats2023 and brats2015", () => {
    expect(LABEL_CONVENTIONS).toEqual(["brats2021", "brats2023", "brats2015"]);
    expect(DEFAULT_LABEL_CONVENTION).toBe("brats2021");
  });

  it.each<[unknown, boolean]>([
    ["brats2021", true],
    ["brats2023", true],
    ["brats2015", true],
    ["brats2019", false],
    ["BRATS2021", false],
    ["", false],
    [2021, false],
    [undefined, false],
  ])("isLabelConvention(%j) = %s; checkLabelConvention agrees", (value, ok) => {
    expect(isLabelConvention(value)).toBe(ok);
    expect(codeOf(() => checkLabelConvention(value))).toBe(ok ? undefined : "BAD_OPTION");
  });
});

describe("tumourLabels", () => {
  const table: Array<[LabelConvention, Array<[number, TissueCode, string]>]> = [
    [
      "brats2021",
      [
        [1, "NCR", "Necrotic / non-enhancing core"],
        [2, "ED", "Oedema"],
        [4, "ET", "Enhancing tumour"],
      ],
    ],
    [
      "brats2023",
      [
        [1, "NCR", "Necrotic core"],
        [2, "ED", "Oedema (SNFH)"],
        [3, "ET", "Enhancing tumour"],
      ],
    ],
    [
      "brats2015",
      [
        [1, "NCR", "Necrosis"],
        [2, "ED", "Oedema"],
        [3, "NET", "Non-enhancing core"],
        [4, "ET", "Enhancing tumour"],
      ],
    ],
  ];
  it.each(table)("%s: %j", (convention, expected) => {
    expect(tumourLabels(convention).map((l) => [l.value, l.short, l.name])).toEqual(expected);
  });

  it("defaults to brats2021, returns fresh copies, rejects unknown conventions", () => {
    expect(tumourLabels()).toEqual(tumourLabels("brats2021"));
    tumourLabels()[0]!.value = 9;
    expect(tumourLabels()[0]!.value).toBe(1);
    expect(codeOf(() => tumourLabels("brats2030" as LabelConvention))).toBe("BAD_OPTION");
  });
});
