// Before any case is segmented: the options checked, the input discovered and sharded, the
// settings that make a case's output what it is, the refusal to mix settings in one OUT, and which
// cases are already done (skipped) and which are still to do.
import { existsSync, realpathSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DataError, discoverCases, MODALITIES, type CaseFiles } from "@brats/data";
import { checkWritableFolder, FolderError, makeDirs } from "@brats/kit/fs";
import { InferError } from "./errors.js";
import type { LoadedModels } from "./models.js";
import {
  METRICS_CSV,
  METRICS_JSON,
  OVERLAYS_DIR,
  REPORT_HTML,
  type CaseResult,
  type InferenceOptions,
} from "./options.js";
import { caseState, readRecord, type CaseRecord, type CaseSettings } from "./record.js";
import { shardCases } from "./shard.js";

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

/** The post-processing thresholds after checking every numeric option (BAD_OPTION otherwise). */
export interface CheckedOptions {
  etThreshold: number | null;
  minComponent: number | null;
}

export function checkOptions(opts: InferenceOptions): CheckedOptions {
  if (opts.overlap !== undefined && !(opts.overlap >= 0 && opts.overlap < 1)) {
    throw badOption(`--overlap must be in [0, 1), got ${opts.overlap}`);
  }
  const etThreshold = checkCount("--et-threshold", opts.etThreshold);
  const minComponent = checkCount("--min-component", opts.minComponent);
  if (opts.threads !== undefined) checkCount("--threads", opts.threads);
  if (opts.window !== undefined) checkCount("--window", opts.window);
  return { etThreshold, minComponent };
}

/**
 * The input and output folders (absolute) and this shard's cases of the input, sorted by id.
 * Refuses (before anything is written) an OUT that cannot be a writable folder, and outputs that
 * would replace input files (refuseOutputsOverInputs).
 */
export async function openInput(
  opts: InferenceOptions,
): Promise<{ input: string; out: string; cases: CaseFiles[] }> {
  const input = resolve(opts.input);
  const out = resolve(opts.out);
  if (!existsSync(input)) throw new InferError("NOT_FOUND", `no such input: ${opts.input}`);
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new InferError("NOT_FOUND", `--out ${opts.out} exists and is not a folder`);
  }
  try {
    // Made now, so that an OUT nothing can be written into fails before any work (the check
    // alone passes for root under /proc, where only creating tells).
    await checkWritableFolder(out);
    await makeDirs(out);
  } catch (err) {
    if (!(err instanceof FolderError)) throw err;
    throw new InferError("NOT_FOUND", `--out ${opts.out}: ${err.message}`, { cause: err });
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
  refuseOutputsOverInputs(out, all);
  return { input, out, cases: shardCases(all, opts.shard ?? null) };
}

/** The files brats-infer may write into OUT for `id` (relative to OUT). */
export function caseOutputFiles(id: string): string[] {
  return [
    `${id}.nii.gz`,
    `${id}.json`,
    join(OVERLAYS_DIR, `${id}_prediction.png`),
    join(OVERLAYS_DIR, `${id}_comparison.png`),
  ];
}

/**
 * OUTPUT_IS_INPUT when a file brats-infer would write into `out` is a file discovery found as an
 * input, of any case (not only this shard's): in a flat folder holding cases P (P_t1.nii.gz, ...)
 * and P_t1, case P_t1's segmentation P_t1.nii.gz is case P's T1.
 */
export function refuseOutputsOverInputs(out: string, cases: readonly CaseFiles[]): void {
  const inputs = new Map<string, string>();
  const canonical = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  for (const c of cases) {
    const files = [...Object.entries(c.images), ...(c.seg === undefined ? [] : [["seg", c.seg]])];
    for (const [kind, path] of files) {
      if (path !== undefined)
        inputs.set(canonical(resolve(c.dir, path)), `the ${kind} of case ${c.id}`);
    }
  }
  const runFiles = [METRICS_JSON, METRICS_CSV, REPORT_HTML];
  const targets = [
    ...runFiles.map((f) => ({ file: f, what: f })),
    ...cases.flatMap((c) =>
      caseOutputFiles(c.id).map((f) => ({ file: f, what: `case ${c.id}'s ${f}` })),
    ),
  ];
  for (const { file, what } of targets) {
    const path = join(out, file);
    const input = inputs.get(canonical(path)) ?? inputs.get(resolve(path));
    if (input !== undefined) {
      throw new InferError(
        "OUTPUT_IS_INPUT",
        `writing ${what} into --out would replace ${path}, ${input}; choose an --out ` +
          `outside the input folder`,
      );
    }
  }
}

/** A --window edge the network takes (BAD_OPTION otherwise): divisible by 2^depth, and the
 * input size where the network fixes one. */
function windowOf(meta: LoadedModels["metadata"], edge: number): [number, number, number] {
  const divisor = 2 ** meta.unet.depth;
  if (edge % divisor !== 0) {
    throw badOption(
      `--window must be divisible by 2^depth = ${divisor} for this model, got ${edge}` +
        ` (try ${Math.max(divisor, Math.round(edge / divisor) * divisor)})`,
    );
  }
  const fixed = meta.unet.inputShape.slice(0, 3).filter((d): d is number => d !== null);
  if (fixed.some((d) => d !== edge)) {
    throw badOption(
      `--window ${edge}: this model takes only ${meta.unet.inputShape.slice(0, 3).join("×")} inputs`,
    );
  }
  return [edge, edge, edge];
}

/** Everything that makes a case's output what it is (BAD_MODEL for modalities data cannot read). */
export function caseSettings(
  models: LoadedModels,
  opts: InferenceOptions,
  checked: CheckedOptions,
): CaseSettings {
  const meta = models.metadata;
  const missing = meta.modalities.filter((m) => !(MODALITIES as readonly string[]).includes(m));
  if (missing.length > 0) {
    throw new InferError("BAD_MODEL", `the model needs unknown modalities ${missing.join(", ")}`);
  }
  return {
    models: models.models.map((m) => m.sha256),
    engine: models.engine,
    tta: opts.tta === true,
    overlap: opts.overlap ?? meta.overlap,
    windowSize: opts.window === undefined ? meta.windowSize : windowOf(meta, opts.window),
    etThreshold: checked.etThreshold,
    minComponent: checked.minComponent,
  };
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

/** SETTINGS_CONFLICT when OUT holds cases made with other settings, unless `overwrite`. */
export async function refuseConflicts(
  out: string,
  key: string,
  settings: CaseSettings,
  opts: InferenceOptions,
): Promise<void> {
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
}

/** A case's result from its record: done in this run, or skipped as done before. */
export function resultOf(out: string, record: CaseRecord, status: "done" | "skipped"): CaseResult {
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

/** The results of the cases already done with `key` (skipped), and the cases still to do. */
export async function planCases(
  out: string,
  cases: readonly CaseFiles[],
  key: string,
  overlays: boolean,
): Promise<{ results: Map<string, CaseResult>; todo: CaseFiles[] }> {
  const results = new Map<string, CaseResult>();
  const todo: CaseFiles[] = [];
  for (const c of cases) {
    const state = await caseState(out, c.id, key, overlays);
    if (state.state === "done") results.set(c.id, resultOf(out, state.record, "skipped"));
    else todo.push(c);
  }
  return { results, todo };
}
