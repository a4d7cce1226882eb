// Reading and writing a run folder's own files: config.json (the run record), the checkpoint
// folders and their train-state.json, log.jsonl. Every failure is a RunsError.
import { existsSync, statSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { LOG_JSONL, MODEL_JSON, TRAIN_STATE_JSON, type TrainState } from "@brats/unet3d";
import type { Split, TrainConfig } from "./config.js";
import { RunsError } from "./errors.js";
import { makeDirs, previousDirOf, writeAtomic } from "@brats/kit/fs";
import { CHECKPOINT_NAMES, CONFIG_JSON, RUN_FILES, type CheckpointName } from "./files.js";

/** What config.json of a run holds. */
export interface RunRecord {
  config: TrainConfig;
  /** The backend of the first training session. */
  backend: string;
  split: Split;
  /** When the run started (ISO 8601). */
  started: string;
}

/** A checkpoint folder of a run. */
export interface Checkpoint {
  name: CheckpointName;
  /** `<runDir>/<name>`. */
  dir: string;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `path` is a folder holding a config.json (what tells a run folder from a model file). */
export function isRunFolder(path: string): boolean {
  return isDirectory(path) && existsSync(join(path, CONFIG_JSON));
}

/** config.json of a run folder; NOT_A_RUN when it is missing or not a run record. */
export async function readRunRecord(runDir: string): Promise<RunRecord> {
  const path = join(runDir, CONFIG_JSON);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new RunsError("NOT_A_RUN", `${runDir} is not a brats-train run: cannot read ${path}`, {
      cause,
    });
  }
  const r = raw as Partial<RunRecord> | null;
  const ok =
    typeof r === "object" &&
    r !== null &&
    typeof r.config === "object" &&
    r.config !== null &&
    Array.isArray(r.config.modalities) &&
    typeof r.config.patch === "number" &&
    typeof r.split === "object" &&
    r.split !== null &&
    Array.isArray(r.split.train) &&
    Array.isArray(r.split.val);
  if (!ok) throw new RunsError("NOT_A_RUN", `${path} is not a brats-train run record`);
  return r as RunRecord;
}

/**
 * The files and folders of a run (RUN_FILES, and the `.old` folders of an interrupted checkpoint
 * swap) that exist in `dir`, sorted; empty when `dir` holds no run (or does not exist).
 */
export async function existingRunFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const runNames = new Set([...RUN_FILES, ...CHECKPOINT_NAMES.map((c) => previousDirOf(c))]);
  return names.filter((n) => runNames.has(n)).sort();
}

/**
 * Removes the run in `dir` (existingRunFiles, nothing else: a user's other files stay), as
 * brats-train --overwrite does before a fresh run; returns what it removed.
 */
export async function removeRunFiles(dir: string): Promise<string[]> {
  const names = await existingRunFiles(dir);
  for (const name of names) await rm(join(dir, name), { recursive: true, force: true });
  return names;
}

/** Writes `<runDir>/config.json` (atomically; the folder is made if needed). */
export async function writeRunRecord(runDir: string, record: RunRecord): Promise<string> {
  await makeDirs(runDir);
  return writeRunFile(runDir, CONFIG_JSON, JSON.stringify(record, null, 2) + "\n");
}

/** Writes one file of a run folder atomically (a temporary file beside it, then a rename); its path. */
export async function writeRunFile(
  runDir: string,
  name: string,
  data: string | Uint8Array,
): Promise<string> {
  const path = join(runDir, name);
  await writeAtomic(path, data);
  return path;
}

/**
 * The checkpoint folder of a run: the one asked for, else best/ when there is one (runs without
 * validation have none), else last/. A checkpoint is there when its model.json is. NOT_A_RUN when
 * `runDir` is no folder; NO_CHECKPOINT when the checkpoint is missing (or the name unknown).
 */
export function checkpointOf(runDir: string, wanted?: CheckpointName): Checkpoint {
  if (wanted !== undefined && !CHECKPOINT_NAMES.includes(wanted)) {
    throw new RunsError(
      "NO_CHECKPOINT",
      `unknown checkpoint ${JSON.stringify(wanted)}; a run has ${CHECKPOINT_NAMES.join(" and ")}`,
    );
  }
  if (!isDirectory(runDir)) throw new RunsError("NOT_A_RUN", `${runDir} is not a folder`);
  const has = (name: CheckpointName) => existsSync(join(runDir, name, MODEL_JSON));
  if (wanted !== undefined) {
    if (has(wanted)) return { name: wanted, dir: join(runDir, wanted) };
    throw new RunsError(
      "NO_CHECKPOINT",
      `${runDir} has no ${wanted}/ checkpoint (no ${wanted}/${MODEL_JSON})`,
    );
  }
  for (const name of CHECKPOINT_NAMES) if (has(name)) return { name, dir: join(runDir, name) };
  throw new RunsError("NO_CHECKPOINT", `${runDir} has neither a best/ nor a last/ checkpoint`);
}

/** train-state.json of a checkpoint folder; BAD_RUN when it cannot be read. */
export async function readTrainState(checkpointDir: string): Promise<TrainState> {
  const path = join(checkpointDir, TRAIN_STATE_JSON);
  try {
    return JSON.parse(await readFile(path, "utf8")) as TrainState;
  } catch (cause) {
    throw new RunsError("BAD_RUN", `cannot read ${path}`, { cause });
  }
}

/** The text of a run's log.jsonl (one JSON record per step and per epoch); BAD_RUN when unreadable. */
export async function readRunLog(runDir: string): Promise<string> {
  const path = join(runDir, LOG_JSONL);
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new RunsError("BAD_RUN", `cannot read ${path}`, { cause });
  }
}
