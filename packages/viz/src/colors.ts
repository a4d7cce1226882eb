// BraTS label colours and error-map colours: the data behind overlays and legends. The labels,
// their names and the regions are @brats/conventions'; this module only colours them. Browser-safe.
//
// One colour per meaning, whatever value a convention gives it (the ITK-SNAP colours BraTS
// segmentations are usually shown with):
//   necrotic / non-enhancing core (NCR)  red     [255, 0, 0]
//   oedema (ED; SNFH in 2023)            green   [0, 255, 0]
//   enhancing tumour (ET)                yellow  [255, 255, 0]
//   non-enhancing core (NET, 2015 only)  blue    [0, 0, 255]
// So enhancing tumour is yellow both as label 4 (2015, 2021) and as label 3 (2023); label 3 of
// brats2015 is the non-enhancing core and is blue.
import {
  DEFAULT_LABEL_CONVENTION,
  isLabelConvention,
  LABEL_CONVENTIONS,
  tumourLabels,
  type LabelConvention,
  type TissueCode,
} from "@brats/conventions";
import type { Rgb } from "./rgba.js";

/** One label of a segmentation as drawn and listed in a legend. */
export interface LabelStyle {
  value: number;
  /** Legend text, e.g. "Enhancing tumour". */
  name: string;
  /** Abbreviation, e.g. "ET" (a TissueCode for the built-in styles). */
  short: string;
  color: [number, number, number];
}

const NCR_COLOR: Rgb = [255, 0, 0];
const ED_COLOR: Rgb = [0, 255, 0];
const ET_COLOR: Rgb = [255, 255, 0];
const NET_COLOR: Rgb = [0, 0, 255];

/** The colour of each tissue, whatever label value a convention gives it. */
export const TISSUE_COLORS: Readonly<Record<TissueCode, Rgb>> = {
  NCR: NCR_COLOR,
  ED: ED_COLOR,
  ET: ET_COLOR,
  NET: NET_COLOR,
};

/**
 * The labels of a convention (default brats2021) in value order, with their names (from
 * @brats/conventions' `tumourLabels`) and colours. A fresh array each call: callers may change
 * the colours. An unknown convention: RangeError.
 */
export function labelStyles(convention: LabelConvention = DEFAULT_LABEL_CONVENTION): LabelStyle[] {
  if (!isLabelConvention(convention)) {
    throw new RangeError(
      `label convention must be one of ${LABEL_CONVENTIONS.join(", ")}, got "${String(convention)}"`,
    );
  }
  return tumourLabels(convention).map(({ value, name, short }) => {
    const color = TISSUE_COLORS[short];
    return { value, name, short, color: [color[0], color[1], color[2]] };
  });
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
