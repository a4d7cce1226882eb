// The checkpoint folders `last` and `best`: the model (saveModel), the Adam moments
// (optimizer.bin, float32, m of every variable then v) and train-state.json (TrainState), which
// together hold everything a resume needs. Saved whole into a temporary folder and swapped in.
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { previousDirOf, writeAtomicDir } from "@brats/kit/fs";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "../errors.js";
import { saveModel } from "../io.js";
import type { EpochRecord } from "@brats/conventions";
import type { LogSizes } from "./log.js";
import { momentTensors, type Adam } from "./optimizer.js";
import type { StopReason } from "./options.js";

export const TRAIN_STATE_JSON = "train-state.json";
export const OPTIMIZER_BIN = "optimizer.bin";

export type CheckpointName = "last" | "best";

/** Everything besides the weights that a resume needs; saved as last/train-state.json. */
export interface TrainState {
  version: 1;
  /** Global steps done. */
  step: number;
  /** Epoch in progress (1-based) and steps of it done. */
  epoch: number;
  stepInEpoch: number;
  epochLossSum: number;
  elapsed: number;
  bestScore: number | null;
  bestEpoch: number | null;
  validationsSinceBest: number;
  history: EpochRecord[];
  sourceState: unknown;
  /** Training calls made by each seeded dropout layer (their masks follow the count). */
  dropoutCalls: Record<string, number>;
  /** Adam moment tensors in optimizer.bin: names and shapes, m of every variable then v. */
  moments: Array<{ name: string; shape: number[] }>;
  /** Bytes of log.jsonl and metrics.csv at this checkpoint (a resume truncates what came later). */
  logBytes: number;
  csvBytes: number;
  /** Set once the run has ended by completion or early stopping (a resume then returns at once). */
  finished: StopReason | null;
}

/** The state of a run before its first step, with logs of these sizes. */
export function freshState(logs: LogSizes): TrainState {
  return {
    version: 1,
    step: 0,
    epoch: 1,
    stepInEpoch: 0,
    epochLossSum: 0,
    elapsed: 0,
    bestScore: null,
    bestEpoch: null,
    validationsSinceBest: 0,
    history: [],
    sourceState: null,
    dropoutCalls: {},
    moments: [],
    logBytes: logs.logBytes,
    csvBytes: logs.csvBytes,
    finished: null,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The checkpoint folder `name`, or the previous one when a crash came between the two renames of
 * saveCheckpoint (`name` missing, `name.old` complete).
 */
export async function findCheckpoint(outDir: string, name: CheckpointName): Promise<string | null> {
  const dir = join(outDir, name);
  if (await exists(join(dir, TRAIN_STATE_JSON))) return dir;
  const old = previousDirOf(dir);
  if (await exists(join(old, TRAIN_STATE_JSON))) return old;
  return null;
}

export async function readTrainState(dir: string): Promise<TrainState> {
  return JSON.parse(await readFile(join(dir, TRAIN_STATE_JSON), "utf8")) as TrainState;
}

/** Names and shapes of the moment tensors, as TrainState.moments records them. */
export function momentEntries(adam: Adam): TrainState["moments"] {
  const n = adam.variables.length;
  return momentTensors(adam).map((t, i) => ({
    name: `${adam.variables[i % n]!.name}/${i < n ? "m" : "v"}`,
    shape: [...t.shape],
  }));
}

/** The moments as optimizer.bin holds them: their float32 values one after the other. */
async function momentBytes(adam: Adam): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const t of momentTensors(adam)) {
    const data = await t.data<"float32">();
    parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const bin = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    bin.set(p, offset);
    offset += p.byteLength;
  }
  return bin;
}

export async function saveCheckpoint(
  outDir: string,
  name: CheckpointName,
  model: tfl.LayersModel,
  adam: Adam,
  state: TrainState,
): Promise<void> {
  // Written whole into a temp folder, then swapped in (writeAtomicDir): a crash leaves either the
  // old checkpoint or the new one, never a model from one step with the optimizer of another;
  // findCheckpoint reads what a crash may leave.
  const moments = await momentBytes(adam);
  await writeAtomicDir(join(outDir, name), async (tmp) => {
    await saveModel(model, tmp);
    await writeFile(join(tmp, OPTIMIZER_BIN), moments);
    await writeFile(join(tmp, TRAIN_STATE_JSON), JSON.stringify(state, null, 2) + "\n");
  });
}

/** Loads optimizer.bin of checkpoint `dir` into the moments; BAD_CONFIG / BAD_MODEL on mismatch. */
export async function loadAdamMoments(dir: string, adam: Adam, state: TrainState): Promise<void> {
  const n = adam.variables.length;
  if (state.moments.length !== 2 * n) {
    throw new UNet3DError(
      "BAD_CONFIG",
      `${dir}: optimizer state holds ${state.moments.length} moments, the model has ${n} trainable variables`,
    );
  }
  const bytes = await readFile(join(dir, OPTIMIZER_BIN));
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const floats = new Float32Array(copy.buffer);
  let offset = 0;
  state.moments.forEach((entry, i) => {
    const target = i < n ? adam.m[i]! : adam.v[i - n]!;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.shape.join(",") !== target.shape.join(",") || offset + size > floats.length) {
      throw new UNet3DError(
        "BAD_MODEL",
        `${dir}: optimizer moment ${entry.name} does not fit the model`,
      );
    }
    target.assign(tf.tensor(floats.subarray(offset, offset + size), target.shape));
    offset += size;
  });
}

export interface SeededDropout {
  name: string;
  getClassName(): string;
  calls: number;
}

/** Seeded dropout layers draw mask n from seed + n, counting training calls in a private field;
 * a checkpoint records the counts and a resume restores them. */
export function dropoutLayers(model: tfl.LayersModel): SeededDropout[] {
  return (model.layers as unknown as SeededDropout[]).filter(
    (l) => l.getClassName() === "SpatialDropout3D" && typeof l.calls === "number",
  );
}

export function dropoutCallsOf(layers: readonly SeededDropout[]): TrainState["dropoutCalls"] {
  return Object.fromEntries(layers.map((l) => [l.name, l.calls]));
}

export function restoreDropoutCalls(layers: readonly SeededDropout[], state: TrainState): void {
  for (const layer of layers) layer.calls = state.dropoutCalls[layer.name] ?? 0;
}
