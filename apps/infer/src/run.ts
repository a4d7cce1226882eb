// One inference run: models + a case or dataset folder in, an output folder out:
//   <OUT>/<ID>.nii.gz        BraTS labels on the input's grid (header and affine of the input)
//   <OUT>/<ID>.json          the case record (settings, file hashes, volumes, metrics), written last
//   <OUT>/overlays/*.png     with overlays: three-plane prediction, and comparison with ground truth
//   <OUT>/metrics.json/.csv  brats-eval --json schema over every case of OUT with ground truth
//   <OUT>/report.html        one self-contained page over every case of OUT
// The CLI parses arguments into InferenceOptions and calls runInference; tests and the demo call it
// directly.
import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { labelConvention } from "@brats/conventions";
import { parseTempName, writeAtomic } from "@brats/kit/fs";
import {
  DataError,
  discoverCases,
  MODALITIES,
  postprocessLabels,
  prepareForInference,
  restoreSegmentation,
  segmentationImage,
  type CaseFiles,
  type Modality,
  type PreprocessOptions,
} from "@brats/data";
import {
  evaluateCase,
  evaluationReport,
  MetricsError,
  reportToCsv,
  reportToJson,
  scoredCase,
  type FailedCase,
  type ScoredCase,
} from "@brats/metrics";
import { NiftiError, writeNifti } from "@brats/nifti";
import type { CheckpointName } from "@brats/runs";
import { predictVolume, UNet3DError, type BratsModelMetadata } from "@brats/unet3d";
import {
  renderComparisonPng,
  renderReportHtml,
  renderThreePlanePng,
  type InferenceReport,
} from "@brats/viz";
import { InferError } from "./errors.js";
import { loadModels, type EngineChoice, type EngineName, type LoadedModels } from "./models.js";
import {
  caseState,
  readRecord,
  recordPath,
  segmentationPath,
  settingsKey,
  sha256,
  type CaseRecord,
  type CaseSettings,
} from "./record.js";
import { shardCases, type Shard } from "./shard.js";

export const METRICS_JSON = "metrics.json";
export const METRICS_CSV = "metrics.csv";
export const REPORT_HTML = "report.html";
export const OVERLAYS_DIR = "overlays";

export interface InferenceOptions {
  /** Run folders and/or .onnx files; several form an ensemble (probabilities averaged). */
  models: string[];
  /** One case folder, or a dataset folder (any BraTS layout discoverCases reads). */
  input: string;
  out: string;
  /** Default "auto": onnx when onnxruntime-node loads, else tfjs. */
  engine?: EngineChoice;
  /** TF.js backend (tfjs) or execution provider (onnx: cpu, cuda); default "auto". */
  backend?: string;
  /** onnxruntime intra-op threads (onnx engine). */
  threads?: number;
  /** Checkpoint of run folders; default best when present, else last. */
  checkpoint?: CheckpointName;
  /** Mirroring test-time augmentation (8 flips). Default false. */
  tta?: boolean;
  /** Sliding-window overlap in [0, 1); default the model's (its training validation overlap). */
  overlap?: number;
  /** Write overlay PNGs to <OUT>/overlays. Default false. */
  overlays?: boolean;
  /** Process only shard i of n of the id-sorted cases. */
  shard?: Shard | null;
  /** Enhancing tumour smaller than this many voxels (in total) becomes necrosis. Default off. */
  etThreshold?: number | null;
  /** Tumour components smaller than this many voxels are removed. Default off. */
  minComponent?: number | null;
  /** Recompute cases of OUT made with other settings instead of refusing (SETTINGS_CONFLICT). */
  overwrite?: boolean;
  /** Write <OUT>/report.html. Default true. */
  report?: boolean;
}

export interface ModelInfo {
  name: string;
  path: string;
  kind: "run" | "onnx";
  checkpoint: CheckpointName | null;
  sha256: string;
  modelCard: string | null;
}

export interface CaseResult {
  id: string;
  /** "done" in this run, "skipped" (done before with the same settings) or "failed". */
  status: "done" | "skipped" | "failed";
  /** Absolute path of the segmentation (null when failed). */
  segmentation: string | null;
  overlays: string[];
  /** Wall time of the case (of the run that computed it, for skipped cases). */
  seconds: number | null;
  volumesMl: { WT: number; TC: number; ET: number } | null;
  /** Dice per region when the case has ground truth. */
  dice: { WT: number; TC: number; ET: number } | null;
  error: { code: string; message: string } | null;
}

export type InferenceEvent =
  | {
      type: "start";
      engine: EngineName;
      backend: string;
      models: ModelInfo[];
      notes: string[];
      /** Cases of this shard, of them already done. */
      cases: number;
      skipped: number;
    }
  | { type: "case-start"; id: string; index: number; toRun: number }
  | { type: "windows"; id: string; done: number; total: number }
  | { type: "case-end"; result: CaseResult; index: number; toRun: number };

export interface InferenceHooks {
  onEvent?: (event: InferenceEvent) => void;
  /** Receives the TF.js setup line (tfjs engine), before the "start" event. */
  log?: (line: string) => void;
}

export interface InferenceSummary {
  engine: EngineName;
  backend: string;
  models: ModelInfo[];
  input: string;
  out: string;
  shard: Shard | null;
  settings: CaseSettings;
  settingsKey: string;
  /** The cases of this shard, sorted by id. */
  cases: CaseResult[];
  counts: { cases: number; done: number; skipped: number; failed: number };
  /** Files over every case of OUT made with these settings (null when none has ground truth). */
  metrics: { json: string; csv: string; cases: number } | null;
  report: string | null;
  notes: string[];
  seconds: number;
}

function badOption(message: string): InferError {
  return new InferError("BAD_OPTION", message);
}

function checkCount(name: string, value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw badOption(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** The preprocessing options training used, from the model's metadata. */
export function preprocessOptions(meta: BratsModelMetadata): PreprocessOptions {
  const p = meta.preprocessing;
  return {
    canonical: p.canonical,
    spacing: p.spacing,
    crop: p.crop,
    margin: p.margin,
    normalize: p.normalization === "zscore-nonzero",
  };
}

function errorOf(err: unknown): { code: string; message: string } {
  if (
    err instanceof InferError ||
    err instanceof DataError ||
    err instanceof NiftiError ||
    err instanceof UNet3DError ||
    err instanceof MetricsError
  ) {
    return { code: err.code, message: err.message };
  }
  // Anything else is a bug rather than bad input; still reported per case.
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}

/** Predicted volume of each region in mL. */
function regionVolumes(
  labels: Uint8Array,
  spacing: readonly number[],
  convention: BratsModelMetadata["labelConvention"],
): { WT: number; TC: number; ET: number } {
  const counts = new Float64Array(256);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  const voxelMl = (spacing[0]! * spacing[1]! * spacing[2]!) / 1000;
  const { regions } = labelConvention(convention);
  const sum = (values: readonly number[]) => values.reduce((s, v) => s + counts[v]!, 0) * voxelMl;
  return { WT: sum(regions.WT), TC: sum(regions.TC), ET: sum(regions.ET) };
}

function resultOf(out: string, record: CaseRecord, status: "done" | "skipped"): CaseResult {
  const m = record.metrics;
  return {
    id: record.case,
    status,
    segmentation: join(out, record.segmentation.file),
    overlays: record.overlays.map((o) => join(out, o.file)),
    seconds: record.seconds,
    volumesMl: record.volumesMl,
    dice:
      m === null ? null : { WT: m.regions.WT.dice, TC: m.regions.TC.dice, ET: m.regions.ET.dice },
    error: null,
  };
}

/** Output file names of a case (relative to OUT or OUT/overlays). */
function outputNames(id: string): string[] {
  return [`${id}.nii.gz`, `${id}.json`, `${id}_prediction.png`, `${id}_comparison.png`];
}

/**
 * Temporary files a crashed run may have left for this case (never complete outputs), matched by
 * exact output name so that another case's (or shard's) files are never touched: the one temp-name
 * scheme of @brats/kit/fs, and the two that version 0.1.0 wrote (`<file>.tmp-*`, `.<file>.*.tmp`).
 */
async function removeLeftovers(out: string, id: string): Promise<void> {
  const names = outputNames(id);
  const temp = (name: string) =>
    names.some(
      (f) =>
        parseTempName(name)?.target === f ||
        name.startsWith(`${f}.tmp-`) ||
        (name.startsWith(`.${f}.`) && name.endsWith(".tmp")),
    );
  for (const dir of [out, join(out, OVERLAYS_DIR)]) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of entries) if (temp(name)) await rm(join(dir, name), { force: true });
  }
}

/** The modality shown under overlays: FLAIR when the model reads it, else its first input. */
function displayModality(modalities: readonly Modality[]): Modality {
  return modalities.includes("flair") ? "flair" : modalities[0]!;
}

interface CaseContext {
  out: string;
  models: LoadedModels;
  settings: CaseSettings;
  key: string;
  overlays: boolean;
  onWindows: (done: number, total: number) => void;
}

async function segmentCase(files: CaseFiles, ctx: CaseContext): Promise<CaseRecord> {
  const started = performance.now();
  const { out, models, settings } = ctx;
  const meta = models.metadata;
  const id = files.id;
  if (`${id}.json` === METRICS_JSON) {
    // Its record would be metrics.json: refuse rather than overwrite one with the other.
    throw new InferError("BAD_OPTION", `case id "${id}" clashes with ${METRICS_JSON} in OUT`);
  }
  // A stale record goes first: from here until the new record lands, the case is not done.
  await rm(recordPath(out, id), { force: true });
  await removeLeftovers(out, id);

  const prepared = await prepareForInference(files, {
    modalities: meta.modalities as Modality[],
    preprocess: preprocessOptions(meta),
  });
  const probabilities = await predictVolume(
    models.predictors,
    { data: prepared.image, shape: prepared.shape },
    {
      windowSize: settings.windowSize,
      overlap: settings.overlap,
      tta: settings.tta,
      onProgress: ctx.onWindows,
    },
  );
  const record = prepared.record;
  let labels = restoreSegmentation(probabilities.data as Float32Array, record, {
    outputs: meta.outputs,
    convention: meta.labelConvention,
  });
  if (settings.etThreshold !== null || settings.minComponent !== null) {
    labels = postprocessLabels(labels, record.original.shape, {
      convention: meta.labelConvention,
      ...(settings.etThreshold === null ? {} : { enhancingThreshold: settings.etThreshold }),
      ...(settings.minComponent === null ? {} : { minComponentSize: settings.minComponent }),
    });
  }
  const segPath = segmentationPath(out, id);
  await writeNifti(segmentationImage(labels, prepared.reference), segPath);
  const segBytes = await readFile(segPath);

  // The case as read (original grid; the ground truth as stored) for metrics and overlays.
  const original = prepared.case;
  const shape = record.original.shape;
  const spacing = record.original.spacing;
  let metrics: ScoredCase | null = null;
  if (original.seg !== null) {
    metrics = scoredCase(
      id,
      evaluateCase(labels, original.seg, shape, spacing, { convention: meta.labelConvention }),
    );
  }

  const overlays: CaseRecord["overlays"] = [];
  if (ctx.overlays) {
    await mkdir(join(out, OVERLAYS_DIR), { recursive: true });
    const shown = displayModality(original.modalities);
    const image = {
      data: original.channels[original.modalities.indexOf(shown)]!,
      shape,
      affine: original.affine,
    };
    const pred = { data: labels, shape, affine: original.affine };
    const pictures: { file: string; title: string; png: Uint8Array }[] = [
      {
        file: `${id}_prediction.png`,
        title: `Prediction over ${shown.toUpperCase()}`,
        png: renderThreePlanePng({
          image,
          labels: pred,
          labelConvention: meta.labelConvention,
          title: `${id}: prediction over ${shown.toUpperCase()}`,
        }),
      },
    ];
    if (original.seg !== null) {
      pictures.push({
        file: `${id}_comparison.png`,
        title: "Ground truth vs prediction",
        png: renderComparisonPng({
          image,
          gt: { data: original.seg, shape, affine: original.affine },
          pred,
          labelConvention: meta.labelConvention,
          title: `${id}: ground truth vs prediction (WT errors)`,
        }),
      });
    }
    for (const p of pictures) {
      const file = join(OVERLAYS_DIR, p.file);
      await writeAtomic(join(out, file), p.png);
      overlays.push({ file, title: p.title, sha256: sha256(p.png) });
    }
  }

  const caseRecord: CaseRecord = {
    format: "brats-infer-case",
    version: 1,
    case: id,
    settingsKey: ctx.key,
    settings,
    segmentation: { file: `${id}.nii.gz`, bytes: segBytes.byteLength, sha256: sha256(segBytes) },
    overlays,
    volumesMl: regionVolumes(labels, spacing, meta.labelConvention),
    metrics,
    groundTruth: original.seg === null || files.seg === undefined ? null : resolve(files.seg),
    backend: models.backend,
    seconds: (performance.now() - started) / 1000,
    date: new Date().toISOString(),
  };
  // Written last: its presence (with matching hashes) is what makes the case done.
  await writeAtomic(recordPath(out, id), JSON.stringify(caseRecord, null, 2) + "\n");
  return caseRecord;
}

/** Every complete record of OUT made with `key`, sorted by case id. */
async function recordsOf(out: string, key: string): Promise<CaseRecord[]> {
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

/** Cases of OUT whose records were made with other settings. */
async function conflictingCases(out: string, key: string): Promise<string[]> {
  const names = (await readdir(out)).filter((n) => n.endsWith(".json") && !n.startsWith("."));
  const ids: string[] = [];
  for (const name of names.sort()) {
    const record = await readRecord(join(out, name));
    if (record !== null && `${record.case}.json` === name && record.settingsKey !== key) {
      ids.push(record.case);
    }
  }
  return ids;
}

/** Settings as shown in messages (model hashes shortened). */
function describeSettings(s: CaseSettings): string {
  return JSON.stringify({ ...s, models: s.models.map((m) => m.slice(0, 12)) });
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
  if (opts.overlap !== undefined && !(opts.overlap >= 0 && opts.overlap < 1)) {
    throw badOption(`--overlap must be in [0, 1), got ${opts.overlap}`);
  }
  const etThreshold = checkCount("--et-threshold", opts.etThreshold);
  const minComponent = checkCount("--min-component", opts.minComponent);
  if (opts.threads !== undefined) checkCount("--threads", opts.threads);
  const input = resolve(opts.input);
  const out = resolve(opts.out);
  if (!existsSync(input)) throw new InferError("NOT_FOUND", `no such input: ${opts.input}`);
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new InferError("NOT_FOUND", `--out ${opts.out} exists and is not a folder`);
  }
  let all: CaseFiles[];
  try {
    all = await discoverCases(input);
  } catch (err) {
    if (err instanceof DataError && err.code === "NO_CASES") {
      throw new InferError("NO_CASES", `no BraTS case in ${opts.input}`, { cause: err });
    }
    throw new InferError("NOT_FOUND", `cannot read ${opts.input}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const cases = shardCases(all, opts.shard ?? null);

  const models = await loadModels(opts.models, {
    ...(opts.engine === undefined ? {} : { engine: opts.engine }),
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.checkpoint === undefined ? {} : { checkpoint: opts.checkpoint }),
    ...(hooks.log === undefined ? {} : { log: hooks.log }),
  });
  try {
    const meta = models.metadata;
    const missing = meta.modalities.filter((m) => !(MODALITIES as readonly string[]).includes(m));
    if (missing.length > 0) {
      throw new InferError("BAD_MODEL", `the model needs unknown modalities ${missing.join(", ")}`);
    }
    const settings: CaseSettings = {
      models: models.models.map((m) => m.sha256),
      engine: models.engine,
      tta: opts.tta === true,
      overlap: opts.overlap ?? meta.overlap,
      windowSize: meta.windowSize,
      etThreshold,
      minComponent,
    };
    const key = settingsKey(settings);
    const overlays = opts.overlays === true;
    await mkdir(out, { recursive: true });

    const conflicts = await conflictingCases(out, key);
    if (conflicts.length > 0 && opts.overwrite !== true) {
      const shown = conflicts.slice(0, 5).join(", ") + (conflicts.length > 5 ? ", ..." : "");
      throw new InferError(
        "SETTINGS_CONFLICT",
        `${opts.out} holds ${conflicts.length} case(s) (${shown}) made with other settings ` +
          `(model, engine, TTA, overlap or post-processing) than ${describeSettings(settings)}; ` +
          `use another --out, or --overwrite to recompute them`,
      );
    }

    const results = new Map<string, CaseResult>();
    const todo: CaseFiles[] = [];
    for (const c of cases) {
      const state = await caseState(out, c.id, key, overlays);
      if (state.state === "done") results.set(c.id, resultOf(out, state.record, "skipped"));
      else todo.push(c);
    }
    const modelInfo: ModelInfo[] = models.models.map((m) => ({
      name: m.name,
      path: m.path,
      kind: m.kind,
      checkpoint: m.checkpoint,
      sha256: m.sha256,
      modelCard: m.modelCard,
    }));
    emit({
      type: "start",
      engine: models.engine,
      backend: models.backend,
      models: modelInfo,
      notes: models.notes,
      cases: cases.length,
      skipped: cases.length - todo.length,
    });

    const failures: { files: CaseFiles; error: { code: string; message: string } }[] = [];
    for (let index = 0; index < todo.length; index++) {
      const files = todo[index]!;
      emit({ type: "case-start", id: files.id, index, toRun: todo.length });
      const t0 = performance.now();
      let result: CaseResult;
      try {
        const record = await segmentCase(files, {
          out,
          models,
          settings,
          key,
          overlays,
          onWindows: (done, total) => emit({ type: "windows", id: files.id, done, total }),
        });
        result = resultOf(out, record, "done");
      } catch (err) {
        const error = errorOf(err);
        failures.push({ files, error });
        result = {
          id: files.id,
          status: "failed",
          segmentation: null,
          overlays: [],
          seconds: (performance.now() - t0) / 1000,
          volumesMl: null,
          dice: null,
          error,
        };
      }
      results.set(files.id, result);
      emit({ type: "case-end", result, index, toRun: todo.length });
    }

    // Metrics and report cover every case of OUT made with these settings (other shards' too).
    const records = await recordsOf(out, key);
    const scored = records.filter((r) => r.metrics !== null);
    let metrics: InferenceSummary["metrics"] = null;
    const failedWithGt: FailedCase[] = failures
      .filter((f) => f.files.seg !== undefined)
      .map((f) => ({
        case: f.files.id,
        pred: segmentationPath(out, f.files.id),
        gt: resolve(f.files.seg!),
        error: f.error,
      }));
    if (scored.length > 0 || failedWithGt.length > 0) {
      const report = evaluationReport(
        scored.map((r) => r.metrics!),
        {
          convention: meta.labelConvention,
          unpaired: { pred: records.filter((r) => r.metrics === null).map((r) => r.case), gt: [] },
          failed: failedWithGt,
        },
      );
      const json = join(out, METRICS_JSON);
      const csv = join(out, METRICS_CSV);
      await writeAtomic(json, reportToJson(report));
      await writeAtomic(csv, reportToCsv(report.cases));
      metrics = { json, csv, cases: scored.length };
    }

    let reportPath: string | null = null;
    if (opts.report !== false) {
      reportPath = join(out, REPORT_HTML);
      const html = renderReportHtml(
        await inferenceReport(out, records, failures, models, modelInfo, settings, results),
      );
      await writeAtomic(reportPath, html);
    }

    const caseResults = cases.map((c) => results.get(c.id)!);
    const count = (s: CaseResult["status"]) => caseResults.filter((r) => r.status === s).length;
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
      counts: {
        cases: caseResults.length,
        done: count("done"),
        skipped: count("skipped"),
        failed: count("failed"),
      },
      metrics,
      report: reportPath,
      notes: models.notes,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await models.dispose();
  }
}

async function inferenceReport(
  out: string,
  records: CaseRecord[],
  failures: { files: CaseFiles; error: { code: string; message: string } }[],
  models: LoadedModels,
  modelInfo: ModelInfo[],
  settings: CaseSettings,
  results: Map<string, CaseResult>,
): Promise<InferenceReport> {
  const cases: InferenceReport["cases"] = [];
  for (const r of records) {
    const images = [];
    for (const o of r.overlays) {
      images.push({ title: o.title, png: new Uint8Array(await readFile(join(out, o.file))) });
    }
    cases.push({
      id: r.case,
      segmentation: r.segmentation.file,
      seconds: r.seconds,
      volumesMl: r.volumesMl,
      metrics: r.metrics === null ? null : r.metrics.regions,
      images,
      skipped: results.get(r.case)?.status !== "done",
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
    failed: failures.map((f) => ({ id: f.files.id, error: `${f.error.code}: ${f.error.message}` })),
    software: "brats-infer",
  };
}
