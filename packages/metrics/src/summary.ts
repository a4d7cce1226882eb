// Statistics over cases, as in the BraTS ranking sheets: mean, population std, median and
// quartiles (numpy's defaults), over finite values only.
import { REGION_NAMES, type RegionName } from "@brats/conventions";
import { mean, percentileOfSorted, populationStd } from "./stats.js";
import type { CaseMetrics, CaseSummary, MetricSet, Summary } from "./types.js";

/** Every field of a MetricSet, in reporting order. */
export const METRIC_NAMES: readonly (keyof MetricSet)[] = [
  "dice",
  "hd95",
  "hd",
  "assd",
  "sensitivity",
  "specificity",
  "precision",
  "jaccard",
  "volumePredMl",
  "volumeGtMl",
];

/**
 * mean, population std (np.std), median, 25th and 75th percentiles (np.percentile, linear) of the
 * finite values; NaN/±Infinity are left out of every statistic and of n. No finite values: NaN
 * statistics with n = 0.
 */
export function summarize(values: ArrayLike<number>): Summary {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  const finite = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) finite[j++] = v;
  }
  if (n === 0) return { mean: NaN, std: NaN, median: NaN, q25: NaN, q75: NaN, n: 0 };
  const m = mean(finite);
  const std = populationStd(finite);
  const sorted = finite.sort();
  return {
    mean: m,
    std,
    median: percentileOfSorted(sorted, 50),
    q25: percentileOfSorted(sorted, 25),
    q75: percentileOfSorted(sorted, 75),
    n,
  };
}

/** `summarize` of every metric of every region over the cases. */
export function summarizeCases(cases: readonly CaseMetrics[]): CaseSummary {
  const out = {} as CaseSummary;
  for (const region of REGION_NAMES) {
    out[region] = summarizeRegion(cases, region);
  }
  return out;
}

function summarizeRegion(
  cases: readonly CaseMetrics[],
  region: RegionName,
): Record<keyof MetricSet, Summary> {
  const out = {} as Record<keyof MetricSet, Summary>;
  for (const name of METRIC_NAMES) {
    out[name] = summarize(cases.map((c) => c.regions[region][name]));
  }
  return out;
}
