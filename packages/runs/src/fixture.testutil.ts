// Test-only: a tiny run folder as brats-train writes it (config.json, log.jsonl, metrics.csv, last/
// and best/), made with @brats/unet3d train() on seeded synthetic 16³ patches, without the app.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  createUNet3D,
  setupTfjs,
  train,
  type BatchSource,
  type TrainResult,
  type ValidationCase,
} from "@brats/unet3d";
import { DEFAULT_CONFIG, unetOptions, type TrainConfig } from "./config.js";
import { writeRunRecord, type RunRecord } from "./record.js";

const SIZE = 16;

/** mulberry32: seeded uniforms in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 16³ "tumour": nested balls of classes 2 (oedema), 1 (core), 3 (enhancing), with 3 channels. */
function syntheticCase(rand: () => number, channels: number) {
  const labels = new Uint8Array(SIZE ** 3);
  const image = new Float32Array(SIZE ** 3 * channels);
  const c = [4 + rand() * 8, 4 + rand() * 8, 4 + rand() * 8];
  const r = 3 + rand() * 2;
  for (let z = 0; z < SIZE; z++) {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const i = x + SIZE * (y + SIZE * z);
        const d = Math.hypot(x - c[0]!, y - c[1]!, z - c[2]!);
        labels[i] = d < r * 0.4 ? 1 : d < r * 0.7 ? 3 : d < r ? 2 : 0;
        for (let k = 0; k < channels; k++) {
          image[i * channels + k] = labels[i] * (k + 1) * 0.5 + (rand() - 0.5) * 0.5;
        }
      }
    }
  }
  return { image, labels };
}

export interface TinyRun {
  runDir: string;
  record: RunRecord;
  result: Omit<TrainResult, "model">;
}

/**
 * Trains a depth-2, 2-filter U-Net for `epochs` × 2 steps on the wasm backend into `runDir` and
 * writes its config.json; with `validate` one validation case (so best/ exists), else none.
 */
export async function makeTinyRun(
  runDir: string,
  opts: { validate?: boolean; epochs?: number } = {},
): Promise<TinyRun> {
  await setupTfjs({ backend: "wasm" });
  const validate = opts.validate ?? true;
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    data: join(runDir, "..", "data"),
    out: runDir,
    backend: "wasm",
    patch: SIZE,
    baseFilters: 2,
    depth: 2,
    workers: 0,
    epochs: opts.epochs ?? 2,
    stepsPerEpoch: 2,
    learningRate: 0.01,
    valOverlap: 0.25,
    split: validate ? { kind: "ids", ids: ["Case_1"] } : { kind: "share", share: 0 },
  };
  const record: RunRecord = {
    config,
    backend: "wasm",
    split: { train: ["Case_0", "Case_2"], val: validate ? ["Case_1"] : [] },
    started: "2026-11-26T10:00:00.000Z",
  };
  await mkdir(runDir, { recursive: true });
  await writeRunRecord(runDir, record);
  const channels = config.modalities.length;
  const source = (state: unknown): BatchSource => {
    let index = (state as { index: number } | null)?.index ?? 0;
    return {
      next: () => {
        const { image, labels } = syntheticCase(seeded(1000 + index++), channels);
        return Promise.resolve({ images: image, labels, shape: [1, SIZE, SIZE, SIZE, channels] });
      },
      state: () => ({ index }),
    };
  };
  const val = syntheticCase(seeded(7), channels);
  const cases: ValidationCase[] = [
    { id: "Case_1", image: val.image, shape: [SIZE, SIZE, SIZE, channels], labels: val.labels },
  ];
  const { model, ...result } = await train({
    outDir: runDir,
    model: () => createUNet3D(unetOptions(config)),
    source,
    epochs: config.epochs,
    stepsPerEpoch: config.stepsPerEpoch,
    learningRate: config.learningRate,
    handleSigint: false,
    ...(validate
      ? { validation: { cases, windowSize: [SIZE, SIZE, SIZE], overlap: config.valOverlap } }
      : {}),
  });
  model.dispose();
  return { runDir, record, result };
}
