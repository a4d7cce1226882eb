// Shared by fixtures.test.ts and brats.test.ts: loads the nibabel golden facts
// (scripts/nibabel_golden.py) and checks one decoded image against them.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { axcodes, asClosestCanonical } from "../orientation.js";
import { getScaledData } from "../scale.js";
import type { Affine, NiftiImage } from "../types.js";

export interface GoldenStats {
  count: number;
  min: number | null;
  max: number | null;
  sum: number;
  mean: number | null;
  checksum: number;
}

export interface GoldenEntry {
  loadedAs: string;
  version: 1 | 2;
  byteOrder: "little" | "big";
  shape: number[];
  datatype: string;
  pixdim: number[];
  affine: Affine;
  axcodes: string;
  sclSlope: number | null;
  sclInter: number | null;
  qformCode: number;
  sformCode: number;
  extensions: { code: number; esize: number }[];
  stats?: GoldenStats;
  dataMissing?: true;
  canonical: { shape: number[]; axcodes: string; affine: Affine; checksum?: number };
}

export interface GoldenRefusal {
  nibabelError: string;
}

export interface GoldenFile {
  generator: { script: string; nibabel: string; numpy: string };
  files: Record<string, GoldenEntry | GoldenRefusal>;
}

export function loadGolden(): GoldenFile {
  return JSON.parse(readFileSync(new URL("./nibabel.json", import.meta.url), "utf8")) as GoldenFile;
}

export function isRefusal(entry: GoldenEntry | GoldenRefusal): entry is GoldenRefusal {
  return "nibabelError" in entry;
}

/** Same definition as the golden script: Σ value·(i mod 7 + 1) over finite values, in file order. */
export function weightedChecksum(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) sum += v * ((i % 7) + 1);
  }
  return sum;
}

export function finiteStats(values: ArrayLike<number>): GoldenStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    count++;
  }
  return count === 0
    ? { count, min: null, max: null, sum, mean: null, checksum: weightedChecksum(values) }
    : { count, min, max, sum, mean: sum / count, checksum: weightedChecksum(values) };
}

export function expectAffineClose(actual: Affine, expected: Affine, tolerance = 1e-5): void {
  expect(actual).toHaveLength(4);
  for (let r = 0; r < 4; r++) {
    expect(actual[r]).toHaveLength(4);
    for (let c = 0; c < 4; c++) {
      const diff = Math.abs(actual[r]![c]! - expected[r]![c]!);
      expect(
        diff,
        `affine[${r}][${c}] ${actual[r]![c]} vs nibabel ${expected[r]![c]}`,
      ).toBeLessThanOrEqual(tolerance);
    }
  }
}

function expectRelativelyClose(
  actual: number,
  expected: number,
  relative: number,
  what: string,
): void {
  const scale = Math.max(Math.abs(expected), 1e-300);
  expect(
    Math.abs(actual - expected) / scale,
    `${what}: ${actual} vs nibabel ${expected}`,
  ).toBeLessThanOrEqual(relative);
}

function roundToFloat32(value: number | null): number | null {
  return value === null ? null : Math.fround(value);
}

/** Header facts: everything except voxel values. */
export function expectHeaderMatches(image: NiftiImage, want: GoldenEntry): void {
  const { header } = image;
  expect(image.shape).toEqual(want.shape);
  expect(image.datatype).toBe(want.datatype);
  expect(header.version).toBe(want.version);
  expect(header.littleEndian ? "little" : "big").toBe(want.byteOrder);
  expect(image.spacing).toEqual(want.pixdim);
  expectAffineClose(image.affine, want.affine);
  expect(axcodes(image.affine)).toBe(want.axcodes);
  const scaled = header.sclSlope !== 0 && !Number.isNaN(header.sclSlope);
  expect(scaled ? header.sclSlope : null).toBe(want.sclSlope);
  expect(scaled && !Number.isNaN(header.sclInter) ? header.sclInter : null).toBe(want.sclInter);
  expect(header.qformCode).toBe(want.qformCode);
  expect(header.sformCode).toBe(want.sformCode);
  // esize on disk = 8-byte esize/ecode prefix + data.
  expect(header.extensions.map((e) => ({ code: e.code, esize: e.data.length + 8 }))).toEqual(
    want.extensions,
  );
}

/** Scaled-data statistics, in float64 (exact against get_fdata) and float32 (what most callers use). */
export function expectStatsMatch(image: NiftiImage, want: GoldenEntry): void {
  if (want.dataMissing) {
    expect(image.data).toBeNull();
    return;
  }
  expect(image.data).not.toBeNull();
  if (want.stats === undefined) return; // rgb / complex: nibabel gives no scalar values to compare
  const wide = finiteStats(getScaledData(image, "float64"));
  expect(wide.count).toBe(want.stats.count);
  expect(wide.min).toBe(want.stats.min);
  expect(wide.max).toBe(want.stats.max);
  if (want.stats.mean !== null) expectRelativelyClose(wide.mean!, want.stats.mean, 1e-6, "mean");
  if (want.stats.checksum !== 0)
    expectRelativelyClose(wide.checksum, want.stats.checksum, 1e-9, "checksum");
  else expect(wide.checksum).toBe(0);

  const narrow = finiteStats(getScaledData(image, "float32"));
  expect(narrow.count).toBe(want.stats.count);
  expect(narrow.min).toBe(roundToFloat32(want.stats.min));
  expect(narrow.max).toBe(roundToFloat32(want.stats.max));
  if (want.stats.mean !== null)
    expectRelativelyClose(narrow.mean!, want.stats.mean, 1e-6, "float32 mean");
}

/** nibabel's as_closest_canonical: shape, affine, axis codes and the reoriented voxels' checksum. */
export function expectCanonicalMatches(image: NiftiImage, want: GoldenEntry): void {
  const canonical = asClosestCanonical(image);
  expect(canonical.shape).toEqual(want.canonical.shape);
  expectAffineClose(canonical.affine, want.canonical.affine);
  expect(axcodes(canonical.affine)).toBe(want.canonical.axcodes);
  if (want.canonical.checksum === undefined) return;
  const checksum = weightedChecksum(getScaledData(canonical, "float64"));
  if (want.canonical.checksum === 0) expect(checksum).toBe(0);
  else expectRelativelyClose(checksum, want.canonical.checksum, 1e-9, "canonical checksum");
}
