// The four classes a model predicts and how they map to and from BraTS label values. Class indices
// are the same for every convention; only the label values differ.
import { ConventionsError } from "./errors.js";
import {
  DEFAULT_LABEL_CONVENTION,
  tumourLabels,
  type LabelConvention,
  type TissueCode,
} from "./labels.js";
import { labelConvention } from "./regions.js";

/** The four classes a model predicts, by index. */
export const CLASS_NAMES: readonly string[] = ["background", "necrotic core", "edema", "enhancing"];
export const NUM_CLASSES = 4;

/** Marks a label value that has no class in a convention (in {@link labelToClassTable}). */
export const NO_CLASS = 255;

/** The class of each tissue: brats2015's non-enhancing core joins the necrotic core. */
const TISSUE_CLASS: Readonly<Record<TissueCode, number>> = { NCR: 1, NET: 1, ED: 2, ET: 3 };

/**
 * The label value written for each class 0..3:
 * brats2021 (2017–2022) [0, 1, 2, 4]; brats2023 [0, 1, 2, 3] (enhancing moved to 3);
 * brats2015 [0, 1, 2, 4] (its label 3, non-enhancing core, is read as class 1 and never written).
 */
export function classLabels(convention: LabelConvention = DEFAULT_LABEL_CONVENTION): number[] {
  const out = [0, 0, 0, 0];
  // NET comes after NCR in value order, so class 1 keeps NCR's value.
  for (const { value, short } of tumourLabels(convention)) {
    if (short !== "NET") out[TISSUE_CLASS[short]] = value;
  }
  return out;
}

/** `table[label]` = class index, or NO_CLASS (255) where the label has no class. 256 entries. */
export function labelToClassTable(
  convention: LabelConvention = DEFAULT_LABEL_CONVENTION,
): Uint8Array {
  const table = new Uint8Array(256).fill(NO_CLASS);
  table[0] = 0;
  for (const { value, short } of tumourLabels(convention)) table[value] = TISSUE_CLASS[short];
  return table;
}

function badLabel(value: number, index: number, convention: LabelConvention): ConventionsError {
  return new ConventionsError(
    "BAD_LABELS",
    `label ${value} at voxel ${index} is not a ${convention} label (expected ${[
      0,
      ...labelConvention(convention).labels,
    ].join(", ")})`,
  );
}

function badClass(cls: number, index: number): ConventionsError {
  return new ConventionsError(
    "BAD_LABELS",
    `class ${cls} at voxel ${index} is not a class index 0..3`,
  );
}

/** Label values → class indices 0..3. A value outside the convention: BAD_LABELS naming the voxel. */
export function labelsToClasses(
  labels: ArrayLike<number>,
  convention: LabelConvention = DEFAULT_LABEL_CONVENTION,
): Uint8Array {
  const table = labelToClassTable(convention);
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const value = labels[i]!;
    // `value & 255` would wrap 256 onto 0; the range check comes first.
    const cls = value >= 0 && value <= 255 && Number.isInteger(value) ? table[value]! : NO_CLASS;
    if (cls === NO_CLASS) throw badLabel(value, i, convention);
    out[i] = cls;
  }
  return out;
}

/** Class indices 0..3 → label values of the convention. A class outside 0..3: BAD_LABELS. */
export function classesToLabels(
  classes: ArrayLike<number>,
  convention: LabelConvention = DEFAULT_LABEL_CONVENTION,
): Uint8Array {
  const labels = classLabels(convention); // also checks the convention
  const out = new Uint8Array(classes.length);
  for (let i = 0; i < classes.length; i++) {
    const cls = classes[i]!;
    const label = Number.isInteger(cls) ? labels[cls] : undefined;
    if (label === undefined) throw badClass(cls, i);
    out[i] = label;
  }
  return out;
}

export interface RegionMasks {
  /** Whole tumour: every tumour label. */
  WT: Uint8Array;
  /** Tumour core: necrotic/non-enhancing core and enhancing tumour. */
  TC: Uint8Array;
  /** Enhancing tumour. */
  ET: Uint8Array;
}

/** 0/1 masks of the three BraTS regions from class indices 0..3 (WT ≥ 1, TC ∈ {1, 3}, ET = 3). */
export function classRegionMasks(classes: ArrayLike<number>): RegionMasks {
  const n = classes.length;
  const WT = new Uint8Array(n);
  const TC = new Uint8Array(n);
  const ET = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cls = classes[i]!;
    if (cls === 0) continue;
    if (cls !== 1 && cls !== 2 && cls !== 3) throw badClass(cls, i);
    WT[i] = 1;
    if (cls !== 2) TC[i] = 1;
    if (cls === 3) ET[i] = 1;
  }
  return { WT, TC, ET };
}

/**
 * 0/1 masks of the three BraTS regions from label values: brats2021 WT {1,2,4}, TC {1,4}, ET {4};
 * brats2023 WT {1,2,3}, TC {1,3}, ET {3}; brats2015 WT {1,2,3,4}, TC {1,3,4}, ET {4}.
 */
export function regionMasks(
  labels: ArrayLike<number>,
  convention: LabelConvention = DEFAULT_LABEL_CONVENTION,
): RegionMasks {
  return classRegionMasks(labelsToClasses(labels, convention));
}

/** Where each voxel's three region values are, and where a region starts counting. */
export interface RegionOutputLayout {
  /** From one voxel's WT value to the next voxel's (default 3: channels-last [V][3]). */
  stride?: number;
  /** From a voxel's WT value to its TC value, and on to ET (default 1; channels-first: the voxel count). */
  channelStride?: number;
  /** A region holds a voxel whose value is above this (default 0.5), in [0, 1]. */
  threshold?: number;
}

/**
 * Class indices 0..3 from region outputs (WT, TC, ET sigmoids, nnU-Net's BraTS head), each
 * thresholded: enhancing where ET is above the threshold, else necrotic core where TC is, else edema
 * where WT is, else background. The nesting ET ⊂ TC ⊂ WT is imposed, not assumed: ET alone is
 * enhancing tumour. A threshold outside [0, 1] or too short an array: BAD_OPTION.
 */
export function regionsToClasses(
  values: ArrayLike<number>,
  voxels: number,
  layout: RegionOutputLayout = {},
): Uint8Array {
  const stride = layout.stride ?? 3;
  const channelStride = layout.channelStride ?? 1;
  const threshold = layout.threshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new ConventionsError(
      "BAD_OPTION",
      `region threshold must be in [0, 1], got ${threshold}`,
    );
  }
  const positive = (n: number): boolean => Number.isInteger(n) && n > 0;
  if (!(Number.isInteger(voxels) && voxels >= 0 && positive(stride) && positive(channelStride))) {
    throw new ConventionsError(
      "BAD_OPTION",
      `voxels, stride and channelStride must be integers (voxels ≥ 0, strides ≥ 1), got ${voxels}, ${stride}, ${channelStride}`,
    );
  }
  const out = new Uint8Array(voxels);
  if (voxels === 0) return out;
  const needed = (voxels - 1) * stride + 2 * channelStride + 1;
  if (values.length < needed) {
    throw new ConventionsError(
      "BAD_OPTION",
      `${voxels} voxels of 3 region values need ${needed} values, got ${values.length}`,
    );
  }
  for (let v = 0, o = 0; v < voxels; v++, o += stride) {
    out[v] =
      values[o + 2 * channelStride]! > threshold
        ? 3
        : values[o + channelStride]! > threshold
          ? 1
          : values[o]! > threshold
            ? 2
            : 0;
  }
  return out;
}
