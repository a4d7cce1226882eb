// brats-eval: score predicted BraTS segmentations against the ground truth, case by case, with
// the metrics and conventions of @brats/metrics; a table, JSON (the schema other tools reuse) or CSV.
// The entry point is bin/brats-eval.js (it calls `run`); this module only defines the tool.
import { basename } from "node:path";
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
import { LABEL_CONVENTIONS, labelConvention, type LabelConvention } from "@brats/conventions";
import { MetricsError } from "./errors.js";
import { evaluateCase } from "./evaluate.js";
import { formatCases, formatSummary } from "./format.js";
import { pairCases, type CasePair } from "./pairing.js";
import { geometryMismatch, readLabelVolume } from "./read.js";
import { CHALLENGES, parseChallenge } from "./lesions.js";
import type { CaseMetrics, Challenge, RegionLesions } from "./types.js";
import {
  evaluationReport,
  lesionsToCsv,
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
        flat files (<ID>.nii.gz or <ID>_seg.nii.gz; <ID>_flair/_t1/_t1ce/_t2 images are ignored);
        case folders further down (Training/HGG/<ID>/, <ID>/<ID>-seg.nii.gz) are found too
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
    "lesion-wise": {
      type: "string",
      placeholder: "CHALLENGE",
      description:
        "add the BraTS 2023+ lesion-wise Dice and HD95 and the surface HD95 per region, with the parameters of GLI, SSA, PED (dilation 3, 50 mm³), MEN (1, 50 mm³) or MET (1, 2 mm³); BraTS-GLI spellings work too",
    },
    lesions: {
      type: "string",
      placeholder: "FILE",
      description:
        "with --lesion-wise, also write one CSV row per ground-truth lesion and per unmatched predicted component",
    },
    "no-distances": {
      type: "boolean",
      description:
        "skip HD, HD95 and ASSD (medpy's, on surface voxels; shown as - and null in JSON), for when only the overlap, lesion-wise and surface scores are wanted, as the BraTS 2023+ scorer reports them",
    },
    progress: {
      type: "boolean",
      description: "draw the progress bar even when stderr is not a terminal",
    },
    "allow-unknown-labels": {
      type: "boolean",
      description:
        "score a case whose labels the convention does not use (they count in no region; a warning per case) instead of failing it with UNKNOWN_LABELS",
    },
  },
  epilogue: `Labels the convention does not use fail their case (UNKNOWN_LABELS, with the likely --label-map
or --labels) unless --allow-unknown-labels.
Exit status: 0 when every case was paired and scored, 1 when any case was unpaired or failed
(the others are still scored and printed) or none was found, 2 on a usage error or a missing PRED/GT.`,
});

/** Volumes of at least this many cases get a progress bar on a terminal. */
const PROGRESS_MIN_CASES = 3;
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
  lesionWise?: Challenge;
  lesions?: string;
  progress: boolean;
  allowUnknownLabels: boolean;
  distances: boolean;
}

/** The checked arguments of a run, or the help/version text to print. */
function parseArgs(argv: readonly string[]): { args: Args } | { text: string } {
  const parsed = parseCli(CLI, argv);
  if (parsed.kind !== "run") return { text: parsed.text };
  const v = parsed.values;
  const convention = parseChoice("--labels", v.labels, LABEL_CONVENTIONS);
  const args: Args = {
    pred: v.pred,
    gt: v.gt,
    convention,
    json: v.json,
    progress: v.progress,
    allowUnknownLabels: v["allow-unknown-labels"],
    distances: !v["no-distances"],
  };
  if (v["label-map"] !== undefined) {
    try {
      args.labelMap = parseLabelMap(v["label-map"]);
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
  }
  if (v.csv !== undefined) args.csv = v.csv;
  if (v["lesion-wise"] !== undefined) {
    try {
      args.lesionWise = parseChallenge(v["lesion-wise"]);
    } catch (err) {
      throw new UsageError(`--lesion-wise: ${(err as Error).message}`, { cause: err });
    }
  }
  if (v.lesions !== undefined) {
    if (args.lesionWise === undefined) {
      throw new UsageError("--lesions needs --lesion-wise CHALLENGE (e.g. --lesion-wise GLI)");
    }
    args.lesions = v.lesions;
  }
  return { args };
}

// ---------------------------------------------------------------------------------------------
// Output

/** What is wrong with labels the convention does not use, each with the usual fix. */
function unknownLabelProblems(
  unknown: NonNullable<CaseMetrics["unknownLabels"]>,
  convention: LabelConvention,
): string[] {
  const parts: string[] = [];
  const et = labelConvention(convention).regions.ET[0]!;
  if (unknown.pred.length > 0) {
    const hint = unknown.pred.includes(et === 4 ? 3 : 4)
      ? `; if ${et === 4 ? 3 : 4} is enhancing tumour, try --label-map ${et === 4 ? "3=4" : "4=3"}`
      : "; map them with --label-map FROM=TO";
    parts.push(`prediction has labels ${unknown.pred.join(", ")} unused by ${convention}${hint}`);
  }
  if (unknown.gt.length > 0) {
    const other = convention === "brats2023" ? "brats2021" : "brats2023";
    parts.push(
      `ground truth has labels ${unknown.gt.join(", ")} unused by ${convention}; ` +
        `check --labels (e.g. --labels ${other})`,
    );
  }
  return parts;
}

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof MetricsError) return { code: err.code, message: err.message };
  // Not a MetricsError: a bug rather than bad input; still reported per case.
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}

type Outcome = { ok: ScoredCase; lesions?: Record<string, RegionLesions> } | { failed: FailedCase };

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
      ...(args.lesionWise ? { lesionWise: { challenge: args.lesionWise } } : {}),
      distances: args.distances,
    });
    if (metrics.unknownLabels && !args.allowUnknownLabels) {
      // Scoring them nowhere would report e.g. an ET Dice of 0 for a model that writes ET as 3.
      const problems = unknownLabelProblems(metrics.unknownLabels, args.convention);
      return fail({
        code: "UNKNOWN_LABELS",
        message: `${problems.join("; ")} (--allow-unknown-labels scores the case anyway, counting them in no region)`,
      });
    }
    const ok = scoredCase(pair.id, metrics);
    return metrics.lesions === undefined ? { ok } : { ok, lesions: metrics.lesions };
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
  const pairing = await pairCases(args.pred, args.gt);

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
  const caseLesions: { case: string; lesions: Record<string, RegionLesions> }[] = [];
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
      if (outcome.lesions) caseLesions.push({ case: outcome.ok.case, lesions: outcome.lesions });
    } else {
      failed.push(outcome.failed);
    }
  }
  if (total > 0) bar?.finish(`${total}/${total} done`);
  else bar?.clear();

  for (const c of cases) {
    if (!c.unknownLabels) continue;
    for (const problem of unknownLabelProblems(c.unknownLabels, args.convention)) {
      io.stderr(`brats-eval: warning: ${c.case}: ${problem} (scored nowhere)\n`);
    }
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
    ...(args.lesionWise
      ? { lesionWise: { challenge: args.lesionWise, ...CHALLENGES[args.lesionWise] } }
      : {}),
    distances: args.distances,
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
        }${args.lesionWise ? `, lesion-wise ${args.lesionWise}` : ""}):\n`,
    );
    io.stdout(formatSummary(summary));
  }

  let csvFailed = false;
  const outputs: [string | undefined, () => string][] = [
    [args.csv, () => reportToCsv(cases)],
    [args.lesions, () => lesionsToCsv(caseLesions)],
  ];
  for (const [file, text] of outputs) {
    if (file === undefined) continue;
    try {
      await writeAtomic(file, text());
    } catch (err) {
      io.stderr(`brats-eval: could not write ${file}: ${(err as Error).message}\n`);
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
