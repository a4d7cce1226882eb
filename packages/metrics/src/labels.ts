// BraTS label conventions. The label values changed between challenge years, so the convention
// is always explicit: the same file scored under the wrong one gives silently wrong regions.
import { MetricsError } from "./errors.js";

export type LabelConvention = "brats2021" | "brats2023" | "brats2015";
export type RegionName = "WT" | "TC" | "ET";

/** The three BraTS regions in reporting order: whole tumour, tumour core, enhancing tumour. */
export const REGION_NAMES: readonly RegionName[] = ["WT", "TC", "ET"];

/** Every supported convention, default first. */
export const LABEL_CONVENTIONS: readonly LabelConvention[] = [
  "brats2021",
  "brats2023",
  "brats2015",
];

export interface ConventionInfo {
  name: LabelConvention;
  /** Label values scored per label, in order: brats2021 [1,2,4]; brats2023 [1,2,3]; brats2015 [1,2,3,4]. */
  labels: number[];
  /** brats2021: WT {1,2,4}, TC {1,4}, ET {4}; brats2023: WT {1,2,3}, TC {1,3}, ET {3};
   *  brats2015: WT {1,2,3,4}, TC {1,3,4}, ET {4}. */
  regions: Record<RegionName, number[]>;
}

/**
 * The labels and regions of a convention (a fresh object each call, safe to mutate).
 * - brats2021 (2017–2022): 1 necrotic/non-enhancing core, 2 oedema, 4 enhancing.
 * - brats2023: enhancing tumour moved to 3.
 * - brats2015 (2013–2016): 3 is non-enhancing core, counted in the core with 1; 4 enhancing.
 * An unknown name: BAD_OPTION.
 */
export function labelConvention(name: LabelConvention): ConventionInfo {
  switch (name) {
    case "brats2021":
      return { name, labels: [1, 2, 4], regions: { WT: [1, 2, 4], TC: [1, 4], ET: [4] } };
    case "brats2023":
      return { name, labels: [1, 2, 3], regions: { WT: [1, 2, 3], TC: [1, 3], ET: [3] } };
    case "brats2015":
      return {
        name,
        labels: [1, 2, 3, 4],
        regions: { WT: [1, 2, 3, 4], TC: [1, 3, 4], ET: [4] },
      };
    default:
      throw new MetricsError(
        "BAD_OPTION",
        `unknown label convention ${JSON.stringify(name)}; expected one of ${LABEL_CONVENTIONS.join(", ")}`,
      );
  }
}

/** A label value is usable when it is an integer in 0..255 (the joint histogram's range). */
export function isLabelValue(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 255;
}

/**
 * How predicted voxel values become labels: `table[v]` for integer v in 0..255, `extra` for
 * label-map keys outside that range (a map may rescue e.g. -1 → 0). Values absent from both are
 * not labels (BAD_LABELS when met).
 */
export interface LabelLookup {
  table: Uint8Array;
  extra: Map<number, number>;
}

/**
 * Validates a label map ({from: to}, keys are integers, targets integers in 0..255; BAD_OPTION
 * otherwise) and builds its lookup. Unmapped values keep their label.
 */
export function labelLookup(labelMap?: Record<number, number>): LabelLookup {
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++) table[v] = v;
  const extra = new Map<number, number>();
  if (labelMap === undefined) return { table, extra };
  if (typeof labelMap !== "object" || labelMap === null || Array.isArray(labelMap)) {
    throw new MetricsError("BAD_OPTION", "labelMap must be an object such as {3: 4}");
  }
  for (const [key, target] of Object.entries(labelMap)) {
    const from = Number(key);
    if (key.trim() === "" || !Number.isInteger(from)) {
      throw new MetricsError("BAD_OPTION", `labelMap key ${JSON.stringify(key)} is not an integer`);
    }
    if (typeof target !== "number" || !isLabelValue(target)) {
      throw new MetricsError(
        "BAD_OPTION",
        `labelMap[${key}] = ${String(target)} is not an integer label in 0..255`,
      );
    }
    if (from >= 0 && from <= 255) table[from] = target;
    else extra.set(from, target);
  }
  return { table, extra };
}
