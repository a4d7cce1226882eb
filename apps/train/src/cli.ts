#!/usr/bin/env node
// brats-train: train the @brats 3D U-Net on a folder of BraTS cases.
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LABEL_CONVENTIONS, type LabelConvention } from "@brats/conventions";
import { MODALITIES, type Modality } from "@brats/data";
import { DEFAULT_CONFIG, type SplitSpec, type TrainConfig } from "@brats/runs";
import type { BackendPreference, TrainEvent } from "@brats/unet3d";
import { runTraining, type RunSummary } from "./run.js";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stderrIsTTY?: boolean;
}

export const USAGE = `Usage: brats-train --data DIR --out RUN_DIR [options]

Train the @brats 3D U-Net (spatial attention, Dice + CE loss, Adam) on BraTS case folders.

  --data DIR              folder of BraTS cases (2017–2021 or 2023 names, case folders or flat)
  --out RUN_DIR           run folder: config.json, log.jsonl, metrics.csv, last/, best/, curves.png,
                          model.onnx, MODEL_CARD.md
  --modalities LIST       input channels, default flair,t1,t1ce (of flair, t1, t1ce, t2)
  --labels CONV           label convention: brats2021 (default), brats2023, brats2015
  --patch N               patch edge in voxels, default 64 (also the validation window)
  --epochs N              default 100
  --steps-per-epoch N     default 250
  --batch N               patches per step, default 1
  --base-filters N        default 16;  --depth N  encoder levels, default 4
  --val-split F           share of cases held out for validation, default 0.2
  --val IDS               comma-separated validation case ids instead
  --fold k/n              validate on fold k (0-based) of a seeded n-fold split by case
  --backend NAME          auto (default), tensorflow-gpu, tensorflow, wasm, cpu
  --lr F                  peak learning rate, default 0.001;  --schedule poly|cosine|constant
  --patience N            stop after N validations without a better mean Dice
  --config FILE           JSON with any of these options (camelCase keys); flags override it
  --resume                continue the run in RUN_DIR (its config.json is used)
  --seed N                default 1;  --workers N  loader threads, default 1
  --json                  print a JSON summary on stdout
  -h, --help              show this help

The backend is printed first; a progress bar (epoch, step, loss, speed, ETA) goes to stderr.
Ctrl-C finishes the current step, saves last/ and exits (status 130); --resume continues.
Exit status: 0 done, 1 failure, 2 usage error, 130 interrupted.
`;

class UsageError extends Error {}

const BACKENDS = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"];

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${name} must be a positive integer, got ${v}`);
  return n;
}

function positiveNumber(name: string, v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0))
    throw new UsageError(`${name} must be a positive number, got ${v}`);
  return n;
}

function parseFold(v: string): SplitSpec {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (m === null) throw new UsageError(`--fold must be k/n, e.g. 0/5, got ${v}`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 2 || k >= n) throw new UsageError(`--fold k/n needs n ≥ 2 and k < n, got ${v}`);
  return { kind: "fold", k, n };
}

function parseModalities(v: string): Modality[] {
  const list = v.split(",").map((s) => s.trim());
  for (const m of list) {
    if (!(MODALITIES as readonly string[]).includes(m)) {
      throw new UsageError(`unknown modality ${m} (use ${MODALITIES.join(", ")})`);
    }
  }
  if (list.length === 0 || new Set(list).size !== list.length)
    throw new UsageError(`--modalities must list distinct modalities`);
  return list as Modality[];
}

interface Parsed {
  help: boolean;
  json: boolean;
  resume: boolean;
  config: Partial<TrainConfig>;
  configFile: string | undefined;
}

/** Option values as typed config fields; shared by flags and --config files. */
function applyOption(config: Partial<TrainConfig>, key: string, v: string): void {
  switch (key) {
    case "data":
    case "out":
      config[key] = v;
      break;
    case "modalities":
      config.modalities = parseModalities(v);
      break;
    case "labels":
      if (!(LABEL_CONVENTIONS as readonly string[]).includes(v))
        throw new UsageError(`unknown --labels ${v}`);
      config.labels = v as LabelConvention;
      break;
    default:
      break;
  }
  const ints: Record<string, keyof TrainConfig> = {
    patch: "patch",
    epochs: "epochs",
    "steps-per-epoch": "stepsPerEpoch",
    batch: "batch",
    "base-filters": "baseFilters",
    depth: "depth",
    patience: "patience",
    "val-every": "valEvery",
  };
  const intKey = ints[key];
  if (intKey !== undefined)
    (config as Record<string, unknown>)[intKey] = positiveInt(`--${key}`, v);
  switch (key) {
    case "val-split": {
      const share = Number(v);
      if (!(share >= 0 && share < 1))
        throw new UsageError(`--val-split must be in [0, 1), got ${v}`);
      config.split = { kind: "share", share };
      break;
    }
    case "val":
      config.split = {
        kind: "ids",
        ids: v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      };
      break;
    case "fold":
      config.split = parseFold(v);
      break;
    case "backend":
      if (!BACKENDS.includes(v))
        throw new UsageError(`unknown --backend ${v} (use ${BACKENDS.join(", ")})`);
      config.backend = v as BackendPreference;
      break;
    case "seed": {
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new UsageError(`--seed must be an integer, got ${v}`);
      config.seed = n;
      break;
    }
    case "workers": {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--workers must be ≥ 0, got ${v}`);
      config.workers = n;
      break;
    }
    case "lr":
      config.learningRate = positiveNumber("--lr", v);
      break;
    case "schedule":
      if (v !== "poly" && v !== "cosine" && v !== "constant")
        throw new UsageError(`unknown --schedule ${v}`);
      config.schedule = v;
      break;
    case "val-overlap": {
      const n = Number(v);
      if (!(n >= 0 && n < 1)) throw new UsageError(`--val-overlap must be in [0, 1), got ${v}`);
      config.valOverlap = n;
      break;
    }
    default:
      break;
  }
}

const VALUE_FLAGS = new Set([
  "data",
  "out",
  "modalities",
  "labels",
  "patch",
  "epochs",
  "steps-per-epoch",
  "batch",
  "base-filters",
  "depth",
  "val-split",
  "val",
  "fold",
  "backend",
  "config",
  "seed",
  "workers",
  "lr",
  "schedule",
  "patience",
  "val-every",
  "val-overlap",
]);

function parseArgs(argv: readonly string[]): Parsed {
  const parsed: Parsed = {
    help: false,
    json: false,
    resume: false,
    config: {},
    configFile: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") parsed.help = true;
    else if (arg === "--json") parsed.json = true;
    else if (arg === "--resume") parsed.resume = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const key = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (!VALUE_FLAGS.has(key)) throw new UsageError(`unknown option ${arg}`);
      const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      if (key === "config") parsed.configFile = value;
      else applyOption(parsed.config, key, value);
    } else {
      throw new UsageError(`unexpected argument ${arg}`);
    }
  }
  return parsed;
}

/** A --config file: the flags' names in camelCase (or as flags), values as JSON numbers/strings/arrays. */
function readConfigFile(path: string): Partial<TrainConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`cannot read --config ${path}: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new UsageError(`--config ${path} must hold a JSON object`);
  const out: Partial<TrainConfig> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const flag = k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const key = flag === "learning-rate" ? "lr" : flag;
    if (key === "normalization") {
      if (v !== "batch" && v !== "instance" && v !== "group")
        throw new UsageError(`bad normalization ${String(v)}`);
      out.normalization = v;
    } else if (key === "dropout") {
      if (typeof v !== "number" || !(v >= 0 && v < 1))
        throw new UsageError(`dropout must be in [0, 1)`);
      out.dropout = v;
    } else if (key === "attention" || key === "augment") {
      if (typeof v !== "boolean") throw new UsageError(`${k} must be true or false`);
      out[key] = v;
    } else if (key === "foreground-share") {
      if (typeof v !== "number" || !(v >= 0 && v <= 1))
        throw new UsageError(`foregroundShare must be in [0, 1]`);
      out.foregroundShare = v;
    } else if (VALUE_FLAGS.has(key) && key !== "config") {
      applyOption(out, key, Array.isArray(v) ? v.join(",") : String(v));
    } else {
      throw new UsageError(`unknown key ${k} in --config ${path}`);
    }
  }
  return out;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
}

/** The progress line: epoch, step, bar, loss, speed, ETA (from the mean of recent step times). */
export function progressLine(
  e: Extract<TrainEvent, { type: "step" }>,
  epochs: number,
  recentSeconds: number[],
): string {
  const width = 20;
  const filled = Math.round((e.stepInEpoch / e.stepsPerEpoch) * width);
  const mean = recentSeconds.reduce((a, b) => a + b, 0) / Math.max(1, recentSeconds.length);
  const speed = mean > 0 ? 1 / mean : 0;
  const eta = (e.totalSteps - e.step) * mean;
  return (
    `epoch ${e.epoch}/${epochs} step ${e.stepInEpoch}/${e.stepsPerEpoch} ` +
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] loss ${e.loss.toFixed(4)} ` +
    `${speed.toFixed(2)} step/s ETA ${formatDuration(eta)}`
  );
}

export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  let parsed: Parsed;
  let config: TrainConfig;
  try {
    parsed = parseArgs(argv);
    if (parsed.help) {
      io.stdout(USAGE);
      return 0;
    }
    const fromFile = parsed.configFile === undefined ? {} : readConfigFile(parsed.configFile);
    const merged = { ...DEFAULT_CONFIG, ...fromFile, ...parsed.config };
    if (merged.data === undefined || merged.out === undefined)
      throw new UsageError("--data and --out are required");
    config = merged as TrainConfig;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`brats-train: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }

  const tty = io.stderrIsTTY === true;
  const recent: number[] = [];
  let epochs = config.epochs;
  let summary: RunSummary;
  try {
    summary = await runTraining(config, {
      resume: parsed.resume,
      log: (line) => io.stderr(`brats-train: ${line}\n`),
      onStart: (info) => {
        epochs = info.config.epochs;
        io.stderr(
          `brats-train: backend ${info.backend}; ${info.split.train.length} training, ` +
            `${info.split.val.length} validation case(s)${info.resumed ? "; resuming" : ""}\n`,
        );
      },
      onProgress: (e) => {
        if (e.type === "step") {
          recent.push(e.stepSeconds);
          if (recent.length > 20) recent.shift();
          if (tty) io.stderr(`\r${progressLine(e, epochs, recent)}\x1b[K`);
          else if (e.stepInEpoch === e.stepsPerEpoch)
            io.stderr(progressLine(e, epochs, recent) + "\n");
        } else if (e.type === "epoch") {
          const val =
            e.val === null
              ? ""
              : ` val Dice WT ${e.val.WT.toFixed(3)} TC ${e.val.TC.toFixed(3)} ET ${e.val.ET.toFixed(3)}${e.best ? " (best)" : ""}`;
          io.stderr(
            `${tty ? "\r\x1b[K" : ""}epoch ${e.epoch}: loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}${val}\n`,
          );
        }
      },
    });
  } catch (e) {
    io.stderr(`${tty ? "\n" : ""}brats-train: ${(e as Error).message}\n`);
    return 1;
  }
  if (parsed.json) io.stdout(JSON.stringify(summary) + "\n");
  else {
    const v = summary.lastVal;
    io.stdout(
      `${summary.reason} after ${summary.step} steps (epoch ${summary.epoch}) in ${summary.seconds.toFixed(1)} s on ${summary.backend}\n` +
        (v === null
          ? ""
          : `validation Dice WT ${v.WT.toFixed(4)} TC ${v.TC.toFixed(4)} ET ${v.ET.toFixed(4)}\n`) +
        `run folder: ${summary.runDir}\n` +
        `model: ${summary.onnx}\nmodel card: ${summary.modelCard}\n`,
    );
  }
  return summary.reason === "interrupted" ? 130 : 0;
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
