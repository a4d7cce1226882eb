// Statistics over cases, as in the BraTS ranking sheets: mean, population std, median and
// quartiles (numpy's defaults), over finite values only.
import { REGION_NAMES, type RegionName } from "@brats/conventions";
import { mean, percentileOfSorted, populationStd } from "./stats.js";
import type {
  CaseMetrics,
  CaseSummary,
  LesionWiseMetricName,
  MetricSet,
  RegionSummary,
  ScalarMetricName,
  Summary,
} from "./types.js";

/** Every field of a MetricSet, in reporting order. */
export const METRIC_NAMES: readonly ScalarMetricName[] = [
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

/** The lesion-wise metrics (evaluateCase's `lesionWise` option), flattened, in reporting order. */
export const LESION_WISE_METRIC_NAMES: readonly LesionWiseMetricName[] = [
  "lesionWiseDice",
  "lesionWiseHd95",
  "lesionWiseTp",
  "lesionWiseFp",
  "lesionWiseFn",
  "hd95Surface",
];

/** A metric of a MetricSet by its flat name; NaN for a lesion-wise one the set does not have. */
export function metricValue(m: MetricSet, name: ScalarMetricName | LesionWiseMetricName): number {
  switch (name) {
    case "hd95Surface":
      return m.hd95Surface ?? NaN;
    case "lesionWiseDice":
      return m.lesionWise?.dice ?? NaN;
    case "lesionWiseHd95":
      return m.lesionWise?.hd95 ?? NaN;
    case "lesionWiseTp":
      return m.lesionWise?.tp ?? NaN;
    case "lesionWiseFp":
      return m.lesionWise?.fp ?? NaN;
    case "lesionWiseFn":
      return m.lesionWise?.fn ?? NaN;
    default:
      return m[name];
  }
}

/** Whether any region of any case carries lesion-wise scores. */
export function hasLesionWise(cases: readonly Pick<CaseMetrics, "regions">[]): boolean {
  return cases.some((c) => REGION_NAMES.some((r) => c.regions[r].lesionWise !== undefined));
}

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

/**
 * `summarize` of every metric of every region over the cases; the lesion-wise metrics too when
 * any case has them (cases without count as missing, like non-finite values).
 */
export function summarizeCases(cases: readonly Pick<CaseMetrics, "regions">[]): CaseSummary {
  const out = {} as CaseSummary;
  const lesionWise = hasLesionWise(cases);
  for (const region of REGION_NAMES) {
    out[region] = summarizeRegion(cases, region, lesionWise);
  }
  return out;
}

function summarizeRegion(
  cases: readonly Pick<CaseMetrics, "regions">[],
  region: RegionName,
  lesionWise: boolean,
): RegionSummary {
  const out = {} as RegionSummary;
  for (const name of METRIC_NAMES) {
    out[name] = summarize(cases.map((c) => c.regions[region][name]));
  }
  if (lesionWise) {
    for (const name of LESION_WISE_METRIC_NAMES) {
      out[name] = summarize(cases.map((c) => metricValue(c.regions[region], name)));
    }
  }
  return out;
}
