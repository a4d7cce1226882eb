// The evaluation report: the document `brats-eval --json` prints and other tools (brats-infer,
// training validation, HTML reports) write, as JSON or as one CSV row per case × region/label.
import { REGION_NAMES, type LabelConvention } from "@brats/conventions";
import {
  hasLesionWise,
  LESION_WISE_METRIC_NAMES,
  METRIC_NAMES,
  metricValue,
  summarizeCases,
} from "./summary.js";
import { SURFACE_HD95_EMPTY } from "./surfels.js";
import type { CaseMetrics, CaseSummary, Challenge, MetricSet, RegionLesions } from "./types.js";

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
  /** The lesion-wise parameters, when the cases were scored lesion-wise. */
  lesionWise?: LesionWiseParameters;
  /** false when HD, HD95 and ASSD were skipped (brats-eval --no-distances): they are null. */
  distances?: false;
}

/** What a lesion-wise evaluation used: the challenge and its dilation and threshold (mm³). */
export interface LesionWiseParameters {
  challenge: Challenge;
  dilation: number;
  threshold: number;
}

export interface EvaluationReportOptions {
  /** Default brats2021. */
  convention?: LabelConvention;
  /** Cases found on one side only; default none. */
  unpaired?: { pred: string[]; gt: string[] };
  failed?: FailedCase[];
  /** The label map applied to predictions before scoring; default none (null). */
  labelMap?: Record<number, number> | null;
  lesionWise?: LesionWiseParameters;
  /** false: HD, HD95 and ASSD were skipped. */
  distances?: boolean;
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
    ...(options.lesionWise ? { lesionWise: { ...options.lesionWise } } : {}),
    ...(options.distances === false ? { distances: false as const } : {}),
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

/**
 * One row per case × region/label (`case,kind,name,dice,...`); empty cells for non-finite values.
 * With lesion-wise scores in any case, the columns `lesionWiseDice` ... `hd95Surface` follow
 * (empty on label rows: lesion-wise scores are per region).
 */
export function reportToCsv(cases: readonly ScoredCase[]): string {
  const names = hasLesionWise(cases)
    ? [...METRIC_NAMES, ...LESION_WISE_METRIC_NAMES]
    : METRIC_NAMES;
  const lines = [["case", "kind", "name", ...names].join(",")];
  const row = (id: string, kind: string, name: string, m: MetricSet) =>
    [
      csvCell(id),
      kind,
      name,
      ...names.map((metric) => {
        const v = metricValue(m, metric);
        return Number.isFinite(v) ? String(v) : "";
      }),
    ].join(",");
  for (const c of cases) {
    for (const region of REGION_NAMES) lines.push(row(c.case, "region", region, c.regions[region]));
    for (const [label, m] of Object.entries(c.labels)) lines.push(row(c.case, "label", label, m));
  }
  return lines.join("\n") + "\n";
}

/** The per-lesion CSV columns, in order. */
export const LESION_CSV_COLUMNS = [
  "case",
  "region",
  "kind",
  "id",
  "voxels",
  "volume_mm3",
  "counted",
  "matched",
  "dice",
  "hd95",
] as const;

/**
 * One row per ground-truth lesion (kind "lesion": its matched predicted components, space
 * separated, its Dice and surface HD95, and whether its volume counts) and per unmatched
 * predicted component (kind "false_positive", scored Dice 0 and HD95 374 in the sums).
 */
export function lesionsToCsv(
  cases: readonly { case: string; lesions: Record<string, RegionLesions> }[],
): string {
  const lines: string[] = [LESION_CSV_COLUMNS.join(",")];
  for (const c of cases) {
    for (const region of REGION_NAMES) {
      const r = c.lesions[region];
      if (r === undefined) continue;
      const id = csvCell(c.case);
      for (const l of r.lesions) {
        lines.push(
          [
            id,
            region,
            "lesion",
            l.id,
            l.voxels,
            l.volume,
            l.counted,
            l.matched.join(" "),
            l.dice,
            l.hd95,
          ]
            .map(String)
            .join(","),
        );
      }
      for (const fp of r.falsePositives) {
        lines.push(
          [
            id,
            region,
            "false_positive",
            fp.id,
            fp.voxels,
            fp.volume,
            true,
            "",
            0,
            SURFACE_HD95_EMPTY,
          ].join(","),
        );
      }
    }
  }
  return lines.join("\n") + "\n";
}
