// The readable tables brats-eval prints: per case, and the summary over the cases.
import { REGION_NAMES } from "@brats/conventions";
import type { CaseSummary, LesionWiseMetricName, ScalarMetricName } from "./types.js";
import type { ScoredCase } from "./report.js";
import { hasLesionWise, metricValue } from "./summary.js";

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

/** Per case: Dice and HD95 of each region, and the lesion-wise ones when the cases have them. */
export function formatCases(cases: readonly ScoredCase[]): string {
  const lesionWise = hasLesionWise(cases);
  const header = [
    "case",
    ...REGION_NAMES.map((r) => `Dice ${r}`),
    ...REGION_NAMES.map((r) => `HD95 ${r}`),
    ...(lesionWise
      ? [...REGION_NAMES.map((r) => `LW Dice ${r}`), ...REGION_NAMES.map((r) => `LW HD95 ${r}`)]
      : []),
  ];
  const rows = cases.map((c) => [
    c.case,
    ...REGION_NAMES.map((r) => fixed(c.regions[r].dice, 4)),
    ...REGION_NAMES.map((r) => fixed(c.regions[r].hd95, 2)),
    ...(lesionWise
      ? [
          ...REGION_NAMES.map((r) => fixed(metricValue(c.regions[r], "lesionWiseDice"), 4)),
          ...REGION_NAMES.map((r) => fixed(metricValue(c.regions[r], "lesionWiseHd95"), 2)),
        ]
      : []),
  ]);
  return table([header, ...rows], (c) => c > 0);
}

const SUMMARY_METRICS: readonly (ScalarMetricName | LesionWiseMetricName)[] = [
  "dice",
  "hd95",
  "sensitivity",
  "specificity",
  "precision",
  // Present when the cases were scored lesion-wise.
  "lesionWiseDice",
  "lesionWiseHd95",
  "hd95Surface",
];
const DISTANCES: readonly string[] = ["hd95", "lesionWiseHd95", "hd95Surface"];

/** Per region and metric: mean, std, median, quartiles and n, as the BraTS ranking sheets do. */
export function formatSummary(summary: CaseSummary): string {
  const rows = [["region", "metric", "mean", "std", "median", "q25", "q75", "n"]];
  for (const region of REGION_NAMES) {
    for (const metric of SUMMARY_METRICS) {
      const s = summary[region][metric];
      if (s === undefined) continue;
      const digits = DISTANCES.includes(metric) ? 2 : 4;
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
