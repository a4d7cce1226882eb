// What a trained run is, for inference: the BratsModelMetadata (@brats/unet3d) of a run folder's
// checkpoint, from its config.json, the checkpoint's model.json and train-state.json.
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { EpochRecord } from "@brats/conventions";
import {
  MODEL_JSON,
  resolveUNet3DConfig,
  type BratsModelMetadata,
  type ResolvedUNet3DConfig,
} from "@brats/unet3d";
import { TRAIN_PREPROCESSING, unetOptions, type TrainConfig } from "./config.js";
import { RunsError } from "./errors.js";
import { MODEL_CARD_MD, type CheckpointName } from "./files.js";
import { checkpointOf, readRunRecord, readTrainState, type Checkpoint } from "./record.js";

/** Validation Dice of one epoch, with their mean. */
export interface ValidationScores {
  epoch: number;
  WT: number;
  TC: number;
  ET: number;
  mean: number;
}

/** Validation Dice of the best epoch and of the last validated one (null: none). */
export interface ValidationSummary {
  best: ValidationScores | null;
  last: ValidationScores | null;
}

/** The network's resolved config, as the checkpoint stored it (model.json user metadata). */
async function checkpointUnet(dir: string, config: TrainConfig): Promise<ResolvedUNet3DConfig> {
  let json: { userDefinedMetadata?: { unet3d?: ResolvedUNet3DConfig } };
  try {
    json = JSON.parse(await readFile(join(dir, MODEL_JSON), "utf8")) as typeof json;
  } catch (cause) {
    throw new RunsError("BAD_RUN", `cannot read ${join(dir, MODEL_JSON)}`, { cause });
  }
  const stored = json.userDefinedMetadata?.unet3d;
  // Models saved without the metadata: the config.json options resolve to the same network.
  const unet = stored ?? resolveUNet3DConfig(unetOptions(config));
  if (unet.modalities.join(",") !== config.modalities.join(",")) {
    throw new RunsError(
      "BAD_RUN",
      `${dir} was trained on ${unet.modalities.join(", ")} but config.json says ${config.modalities.join(", ")}`,
    );
  }
  return unet;
}

function scores(e: EpochRecord | undefined): ValidationScores | null {
  if (e?.val === null || e?.val === undefined) return null;
  const { WT, TC, ET } = e.val;
  return { epoch: e.epoch, WT, TC, ET, mean: (WT + TC + ET) / 3 };
}

/** Validation Dice of the best and of the last validated epoch of a history. */
export function validationSummary(
  history: readonly EpochRecord[],
  bestEpoch: number | null,
): ValidationSummary {
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
 * checkpoint epoch and step, validation Dice, configuration). Throws RunsError: NOT_A_RUN,
 * NO_CHECKPOINT, BAD_RUN.
 */
export async function runMetadata(
  runDir: string,
  opts: { checkpoint?: CheckpointName } = {},
): Promise<BratsModelMetadata> {
  return (await checkpointMetadata(runDir, opts)).metadata;
}

/** runMetadata with the checkpoint it describes (the export loads the same one). */
export async function checkpointMetadata(
  runDir: string,
  opts: { checkpoint?: CheckpointName },
): Promise<{ checkpoint: Checkpoint; metadata: BratsModelMetadata }> {
  const record = await readRunRecord(runDir);
  const { config } = record;
  const checkpoint = checkpointOf(runDir, opts.checkpoint);
  const unet = await checkpointUnet(checkpoint.dir, config);
  const state = await readTrainState(checkpoint.dir);
  const completed = state.history.length === 0 ? 0 : state.history[state.history.length - 1]!.epoch;
  const { out: _out, ...settings } = config;
  const metadata: BratsModelMetadata = {
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
  return { checkpoint, metadata };
}
