// brats-train: train the @brats 3D U-Net on a folder of BraTS cases. The option table below is the
// parser and the help (@brats/kit/cli); bin/brats-train.js starts main.
import { readFileSync } from "node:fs";
import { LABEL_CONVENTIONS } from "@brats/conventions";
import { MAX_AUGMENT_STRENGTH, MODALITIES, type Modality } from "@brats/data";
import {
  defineCli,
  EXIT,
  missingOptionError,
  parseChoice,
  parseCli,
  parseDuration,
  parseInteger,
  parseNumber,
  processIo,
  readPackageVersion,
  requireInputPath,
  UsageError,
  type CliIo,
  type OptionValues,
} from "@brats/kit/cli";
import { ProgressBar, type ProgressUpdate } from "@brats/kit/progress";
import { FolderError } from "@brats/kit/fs";
import { DEFAULT_CONFIG, RunsError, type SplitSpec, type TrainConfig } from "@brats/runs";
import type { TrainEvent } from "@brats/unet3d";
import { runTraining, type RunSummary } from "./run.js";

// Re-exported for bin/brats-train.js: the bin must run main with this bundle's own copy of kit,
// whose error classes are the ones main throws.
export { runCliMain } from "@brats/kit/cli";
export type { CliIo } from "@brats/kit/cli";

const BACKENDS = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
const SCHEDULES = ["poly", "cosine", "constant"] as const;
const d = DEFAULT_CONFIG;

export const CLI = defineCli({
  name: "brats-train",
  version: readPackageVersion(new URL("../package.json", import.meta.url)),
  usage: "brats-train --data DIR --out RUN_DIR [options]",
  summary:
    "Train the @brats 3D U-Net (spatial attention, Dice + CE loss, Adam) on BraTS case folders.",
  options: {
    data: {
      type: "string",
      placeholder: "DIR",
      description:
        "folder of BraTS cases (2017–2021 or 2023 names, case folders or flat); required (here or in --config)",
    },
    out: {
      type: "string",
      placeholder: "RUN_DIR",
      description:
        "run folder: config.json, log.jsonl, metrics.csv, last/, best/, curves.png, model.onnx, MODEL_CARD.md; required (here or in --config)",
    },
    modalities: {
      type: "string",
      placeholder: "LIST",
      description: `input channels, comma-separated, of ${MODALITIES.join(", ")}`,
      defaultText: d.modalities.join(","),
    },
    labels: {
      type: "string",
      placeholder: "CONV",
      description: `label convention: ${LABEL_CONVENTIONS.join(", ")}`,
      defaultText: d.labels,
    },
    patch: {
      type: "string",
      placeholder: "N",
      description: "patch edge in voxels (also the validation window)",
      defaultText: String(d.patch),
    },
    epochs: {
      type: "string",
      placeholder: "N",
      description: "epochs to train",
      defaultText: String(d.epochs),
    },
    "steps-per-epoch": {
      type: "string",
      placeholder: "N",
      description: "training steps per epoch",
      defaultText: String(d.stepsPerEpoch),
    },
    batch: {
      type: "string",
      placeholder: "N",
      description: "patches per step",
      defaultText: String(d.batch),
    },
    "base-filters": {
      type: "string",
      placeholder: "N",
      description: "filters of the first encoder level",
      defaultText: String(d.baseFilters),
    },
    depth: {
      type: "string",
      placeholder: "N",
      description: "encoder levels",
      defaultText: String(d.depth),
    },
    "val-split": {
      type: "string",
      placeholder: "F",
      description: "share of cases held out for validation, in [0, 1)",
      defaultText: d.split.kind === "share" ? String(d.split.share) : "none",
    },
    val: {
      type: "string",
      placeholder: "IDS",
      description: "comma-separated validation case ids, instead of --val-split",
    },
    fold: {
      type: "string",
      placeholder: "k/n",
      description: "validate on fold k (0-based) of a seeded n-fold split by case",
    },
    "val-every": {
      type: "string",
      placeholder: "K|end",
      description:
        "validate every K epochs, or only at the end of the run (end; the default under --time-limit)",
      defaultText: String(d.valEvery),
    },
    augment: {
      type: "string",
      placeholder: "S",
      description:
        "augmentation strength in [0, 2]: 0 off, 1 flips, intensity and gamma (@brats/data's defaults), above 1 stronger with rotations and scaling (2: nnU-Net's p = 0.2)",
      defaultText: String(d.augmentStrength),
    },
    "time-limit": {
      type: "string",
      placeholder: "DURATION",
      description:
        "train for at most this long, validation included (90s, 30m, 2h, 1h30m; a bare number is minutes); the schedule follows the time, --epochs stays a cap",
      defaultText: "none",
    },
    "val-overlap": {
      type: "string",
      placeholder: "F",
      description:
        "overlap of the validation sliding windows, in [0, 1) (also the model's default for inference)",
      defaultText: String(d.valOverlap),
    },
    backend: {
      type: "string",
      placeholder: "NAME",
      description: `TF.js backend: ${BACKENDS.join(", ")}; on wasm the native oneDNN kernels (@brats/tfjs-onednn) run where they load (BRATS_ONEDNN=0 turns them off)`,
      defaultText: d.backend,
    },
    lr: {
      type: "string",
      placeholder: "F",
      description: "peak learning rate",
      defaultText: String(d.learningRate),
    },
    schedule: {
      type: "string",
      placeholder: "NAME",
      description: `learning-rate schedule: ${SCHEDULES.join(", ")}`,
      defaultText: d.schedule,
    },
    patience: {
      type: "string",
      placeholder: "N",
      description: "stop after N validations without a better mean Dice",
      defaultText: "never stop early",
    },
    seed: {
      type: "string",
      placeholder: "N",
      description: "random seed",
      defaultText: String(d.seed),
    },
    workers: {
      type: "string",
      placeholder: "N",
      description: "loader threads (0: in the main thread)",
      defaultText: String(d.workers),
    },
    config: {
      type: "string",
      placeholder: "FILE",
      description:
        "JSON with any of these options (camelCase keys, e.g. stepsPerEpoch; also normalization, outputs (classes or regions), dropout, attention, augment (true, false or a strength), foregroundShare); flags override it",
    },
    resume: {
      type: "boolean",
      description: "continue the run in RUN_DIR (its config.json is used)",
    },
    overwrite: {
      type: "boolean",
      description:
        "replace the run already in RUN_DIR (its files are removed first, and listed); without it or --resume, an existing run is refused",
    },
    json: { type: "boolean", description: "print a JSON summary on stdout" },
  },
  epilogue: `The backend is printed first; a progress bar (epoch, step, loss, speed, ETA) goes to stderr.
Ctrl-C finishes the current step, saves last/ and exits (status 130); --resume continues.
--time-limit ends the run as a normal finish (status 0) once one more step and the final
validation would not fit; a resumed run keeps counting the time it had already spent.
A new run never replaces an old one: --out holding a run is refused (status 2) unless --resume or
--overwrite; leftover temp folders of killed sessions are removed at the start.
Exit status: 0 done, 1 failure, 2 usage error (also a missing --data, --config or --resume
run folder, a run already in --out, or an --out that cannot be a writable folder), 130 interrupted.`,
});

type Values = OptionValues<typeof CLI.options>;
/** The options that set a TrainConfig field: every string option but --config. */
type ConfigOption = Exclude<
  { [K in keyof Values]: Values[K] extends boolean ? never : K }[keyof Values],
  "config"
>;
const CONFIG_OPTIONS = new Set<string>(
  Object.entries(CLI.options)
    .filter(([name, o]) => o.type === "string" && name !== "config")
    .map(([name]) => name),
);

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

const INTEGER_FIELDS = {
  patch: "patch",
  epochs: "epochs",
  "steps-per-epoch": "stepsPerEpoch",
  batch: "batch",
  "base-filters": "baseFilters",
  depth: "depth",
  patience: "patience",
} as const satisfies Partial<Record<ConfigOption, keyof TrainConfig>>;

/** One option's value as typed config fields; shared by flags and --config files. */
function applyOption(config: Partial<TrainConfig>, key: ConfigOption, v: string): void {
  const flag = `--${key}`;
  if (key in INTEGER_FIELDS) {
    const field = INTEGER_FIELDS[key as keyof typeof INTEGER_FIELDS];
    config[field] = parseInteger(flag, v, { min: 1 });
    return;
  }
  switch (key) {
    case "data":
    case "out":
      config[key] = v;
      break;
    case "modalities":
      config.modalities = parseModalities(v);
      break;
    case "labels":
      config.labels = parseChoice(flag, v, LABEL_CONVENTIONS);
      break;
    case "val-split":
      config.split = { kind: "share", share: parseNumber(flag, v, { min: 0, below: 1 }) };
      break;
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
      config.backend = parseChoice(flag, v, BACKENDS);
      break;
    case "seed":
      config.seed = parseInteger(flag, v);
      break;
    case "workers":
      config.workers = parseInteger(flag, v, { min: 0 });
      break;
    case "lr":
      config.learningRate = parseNumber(flag, v, { above: 0 });
      break;
    case "schedule":
      config.schedule = parseChoice(flag, v, SCHEDULES);
      break;
    case "val-every":
      config.valEvery = v.trim() === "end" ? null : parseInteger(flag, v, { min: 1 });
      break;
    case "augment": {
      const strength = parseNumber(flag, v, { min: 0, max: MAX_AUGMENT_STRENGTH });
      config.augmentStrength = strength;
      config.augment = strength > 0;
      break;
    }
    case "time-limit":
      config.timeLimit = parseDuration(flag, v);
      break;
    case "val-overlap":
      config.valOverlap = parseNumber(flag, v, { min: 0, below: 1 });
      break;
    default:
      break;
  }
}

/** A --config file: the flags' names in camelCase (or as flags), values as JSON numbers/strings/arrays. */
function readConfigFile(path: string): Partial<TrainConfig> {
  requireInputPath(path, "--config", "file");
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
    const key = flag === "learning-rate" ? "lr" : flag === "augment-strength" ? "augment" : flag;
    if (key === "normalization") {
      if (v !== "batch" && v !== "instance" && v !== "group")
        throw new UsageError(`bad normalization ${String(v)}`);
      out.normalization = v;
    } else if (key === "outputs") {
      if (v !== "classes" && v !== "regions")
        throw new UsageError(`outputs must be classes or regions`);
      out.outputs = v;
    } else if (key === "dropout") {
      if (typeof v !== "number" || !(v >= 0 && v < 1))
        throw new UsageError(`dropout must be in [0, 1)`);
      out.dropout = v;
    } else if (key === "augment" && typeof v === "number") {
      applyOption(out, "augment", String(v));
    } else if (key === "attention" || key === "augment") {
      if (typeof v !== "boolean") throw new UsageError(`${k} must be true or false`);
      out[key] = v;
    } else if (key === "foreground-share") {
      if (typeof v !== "number" || !(v >= 0 && v <= 1))
        throw new UsageError(`foregroundShare must be in [0, 1]`);
      out.foregroundShare = v;
    } else if (CONFIG_OPTIONS.has(key)) {
      applyOption(out, key as ConfigOption, Array.isArray(v) ? v.join(",") : String(v));
    } else {
      throw new UsageError(`unknown key ${k} in --config ${path}`);
    }
  }
  return out;
}

/**
 * The config a call asks for: defaults, then the --config file, then the flags, applied in the
 * order given (so the last of --val-split, --val and --fold picks the split, as it always has).
 */
function configOf(values: Values, argv: readonly string[]): TrainConfig {
  const position = (name: string) =>
    argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const given = [...CONFIG_OPTIONS]
    .filter((name) => values[name as ConfigOption] !== undefined)
    .sort((a, b) => position(a) - position(b));
  const fromFlags: Partial<TrainConfig> = {};
  for (const name of given)
    applyOption(fromFlags, name as ConfigOption, values[name as ConfigOption]!);
  const fromFile = values.config === undefined ? {} : readConfigFile(values.config);
  const merged = { ...DEFAULT_CONFIG, ...fromFile, ...fromFlags };
  // Under a time limit, validating only at the end leaves the budget to training.
  const timeLimited = merged.timeLimit !== undefined && merged.timeLimit !== null;
  if (timeLimited && !("valEvery" in fromFile) && !("valEvery" in fromFlags))
    merged.valEvery = null;
  const missing = (["data", "out"] as const).filter((k) => merged[k] === undefined);
  if (missing.length > 0) throw missingOptionError(...missing);
  return merged as TrainConfig;
}

/**
 * The bar for a step: the run's share done, epoch, step, loss, speed; ETA from recent step times.
 * Under a time limit (seconds) the share and ETA are of the steps or the time, whichever ends first.
 */
export function trainingProgress(
  e: Extract<TrainEvent, { type: "step" }>,
  epochs: number,
  recentSeconds: readonly number[],
  timeLimit: number | null = null,
): ProgressUpdate {
  const mean = recentSeconds.reduce((a, b) => a + b, 0) / Math.max(1, recentSeconds.length);
  const speed = mean > 0 ? 1 / mean : 0;
  const bySteps = e.totalSteps > 0 ? e.step / e.totalSteps : 0;
  const stepsEta = (e.totalSteps - e.step) * mean;
  return {
    fraction: timeLimit === null ? bySteps : Math.min(1, Math.max(bySteps, e.time / timeLimit)),
    text:
      `epoch ${e.epoch}/${epochs} step ${e.stepInEpoch}/${e.stepsPerEpoch} ` +
      `loss ${e.loss.toFixed(4)} ${speed.toFixed(2)} step/s`,
    eta: timeLimit === null ? stepsEta : Math.max(0, Math.min(stepsEta, timeLimit - e.time)),
  };
}

function summaryText(summary: RunSummary): string {
  const v = summary.lastVal;
  return (
    `${summary.reason} after ${summary.step} steps (epoch ${summary.epoch}) in ${summary.seconds.toFixed(1)} s on ${summary.backend}` +
    (summary.validationSeconds > 0
      ? ` (validation ${summary.validationSeconds.toFixed(1)} s of it)\n`
      : "\n") +
    (v === null
      ? ""
      : `validation Dice WT ${v.WT.toFixed(4)} TC ${v.TC.toFixed(4)} ET ${v.ET.toFixed(4)}\n`) +
    `run folder: ${summary.runDir}\n` +
    `model: ${summary.onnx}\nmodel card: ${summary.modelCard}\n`
  );
}

function isOutRefusal(e: unknown): boolean {
  return (e instanceof RunsError && e.code === "RUN_EXISTS") || e instanceof FolderError;
}

/**
 * Runs brats-train on `argv` (without node and the script); resolves to the exit status. Usage
 * errors and missing input paths are thrown (runCliMain prints them, status 2).
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const parsed = parseCli(CLI, argv);
  if (parsed.kind !== "run") {
    io.stdout(parsed.text);
    return EXIT.ok;
  }
  const { values } = parsed;
  const config = configOf(values, argv);
  requireInputPath(config.data, "--data", "directory");
  // The run to continue is an input too.
  if (values.resume) requireInputPath(config.out, "--out", "directory");
  if (values.resume && values.overwrite) {
    throw new UsageError("--resume continues the run in --out, --overwrite replaces it: pick one");
  }

  const bar = new ProgressBar({ write: io.stderr, tty: io.stderrIsTTY === true });
  const recent: number[] = [];
  let epochs = config.epochs;
  let timeLimit = config.timeLimit ?? null;
  let summary: RunSummary;
  try {
    summary = await runTraining(config, {
      resume: values.resume,
      overwrite: values.overwrite,
      log: (line) => bar.log(`brats-train: ${line}\n`),
      onStart: (info) => {
        epochs = info.config.epochs;
        timeLimit = info.config.timeLimit ?? null;
        bar.log(
          `brats-train: backend ${info.backend}; ${info.split.train.length} training, ` +
            `${info.split.val.length} validation case(s)${info.resumed ? "; resuming" : ""}\n`,
        );
      },
      onProgress: (e) => {
        if (e.type === "step") {
          recent.push(e.stepSeconds);
          if (recent.length > 20) recent.shift();
          // The end of an epoch always shows, also in logs.
          bar.update(
            trainingProgress(e, epochs, recent, timeLimit),
            e.stepInEpoch === e.stepsPerEpoch,
          );
        } else if (e.type === "epoch") {
          const val =
            e.val === null
              ? ""
              : ` val Dice WT ${e.val.WT.toFixed(3)} TC ${e.val.TC.toFixed(3)} ET ${e.val.ET.toFixed(3)}${e.best ? " (best)" : ""}` +
                (e.valSeconds === undefined ? "" : ` in ${e.valSeconds.toFixed(1)} s`);
          bar.log(
            `epoch ${e.epoch}: loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}${val}\n`,
          );
        }
      },
    });
  } catch (e) {
    bar.clear();
    io.stderr(`brats-train: ${(e as Error).message}\n`);
    // Refusals about --out are about how the tool was called: status 2, nothing was touched.
    return isOutRefusal(e) ? EXIT.usage : EXIT.failure;
  }
  bar.clear();
  io.stdout(values.json ? JSON.stringify(summary) + "\n" : summaryText(summary));
  return summary.reason === "interrupted" ? EXIT.interrupted : EXIT.ok;
}
