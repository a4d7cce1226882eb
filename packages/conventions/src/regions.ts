// The three nested BraTS evaluation regions and the labels (per convention) and model classes each
// one holds. The region sets are written once, in REGION_TABLE; everything else derives from it.
import { ConventionsError } from "./errors.js";
import { checkLabelConvention, DEFAULT_LABEL_CONVENTION, type LabelConvention } from "./labels.js";

export type RegionName = "WT" | "TC" | "ET";

/** The three BraTS regions in reporting order: whole tumour, tumour core, enhancing tumour. */
export const REGION_NAMES: readonly RegionName[] = ["WT", "TC", "ET"];

/** Full names of the regions, for titles and legends. */
export const REGION_TITLES: Readonly<Record<RegionName, string>> = {
  WT: "Whole tumour",
  TC: "Tumour core",
  ET: "Enhancing tumour",
};

/** One score (e.g. Dice) per region. */
export type RegionScores = Record<RegionName, number>;

export interface ConventionInfo {
  name: LabelConvention;
  /** Label values scored per label, in order: brats2021 [1,2,4]; brats2023 [1,2,3]; brats2015 [1,2,3,4]. */
  labels: number[];
  /** brats2021: WT {1,2,4}, TC {1,4}, ET {4}; brats2023: WT {1,2,3}, TC {1,3}, ET {3};
   *  brats2015: WT {1,2,3,4}, TC {1,3,4}, ET {4}. */
  regions: Record<RegionName, number[]>;
}

interface ConventionTable {
  labels: readonly number[];
  regions: Readonly<Record<RegionName, readonly number[]>>;
}

const REGION_TABLE: Readonly<Record<LabelConvention, ConventionTable>> = {
  brats2021: { labels: [1, 2, 4], regions: { WT: [1, 2, 4], TC: [1, 4], ET: [4] } },
  brats2023: { labels: [1, 2, 3], regions: { WT: [1, 2, 3], TC: [1, 3], ET: [3] } },
  brats2015: { labels: [1, 2, 3, 4], regions: { WT: [1, 2, 3, 4], TC: [1, 3, 4], ET: [4] } },
};

/**
 * The labels and regions of a convention (a fresh object each call, safe to mutate).
 * - brats2021 (2017–2022): 1 necrotic/non-enhancing core, 2 oedema, 4 enhancing.
 * - brats2023: enhancing tumour moved to 3.
 * - brats2015 (2013–2016): 3 is non-enhancing core, counted in the core with 1; 4 enhancing.
 * An unknown name: BAD_OPTION.
 */
export function labelConvention(name: LabelConvention): ConventionInfo {
  checkLabelConvention(name);
  const { labels, regions } = REGION_TABLE[name];
  return {
    name,
    labels: [...labels],
    regions: { WT: [...regions.WT], TC: [...regions.TC], ET: [...regions.ET] },
  };
}

function unknownRegion(value: unknown): ConventionsError {
  return new ConventionsError(
    "BAD_OPTION",
    `unknown region ${JSON.stringify(value)}; expected one of ${REGION_NAMES.join(", ")}`,
  );
}

/** Throws ConventionsError("BAD_OPTION") unless `value` is WT, TC or ET. */
export function checkRegionName(value: unknown): asserts value is RegionName {
  if (!(REGION_NAMES as readonly unknown[]).includes(value)) throw unknownRegion(value);
}

/**
 * Label values making up a region, ascending (a fresh array): brats2021 WT {1,2,4}, TC {1,4},
 * ET {4}; brats2023 WT {1,2,3}, TC {1,3}, ET {3}; brats2015 WT {1,2,3,4}, TC {1,3,4}, ET {4}.
 */
export function regionLabels(
  region: RegionName,
  convention: LabelConvention = DEFAULT_LABEL_CONVENTION,
): number[] {
  checkLabelConvention(convention);
  checkRegionName(region);
  return [...REGION_TABLE[convention].regions[region]];
}

/** Whether label value `label` belongs to `region` under `convention` (0 and unknown values: no). */
export function labelInRegion(
  label: number,
  region: RegionName,
  convention: LabelConvention = DEFAULT_LABEL_CONVENTION,
): boolean {
  checkLabelConvention(convention);
  checkRegionName(region);
  return REGION_TABLE[convention].regions[region].includes(label);
}

/** Model classes (0 background, 1 necrotic core, 2 oedema, 3 enhancing) of each region. */
export const REGION_CLASSES: Readonly<Record<RegionName, readonly number[]>> = {
  WT: [1, 2, 3],
  TC: [1, 3],
  ET: [3],
};

/**
 * Whether model class `cls` belongs to `region`: WT {1, 2, 3}, TC {1, 3}, ET {3}, the same for
 * every convention. Background and values outside 0..3 belong to none. Cheap enough for per-voxel
 * loops; an unknown region: BAD_OPTION.
 */
export function classInRegion(cls: number, region: RegionName): boolean {
  switch (region) {
    case "WT":
      return cls === 1 || cls === 2 || cls === 3;
    case "TC":
      return cls === 1 || cls === 3;
    case "ET":
      return cls === 3;
    default:
      throw unknownRegion(region);
  }
}
