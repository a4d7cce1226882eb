// brats-nifti: command-line facts about NIfTI files, with the same numbers nibabel reports.
// The entry point is bin/brats-nifti.js (it calls `run`); this module only defines the tool.
import { availableParallelism } from "node:os";
import {
  defineCli,
  parseCli,
  requireInputPath,
  runCliMain,
  readPackageVersion,
  UsageError,
  type CliIo,
} from "@brats/kit/cli";
import { NiftiError } from "./errors.js";
import { axcodes } from "./orientation.js";
import { imageFromHeader } from "./parse.js";
import { scanNifti } from "./read.js";
import { getScaledData, scaleBlockInto } from "./scale.js";
import type { Affine, NiftiImage } from "./types.js";

export type { CliIo };

const NAME = "brats-nifti";

/** The option table: the parser and the help both come from it. */
export const CLI = defineCli({
  name: NAME,
  // ../package.json from both src/cli.ts and dist/cli.js.
  version: readPackageVersion(new URL("../package.json", import.meta.url)),
  usage: "brats-nifti info FILE... [--json]",
  summary: `Print the shape, datatype, spacing, affine, axis codes, scaling and voxel statistics of NIfTI
files (.nii, .nii.gz, .hdr/.img pairs, NIfTI-1 and NIfTI-2).`,
  options: {
    json: { type: "boolean", description: "one JSON object per file, one per line" },
  },
  positionals: { name: "info FILE..." },
  epilogue:
    "Exit status: 0 when every file was read, 1 when any could not be, 2 on a usage error or a missing file.",
});

/** The facts printed for a readable file; the key order is the --json output order. */
export interface FileInfo {
  file: string;
  shape: number[];
  datatype: string;
  pixdim: number[];
  affine: Affine;
  /** null when the affine has non-finite entries (nibabel cannot name the axes either). */
  axcodes: string | null;
  sclSlope: number | null;
  sclInter: number | null;
  stats?: { min: number | null; max: number | null; mean: number | null };
  dataMissing?: true;
}

export interface FileError {
  file: string;
  error: { code: string; message: string };
}

const NO_STATS_DATATYPES = new Set(["rgb24", "rgba32", "complex64"]);

/**
 * min/max/mean of the finite values seen so far, over blocks of scaled values; nulls when there are
 * none. Sums in float64 in voxel order, so the result does not depend on the block sizes.
 */
export class FiniteStats {
  private min = Infinity;
  private max = -Infinity;
  private sum = 0;
  private count = 0;

  add(values: ArrayLike<number>): void {
    let { min, max, sum, count } = this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      count++;
    }
    Object.assign(this, { min, max, sum, count });
  }

  result(): NonNullable<FileInfo["stats"]> {
    return this.count === 0
      ? { min: null, max: null, mean: null }
      : { min: this.min, max: this.max, mean: this.sum / this.count };
  }
}

/** The facts about an image (its header; its data when `stats` are given), as `info --json` prints them. */
function facts(file: string, image: NiftiImage): FileInfo {
  const { sclSlope, sclInter } = image.header;
  // nibabel ignores scaling when the slope is 0 or NaN; the raw values are then meaningless.
  const scaled = sclSlope !== 0 && !Number.isNaN(sclSlope);
  return {
    file,
    shape: [...image.shape],
    datatype: image.datatype,
    pixdim: [...image.spacing],
    affine: image.affine.map((row) => [...row]),
    axcodes: image.affine.every((row) => row.every(Number.isFinite)) ? axcodes(image.affine) : null,
    sclSlope: scaled ? sclSlope : null,
    sclInter: scaled && !Number.isNaN(sclInter) ? sclInter : null,
  };
}

/** The facts about one decoded image, as `brats-nifti info --json` prints them. */
export function describeImage(file: string, image: NiftiImage): FileInfo {
  const info = facts(file, image);
  if (image.data === null) {
    info.dataMissing = true;
  } else if (!NO_STATS_DATATYPES.has(image.datatype)) {
    // float64 so that min/max are exactly nibabel's get_fdata() values.
    const stats = new FiniteStats();
    stats.add(getScaledData(image, "float64"));
    info.stats = stats.result();
  }
  return info;
}

/**
 * describeImage for a file, reading its data once as a stream (scanNifti): the statistics come
 * block by block, so the volume is never held whole and memory stays flat whatever its size.
 */
export async function describeFile(file: string): Promise<FileInfo> {
  const stats = new FiniteStats();
  let scratch = new Float64Array(0);
  let withStats = false;
  const { header, hasData } = await scanNifti(file, (block, h) => {
    if (!withStats) {
      withStats = !NO_STATS_DATATYPES.has(imageFromHeader(h, null).datatype);
      if (!withStats) return;
    }
    if (scratch.length < block.length) scratch = new Float64Array(block.length);
    stats.add(scaleBlockInto(h, block, scratch.subarray(0, block.length)));
  });
  const image = imageFromHeader(header, null);
  const info = facts(file, image);
  if (!hasData) info.dataMissing = true;
  else if (!NO_STATS_DATATYPES.has(image.datatype)) info.stats = stats.result();
  return info;
}

function errorOf(file: string, err: unknown): FileError {
  if (err instanceof NiftiError) return { file, error: { code: err.code, message: err.message } };
  // Not a NiftiError: a bug in this package rather than bad input; still report it per file.
  const message = err instanceof Error ? err.message : String(err);
  return { file, error: { code: "INTERNAL", message } };
}

function formatNumber(value: number | null): string {
  if (value === null) return "-";
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e7)
    ? value.toExponential(4)
    : String(Number(value.toPrecision(6)));
}

/** Right-aligns the matrix entries column by column, to 0.1 µm (hides float32 noise such as 1e-8). */
function formatAffine(affine: Affine): string[] {
  const cells = affine.map((row) => row.map((v) => String(Number(v.toFixed(4)) + 0))); // + 0: no "-0"
  const widths = [0, 1, 2, 3].map((c) => Math.max(...cells.map((row) => row[c]?.length ?? 0)));
  return cells.map((row) => `[ ${row.map((cell, c) => cell.padStart(widths[c]!)).join("  ")} ]`);
}

/** The readable (non-JSON) summary of one file. */
export function formatInfo(info: FileInfo): string {
  const label = (name: string) => `  ${name.padEnd(9)} `;
  const [firstRow, ...otherRows] = formatAffine(info.affine);
  const lines = [
    info.file,
    label("shape") + info.shape.join(" x "),
    label("datatype") + info.datatype,
    label("pixdim") + info.pixdim.map(formatNumber).join(" x "),
    label("axcodes") + (info.axcodes ?? "- (affine not finite)"),
    label("affine") + firstRow,
    ...otherRows.map((row) => " ".repeat(12) + row),
    label("scaling") +
      (info.sclSlope === null
        ? "none (slope 0 or NaN)"
        : `slope ${formatNumber(info.sclSlope)}, inter ${formatNumber(info.sclInter)}`),
  ];
  if (info.dataMissing) lines.push(label("data") + "missing (header only)");
  else if (info.stats)
    lines.push(
      label("stats") +
        `min ${formatNumber(info.stats.min)}, max ${formatNumber(info.stats.max)}, mean ${formatNumber(info.stats.mean)}`,
    );
  else lines.push(label("stats") + `n/a for ${info.datatype}`);
  return lines.join("\n") + "\n";
}

/** Runs the CLI on `argv` (without node and script path); resolves to the exit code. Usage errors
 * and missing files are thrown (kit's UsageError, InputNotFoundError): `run` prints them. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCli(CLI, argv);
  if (parsed.kind !== "run") {
    io.stdout(parsed.text);
    return 0;
  }
  const [command, ...files] = parsed.positionals;
  if (command === undefined) throw new UsageError("missing command");
  if (command !== "info") throw new UsageError(`unknown command "${command}"`);
  if (files.length === 0) throw new UsageError("info needs at least one FILE");
  // Every path checked before any is read: a typo fails at once, not after the other files.
  for (const file of files) requireInputPath(file, "FILE");
  const json = parsed.values.json;

  let failed = false;
  let printedSummary = false;
  const print = (result: FileInfo | FileError): void => {
    if ("error" in result) {
      failed = true;
      if (json) io.stdout(JSON.stringify(result) + "\n");
      else io.stderr(`${result.file}: error ${result.error.code}: ${result.error.message}\n`);
    } else if (json) {
      io.stdout(JSON.stringify(result) + "\n");
    } else {
      // A blank line between the summaries of several files.
      io.stdout((printedSummary ? "\n" : "") + formatInfo(result));
      printedSummary = true;
    }
  };
  // Several files at once: gunzip runs on libuv's thread pool, so the cores inflate in parallel
  // while this thread does the statistics; each file streams, so memory is a few MiB per lane.
  // Results print in the order of the arguments.
  const results: Array<Promise<FileInfo | FileError>> = [];
  let next = 0;
  const lanes = Math.max(1, Math.min(files.length, availableParallelism() + 1));
  const start = (): void => {
    const file = files[next++];
    if (file === undefined) return;
    results.push(
      describeFile(file)
        .catch((err: unknown) => errorOf(file, err))
        .finally(start),
    );
  };
  for (let i = 0; i < lanes; i++) start();
  // results[i] exists by the time it is awaited: file i − 1 settling (finally) started file i − 1 + lanes.
  for (let i = 0; i < files.length; i++) print(await results[i]!);
  return failed ? 1 : 0;
}

/** What bin/brats-nifti.js calls: `main` on process.argv, one-line errors, the exit status set. */
export function run(argv?: readonly string[], io?: CliIo): Promise<number> {
  return runCliMain(CLI, main, {
    ...(argv === undefined ? {} : { argv }),
    ...(io === undefined ? {} : { io, setExitCode: () => {} }),
  });
}
