import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  expectAffineClose,
  isRefusal,
  loadGolden,
  type GoldenEntry,
} from "./__golden__/compare.js";
import { CLI, run as runCli, type CliIo } from "./cli.js";
import { helpText } from "@brats/kit/cli";
import { createImage } from "./image.js";
import type { DatatypeName, VoxelArray } from "./types.js";
import { serializeNifti, writeNifti } from "./write.js";

const packageDir = fileURLToPath(new URL("../", import.meta.url));
const cliPath = fileURLToPath(new URL("./cli.ts", import.meta.url));
const binPath = fileURLToPath(new URL("../bin/brats-nifti.js", import.meta.url));
const fixture = (key: string) => join(packageDir, "test-fixtures", key);
const golden = loadGolden();
const version = (
  JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }
).version;

function goldenEntry(key: string): GoldenEntry {
  const entry = golden.files[key];
  if (entry === undefined || isRefusal(entry)) throw new Error(`no golden entry for ${key}`);
  return entry;
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  expect(stdout.endsWith("\n")).toBe(true);
  return stdout
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const workDir = mkdtempSync(join(tmpdir(), "brats-nifti-cli-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function writeSample(
  name: string,
  datatype: DatatypeName,
  data: VoxelArray,
  shape: number[],
): Promise<string> {
  const path = join(workDir, name);
  await writeNifti(createImage({ data, shape, datatype }), path);
  return path;
}

describe("brats-nifti usage", () => {
  it.each([["--help"], ["-h"], ["info", "x.nii", "--help"], ["--jsno", "--help"]])(
    "%s prints the help and exits 0",
    async (...argv) => {
      const result = await run(argv);
      expect(result).toEqual({ code: 0, stdout: helpText(CLI), stderr: "" });
    },
  );

  it("lists every option on a line of its own", () => {
    const help = helpText(CLI);
    expect(help).toContain("Usage: brats-nifti info FILE... [--json]");
    for (const option of ["--json", "--help", "--version"]) {
      expect(
        help
          .split("\n")
          .filter((line) => line.trimStart().match(new RegExp(`^(-\\w, )?${option}\\b`))),
      ).toHaveLength(1);
    }
  });

  it("--version prints the package version", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it.each([
    { argv: [], line: "missing command" },
    { argv: ["show", "a.nii"], line: 'unknown command "show"' },
    { argv: ["info"], line: "info needs at least one FILE" },
    { argv: ["info", "--json"], line: "info needs at least one FILE" },
    { argv: ["info", "--jsno", "a.nii"], line: "unknown option --jsno (did you mean --json?)" },
    { argv: ["info", "--json=yes", "a.nii"], line: "--json takes no value" },
  ])("$argv is a one-line usage error (exit 2)", async ({ argv, line }) => {
    const result = await run(argv);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: `brats-nifti: ${line}\nsee brats-nifti --help\n`,
    });
  });

  it("a missing file is NOT_FOUND (exit 2), even after --, and nothing is read", async () => {
    const good = fixture("nibabel/standard.nii.gz");
    const result = await run(["info", "--json", good, "--", "--missing.nii"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "brats-nifti: FILE: no such file or directory: --missing.nii\n",
    });
  });
});

describe("brats-nifti info --json", () => {
  const keys = [
    "nibabel/anatomical.nii", // big-endian int16
    "nibabel/functional.nii", // scaled (slope 0.0754, inter 3100.76)
    "nifti-reader-js/air.hdr.gz", // gzipped .hdr/.img pair
    "nifti-reader-js/avg152T1_LR_nifti.nii", // slope 0: no scaling
    "nibabel/example_nifti2.nii.gz", // NIfTI-2, 4-D
    "nibabel/row_major.dconn.nii", // 6-D, neither qform nor sform
  ];

  it("prints one object per file, in the issue's key order, with nibabel's values", async () => {
    const files = keys.map(fixture);
    const result = await run(["info", ...files, "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const lines = jsonLines(result.stdout);
    expect(lines).toHaveLength(keys.length);
    lines.forEach((line, i) => {
      const want = goldenEntry(keys[i]!);
      expect(Object.keys(line)).toEqual([
        "file",
        "shape",
        "datatype",
        "pixdim",
        "affine",
        "axcodes",
        "sclSlope",
        "sclInter",
        "stats",
      ]);
      expect(line.file).toBe(files[i]);
      expect(line.shape).toEqual(want.shape);
      expect(line.datatype).toBe(want.datatype);
      expect(line.pixdim).toEqual(want.pixdim);
      expect(line.pixdim).toHaveLength(want.shape.length);
      expectAffineClose(line.affine as number[][], want.affine);
      expect(line.axcodes).toBe(want.axcodes);
      expect(line.sclSlope).toBe(want.sclSlope);
      expect(line.sclInter).toBe(want.sclInter);
      const stats = line.stats as { min: number; max: number; mean: number };
      expect(Object.keys(stats)).toEqual(["min", "max", "mean"]);
      expect(stats.min).toBe(want.stats!.min);
      expect(stats.max).toBe(want.stats!.max);
      expect(Math.abs(stats.mean - want.stats!.mean!) / Math.abs(want.stats!.mean!)).toBeLessThan(
        1e-9,
      );
    });
    // Spot values, by hand from the golden file: scaling kept raw, slope 0 reported as null.
    expect(lines[1]).toMatchObject({ sclSlope: Math.fround(0.07540697), sclInter: 3100.76171875 });
    expect(lines[3]).toMatchObject({ sclSlope: null, sclInter: null, axcodes: "LAS" });
    expect(lines[0]).toMatchObject({ datatype: "int16", stats: { min: -610, max: 30393 } });
  });

  it("marks a header-only file with dataMissing and prints no stats", async () => {
    const result = await run(["info", "--json", fixture("nibabel/nifti1.hdr")]);
    expect(result.code).toBe(0);
    const [line] = jsonLines(result.stdout);
    expect(line).toMatchObject({
      shape: [91, 109, 91],
      datatype: "int16",
      axcodes: "LAS",
      dataMissing: true,
    });
    expect(line).not.toHaveProperty("stats");
  });

  it("reports unreadable files and carries on, exiting 1 at the end", async () => {
    const good = fixture("nibabel/standard.nii.gz");
    const notNifti = fixture("nifti-reader-js/not-nifti.nii");
    const result = await run(["info", "--json", notNifti, good, notNifti]);
    expect(result.code).toBe(1);
    const lines = jsonLines(result.stdout);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({
      file: notNifti,
      error: { code: "NOT_NIFTI", message: expect.any(String) },
    });
    expect(lines[1]).toMatchObject({ file: good, shape: [4, 5, 7], stats: { min: 0, max: 255 } });
    expect(lines[2]).toEqual({
      file: notNifti,
      error: { code: "NOT_NIFTI", message: expect.any(String) },
    });
  });

  it("leaves stats out for rgb and complex data", async () => {
    const rgb = await writeSample(
      "rgb.nii",
      "rgb24",
      new Uint8Array(2 * 3 * 2 * 3).map((_, i) => i),
      [2, 3, 2],
    );
    const complex = await writeSample(
      "complex.nii.gz",
      "complex64",
      new Float32Array(2 * 8).fill(1.5),
      [2, 2, 2],
    );
    const result = await run(["info", "--json", rgb, complex]);
    expect(result.code).toBe(0);
    const [rgbLine, complexLine] = jsonLines(result.stdout);
    expect(rgbLine).toMatchObject({ datatype: "rgb24", shape: [2, 3, 2] });
    expect(complexLine).toMatchObject({ datatype: "complex64", shape: [2, 2, 2] });
    expect(rgbLine).not.toHaveProperty("stats");
    expect(complexLine).not.toHaveProperty("stats");
  });

  it("computes stats over finite values only", async () => {
    // Mean of the finite values 1, 2, 6 is 3; NaN and ±Infinity are ignored.
    const data = new Float32Array([1, NaN, 2, Infinity, 6, -Infinity, NaN, NaN]);
    const path = await writeSample("nonfinite.nii", "float32", data, [2, 2, 2]);
    const [line] = jsonLines((await run(["info", "--json", path])).stdout);
    expect(line!.stats).toEqual({ min: 1, max: 6, mean: 3 });
  });

  it("gives null axcodes for a non-finite affine and still reports the rest", async () => {
    const affine = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    const data = new Int16Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const bytes = serializeNifti(createImage({ data, shape: [2, 2, 2], affine }));
    // srow_x[0] (byte 280 of a little-endian NIfTI-1 header) := NaN; sform_code stays 1.
    new DataView(bytes.buffer, bytes.byteOffset).setFloat32(280, NaN, true);
    const path = join(workDir, "nan-affine.nii");
    writeFileSync(path, bytes);
    const result = await run(["info", "--json", path]);
    expect(result.code).toBe(0);
    const [line] = jsonLines(result.stdout);
    expect(line).toMatchObject({
      axcodes: null,
      shape: [2, 2, 2],
      stats: { min: 1, max: 8, mean: 4.5 },
    });
  });

  it("gives null stats when no value is finite", async () => {
    const path = await writeSample(
      "allnan.nii",
      "float64",
      new Float64Array(8).fill(NaN),
      [2, 2, 2],
    );
    const [line] = jsonLines((await run(["info", "--json", path])).stdout);
    expect(line!.stats).toEqual({ min: null, max: null, mean: null });
  });
});

describe("brats-nifti info (readable summary)", () => {
  it("prints aligned fields for each file, separated by a blank line", async () => {
    const anatomical = fixture("nibabel/anatomical.nii");
    const functional = fixture("nibabel/functional.nii");
    const result = await run(["info", anatomical, functional]);
    expect(result.code).toBe(0);
    const [first, second] = result.stdout.split("\n\n");
    expect(first!.split("\n")).toEqual([
      anatomical,
      "  shape     33 x 41 x 25",
      "  datatype  int16",
      "  pixdim    2 x 2 x 2",
      "  axcodes   LAS",
      "  affine    [ -2  0  0   32 ]",
      "            [  0  2  0  -40 ]",
      "            [  0  0  2  -16 ]",
      "            [  0  0  0    1 ]",
      "  scaling   slope 1, inter 0",
      "  stats     min -610, max 30393, mean 8401.07",
    ]);
    expect(second).toContain("  scaling   slope 0.075407, inter 3100.76\n");
    expect(second).toContain("  shape     17 x 21 x 3 x 20\n");
  });

  it("puts errors on stderr and exits 1", async () => {
    const notNifti = fixture("nifti-reader-js/not-nifti.nii");
    const result = await run(["info", notNifti]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.startsWith(`${notNifti}: error NOT_NIFTI: `)).toBe(true);
  });

  it("says when the data is missing", async () => {
    const result = await run(["info", fixture("nibabel/nifti2.hdr")]);
    expect(result.stdout).toContain("  data      missing (header only)\n");
  });
});

describe("brats-nifti as a process", () => {
  it("the bin file starts with a node shebang and calls run from dist/cli.js", () => {
    const bin = readFileSync(binPath, "utf8");
    expect(bin.split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(bin).toContain('import { run } from "../dist/cli.js";');
  });

  // The bin needs a build; `run` from the source is what it calls.
  const runSource = (...argv: string[]) =>
    spawnSync(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { run } from ${JSON.stringify(cliPath)}; await run(${JSON.stringify(argv)});`,
      ],
      { cwd: packageDir, encoding: "utf8" },
    );

  it("sets the exit code of the process", () => {
    const good = fixture("nibabel/standard.nii.gz");
    const result = runSource("info", "--json", good);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      file: good,
      shape: [4, 5, 7],
      axcodes: "RAS",
    });

    const usage = runSource("frobnicate");
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe(
      'brats-nifti: unknown command "frobnicate"\nsee brats-nifti --help\n',
    );

    const missing = runSource("info", join(workDir, "nope.nii.gz"));
    expect(missing.status).toBe(2);
  });
});
