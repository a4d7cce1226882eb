// One case at a time: preprocess as training did, predict with sliding windows, restore the labels
// to the input's grid, post-process, write the segmentation, score it against the ground truth,
// draw the overlays, and write the case record last (what makes the case done).
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { labelConvention } from "@brats/conventions";
import {
  DataError,
  postprocessLabels,
  prepareForInference,
  restoreSegmentation,
  segmentationImage,
  type CaseFiles,
  type Modality,
  type PreparedCase,
  type PreprocessOptions,
} from "@brats/data";
import { evaluateCase, MetricsError, scoredCase, type ScoredCase } from "@brats/metrics";
import { makeDirs, parseTempName, writeAtomic } from "@brats/kit/fs";
import { NiftiError, writeNifti } from "@brats/nifti";
import { predictVolume, UNet3DError, type BratsModelMetadata } from "@brats/unet3d";
import { renderComparisonPng, renderThreePlanePng } from "@brats/viz";
import { InferError } from "./errors.js";
import type { LoadedModels } from "./models.js";
import { METRICS_JSON, OVERLAYS_DIR, type CaseResult, type InferenceEvent } from "./options.js";
import { caseOutputFiles, resultOf } from "./plan.js";
import type { CaseClaims } from "./claims.js";
import {
  caseState,
  recordPath,
  segmentationPath,
  sha256,
  type CaseRecord,
  type CaseSettings,
} from "./record.js";

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

/**
 * Temporary files a crashed run may have left for this case (never complete outputs), matched by
 * exact output name so that another case's (or shard's) files are never touched: the one temp-name
 * scheme of @brats/kit/fs, and the two that version 0.1.0 wrote (`<file>.tmp-*`, `.<file>.*.tmp`).
 */
async function removeLeftovers(out: string, id: string): Promise<void> {
  const names = caseOutputFiles(id).map((f) => basename(f));
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

/** What every case of a run is segmented with. */
export interface CaseContext {
  out: string;
  models: LoadedModels;
  settings: CaseSettings;
  key: string;
  overlays: boolean;
}

/** The overlay PNGs of a case (prediction over FLAIR; and vs the ground truth when there is one). */
async function writeOverlays(
  out: string,
  id: string,
  prepared: PreparedCase,
  labels: Uint8Array,
  convention: BratsModelMetadata["labelConvention"],
): Promise<CaseRecord["overlays"]> {
  const original = prepared.case;
  const shape = prepared.record.original.shape;
  await makeDirs(join(out, OVERLAYS_DIR));
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
        labelConvention: convention,
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
        labelConvention: convention,
        title: `${id}: ground truth vs prediction (WT errors)`,
      }),
    });
  }
  const overlays: CaseRecord["overlays"] = [];
  for (const p of pictures) {
    const file = join(OVERLAYS_DIR, p.file);
    await writeAtomic(join(out, file), p.png);
    overlays.push({ file, title: p.title, sha256: sha256(p.png) });
  }
  return overlays;
}

async function segmentCase(
  files: CaseFiles,
  ctx: CaseContext,
  onWindows: (done: number, total: number) => void,
): Promise<CaseRecord> {
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
      onProgress: onWindows,
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
  const spacing = record.original.spacing;
  let metrics: ScoredCase | null = null;
  if (original.seg !== null) {
    metrics = scoredCase(
      id,
      evaluateCase(labels, original.seg, record.original.shape, spacing, {
        convention: meta.labelConvention,
      }),
    );
  }
  const overlays = ctx.overlays
    ? await writeOverlays(out, id, prepared, labels, meta.labelConvention)
    : [];

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

/** A case that failed in this run, with its error as reported. */
export interface CaseFailure {
  files: CaseFiles;
  error: { code: string; message: string };
}

/**
 * Segments `todo` in order, adding each result to `results` and emitting its events; a failing
 * case is recorded (status "failed") and the next one still runs. Returns the failures. With
 * `claims`, a case is only segmented under this worker's claim: cases other workers hold are
 * passed over and come back every heartbeat until they are done (then "skipped", as done by the
 * other worker) or their claim is taken over as stale.
 */
export async function segmentCases(
  todo: readonly CaseFiles[],
  ctx: CaseContext,
  results: Map<string, CaseResult>,
  emit: (event: InferenceEvent) => void,
  claims: CaseClaims | null = null,
): Promise<CaseFailure[]> {
  const failures: CaseFailure[] = [];
  let index = 0;
  let pending = [...todo];
  while (pending.length > 0) {
    const heldElsewhere: CaseFiles[] = [];
    for (const files of pending) {
      const claim = claims === null ? null : await claims.tryClaim(files.id);
      if (claims !== null && claim === null) {
        heldElsewhere.push(files);
        continue;
      }
      try {
        // Another worker may have finished it before our claim (it holds its claim until the record lands).
        const state =
          claims === null ? null : await caseState(ctx.out, files.id, ctx.key, ctx.overlays);
        if (state?.state === "done") {
          results.set(files.id, resultOf(ctx.out, state.record, "skipped"));
          continue;
        }
        const result = await segmentOne(files, ctx, index, todo.length, emit, failures);
        results.set(files.id, result);
        index++;
      } finally {
        await claim?.release();
      }
    }
    pending = heldElsewhere;
    if (pending.length > 0 && claims !== null) {
      await new Promise((r) => setTimeout(r, claims.heartbeatSeconds * 1000));
    }
  }
  return failures;
}

async function segmentOne(
  files: CaseFiles,
  ctx: CaseContext,
  index: number,
  toRun: number,
  emit: (event: InferenceEvent) => void,
  failures: CaseFailure[],
): Promise<CaseResult> {
  emit({ type: "case-start", id: files.id, index, toRun });
  const t0 = performance.now();
  let result: CaseResult;
  try {
    const record = await segmentCase(files, ctx, (done, total) =>
      emit({ type: "windows", id: files.id, done, total }),
    );
    result = resultOf(ctx.out, record, "done");
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
  emit({ type: "case-end", result, index, toRun });
  return result;
}
