// brats-eval: score predicted BraTS segmentations against the ground truth, case by case, with
// the metrics and conventions of @brats/metrics; a table, JSON (the schema other tools reuse) or CSV.
// The entry point is bin/brats-eval.js (it calls `run`); this module only defines the tool.
import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import {
  defineCli,
  parseChoice,
  parseCli,
  readPackageVersion,
  requireInputPath,
  runCliMain,
  UsageError,
  type CliIo,
} from "@brats/kit/cli";
import { writeAtomic } from "@brats/kit/fs";
import { ProgressBar } from "@brats/kit/progress";
import {
  LABEL_CONVENTIONS,
  labelConvention,
  REGION_NAMES,
  type LabelConvention,
} from "@brats/conventions";
import {
  getScaledData,
  NiftiError,
  readNifti,
  scalingOf,
  type Affine,
  type NiftiImage,
} from "@brats/nifti";
import {
  evaluateCase,
  MetricsError,
  type CaseMetrics,
  type CaseSummary,
  type LabelVolume,
  type MetricSet,
  type MetricsErrorCode,
  type Shape,
  type Spacing,
} from "./index.js";
import {
  evaluationReport,
  reportToCsv,
  reportToJson,
  scoredCase,
  type FailedCase,
  type ScoredCase,
} from "./report.js";

// The report schema lives in report.ts; re-exported for code that imported it from here.
export type { EvaluationReport, FailedCase, ScoredCase } from "./report.js";
export { reportToCsv as toCsv } from "./report.js";

export type { CliIo };

/** The option table: the parser and the help both come from it. */
export const CLI = defineCli({
  name: "brats-eval",
  // ../package.json from both src/cli.ts and dist/cli.js.
  version: readPackageVersion(new URL("../package.json", import.meta.url)),
  summary: `Score predicted BraTS segmentations against the ground truth: Dice, HD95, HD, ASSD, sensitivity,
specificity, precision, Jaccard and volumes for the regions WT, TC, ET and every label.

  PRED  a NIfTI file, or a folder of <ID>.nii.gz (also <ID>_seg.nii.gz, <ID>_pred.nii.gz)
  GT    a NIfTI file, a folder of BraTS case folders (<ID>/<ID>_seg.nii.gz), or a folder of
        flat files (<ID>.nii.gz or <ID>_seg.nii.gz; <ID>_flair/_t1/_t1ce/_t2 images are ignored)
Files are paired by case ID; two files are paired whatever their names. Shapes, spacings and
affines must agree. .nii works wherever .nii.gz does.`,
  options: {
    pred: {
      type: "string",
      placeholder: "PRED",
      required: true,
      description: "the predictions: a NIfTI file or a folder",
    },
    gt: {
      type: "string",
      placeholder: "GT",
      required: true,
      description: "the ground truth: a NIfTI file or a folder",
    },
    labels: {
      type: "string",
      placeholder: "CONV",
      default: "brats2021",
      description:
        "label convention: brats2021 (1 NCR, 2 ED, 4 ET), brats2023 (3 is ET), brats2015 (3 is non-enhancing core, counted with 1)",
    },
    "label-map": {
      type: "string",
      placeholder: "MAP",
      description: "remap predicted labels before scoring, e.g. 3=4 or 3=4,5=0",
    },
    json: {
      type: "boolean",
      description: "print one JSON object (cases, summary, unpaired, failed) instead of tables",
    },
    csv: {
      type: "string",
      placeholder: "FILE",
      description: "also write one CSV row per case and region/label with every metric",
    },
    progress: {
      type: "boolean",
      description: "draw the progress bar even when stderr is not a terminal",
    },
  },
  epilogue: `Exit status: 0 when every case was paired and scored, 1 when any case was unpaired or failed
(the others are still scored and printed) or none was found, 2 on a usage error or a missing PRED/GT.`,
});

/** Volumes of at least this many cases get a progress bar on a terminal. */
const PROGRESS_MIN_CASES = 3;
/** Affines agree when every entry is within ATOL + RTOL·|gt| (float32 headers round at ~1e-5 mm). */
const AFFINE_ATOL = 1e-4;
const AFFINE_RTOL = 1e-5;

const NIFTI_SUFFIX = /\.nii(\.gz)?$/;
/** Inputs of a BraTS case that are not label maps, skipped when scanning ground-truth folders. */
const IMAGE_SUFFIX = /_(flair|t1|t1ce|t2)$/;

// ---------------------------------------------------------------------------------------------
// Reading label volumes

/** A label volume read from a NIfTI file, with the geometry needed to check and score it. */
export interface LabelVolumeFile {
  path: string;
  shape: Shape;
  /** |pixdim[1..3]| in mm. */
  spacing: Spacing;
  affine: Affine;
  /** The raw voxels when the file is unscaled integer data, else the scaled values as float32. */
  data: LabelVolume;
}

function volumeShape(image: NiftiImage, path: string): Shape {
  const dims = [...image.shape];
  // Trailing singleton dimensions (e.g. 240×240×155×1) are still one volume.
  while (dims.length > 3 && dims[dims.length - 1] === 1) dims.pop();
  if (dims.length > 3) {
    throw new MetricsError(
      "SHAPE_MISMATCH",
      `${path}: shape ${image.shape.join("×")} is not a single 3D volume`,
    );
  }
  while (dims.length < 3) dims.push(1);
  return [dims[0]!, dims[1]!, dims[2]!];
}

/**
 * Reads a label volume. Unreadable or header-only files: MetricsError IO (the NiftiError is the
 * `cause`, its code is in the message); more than one 3D volume: SHAPE_MISMATCH.
 */
export async function readLabelVolume(path: string): Promise<LabelVolumeFile> {
  let image: NiftiImage;
  try {
    image = await readNifti(path);
  } catch (err) {
    const what = err instanceof NiftiError ? `${err.code}: ${err.message}` : String(err);
    throw new MetricsError("IO", `${path}: ${what}`, { cause: err });
  }
  if (image.data === null) throw new MetricsError("IO", `${path}: header only, no voxel data`);
  const shape = volumeShape(image, path);
  const pixdim = (axis: number) => Math.abs(image.spacing[axis] ?? 1);
  const spacing: Spacing = [pixdim(0), pixdim(1), pixdim(2)];
  let scaling: ReturnType<typeof scalingOf>;
  try {
    scaling = scalingOf(image.header);
  } catch (err) {
    throw new MetricsError("IO", `${path}: ${(err as Error).message}`, { cause: err });
  }
  const raw = image.data;
  const unscaled = scaling === null || (scaling.slope === 1 && scaling.inter === 0);
  let data: LabelVolume;
  if (unscaled && !(raw instanceof BigInt64Array) && !(raw instanceof BigUint64Array)) {
    data = raw;
  } else {
    try {
      data = getScaledData(image, "float32");
    } catch (err) {
      const what = err instanceof NiftiError ? `${err.code}: ${err.message}` : String(err);
      throw new MetricsError("IO", `${path}: ${what}`, { cause: err });
    }
  }
  const voxels = shape[0] * shape[1] * shape[2];
  // Extra volumes after the first (e.g. 4D with t > 1) were refused above; a shorter array is corrupt.
  if (data.length !== voxels) {
    throw new MetricsError("IO", `${path}: ${data.length} voxels for shape ${shape.join("×")}`);
  }
  return { path, shape, spacing, affine: image.affine, data };
}

/** Why two volumes cannot be scored together, or null when their grids agree. */
export function geometryMismatch(
  pred: LabelVolumeFile,
  gt: LabelVolumeFile,
): { code: MetricsErrorCode; message: string } | null {
  if (pred.shape.some((n, a) => n !== gt.shape[a])) {
    return {
      code: "SHAPE_MISMATCH",
      message: `prediction shape ${pred.shape.join("×")} differs from ground truth ${gt.shape.join("×")}`,
    };
  }
  const close = (a: number, b: number) =>
    Math.abs(a - b) <= AFFINE_ATOL + AFFINE_RTOL * Math.abs(b);
  // Report the entry that differs most; NaN entries never agree (no grid can be checked).
  let worstDiff = -1;
  let where = "";
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      const a = pred.affine[r]![c]!;
      const b = gt.affine[r]![c]!;
      if (close(a, b)) continue;
      const diff = Number.isNaN(a - b) ? Infinity : Math.abs(a - b);
      if (diff > worstDiff) {
        worstDiff = diff;
        where = `affine[${r}][${c}] ${a} vs ${b}`;
      }
    }
  }
  if (worstDiff >= 0) {
    return {
      code: "AFFINE_MISMATCH",
      message: `prediction and ground-truth affines differ (${where}): not the same voxel grid`,
    };
  }
  for (let a = 0; a < 3; a++) {
    if (!close(pred.spacing[a]!, gt.spacing[a]!)) {
      return {
        code: "AFFINE_MISMATCH",
        message: `prediction spacing ${pred.spacing.join("×")} differs from ground truth ${gt.spacing.join("×")} mm`,
      };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Pairing files by case ID

export interface CasePair {
  id: string;
  pred: string;
  gt: string;
}

export interface Pairing {
  pairs: CasePair[];
  /** Case IDs found on one side only. */
  unpaired: { pred: string[]; gt: string[] };
  /** Case IDs with more than one file on one side (e.g. X.nii.gz and X_pred.nii.gz). */
  ambiguous: { id: string; side: "pred" | "gt"; files: string[] }[];
}

function stripNifti(name: string): string | null {
  return NIFTI_SUFFIX.test(name) ? name.replace(NIFTI_SUFFIX, "") : null;
}

/** Case ID of a prediction file name: <ID>.nii.gz, <ID>_seg.nii.gz or <ID>_pred.nii.gz. */
export function predictionId(name: string): string | null {
  const stem = stripNifti(name);
  return stem === null ? null : stem.replace(/_(seg|pred)$/, "");
}

/** Case ID of a flat ground-truth file name: <ID>.nii.gz or <ID>_seg.nii.gz; null for images. */
export function groundTruthId(name: string): string | null {
  const stem = stripNifti(name);
  if (stem === null || IMAGE_SUFFIX.test(stem)) return null;
  return stem.replace(/_seg$/, "");
}

function isDirectory(path: string): boolean {
  return statSync(path).isDirectory();
}

function visible(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith("."))
    .sort();
}

type FileIndex = Map<string, string[]>;

function addTo(index: FileIndex, id: string, path: string): void {
  const files = index.get(id);
  if (files === undefined) index.set(id, [path]);
  else files.push(path);
}

function predictionFiles(dir: string): FileIndex {
  const index: FileIndex = new Map();
  for (const name of visible(dir)) {
    const id = predictionId(name);
    const path = join(dir, name);
    if (id !== null && !isDirectory(path)) addTo(index, id, path);
  }
  return index;
}

function groundTruthFiles(dir: string): FileIndex {
  const index: FileIndex = new Map();
  for (const name of visible(dir)) {
    const path = join(dir, name);
    if (isDirectory(path)) {
      // A BraTS case folder: <ID>/<ID>_seg.nii.gz (or .nii).
      for (const ext of [".nii.gz", ".nii"]) {
        const seg = join(path, `${name}_seg${ext}`);
        try {
          if (statSync(seg).isFile()) addTo(index, name, seg);
        } catch {
          // not there: try the next extension
        }
      }
    } else {
      const id = groundTruthId(name);
      if (id !== null) addTo(index, id, path);
    }
  }
  return index;
}

/**
 * Pairs predictions with ground truths by case ID. Two files: one pair named after the ground
 * truth. A file and a folder: the file's ID is looked up in the folder. Paths that do not exist
 * throw (a usage error for the CLI).
 */
export function pairCases(predPath: string, gtPath: string): Pairing {
  const predIsDir = isDirectory(predPath);
  const gtIsDir = isDirectory(gtPath);
  if (!predIsDir && !gtIsDir) {
    const id =
      groundTruthId(basename(gtPath)) ?? predictionId(basename(predPath)) ?? basename(gtPath);
    return {
      pairs: [{ id, pred: predPath, gt: gtPath }],
      unpaired: { pred: [], gt: [] },
      ambiguous: [],
    };
  }
  const preds: FileIndex = predIsDir ? predictionFiles(predPath) : new Map<string, string[]>();
  if (!predIsDir) addTo(preds, predictionId(basename(predPath)) ?? basename(predPath), predPath);
  const gts: FileIndex = gtIsDir ? groundTruthFiles(gtPath) : new Map<string, string[]>();
  if (!gtIsDir) addTo(gts, groundTruthId(basename(gtPath)) ?? basename(gtPath), gtPath);

  const result: Pairing = { pairs: [], unpaired: { pred: [], gt: [] }, ambiguous: [] };
  const ids = [...new Set([...preds.keys(), ...gts.keys()])].sort();
  for (const id of ids) {
    const p = preds.get(id);
    const g = gts.get(id);
    if (p !== undefined && p.length > 1) result.ambiguous.push({ id, side: "pred", files: p });
    if (g !== undefined && g.length > 1) result.ambiguous.push({ id, side: "gt", files: g });
    if (p === undefined) result.unpaired.gt.push(id);
    else if (g === undefined) result.unpaired.pred.push(id);
    else if (p.length === 1 && g.length === 1) result.pairs.push({ id, pred: p[0]!, gt: g[0]! });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** Parses "3=4" or "3=4,5=0" into {3: 4, 5: 0}; throws a message for the usage error. */
export function parseLabelMap(text: string): Record<number, number> {
  const map: Record<number, number> = {};
  for (const entry of text.split(",")) {
    const match = /^\s*(-?\d+)\s*=\s*(\d+)\s*$/.exec(entry);
    if (match === null) throw new Error(`--label-map entry "${entry}" is not FROM=TO (e.g. 3=4)`);
    const from = Number(match[1]);
    const to = Number(match[2]);
    if (to > 255) throw new Error(`--label-map target ${to} is not a label in 0..255`);
    if (Object.hasOwn(map, from)) throw new Error(`--label-map maps ${from} twice`);
    map[from] = to;
  }
  return map;
}

interface Args {
  pred: string;
  gt: string;
  convention: LabelConvention;
  labelMap?: Record<number, number>;
  json: boolean;
  csv?: string;
  progress: boolean;
}

/** The checked arguments of a run, or the help/version text to print. */
function parseArgs(argv: readonly string[]): { args: Args } | { text: string } {
  const parsed = parseCli(CLI, argv);
  if (parsed.kind !== "run") return { text: parsed.text };
  const v = parsed.values;
  const convention = parseChoice("--labels", v.labels, LABEL_CONVENTIONS);
  const args: Args = { pred: v.pred, gt: v.gt, convention, json: v.json, progress: v.progress };
  if (v["label-map"] !== undefined) {
    try {
      args.labelMap = parseLabelMap(v["label-map"]);
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
  }
  if (v.csv !== undefined) args.csv = v.csv;
  return { args };
}

// ---------------------------------------------------------------------------------------------
// Output

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

function table(rows: string[][], rightAligned: (column: number) => boolean): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => (rightAligned(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** Per case: Dice and HD95 of each region. */
export function formatCases(cases: readonly ScoredCase[]): string {
  const header = [
    "case",
    ...REGION_NAMES.map((r) => `Dice ${r}`),
    ...REGION_NAMES.map((r) => `HD95 ${r}`),
  ];
  const rows = cases.map((c) => [
    c.case,
    ...REGION_NAMES.map((r) => fixed(c.regions[r].dice, 4)),
    ...REGION_NAMES.map((r) => fixed(c.regions[r].hd95, 2)),
  ]);
  return table([header, ...rows], (c) => c > 0);
}

const SUMMARY_METRICS: readonly (keyof MetricSet)[] = [
  "dice",
  "hd95",
  "sensitivity",
  "specificity",
  "precision",
];

/** Per region and metric: mean, std, median, quartiles and n, as the BraTS ranking sheets do. */
export function formatSummary(summary: CaseSummary): string {
  const rows = [["region", "metric", "mean", "std", "median", "q25", "q75", "n"]];
  for (const region of REGION_NAMES) {
    for (const metric of SUMMARY_METRICS) {
      const s = summary[region][metric];
      const digits = metric === "hd95" ? 2 : 4;
      rows.push([
        region,
        metric,
        fixed(s.mean, digits),
        fixed(s.std, digits),
        fixed(s.median, digits),
        fixed(s.q25, digits),
        fixed(s.q75, digits),
        String(s.n),
      ]);
    }
  }
  return table(rows, (c) => c > 1);
}

/** A hint for labels the convention does not use: the usual label map or convention. */
function unknownLabelWarning(
  id: string,
  unknown: NonNullable<CaseMetrics["unknownLabels"]>,
  convention: LabelConvention,
): string {
  const parts: string[] = [];
  const et = labelConvention(convention).regions.ET[0]!;
  if (unknown.pred.length > 0) {
    const hint = unknown.pred.includes(et === 4 ? 3 : 4)
      ? `; if ${et === 4 ? 3 : 4} is enhancing tumour, try --label-map ${et === 4 ? "3=4" : "4=3"}`
      : "; map them with --label-map FROM=TO";
    parts.push(
      `prediction has labels ${unknown.pred.join(", ")} unused by ${convention} (scored nowhere)${hint}`,
    );
  }
  if (unknown.gt.length > 0) {
    const other = convention === "brats2023" ? "brats2021" : "brats2023";
    parts.push(
      `ground truth has labels ${unknown.gt.join(", ")} unused by ${convention} (scored nowhere); ` +
        `check --labels (e.g. --labels ${other})`,
    );
  }
  return parts.map((p) => `brats-eval: warning: ${id}: ${p}\n`).join("");
}

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof MetricsError) return { code: err.code, message: err.message };
  // Not a MetricsError: a bug rather than bad input; still reported per case.
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}

type Outcome = { ok: ScoredCase } | { failed: FailedCase };

async function scoreCase(pair: CasePair, args: Args): Promise<Outcome> {
  const fail = (error: { code: string; message: string }): Outcome => ({
    failed: { case: pair.id, pred: pair.pred, gt: pair.gt, error },
  });
  try {
    const [pred, gt] = await Promise.all([readLabelVolume(pair.pred), readLabelVolume(pair.gt)]);
    const mismatch = geometryMismatch(pred, gt);
    if (mismatch !== null) return fail(mismatch);
    const metrics = evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, {
      convention: args.convention,
      ...(args.labelMap ? { labelMap: args.labelMap } : {}),
    });
    return { ok: scoredCase(pair.id, metrics) };
  } catch (err) {
    return fail(errorOf(err));
  }
}

/** Runs the CLI on `argv` (without node and script path); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv);
  if ("text" in parsed) {
    io.stdout(parsed.text);
    return 0;
  }
  const { args } = parsed;
  // Usage errors and missing inputs are thrown (UsageError, InputNotFoundError): `run` prints them.
  requireInputPath(args.pred, "--pred");
  requireInputPath(args.gt, "--gt");
  const pairing = pairCases(args.pred, args.gt);

  const failed: FailedCase[] = pairing.ambiguous.map((a) => ({
    case: a.id,
    pred: a.side === "pred" ? a.files.join(", ") : "",
    gt: a.side === "gt" ? a.files.join(", ") : "",
    error: {
      code: "AMBIGUOUS",
      message: `${a.files.length} ${a.side === "pred" ? "prediction" : "ground-truth"} files for case ${a.id}: ${a.files.map((f) => basename(f)).join(", ")}`,
    },
  }));
  const cases: ScoredCase[] = [];
  const total = pairing.pairs.length;
  const showProgress = args.progress || (io.stderrIsTTY === true && total >= PROGRESS_MIN_CASES);
  const bar = showProgress
    ? new ProgressBar({ write: io.stderr, tty: io.stderrIsTTY === true })
    : null;

  // Reading the next case (gunzip runs on libuv's threads) overlaps scoring the current one.
  let next: Promise<Outcome> | null = total > 0 ? scoreCase(pairing.pairs[0]!, args) : null;
  for (let i = 0; i < total; i++) {
    const pair = pairing.pairs[i]!;
    bar?.update({ fraction: i / total, text: `${i}/${total} ${pair.id}` });
    const outcome = await next!;
    next = i + 1 < total ? scoreCase(pairing.pairs[i + 1]!, args) : null;
    if ("ok" in outcome) {
      cases.push(outcome.ok);
    } else {
      failed.push(outcome.failed);
    }
  }
  if (total > 0) bar?.finish(`${total}/${total} done`);
  else bar?.clear();

  for (const c of cases) {
    if (c.unknownLabels) io.stderr(unknownLabelWarning(c.case, c.unknownLabels, args.convention));
  }
  for (const f of failed)
    io.stderr(`brats-eval: error: ${f.case}: ${f.error.code}: ${f.error.message}\n`);
  if (pairing.unpaired.pred.length > 0) {
    io.stderr(`brats-eval: no ground truth for predictions: ${pairing.unpaired.pred.join(", ")}\n`);
  }
  if (pairing.unpaired.gt.length > 0) {
    io.stderr(`brats-eval: no prediction for ground truths: ${pairing.unpaired.gt.join(", ")}\n`);
  }
  const unpairedCount = pairing.unpaired.pred.length + pairing.unpaired.gt.length;
  if (total === 0 && failed.length === 0 && unpairedCount === 0) {
    io.stderr(`brats-eval: no NIfTI files found in ${args.pred} and ${args.gt}\n`);
  }

  const report = evaluationReport(cases, {
    unpaired: pairing.unpaired,
    failed,
    convention: args.convention,
    labelMap: args.labelMap ?? null,
  });
  const summary = report.summary;
  if (args.json) {
    io.stdout(reportToJson(report));
  } else if (cases.length > 0) {
    io.stdout(formatCases(cases));
    io.stdout(
      `\nSummary over ${cases.length} case${cases.length === 1 ? "" : "s"} (${args.convention}` +
        `${
          args.labelMap
            ? `, label map ${Object.entries(args.labelMap)
                .map(([f, t]) => `${f}=${t}`)
                .join(",")}`
            : ""
        }):\n`,
    );
    io.stdout(formatSummary(summary));
  }

  let csvFailed = false;
  if (args.csv !== undefined) {
    try {
      await writeAtomic(args.csv, reportToCsv(cases));
    } catch (err) {
      io.stderr(`brats-eval: could not write ${args.csv}: ${(err as Error).message}\n`);
      csvFailed = true;
    }
  }

  const incomplete = failed.length > 0 || unpairedCount > 0 || cases.length === 0;
  return incomplete || csvFailed ? 1 : 0;
}

/** What bin/brats-eval.js calls: `main` on process.argv, one-line errors, the exit status set. */
export function run(argv?: readonly string[], io?: CliIo): Promise<number> {
  return runCliMain(CLI, main, {
    ...(argv === undefined ? {} : { argv }),
    ...(io === undefined ? {} : { io, setExitCode: () => {} }),
  });
}
