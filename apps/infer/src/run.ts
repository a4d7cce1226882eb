// One inference run: models + a case or dataset folder in, an output folder out:
//   <OUT>/<ID>.nii.gz        BraTS labels on the input's grid (header and affine of the input)
//   <OUT>/<ID>.json          the case record (settings, file hashes, volumes, metrics), written last
//   <OUT>/overlays/*.png     with overlays: three-plane prediction, and comparison with ground truth
//   <OUT>/metrics.json/.csv  brats-eval --json schema over every case of OUT with ground truth
//   <OUT>/report.html        one self-contained page over every case of OUT
// The steps live beside it: plan.ts (options, input, settings, refusals, what is done),
// segment.ts (one case), claims.ts (workers sharing OUT), outputs.ts (metrics and report). The CLI parses arguments into
// InferenceOptions and calls runInference; tests and the demo call it directly.
import { join } from "node:path";
import { makeDirs, removeStaleTemps } from "@brats/kit/fs";
import { CaseClaims, CLAIMS_DIR } from "./claims.js";
import { loadModels, type LoadedModels } from "./models.js";
import {
  OVERLAYS_DIR,
  type CaseResult,
  type InferenceHooks,
  type InferenceOptions,
  type InferenceSummary,
  type ModelInfo,
} from "./options.js";
import { recordsOf, writeMetrics, writeReport } from "./outputs.js";
import { caseSettings, checkOptions, openInput, planCases, refuseConflicts } from "./plan.js";
import { settingsKey } from "./record.js";
import { segmentCases } from "./segment.js";

function modelInfoOf(models: LoadedModels): ModelInfo[] {
  return models.models.map((m) => ({
    name: m.name,
    path: m.path,
    kind: m.kind,
    checkpoint: m.checkpoint,
    sha256: m.sha256,
    modelCard: m.modelCard,
  }));
}

function countsOf(results: readonly CaseResult[]): InferenceSummary["counts"] {
  const count = (s: CaseResult["status"]) => results.filter((r) => r.status === s).length;
  return {
    cases: results.length,
    done: count("done"),
    skipped: count("skipped"),
    failed: count("failed"),
  };
}

/**
 * Segments every case of `opts.input` (this shard's) into `opts.out`, skipping cases already done
 * with the same settings; then rewrites metrics and the report over every case of OUT. Throws
 * InferError for bad options, models, inputs or a settings conflict; a failing case is reported
 * in the summary (status "failed") and the others still run.
 */
export async function runInference(
  opts: InferenceOptions,
  hooks: InferenceHooks = {},
): Promise<InferenceSummary> {
  const started = performance.now();
  const emit = hooks.onEvent ?? (() => undefined);
  const checked = checkOptions(opts);
  const { input, out, cases } = await openInput(opts);

  const models = await loadModels(opts.models, {
    ...(opts.engine === undefined ? {} : { engine: opts.engine }),
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.checkpoint === undefined ? {} : { checkpoint: opts.checkpoint }),
    ...(hooks.log === undefined ? {} : { log: hooks.log }),
  });
  try {
    const settings = caseSettings(models, opts, checked);
    const key = settingsKey(settings);
    const overlays = opts.overlays === true;
    await makeDirs(out);
    await refuseConflicts(out, key, settings, opts);
    // Temp files of killed workers of this machine (never those of live ones or of other hosts).
    for (const dir of [out, join(out, OVERLAYS_DIR), join(out, CLAIMS_DIR)]) {
      await removeStaleTemps(dir);
    }

    const { results, todo } = await planCases(out, cases, key, overlays);
    const modelInfo = modelInfoOf(models);
    emit({
      type: "start",
      engine: models.engine,
      backend: models.backend,
      models: modelInfo,
      notes: models.notes,
      cases: cases.length,
      skipped: cases.length - todo.length,
    });
    const ctx = { out, models, settings, key, overlays };
    const claims = opts.claims === false ? null : new CaseClaims(out, opts.claims ?? {});
    const failures = await segmentCases(todo, ctx, results, emit, claims);

    // Metrics and report cover every case of OUT made with these settings (other shards' too).
    const records = await recordsOf(out, key);
    const metrics = await writeMetrics(out, records, failures, models.metadata.labelConvention);
    const report =
      opts.report === false
        ? null
        : await writeReport(out, { records, failures, models, modelInfo, settings, results });

    const caseResults = cases.map((c) => results.get(c.id)!);
    return {
      engine: models.engine,
      backend: models.backend,
      models: modelInfo,
      input,
      out,
      shard: opts.shard ?? null,
      settings,
      settingsKey: key,
      cases: caseResults,
      counts: countsOf(caseResults),
      metrics,
      report,
      notes: models.notes,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await models.dispose();
  }
}
