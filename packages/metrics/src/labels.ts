// How label volumes are read: the convention (defined in @brats/conventions; the label values
// changed between challenge years, so it is always explicit) and the optional label map.
import {
  isLabelConvention,
  LABEL_CONVENTIONS,
  labelConvention,
  type ConventionInfo,
  type LabelConvention,
} from "@brats/conventions";
import { MetricsError } from "./errors.js";

/**
 * The labels and regions of a convention (@brats/conventions' `labelConvention`), with an
 * unknown name reported as this package's MetricsError("BAD_OPTION").
 */
export function conventionInfo(name: LabelConvention): ConventionInfo {
  if (!isLabelConvention(name)) {
    throw new MetricsError(
      "BAD_OPTION",
      `unknown label convention ${JSON.stringify(name)}; expected one of ${LABEL_CONVENTIONS.join(", ")}`,
    );
  }
  return labelConvention(name);
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
