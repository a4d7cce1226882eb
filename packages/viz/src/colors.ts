// BraTS label colours, region definitions and error-map colours: the data behind overlays and
// legends. Browser-safe.
//
// One colour per meaning, whatever value a convention gives it (the ITK-SNAP colours BraTS
// segmentations are usually shown with):
//   necrotic / non-enhancing core (NCR)  red     [255, 0, 0]
//   oedema (ED; SNFH in 2023)            green   [0, 255, 0]
//   enhancing tumour (ET)                yellow  [255, 255, 0]
//   non-enhancing core (NET, 2015 only)  blue    [0, 0, 255]
// So enhancing tumour is yellow both as label 4 (2015, 2021) and as label 3 (2023); label 3 of
// brats2015 is the non-enhancing core and is blue.
import type { Rgb } from "./rgba.js";

/** Label value conventions, as in @brats/metrics. */
export type LabelConvention = "brats2021" | "brats2023" | "brats2015";

export const LABEL_CONVENTIONS: readonly LabelConvention[] = [
  "brats2021",
  "brats2023",
  "brats2015",
];

/** One label of a segmentation as drawn and listed in a legend. */
export interface LabelStyle {
  value: number;
  /** Legend text, e.g. "Enhancing tumour". */
  name: string;
  /** Abbreviation, e.g. "ET". */
  short: string;
  color: [number, number, number];
}

export const NCR_COLOR: Rgb = [255, 0, 0];
export const ED_COLOR: Rgb = [0, 255, 0];
export const ET_COLOR: Rgb = [255, 255, 0];
export const NET_COLOR: Rgb = [0, 0, 255];

function checkConvention(convention: LabelConvention): void {
  if (!LABEL_CONVENTIONS.includes(convention)) {
    throw new RangeError(
      `label convention must be one of ${LABEL_CONVENTIONS.join(", ")}, got "${String(convention)}"`,
    );
  }
}

const style = (value: number, name: string, short: string, color: Rgb): LabelStyle => ({
  value,
  name,
  short,
  color: [color[0], color[1], color[2]],
});

/**
 * The labels of a convention (default brats2021) in value order, with their names and colours:
 * - brats2021 (BraTS 2017–2022): 1 necrotic / non-enhancing core, 2 oedema, 4 enhancing tumour.
 * - brats2023: 1 necrotic core, 2 oedema (surrounding FLAIR hyperintensity), 3 enhancing tumour.
 * - brats2015 (2013–2016): 1 necrosis, 2 oedema, 3 non-enhancing core, 4 enhancing tumour.
 * A fresh array each call: callers may change the colours.
 */
export function labelStyles(convention: LabelConvention = "brats2021"): LabelStyle[] {
  checkConvention(convention);
  switch (convention) {
    case "brats2021":
      return [
        style(1, "Necrotic / non-enhancing core", "NCR", NCR_COLOR),
        style(2, "Oedema", "ED", ED_COLOR),
        style(4, "Enhancing tumour", "ET", ET_COLOR),
      ];
    case "brats2023":
      return [
        style(1, "Necrotic core", "NCR", NCR_COLOR),
        style(2, "Oedema (SNFH)", "ED", ED_COLOR),
        style(3, "Enhancing tumour", "ET", ET_COLOR),
      ];
    case "brats2015":
      return [
        style(1, "Necrosis", "NCR", NCR_COLOR),
        style(2, "Oedema", "ED", ED_COLOR),
        style(3, "Non-enhancing core", "NET", NET_COLOR),
        style(4, "Enhancing tumour", "ET", ET_COLOR),
      ];
  }
}

/** The BraTS evaluation regions. */
export type Region = "WT" | "TC" | "ET";

export const REGIONS: readonly Region[] = ["WT", "TC", "ET"];

/** Full names of the regions for titles. */
export const REGION_NAMES: Readonly<Record<Region, string>> = {
  WT: "Whole tumour",
  TC: "Tumour core",
  ET: "Enhancing tumour",
};

/**
 * Label values making up a region (as @brats/metrics scores them): brats2021 WT {1,2,4},
 * TC {1,4}, ET {4}; brats2023 WT {1,2,3}, TC {1,3}, ET {3}; brats2015 WT {1,2,3,4}, TC {1,3,4}, ET {4}.
 */
export function regionLabels(region: Region, convention: LabelConvention = "brats2021"): number[] {
  checkConvention(convention);
  if (!REGIONS.includes(region)) {
    throw new RangeError(`region must be WT, TC or ET, got "${String(region)}"`);
  }
  const et = convention === "brats2023" ? 3 : 4;
  const core = convention === "brats2015" ? [1, 3, 4] : [1, et];
  switch (region) {
    case "WT":
      return [...new Set([...core, 2])].sort((a, b) => a - b);
    case "TC":
      return core;
    case "ET":
      return [et];
  }
}

/** Colours of an error map, chosen apart from the label colours and from each other for colour-blind readers. */
export const ERROR_COLORS: Readonly<{ fp: Rgb; fn: Rgb; tp: Rgb }> = {
  /** Predicted but not in the ground truth: magenta. */
  fp: [255, 0, 255],
  /** In the ground truth but missed: cyan. */
  fn: [0, 255, 255],
  /** Agreement (drawn faintly when shown): green. */
  tp: [0, 255, 0],
};

/** Legend entries of an error map (true positives only when `withTruePositives`). */
export function errorStyles(
  withTruePositives = true,
): Array<{ name: string; short: string; color: [number, number, number] }> {
  const entries = [
    { name: "False positive", short: "FP", color: ERROR_COLORS.fp },
    { name: "False negative", short: "FN", color: ERROR_COLORS.fn },
  ];
  if (withTruePositives)
    entries.push({ name: "True positive", short: "TP", color: ERROR_COLORS.tp });
  return entries.map((e) => ({ ...e, color: [e.color[0], e.color[1], e.color[2]] }));
}
