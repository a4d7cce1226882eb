// The evaluation report: the document `brats-eval --json` prints and other tools (brats-infer,
// training validation, HTML reports) write, as JSON or as one CSV row per case × region/label.
import { REGION_NAMES, type LabelConvention } from "@brats/conventions";
import { METRIC_NAMES, summarizeCases } from "./summary.js";
import type { CaseMetrics, CaseSummary, MetricSet } from "./types.js";

/** One scored case of a report. */
export interface ScoredCase {
  case: string;
  regions: CaseMetrics["regions"];
  labels: CaseMetrics["labels"];
  unknownLabels?: CaseMetrics["unknownLabels"];
}

/** A case that could not be scored, with the paths involved and a coded error. */
export interface FailedCase {
  case: string;
  pred: string;
  gt: string;
  error: { code: string; message: string };
}

/** The `brats-eval --json` document; non-finite numbers are written as null. */
export interface EvaluationReport {
  cases: ScoredCase[];
  summary: CaseSummary;
  unpaired: { pred: string[]; gt: string[] };
  failed: FailedCase[];
  convention: LabelConvention;
  labelMap: Record<string, number> | null;
}

export interface EvaluationReportOptions {
  /** Default brats2021. */
  convention?: LabelConvention;
  /** Cases found on one side only; default none. */
  unpaired?: { pred: string[]; gt: string[] };
  failed?: FailedCase[];
  /** The label map applied to predictions before scoring; default none (null). */
  labelMap?: Record<number, number> | null;
}

/** A scored case from `evaluateCase`'s result (`unknownLabels` only when there are some). */
export function scoredCase(id: string, metrics: CaseMetrics): ScoredCase {
  const scored: ScoredCase = { case: id, regions: metrics.regions, labels: metrics.labels };
  if (metrics.unknownLabels) scored.unknownLabels = metrics.unknownLabels;
  return scored;
}

/** The report of scored cases, with their summary (`summarizeCases`) and what could not be scored. */
export function evaluationReport(
  cases: ScoredCase[],
  options: EvaluationReportOptions = {},
): EvaluationReport {
  const labelMap = options.labelMap ?? null;
  return {
    cases,
    summary: summarizeCases(cases),
    unpaired: options.unpaired ?? { pred: [], gt: [] },
    failed: options.failed ?? [],
    convention: options.convention ?? "brats2021",
    labelMap: labelMap === null ? null : Object.fromEntries(Object.entries(labelMap)),
  };
}

/** The report as pretty-printed JSON with a final newline; NaN and ±Infinity become null. */
export function reportToJson(report: EvaluationReport): string {
  return (
    JSON.stringify(
      report,
      (_key, value: unknown) =>
        typeof value === "number" && !Number.isFinite(value) ? null : value,
      2,
    ) + "\n"
  );
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per case × region/label (`case,kind,name,dice,...`); empty cells for non-finite values. */
export function reportToCsv(cases: readonly ScoredCase[]): string {
  const lines = [["case", "kind", "name", ...METRIC_NAMES].join(",")];
  const row = (id: string, kind: string, name: string, m: MetricSet) =>
    [
      csvCell(id),
      kind,
      name,
      ...METRIC_NAMES.map((metric) => (Number.isFinite(m[metric]) ? String(m[metric]) : "")),
    ].join(",");
  for (const c of cases) {
    for (const region of REGION_NAMES) lines.push(row(c.case, "region", region, c.regions[region]));
    for (const [label, m] of Object.entries(c.labels)) lines.push(row(c.case, "label", label, m));
  }
  return lines.join("\n") + "\n";
}
