// Validation of the options and geometry every public function accepts.
import { MetricsError } from "./errors.js";
import type { MetricOptions, Shape, Spacing } from "./types.js";

/** The diagonal of a 240×240×155 image at 1 mm: sqrt(240² + 240² + 155²) = 373.1286... mm. */
export const DEFAULT_EMPTY_DISTANCE = 373.12866;

export interface ResolvedMetricOptions {
  emptyDistance: number;
  emptyPolicy: "brats" | "nan";
}

export function resolveMetricOptions(opts: MetricOptions | undefined): ResolvedMetricOptions {
  const emptyDistance = opts?.emptyDistance ?? DEFAULT_EMPTY_DISTANCE;
  const emptyPolicy = opts?.emptyPolicy ?? "brats";
  if (typeof emptyDistance !== "number" || !(emptyDistance >= 0)) {
    throw new MetricsError(
      "BAD_OPTION",
      `emptyDistance must be a number >= 0, got ${String(emptyDistance)}`,
    );
  }
  if (emptyPolicy !== "brats" && emptyPolicy !== "nan") {
    throw new MetricsError(
      "BAD_OPTION",
      `emptyPolicy must be "brats" or "nan", got ${JSON.stringify(emptyPolicy)}`,
    );
  }
  return { emptyDistance, emptyPolicy };
}

/** Checks the shape (three positive integers) and returns the voxel count. */
function voxelCount(shape: Shape): number {
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new MetricsError("SHAPE_MISMATCH", "shape must be [x, y, z]");
  }
  for (const n of shape) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new MetricsError(
        "SHAPE_MISMATCH",
        `shape ${JSON.stringify(shape)} is not three positive integers`,
      );
    }
  }
  return shape[0] * shape[1] * shape[2];
}

/** Checks that both volumes hold exactly one value per voxel of `shape`; returns the voxel count. */
export function checkVolumes(pred: ArrayLike<number>, gt: ArrayLike<number>, shape: Shape): number {
  const n = voxelCount(shape);
  if (pred.length !== n || gt.length !== n) {
    throw new MetricsError(
      "SHAPE_MISMATCH",
      `shape ${shape.join("×")} has ${n} voxels but pred has ${pred.length} and gt ${gt.length}`,
    );
  }
  return n;
}

/** Spacing must be three finite positive numbers (mm). */
export function checkSpacing(spacing: Spacing): void {
  if (!Array.isArray(spacing) || spacing.length !== 3) {
    throw new MetricsError("BAD_OPTION", "spacing must be [x, y, z] in mm");
  }
  for (const s of spacing) {
    if (typeof s !== "number" || !Number.isFinite(s) || s <= 0) {
      throw new MetricsError(
        "BAD_OPTION",
        `spacing ${JSON.stringify(spacing)} is not three finite positive numbers`,
      );
    }
  }
}
