// The run-level files of OUT, rewritten after every run over every case of OUT made with the same
// settings (other shards' too): metrics.json/.csv (brats-eval's schema) and report.html.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { LabelConvention } from "@brats/conventions";
import { writeAtomic } from "@brats/kit/fs";
import { evaluationReport, reportToCsv, reportToJson, type FailedCase } from "@brats/metrics";
import { renderReportHtml, type InferenceReport } from "@brats/viz";
import type { LoadedModels } from "./models.js";
import {
  METRICS_CSV,
  METRICS_JSON,
  REPORT_HTML,
  type CaseResult,
  type InferenceSummary,
  type ModelInfo,
} from "./options.js";
import {
  caseState,
  readRecord,
  segmentationPath,
  type CaseRecord,
  type CaseSettings,
} from "./record.js";
import type { CaseFailure } from "./segment.js";

/** Every complete record of OUT made with `key`, sorted by case id. */
export async function recordsOf(out: string, key: string): Promise<CaseRecord[]> {
  const names = (await readdir(out))
    .filter((n) => n.endsWith(".json") && !n.startsWith("."))
    .sort();
  const records: CaseRecord[] = [];
  for (const name of names) {
    const record = await readRecord(join(out, name));
    if (record === null || `${record.case}.json` !== name) continue;
    const state = await caseState(out, record.case, key, false);
    if (state.state === "done") records.push(state.record);
  }
  return records;
}

/**
 * metrics.json and metrics.csv over the scored `records` and this run's failed cases that have
 * ground truth; null (nothing written) when there are neither.
 */
export async function writeMetrics(
  out: string,
  records: readonly CaseRecord[],
  failures: readonly CaseFailure[],
  convention: LabelConvention,
): Promise<InferenceSummary["metrics"]> {
  const scored = records.filter((r) => r.metrics !== null);
  const failedWithGt: FailedCase[] = failures
    .filter((f) => f.files.seg !== undefined)
    .map((f) => ({
      case: f.files.id,
      pred: segmentationPath(out, f.files.id),
      gt: resolve(f.files.seg!),
      error: f.error,
    }));
  if (scored.length === 0 && failedWithGt.length === 0) return null;
  const report = evaluationReport(
    scored.map((r) => r.metrics!),
    {
      convention,
      unpaired: { pred: records.filter((r) => r.metrics === null).map((r) => r.case), gt: [] },
      failed: failedWithGt,
    },
  );
  const json = join(out, METRICS_JSON);
  const csv = join(out, METRICS_CSV);
  await writeAtomic(json, reportToJson(report));
  await writeAtomic(csv, reportToCsv(report.cases));
  return { json, csv, cases: scored.length };
}

/** What the report shows besides the records: this run's models, settings, results and failures. */
export interface ReportInput {
  records: readonly CaseRecord[];
  failures: readonly CaseFailure[];
  models: LoadedModels;
  modelInfo: readonly ModelInfo[];
  settings: CaseSettings;
  results: ReadonlyMap<string, CaseResult>;
}

async function inferenceReport(out: string, r: ReportInput): Promise<InferenceReport> {
  const { models, modelInfo, settings } = r;
  const cases: InferenceReport["cases"] = [];
  for (const record of r.records) {
    const images = [];
    for (const o of record.overlays) {
      images.push({ title: o.title, png: new Uint8Array(await readFile(join(out, o.file))) });
    }
    cases.push({
      id: record.case,
      segmentation: record.segmentation.file,
      seconds: record.seconds,
      volumesMl: record.volumesMl,
      metrics: record.metrics === null ? null : record.metrics.regions,
      images,
      skipped: r.results.get(record.case)?.status !== "done",
    });
  }
  // A model trained by brats-train has its training curves beside its model card: show them.
  const figures: NonNullable<InferenceReport["figures"]> = [];
  for (const m of modelInfo) {
    if (m.modelCard === null) continue;
    const curves = join(dirname(m.modelCard), "curves.png");
    if (!existsSync(curves)) continue;
    figures.push({
      title: `Training curves: ${m.name}`,
      png: new Uint8Array(await readFile(curves)),
    });
  }
  return {
    title: "brats-infer segmentation report",
    figures,
    date: new Date().toISOString(),
    engine: models.engine,
    backend: models.backend,
    models: modelInfo.map((m) => ({
      name: m.checkpoint === null ? m.name : `${m.name} (${m.checkpoint})`,
      path: m.path,
      modelCard: m.modelCard,
    })),
    settings: {
      engine: settings.engine,
      "test-time augmentation": settings.tta,
      overlap: settings.overlap,
      window: settings.windowSize.join("×"),
      "ET threshold (voxels)": settings.etThreshold,
      "min component (voxels)": settings.minComponent,
      models: settings.models.length,
    },
    labelConvention: models.metadata.labelConvention,
    cases,
    failed: r.failures.map((f) => ({
      id: f.files.id,
      error: `${f.error.code}: ${f.error.message}`,
    })),
    software: "brats-infer",
  };
}

/** Writes report.html over `input.records`; returns its path. */
export async function writeReport(out: string, input: ReportInput): Promise<string> {
  const path = join(out, REPORT_HTML);
  await writeAtomic(path, renderReportHtml(await inferenceReport(out, input)));
  return path;
}
