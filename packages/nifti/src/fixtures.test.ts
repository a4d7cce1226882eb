// Every real file in test-fixtures/ read with readNifti and compared with nibabel's facts
// (src/__golden__/nibabel.json, made by scripts/nibabel_golden.py).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  expectCanonicalMatches,
  expectHeaderMatches,
  expectStatsMatch,
  isRefusal,
  loadGolden,
  type GoldenEntry,
} from "./__golden__/compare.js";
import { NiftiError } from "./errors.js";
import { readNifti, readNiftiHeader } from "./read.js";
import type { VoxelArray } from "./types.js";

const fixtureDir = fileURLToPath(new URL("../test-fixtures/", import.meta.url));
const golden = loadGolden();
const fixtureEntries = Object.entries(golden.files).filter(([key]) => !key.startsWith("brats/"));
const readable = fixtureEntries.filter((e): e is [string, GoldenEntry] => !isRefusal(e[1]));

/** Byte equality of two voxel arrays (toEqual walks millions of elements one by one). */
function sameBytes(a: VoxelArray | null, b: VoxelArray | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.constructor !== b.constructor) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** The NIfTI files the golden script is expected to cover: all but licences, READMEs and .img halves. */
function fixtureFilesOnDisk(): string[] {
  return readdirSync(fixtureDir)
    .filter((group) => statSync(join(fixtureDir, group)).isDirectory())
    .flatMap((group) => readdirSync(join(fixtureDir, group)).map((name) => `${group}/${name}`))
    .filter((key) => !/\/(LICENSE|COPYRIGHT|README)/.test(key) && !/\.img(\.gz)?$/.test(key))
    .sort();
}

describe("nibabel golden facts", () => {
  it("cover every fixture file, and only those", () => {
    expect(fixtureEntries.map(([key]) => key).sort()).toEqual(fixtureFilesOnDisk());
  });

  it("include the cases the fixtures exist for", () => {
    const entries = readable.map(([, e]) => e);
    expect(entries.some((e) => e.byteOrder === "big")).toBe(true);
    expect(entries.some((e) => e.version === 2)).toBe(true);
    expect(entries.some((e) => e.dataMissing)).toBe(true);
    expect(entries.some((e) => e.sclSlope !== null && e.sclSlope !== 1)).toBe(true);
    expect(entries.some((e) => e.shape.length > 5)).toBe(true);
    expect(entries.some((e) => e.qformCode === 0 && e.sformCode === 0)).toBe(true);
    expect(entries.some((e) => e.qformCode !== 0 && e.sformCode === 0)).toBe(true);
    expect(entries.some((e) => e.canonical.axcodes !== e.axcodes)).toBe(true);
  });
});

describe.each(readable)("%s", (key, want) => {
  const path = join(fixtureDir, key);

  it("has nibabel's shape, datatype, spacing, affine, axis codes, scaling and extensions", async () => {
    expectHeaderMatches(await readNifti(path), want);
  });

  it("has nibabel's scaled-data statistics", async () => {
    expectStatsMatch(await readNifti(path), want);
  });

  it("reorients to nibabel's closest canonical image", async () => {
    expectCanonicalMatches(await readNifti(path), want);
  });

  it("gives the same header through readNiftiHeader and from bytes in memory", async () => {
    const header = await readNiftiHeader(path);
    const full = await readNifti(path);
    expect(header).toEqual(full.header);
    if (!/\.hdr(\.gz)?$/.test(key)) {
      const fromBytes = await readNifti(new Uint8Array(readFileSync(path)));
      expect(fromBytes.header).toEqual(full.header);
      expect(sameBytes(fromBytes.data, full.data)).toBe(true);
    }
  });
});

describe("files nibabel refuses", () => {
  const refused = fixtureEntries.filter(([, e]) => isRefusal(e));

  it("include not-nifti.nii", () => {
    expect(refused.map(([key]) => key)).toContain("nifti-reader-js/not-nifti.nii");
  });

  it.each(refused)("%s gives NiftiError NOT_NIFTI", async (key) => {
    const error: unknown = await readNifti(join(fixtureDir, key)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NiftiError);
    expect((error as NiftiError).code).toBe("NOT_NIFTI");
  });
});
