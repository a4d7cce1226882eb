// Reading and writing a run folder's own files, on hand-made folders: which checkpoint is used,
// and the RunsError code of every way a folder can fail to be a run.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "./config.js";
import { RunsError, type RunsErrorCode } from "./errors.js";
import type { CheckpointName } from "./files.js";
import {
  checkpointOf,
  existingRunFiles,
  isRunFolder,
  removeRunFiles,
  readRunLog,
  readRunRecord,
  readTrainState,
  writeRunFile,
  writeRunRecord,
  type RunRecord,
} from "./record.js";

let root: string;

/** A folder holding the named checkpoints (a model.json each) and, unless false, a config.json. */
async function folder(name: string, checkpoints: string[], config = true): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  if (config) await writeFile(join(dir, "config.json"), "{}");
  for (const c of checkpoints) {
    await mkdir(join(dir, c), { recursive: true });
    await writeFile(join(dir, c, "model.json"), "{}");
  }
  return dir;
}

async function codeOf(fn: () => unknown): Promise<RunsErrorCode | "none"> {
  try {
    await fn();
    return "none";
  } catch (e) {
    expect(e).toBeInstanceOf(RunsError);
    return (e as RunsError).code;
  }
}

const record: RunRecord = {
  config: { ...DEFAULT_CONFIG, data: "/data", out: "/runs/a" },
  backend: "wasm",
  split: { train: ["a", "b"], val: ["c"] },
  started: "2026-11-26T10:00:00.000Z",
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "brats-runs-record-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("checkpointOf", () => {
  it.each<[string, string[], CheckpointName | undefined, CheckpointName]>([
    ["best and last, default", ["best", "last"], undefined, "best"],
    ["only last, default", ["last"], undefined, "last"],
    ["only best, default", ["best"], undefined, "best"],
    ["best and last, last asked", ["best", "last"], "last", "last"],
    ["best and last, best asked", ["best", "last"], "best", "best"],
  ])("%s → %s", async (name, checkpoints, wanted, expected) => {
    const dir = await folder(name, checkpoints);
    expect(checkpointOf(dir, wanted)).toEqual({ name: expected, dir: join(dir, expected) });
  });

  it.each<[string, () => Promise<string>, CheckpointName | undefined, RunsErrorCode, RegExp]>([
    [
      "no checkpoint at all",
      () => folder("empty", []),
      undefined,
      "NO_CHECKPOINT",
      /has neither a best\/ nor a last\/ checkpoint$/,
    ],
    [
      "best asked, only last",
      () => folder("only-last", ["last"]),
      "best",
      "NO_CHECKPOINT",
      /has no best\/ checkpoint \(no best\/model\.json\)$/,
    ],
    [
      "a checkpoint folder without model.json",
      async () => {
        const dir = await folder("half", []);
        await mkdir(join(dir, "last"));
        return dir;
      },
      "last",
      "NO_CHECKPOINT",
      /no last\/model\.json/,
    ],
    [
      "an unknown checkpoint name",
      () => folder("unknown", ["best", "last"]),
      "first" as CheckpointName,
      "NO_CHECKPOINT",
      /unknown checkpoint "first"/,
    ],
    [
      "no such folder",
      () => Promise.resolve(join(root, "missing")),
      undefined,
      "NOT_A_RUN",
      /is not a folder$/,
    ],
    [
      "a file, not a folder",
      async () => {
        const path = join(root, "file.onnx");
        await writeFile(path, "x");
        return path;
      },
      undefined,
      "NOT_A_RUN",
      /is not a folder$/,
    ],
  ])("%s: %s", async (_name, make, wanted, code, message) => {
    const dir = await make();
    expect(await codeOf(() => checkpointOf(dir, wanted))).toBe(code);
    expect(() => checkpointOf(dir, wanted)).toThrow(message);
  });
});

describe("readRunRecord, writeRunRecord", () => {
  it("round-trips config.json, written atomically (nothing left beside it)", async () => {
    const dir = join(root, "written", "run");
    expect(await writeRunRecord(dir, record)).toBe(join(dir, "config.json"));
    expect(await readRunRecord(dir)).toEqual(record);
    expect(await readdir(dir)).toEqual(["config.json"]);
    expect(isRunFolder(dir)).toBe(true);
  });

  it.each<[string, string | null]>([
    ["no config.json", null],
    ["not JSON", "{"],
    ["JSON null", "null"],
    ["no config", JSON.stringify({ split: record.split })],
    ["no split", JSON.stringify({ config: record.config })],
    ["modalities not a list", JSON.stringify({ ...record, config: { patch: 64 } })],
    ["val not a list", JSON.stringify({ ...record, split: { train: [] } })],
  ])("NOT_A_RUN: %s", async (name, text) => {
    const dir = await folder(`bad-record-${name}`, ["last"], false);
    if (text !== null) await writeFile(join(dir, "config.json"), text);
    expect(await codeOf(() => readRunRecord(dir))).toBe("NOT_A_RUN");
  });

  it("isRunFolder: a folder with config.json only", async () => {
    expect(isRunFolder(await folder("with-config", []))).toBe(true);
    expect(isRunFolder(await folder("without-config", ["last"], false))).toBe(false);
    expect(isRunFolder(join(root, "nowhere"))).toBe(false);
  });
});

describe("readTrainState, readRunLog, writeRunFile", () => {
  it("read what is there, BAD_RUN when it is not", async () => {
    const dir = await folder("state", ["last"]);
    const state = { version: 1, step: 3 };
    await writeFile(join(dir, "last", "train-state.json"), JSON.stringify(state));
    expect(await readTrainState(join(dir, "last"))).toEqual(state);
    expect(await codeOf(() => readTrainState(join(dir, "best")))).toBe("BAD_RUN");
    await writeFile(join(dir, "last", "train-state.json"), "{");
    expect(await codeOf(() => readTrainState(join(dir, "last")))).toBe("BAD_RUN");

    expect(await codeOf(() => readRunLog(dir))).toBe("BAD_RUN");
    const log = '{"type":"epoch","epoch":1}\n';
    expect(await writeRunFile(dir, "log.jsonl", log)).toBe(join(dir, "log.jsonl"));
    expect(await readRunLog(dir)).toBe(log);
    expect((await readdir(dir)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});

describe("existingRunFiles / removeRunFiles", () => {
  it("find and remove a run's own files and folders, and nothing else", async () => {
    const dir = await folder("run-files", ["best", "last"]);
    await mkdir(join(dir, "last.old"));
    for (const f of ["log.jsonl", "metrics.csv", "model.onnx", "MODEL_CARD.md", "curves.png"]) {
      await writeFile(join(dir, f), "x");
    }
    await writeFile(join(dir, "notes.txt"), "the user's own");
    await mkdir(join(dir, "data"));
    const run = [
      "MODEL_CARD.md",
      "best",
      "config.json",
      "curves.png",
      "last",
      "last.old",
      "log.jsonl",
      "metrics.csv",
      "model.onnx",
    ];
    expect(await existingRunFiles(dir)).toEqual(run);
    expect(await removeRunFiles(dir)).toEqual(run);
    expect((await readdir(dir)).sort()).toEqual(["data", "notes.txt"]);
    expect(await existingRunFiles(join(dir, "missing"))).toEqual([]);
  });
});
