// A stateful accumulator for validation during training (like MONAI's DiceMetric): add cases as
// they are predicted, read the mean or full summary at the end of an epoch, reset.
import { DEFAULT_LABEL_CONVENTION, REGION_NAMES, type RegionName } from "@brats/conventions";
import { MetricsError } from "./errors.js";
import { evaluateCase } from "./evaluate.js";
import { conventionInfo, labelLookup } from "./labels.js";
import { resolveLesionWise } from "./lesions.js";
import { resolveMetricOptions } from "./options.js";
import { summarize, summarizeCases } from "./summary.js";
import type {
  CaseMetrics,
  CaseSummary,
  EvaluateOptions,
  LabelVolume,
  Shape,
  Spacing,
} from "./types.js";

export class BratsMetric {
  readonly #options: EvaluateOptions;
  readonly #cases: { caseId: string; metrics: CaseMetrics }[] = [];
  readonly #ids = new Set<string>();

  /** Options as for `evaluateCase`, checked here so a bad option fails before the first case. */
  constructor(opts?: EvaluateOptions) {
    resolveMetricOptions(opts);
    conventionInfo(opts?.convention ?? DEFAULT_LABEL_CONVENTION);
    labelLookup(opts?.labelMap);
    if (opts?.lesionWise !== undefined) resolveLesionWise(opts.lesionWise);
    this.#options = { ...opts };
  }

  /** Scores one case and keeps it. A caseId already added: BAD_OPTION (it would count twice). */
  add(
    caseId: string,
    pred: LabelVolume,
    gt: LabelVolume,
    shape: Shape,
    spacing: Spacing,
  ): CaseMetrics {
    if (this.#ids.has(caseId)) {
      throw new MetricsError("BAD_OPTION", `case ${JSON.stringify(caseId)} was already added`);
    }
    const metrics = evaluateCase(pred, gt, shape, spacing, this.#options);
    this.#ids.add(caseId);
    this.#cases.push({ caseId, metrics });
    return metrics;
  }

  /** The cases added since construction or the last reset, in order. */
  get cases(): ReadonlyArray<{ caseId: string; metrics: CaseMetrics }> {
    return this.#cases;
  }

  /** Summary of every region and metric over the cases so far. */
  summary(): CaseSummary {
    return summarizeCases(this.#cases.map((c) => c.metrics));
  }

  /** Mean Dice per region over the cases so far (NaN before any case with a finite Dice). */
  meanDice(): Record<RegionName, number> {
    const out = {} as Record<RegionName, number>;
    for (const region of REGION_NAMES) {
      out[region] = summarize(this.#cases.map((c) => c.metrics.regions[region].dice)).mean;
    }
    return out;
  }

  /** Forgets every case. */
  reset(): void {
    this.#cases.length = 0;
    this.#ids.clear();
  }
}
