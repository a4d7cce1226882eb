#!/usr/bin/env node
// brats-infer: segment BraTS cases with trained models (brats-train run folders or ONNX files).
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InferError, USAGE_CODES } from "./errors.js";
import { ONNX_BACKENDS, TFJS_BACKENDS } from "./models.js";
import { ProgressBar, type ProgressState } from "./progress.js";
import type { InferenceOptions, InferenceSummary } from "./options.js";
import { runInference } from "./run.js";
import { parseShard } from "./shard.js";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (the progress bar is only drawn there). */
  stderrIsTTY?: boolean;
}

export const USAGE = `Usage: brats-infer --model RUN_DIR|MODEL.onnx [--model ...] --input DIR --out OUT_DIR [options]

Segment BraTS cases with trained @brats models: sliding windows over the whole scan, back to
BraTS labels on the input's exact grid (<OUT>/<ID>.nii.gz). Cases already done in OUT with the
same settings are skipped, so a re-run after a crash only does what is missing.

  --model PATH          a brats-train run folder or an .onnx file with brats metadata; repeat
                        it for an ensemble (probabilities averaged; the models must agree on
                        modalities, outputs, classes, label convention and preprocessing)
  --input DIR           one case folder or a dataset folder (any BraTS naming, nested folders)
  --out OUT_DIR         output folder (created): <ID>.nii.gz, <ID>.json, metrics.json/.csv
                        (cases with ground truth), report.html, overlays/ (with --overlays)
  --engine NAME         onnx (onnxruntime-node) or tfjs; default onnx when onnxruntime-node
                        loads, else tfjs. tfjs runs run folders only; onnx runs .onnx files and
                        run folders (exported to ONNX in memory)
  --backend NAME        tfjs: auto (default), tensorflow-gpu, tensorflow, wasm, cpu;
                        onnx: auto (= cpu), cpu, cuda (falls back to cpu when unavailable)
  --threads N           onnxruntime intra-op threads (onnx engine; default: the physical cores)
  --checkpoint NAME     best or last checkpoint of run folders (default best, else last)
  --tta                 mirroring test-time augmentation (8 flips per window; 8x slower)
  --overlap F           sliding-window overlap in [0, 1) (default: the model's, usually 0.5)
  --et-threshold N      post-processing: enhancing tumour smaller than N voxels in total
                        becomes necrosis (nnU-Net's BraTS rule); default off
  --min-component N     post-processing: tumour components smaller than N voxels are removed;
                        default off
  --overlays            also write PNGs: three-plane prediction over FLAIR, and ground truth
                        vs prediction when the case has a segmentation
  --shard i/n           only cases i, i+n, i+2n, ... of the id-sorted list (0 <= i < n), for
                        job arrays; every shard may share OUT
  --overwrite           recompute cases OUT holds with other settings (default: refuse)
  --no-report           do not write report.html
  --json                print one JSON summary on stdout
  --quiet               no progress bar or per-case lines (errors are still printed)
  -h, --help            show this help
  --version             show the version

The engine, backend and models are printed first (stderr); a progress bar over cases and
windows with an ETA goes to stderr when it is a terminal.
Exit status: 0 every case done, 1 a case failed (the others are still done and listed) or the
models/engine could not be loaded, 2 usage error (bad option, missing path, models that
disagree, OUT made with other settings).
`;

class UsageError extends Error {}

const VALUE_FLAGS = new Set([
  "model",
  "input",
  "out",
  "engine",
  "backend",
  "threads",
  "checkpoint",
  "overlap",
  "et-threshold",
  "min-component",
  "shard",
]);
const BOOLEAN_FLAGS = new Set(["tta", "overlays", "overwrite", "no-report", "json", "quiet"]);

interface Parsed {
  kind: "run" | "help" | "version";
  options: InferenceOptions;
  json: boolean;
  quiet: boolean;
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${name} must be a positive integer, got ${v}`);
  }
  return n;
}

export function parseArgs(argv: readonly string[]): Parsed {
  if (argv.includes("-h") || argv.includes("--help")) {
    return { kind: "help", options: { models: [], input: "", out: "" }, json: false, quiet: false };
  }
  if (argv.includes("--version")) {
    return {
      kind: "version",
      options: { models: [], input: "", out: "" },
      json: false,
      quiet: false,
    };
  }
  const models: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const key = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (BOOLEAN_FLAGS.has(key) && eq < 0) {
      flags.add(key);
      continue;
    }
    if (!VALUE_FLAGS.has(key)) throw new UsageError(`unknown option ${arg}`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") throw new UsageError(`--${key} needs a value`);
    if (key === "model") models.push(value);
    else if (values.has(key)) throw new UsageError(`--${key} given twice`);
    else values.set(key, value);
  }
  const input = values.get("input");
  const out = values.get("out");
  if (models.length === 0) throw new UsageError("--model is required");
  if (input === undefined) throw new UsageError("--input is required");
  if (out === undefined) throw new UsageError("--out is required");
  const options: InferenceOptions = { models, input, out };
  const engine = values.get("engine");
  if (engine !== undefined) {
    if (engine !== "onnx" && engine !== "tfjs" && engine !== "auto") {
      throw new UsageError(`--engine must be onnx or tfjs, got ${engine}`);
    }
    options.engine = engine;
  }
  const backend = values.get("backend");
  if (backend !== undefined) {
    const known = new Set<string>([...TFJS_BACKENDS, ...ONNX_BACKENDS]);
    if (!known.has(backend)) {
      throw new UsageError(`unknown --backend ${backend} (use ${[...known].join(", ")})`);
    }
    options.backend = backend;
  }
  const threads = values.get("threads");
  if (threads !== undefined) options.threads = positiveInt("--threads", threads);
  const checkpoint = values.get("checkpoint");
  if (checkpoint !== undefined) {
    if (checkpoint !== "best" && checkpoint !== "last") {
      throw new UsageError(`--checkpoint must be best or last, got ${checkpoint}`);
    }
    options.checkpoint = checkpoint;
  }
  const overlap = values.get("overlap");
  if (overlap !== undefined) {
    const n = Number(overlap);
    if (overlap.trim() === "" || !(n >= 0 && n < 1)) {
      throw new UsageError(`--overlap must be a number in [0, 1), got ${overlap}`);
    }
    options.overlap = n;
  }
  const et = values.get("et-threshold");
  if (et !== undefined) options.etThreshold = positiveInt("--et-threshold", et);
  const minComponent = values.get("min-component");
  if (minComponent !== undefined) {
    options.minComponent = positiveInt("--min-component", minComponent);
  }
  const shard = values.get("shard");
  if (shard !== undefined) {
    try {
      options.shard = parseShard(shard);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (flags.has("tta")) options.tta = true;
  if (flags.has("overlays")) options.overlays = true;
  if (flags.has("overwrite")) options.overwrite = true;
  if (flags.has("no-report")) options.report = false;
  return { kind: "run", options, json: flags.has("json"), quiet: flags.has("quiet") };
}

function readVersion(): string {
  // ../package.json from both src/cli.ts and dist/cli.js.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function fixed(v: number | null | undefined, digits: number): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "-";
}

function summaryText(s: InferenceSummary): string {
  const lines = [
    `${s.counts.cases} case(s): ${s.counts.done} done, ${s.counts.skipped} skipped (already done), ${s.counts.failed} failed`,
    `segmentations: ${s.out}`,
  ];
  if (s.metrics !== null) {
    lines.push(
      `metrics over ${s.metrics.cases} case(s) of OUT: ${s.metrics.json}, ${s.metrics.csv}`,
    );
  }
  if (s.report !== null) lines.push(`report: ${s.report}`);
  for (const c of s.cases.filter((c) => c.status === "failed")) {
    lines.push(`failed: ${c.id}: ${c.error?.code}: ${c.error?.message}`);
  }
  return lines.join("\n") + "\n";
}

/** Runs the CLI on `argv` (without node and script path); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`brats-infer: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (parsed.kind === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (parsed.kind === "version") {
    io.stdout(`${readVersion()}\n`);
    return 0;
  }
  const { options, json, quiet } = parsed;
  const showBar = io.stderrIsTTY === true && !quiet && !json;
  const bar = new ProgressBar(io.stderr);
  const state: ProgressState = {
    casesDone: 0,
    cases: 0,
    windowsDone: 0,
    windows: 0,
    elapsed: 0,
    id: "",
  };
  let firstCaseStart = 0;
  const log = (text: string) => {
    if (showBar) bar.clear();
    io.stderr(text);
  };

  let summary: InferenceSummary;
  try {
    summary = await runInference(options, {
      log: (line) => log(`brats-infer: ${line}\n`),
      onEvent: (e) => {
        if (e.type === "start") {
          const models = e.models
            .map((m) => (m.checkpoint === null ? m.path : `${m.path} (${m.checkpoint})`))
            .join(", ");
          log(
            `brats-infer: engine ${e.engine}, backend ${e.backend}; ${e.models.length === 1 ? "model" : `ensemble of ${e.models.length}`}: ${models}\n` +
              `brats-infer: ${e.cases} case(s), ${e.skipped} already done\n` +
              e.notes.map((n) => `brats-infer: note: ${n}\n`).join(""),
          );
          state.cases = e.cases - e.skipped;
          firstCaseStart = performance.now();
        } else if (e.type === "case-start") {
          Object.assign(state, { id: e.id, windowsDone: 0, windows: 0 });
          if (showBar)
            bar.update({ ...state, elapsed: (performance.now() - firstCaseStart) / 1000 }, true);
        } else if (e.type === "windows") {
          Object.assign(state, { windowsDone: e.done, windows: e.total });
          if (showBar)
            bar.update({ ...state, elapsed: (performance.now() - firstCaseStart) / 1000 });
        } else {
          state.casesDone = e.index + 1;
          const r = e.result;
          if (r.status === "failed") {
            log(`brats-infer: error: ${r.id}: ${r.error?.code}: ${r.error?.message}\n`);
          } else if (!quiet) {
            const dice =
              r.dice === null
                ? ""
                : `; Dice WT ${fixed(r.dice.WT, 3)} TC ${fixed(r.dice.TC, 3)} ET ${fixed(r.dice.ET, 3)}`;
            log(`brats-infer: ${r.id} done in ${fixed(r.seconds, 1)} s${dice}\n`);
          }
        }
      },
    });
  } catch (err) {
    if (showBar) bar.clear();
    if (err instanceof InferError) {
      io.stderr(`brats-infer: ${err.code}: ${err.message}\n`);
      return USAGE_CODES.includes(err.code) ? 2 : 1;
    }
    io.stderr(`brats-infer: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
  if (showBar) bar.clear();
  if (json) io.stdout(JSON.stringify(summary) + "\n");
  else io.stdout(summaryText(summary));
  return summary.counts.failed > 0 ? 1 : 0;
}

function defaultIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY,
  };
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
