// What a trained run is, for inference: the BratsModelMetadata (@brats/unet3d) of a run folder's
// checkpoint, from its config.json, the checkpoint's model.json and train-state.json.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import {
  MODEL_JSON,
  TRAIN_STATE_JSON,
  resolveUNet3DConfig,
  type BratsModelMetadata,
  type BratsModelPreprocessing,
  type EpochRecord,
  type ResolvedUNet3DConfig,
  type TrainState,
  type UNet3DConfig,
} from "@brats/unet3d";
import { TrainAppError } from "./errors.js";
import { CONFIG_JSON, MODEL_CARD_MD } from "./files.js";
import type { RunRecord, TrainConfig } from "./run.js";

export type CheckpointName = "best" | "last";

/**
 * The preprocessing of every case brats-train reads: prepareCase (@brats/data) with its defaults,
 * i.e. preprocessCase's: closest canonical (RAS) orientation, 1 mm spacing, cropped to the nonzero
 * box of the modalities with no margin, per-channel z-score over nonzero voxels.
 */
export const TRAIN_PREPROCESSING: BratsModelPreprocessing = {
  canonical: true,
  spacing: [1, 1, 1],
  crop: true,
  margin: 0,
  normalization: "zscore-nonzero",
};

/** The createUNet3D options of a run's config (spatial dims free, so any window size runs). */
export function unetOptions(config: TrainConfig): UNet3DConfig {
  return {
    inputShape: [null, null, null, config.modalities.length],
    modalities: config.modalities,
    depth: config.depth,
    baseFilters: config.baseFilters,
    normalization: config.normalization,
    dropout: config.dropout,
    attention: config.attention,
    seed: config.seed,
  };
}

/** config.json of a run folder; NOT_A_RUN when it is missing or not a run record. */
export async function readRunRecord(runDir: string): Promise<RunRecord> {
  const path = join(runDir, CONFIG_JSON);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new TrainAppError(
      "NOT_A_RUN",
      `${runDir} is not a brats-train run: cannot read ${path}`,
      {
        cause,
      },
    );
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
  if (!ok) throw new TrainAppError("NOT_A_RUN", `${path} is not a brats-train run record`);
  return r as RunRecord;
}

/**
 * The checkpoint folder of a run: the one asked for, else best/ when there is one (runs without
 * validation have none), else last/. NO_CHECKPOINT when it is missing.
 */
export function checkpointOf(
  runDir: string,
  wanted?: CheckpointName,
): { name: CheckpointName; dir: string } {
  const has = (name: CheckpointName) => existsSync(join(runDir, name, MODEL_JSON));
  const names: CheckpointName[] = wanted === undefined ? ["best", "last"] : [wanted];
  for (const name of names) if (has(name)) return { name, dir: join(runDir, name) };
  throw new TrainAppError(
    "NO_CHECKPOINT",
    `${runDir} has no ${names.map((n) => `${n}/`).join(" or ")} checkpoint`,
  );
}

/** train-state.json of a checkpoint folder. */
export async function readTrainState(dir: string): Promise<TrainState> {
  try {
    return JSON.parse(await readFile(join(dir, TRAIN_STATE_JSON), "utf8")) as TrainState;
  } catch (cause) {
    throw new TrainAppError("BAD_RUN", `cannot read ${join(dir, TRAIN_STATE_JSON)}`, { cause });
  }
}

/** The network's resolved config, as the checkpoint stored it (model.json user metadata). */
async function checkpointUnet(dir: string, config: TrainConfig): Promise<ResolvedUNet3DConfig> {
  let json: { userDefinedMetadata?: { unet3d?: ResolvedUNet3DConfig } };
  try {
    json = JSON.parse(await readFile(join(dir, MODEL_JSON), "utf8")) as typeof json;
  } catch (cause) {
    throw new TrainAppError("BAD_RUN", `cannot read ${join(dir, MODEL_JSON)}`, { cause });
  }
  const stored = json.userDefinedMetadata?.unet3d;
  // Models saved without the metadata: the config.json options resolve to the same network.
  const unet = stored ?? resolveUNet3DConfig(unetOptions(config));
  if (unet.modalities.join(",") !== config.modalities.join(",")) {
    throw new TrainAppError(
      "BAD_RUN",
      `${dir} was trained on ${unet.modalities.join(", ")} but config.json says ${config.modalities.join(", ")}`,
    );
  }
  return unet;
}

/** The validation scores of an epoch record, with their mean, or null. */
function scores(e: EpochRecord | undefined) {
  if (e?.val === null || e?.val === undefined) return null;
  const { WT, TC, ET } = e.val;
  return { epoch: e.epoch, WT, TC, ET, mean: (WT + TC + ET) / 3 };
}

/** Validation Dice of the best and of the last validated epoch of a history. */
export function validationSummary(history: readonly EpochRecord[], bestEpoch: number | null) {
  const validated = history.filter((h) => h.val !== null && h.val !== undefined);
  return {
    best: scores(history.find((h) => h.epoch === bestEpoch)),
    last: scores(validated[validated.length - 1]),
  };
}

/**
 * The BratsModelMetadata of a run folder's checkpoint (default best/ if present, else last/):
 * modalities, label convention, the 4-class softmax head, the training preprocessing
 * (TRAIN_PREPROCESSING), the training patch as window size, the validation overlap, the network's
 * resolved config and the training provenance (`training`: run folder, model card, cases,
 * checkpoint epoch and step, validation Dice, configuration). Throws TrainAppError: NOT_A_RUN,
 * NO_CHECKPOINT, BAD_RUN.
 */
export async function runMetadata(
  runDir: string,
  opts: { checkpoint?: CheckpointName } = {},
): Promise<BratsModelMetadata> {
  const record = await readRunRecord(runDir);
  const { config } = record;
  const checkpoint = checkpointOf(runDir, opts.checkpoint);
  const unet = await checkpointUnet(checkpoint.dir, config);
  const state = await readTrainState(checkpoint.dir);
  const completed = state.history.length === 0 ? 0 : state.history[state.history.length - 1]!.epoch;
  const { out: _out, ...settings } = config;
  return {
    format: "brats-unet3d",
    version: 1,
    modalities: [...config.modalities],
    labelConvention: config.labels,
    outputs: unet.outputs,
    numClasses: unet.numClasses,
    preprocessing: {
      ...TRAIN_PREPROCESSING,
      spacing: [...(TRAIN_PREPROCESSING.spacing ?? [1, 1, 1])] as [number, number, number],
    },
    windowSize: [config.patch, config.patch, config.patch],
    overlap: config.valOverlap,
    unet,
    training: {
      tool: "brats-train",
      run: basename(resolve(runDir)),
      runDir: resolve(runDir),
      modelCard: MODEL_CARD_MD,
      checkpoint: checkpoint.name,
      started: record.started,
      backend: record.backend,
      trainCases: [...record.split.train],
      valCases: [...record.split.val],
      epochs: completed,
      steps: state.step,
      seconds: state.elapsed,
      finished: state.finished,
      validation: validationSummary(state.history, state.bestEpoch),
      config: settings,
    },
  };
}
