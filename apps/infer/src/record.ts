// Per-case records: `<OUT>/<ID>.json`, written last and atomically, saying which settings produced
// `<OUT>/<ID>.nii.gz` (and its overlays) and holding the case's metrics. A case counts as done only
// when its record parses, was made with the current settings and its files are all there with the
// recorded size and hash, so a crash at any point leaves nothing a re-run would take for done.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ScoredCase } from "@brats/metrics";

export const RECORD_FORMAT = "brats-infer-case";
export const RECORD_VERSION = 1;

/** Everything that changes a case's output; equal settings give byte-identical files. */
export interface CaseSettings {
  /** sha256 of each model's bytes (ONNX file, or the checkpoint's model.json + weights.bin), in --model order. */
  models: string[];
  engine: "onnx" | "tfjs";
  tta: boolean;
  overlap: number;
  windowSize: [number, number, number];
  /** ET smaller than this many voxels becomes NCR; null when off. */
  etThreshold: number | null;
  /** WT components smaller than this many voxels are removed; null when off. */
  minComponent: number | null;
}

export interface CaseRecord {
  format: typeof RECORD_FORMAT;
  version: typeof RECORD_VERSION;
  case: string;
  /** sha256 of the canonical JSON of `settings`. */
  settingsKey: string;
  settings: CaseSettings;
  /** The segmentation file, relative to OUT, with its size and sha256. */
  segmentation: { file: string; bytes: number; sha256: string };
  /** Overlay PNGs relative to OUT (empty without --overlays), each with its sha256. */
  overlays: { file: string; title: string; sha256: string }[];
  /** Predicted volume of each region in mL. */
  volumesMl: { WT: number; TC: number; ET: number };
  /** Metrics against the case's ground truth, null without one. */
  metrics: ScoredCase | null;
  /** The ground-truth file scored against, null without one. */
  groundTruth: string | null;
  /** Provenance only (not compared): engine backend, wall time, date. */
  backend: string;
  seconds: number;
  date: string;
}

/** JSON with object keys sorted at every level: the same settings always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export function settingsKey(settings: CaseSettings): string {
  return sha256(canonicalJson(settings));
}

export function recordPath(out: string, id: string): string {
  return join(out, `${id}.json`);
}

export function segmentationPath(out: string, id: string): string {
  return join(out, `${id}.nii.gz`);
}

/** The record at `path`, or null when it is missing, unreadable or not a case record. */
export async function readRecord(path: string): Promise<CaseRecord | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const r = parsed as Partial<CaseRecord>;
  if (
    r.format !== RECORD_FORMAT ||
    r.version !== RECORD_VERSION ||
    typeof r.case !== "string" ||
    typeof r.settingsKey !== "string" ||
    typeof r.segmentation?.file !== "string" ||
    typeof r.segmentation.sha256 !== "string" ||
    typeof r.segmentation.bytes !== "number" ||
    !Array.isArray(r.overlays)
  ) {
    return null;
  }
  return r as CaseRecord;
}

async function fileMatches(path: string, bytes: number | null, hash: string): Promise<boolean> {
  try {
    if (bytes !== null && (await stat(path)).size !== bytes) return false;
    return sha256(await readFile(path)) === hash;
  } catch {
    return false;
  }
}

export type CaseState =
  /** Record and files complete, made with these settings. */
  | { state: "done"; record: CaseRecord }
  /** A complete record made with other settings. */
  | { state: "other-settings"; record: CaseRecord }
  /** No usable record, or files missing or changed since: the case must be (re)computed. */
  | { state: "todo" };

/**
 * Whether `<OUT>/<ID>` is done with `key`. `needOverlays`: overlays were asked for, so a record
 * without them is not done (the case is recomputed, which rewrites identical segmentation bytes).
 */
export async function caseState(
  out: string,
  id: string,
  key: string,
  needOverlays: boolean,
): Promise<CaseState> {
  const record = await readRecord(recordPath(out, id));
  if (record === null || record.case !== id) return { state: "todo" };
  const seg = record.segmentation;
  if (!(await fileMatches(join(out, seg.file), seg.bytes, seg.sha256))) return { state: "todo" };
  if (record.settingsKey !== key) return { state: "other-settings", record };
  if (needOverlays && record.overlays.length === 0) return { state: "todo" };
  for (const overlay of record.overlays) {
    if (!(await fileMatches(join(out, overlay.file), null, overlay.sha256)))
      return { state: "todo" };
  }
  return { state: "done", record };
}
