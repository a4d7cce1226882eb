// Models for inference: a brats-train run folder (TF.js checkpoints + config.json) or an ONNX file
// with "brats" metadata_props. Loaded for one engine: "tfjs" (run folders only, any TF.js backend)
// or "onnx" (ONNX files directly; run folders exported to ONNX in memory first).
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  checkpointOf,
  isRunFolder,
  MODEL_CARD_MD,
  runMetadata,
  runOnnxBytes,
  RunsError,
  type Checkpoint,
  type CheckpointName,
} from "@brats/runs";
import {
  loadModel,
  loadOnnxModel,
  MODEL_JSON,
  ONNXRUNTIME_INSTALL_HINT,
  setupTfjs,
  UNet3DError,
  WEIGHTS_BIN,
  type BackendPreference,
  type BratsModelMetadata,
  type OnnxModel,
  type VolumePredictor,
} from "@brats/unet3d";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { InferError } from "./errors.js";

export type EngineName = "onnx" | "tfjs";
export type EngineChoice = EngineName | "auto";

/** TF.js backends (tfjs engine) and onnxruntime execution providers (onnx engine) --backend takes. */
export const TFJS_BACKENDS = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export const ONNX_BACKENDS = ["auto", "cpu", "cuda"] as const;

/** A model as found on disk, before an engine loads it. */
export interface ModelSource {
  /** Absolute path of the run folder or .onnx file. */
  path: string;
  kind: "run" | "onnx";
  /** Display name: the run folder's name, or the file name. */
  name: string;
  /** The checkpoint used (run folders only). */
  checkpoint: CheckpointName | null;
  /** sha256 of the model's bytes: the .onnx file, or the checkpoint's model.json + weights.bin. */
  sha256: string;
  /** MODEL_CARD.md of the run (or beside the .onnx file), absolute, or null. */
  modelCard: string | null;
}

export interface LoadedModel extends ModelSource {
  metadata: BratsModelMetadata;
}

export interface LoadedModels {
  engine: EngineName;
  /** The TF.js backend, or the onnxruntime execution providers joined by "+". */
  backend: string;
  models: LoadedModel[];
  /** The first model's metadata; every member agrees with it on what matters (see checkEnsemble). */
  metadata: BratsModelMetadata;
  predictors: VolumePredictor[];
  /** Things worth printing (e.g. a CUDA fallback). */
  notes: string[];
  dispose(): Promise<void>;
}

export interface LoadModelsOptions {
  /** Default "auto": onnx when onnxruntime-node loads, else tfjs. */
  engine?: EngineChoice;
  /** TF.js backend or onnx execution provider; default "auto". */
  backend?: string;
  /** Intra-op threads of onnxruntime (onnx engine only). */
  threads?: number;
  /** Checkpoint of run folders; default "best" when the run has one, else "last". */
  checkpoint?: CheckpointName;
  /** Receives the TF.js setup line (tfjs engine: the backend, its fast kernels and why). */
  log?: (line: string) => void;
}

/** @brats/runs checkpointOf, its RunsError as BAD_MODEL. */
function runCheckpoint(runDir: string, wanted: CheckpointName | undefined): Checkpoint {
  try {
    return checkpointOf(runDir, wanted);
  } catch (err) {
    if (err instanceof RunsError) throw new InferError("BAD_MODEL", err.message, { cause: err });
    throw err;
  }
}

/** Where a model is and what it is, with the hash of its bytes. NOT_FOUND / BAD_MODEL otherwise. */
export async function describeModel(
  path: string,
  checkpoint?: CheckpointName,
): Promise<ModelSource> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InferError("NOT_FOUND", `no such model: ${path}`);
  if (isRunFolder(abs)) {
    const ckpt = runCheckpoint(abs, checkpoint);
    const hash = createHash("sha256");
    for (const file of [MODEL_JSON, WEIGHTS_BIN]) {
      try {
        hash.update(await readFile(join(ckpt.dir, file)));
      } catch (cause) {
        throw new InferError("BAD_MODEL", `cannot read ${join(ckpt.dir, file)}`, { cause });
      }
    }
    const card = join(abs, MODEL_CARD_MD);
    return {
      path: abs,
      kind: "run",
      name: basename(abs),
      checkpoint: ckpt.name,
      sha256: hash.digest("hex"),
      modelCard: existsSync(card) ? card : null,
    };
  }
  if (statSync(abs).isDirectory()) {
    throw new InferError(
      "BAD_MODEL",
      `${path} is a folder without config.json: not a brats-train run folder`,
    );
  }
  if (!/\.onnx$/i.test(abs)) {
    throw new InferError("BAD_MODEL", `${path} is neither a run folder nor a .onnx file`);
  }
  const bytes = await readFile(abs);
  const card = join(dirname(abs), MODEL_CARD_MD);
  return {
    path: abs,
    kind: "onnx",
    name: basename(abs),
    checkpoint: null,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    modelCard: existsSync(card) ? card : null,
  };
}

/**
 * The model card an ONNX model's metadata points to: brats-train writes `training.runDir` and
 * `training.modelCard` (relative to the run folder). Null when absent or not on this machine.
 */
export function modelCardOf(metadata: BratsModelMetadata): string | null {
  const training = metadata.training ?? {};
  const card = training.modelCard;
  if (typeof card !== "string" || card === "") return null;
  const runDir = training.runDir;
  const path = typeof runDir === "string" ? resolve(runDir, card) : resolve(card);
  return existsSync(path) ? path : null;
}

/** Throws MODEL_MISMATCH unless every model agrees with the first on inputs, outputs and labels. */
export function checkEnsemble(
  models: readonly { name: string; metadata: BratsModelMetadata }[],
): void {
  const first = models[0];
  if (first === undefined) throw new InferError("BAD_OPTION", "at least one --model is needed");
  const a = first.metadata;
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  for (const m of models.slice(1)) {
    const b = m.metadata;
    const fields: [string, unknown, unknown][] = [
      ["modalities", a.modalities, b.modalities],
      ["outputs", a.outputs, b.outputs],
      ["numClasses", a.numClasses, b.numClasses],
      ["labelConvention", a.labelConvention, b.labelConvention],
      ["preprocessing", a.preprocessing, b.preprocessing],
    ];
    for (const [field, x, y] of fields) {
      if (!same(x, y)) {
        throw new InferError(
          "MODEL_MISMATCH",
          `models ${first.name} and ${m.name} differ in ${field} (${JSON.stringify(x)} vs ${JSON.stringify(y)}): they cannot form an ensemble`,
        );
      }
    }
  }
}

async function onnxRuntimeLoads(): Promise<boolean> {
  try {
    await import("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
}

function unet3dError(err: unknown, model: string): InferError {
  if (err instanceof InferError) return err;
  if (err instanceof RunsError) {
    return new InferError("BAD_MODEL", `${model}: ${err.code}: ${err.message}`, { cause: err });
  }
  if (err instanceof UNet3DError) {
    const code = err.code === "ONNX_RUNTIME_MISSING" ? "ENGINE" : "BAD_MODEL";
    return new InferError(code, `${model}: ${err.code}: ${err.message}`, { cause: err });
  }
  return new InferError("BAD_MODEL", `${model}: ${(err as Error).message ?? String(err)}`, {
    cause: err,
  });
}

/**
 * Finds, checks and loads every model for one engine. The engine's backend is chosen once for
 * all models. Throws InferError: NOT_FOUND, BAD_MODEL, MODEL_MISMATCH, BAD_OPTION, ENGINE.
 */
export async function loadModels(
  paths: readonly string[],
  opts: LoadModelsOptions = {},
): Promise<LoadedModels> {
  if (paths.length === 0) throw new InferError("BAD_OPTION", "at least one --model is needed");
  const sources: ModelSource[] = [];
  for (const p of paths) sources.push(await describeModel(p, opts.checkpoint));
  const requested = opts.engine ?? "auto";
  let engine: EngineName;
  if (requested === "auto") {
    engine = (await onnxRuntimeLoads()) ? "onnx" : "tfjs";
    const onnxFile = sources.find((s) => s.kind === "onnx");
    if (engine === "tfjs" && onnxFile !== undefined) {
      throw new InferError(
        "ENGINE",
        `${onnxFile.name} needs onnxruntime-node, which does not load here (${ONNXRUNTIME_INSTALL_HINT}); ` +
          `run folders also run on --engine tfjs`,
      );
    }
  } else {
    engine = requested;
  }
  const backend = opts.backend ?? "auto";
  if (engine === "tfjs") {
    const onnx = sources.find((s) => s.kind === "onnx");
    if (onnx !== undefined) {
      throw new InferError(
        "BAD_OPTION",
        `${onnx.name}: the tfjs engine runs brats-train run folders only; use --engine onnx for .onnx files`,
      );
    }
    if (!(TFJS_BACKENDS as readonly string[]).includes(backend)) {
      throw new InferError(
        "BAD_OPTION",
        `--backend ${backend} is not a TF.js backend (${TFJS_BACKENDS.join(", ")})`,
      );
    }
    if (opts.threads !== undefined) {
      throw new InferError("BAD_OPTION", "--threads applies to the onnx engine only");
    }
    return loadTfjs(sources, backend as BackendPreference, opts);
  }
  if (!(ONNX_BACKENDS as readonly string[]).includes(backend)) {
    throw new InferError(
      "BAD_OPTION",
      `--backend ${backend} is not an onnxruntime execution provider (${ONNX_BACKENDS.join(", ")})`,
    );
  }
  return loadOnnx(sources, backend as (typeof ONNX_BACKENDS)[number], opts);
}

async function loadTfjs(
  sources: ModelSource[],
  backend: BackendPreference,
  opts: LoadModelsOptions,
): Promise<LoadedModels> {
  const checkpoint = opts.checkpoint;
  let report: { name: string };
  try {
    report = await setupTfjs({ backend, ...(opts.log === undefined ? {} : { log: opts.log }) });
  } catch (err) {
    throw new InferError("ENGINE", (err as Error).message, { cause: err });
  }
  const models: LoadedModel[] = [];
  const layers: LayersModel[] = [];
  try {
    for (const s of sources) {
      try {
        const metadata = await runMetadata(s.path, {
          checkpoint: s.checkpoint ?? checkpoint ?? "best",
        });
        models.push({ ...s, metadata });
        layers.push(await loadModel(runCheckpoint(s.path, s.checkpoint ?? undefined).dir));
      } catch (err) {
        throw unet3dError(err, s.name);
      }
    }
    checkEnsemble(models);
  } catch (err) {
    for (const m of layers) m.dispose();
    throw err;
  }
  return {
    engine: "tfjs",
    backend: report.name,
    models,
    metadata: models[0]!.metadata,
    predictors: layers,
    notes: [],
    dispose: () => {
      for (const m of layers) m.dispose();
      return Promise.resolve();
    },
  };
}

async function loadOnnx(
  sources: ModelSource[],
  backend: (typeof ONNX_BACKENDS)[number],
  opts: LoadModelsOptions,
): Promise<LoadedModels> {
  const providers: ("cpu" | "cuda")[] = backend === "cuda" ? ["cuda", "cpu"] : ["cpu"];
  const sessions: OnnxModel[] = [];
  const models: LoadedModel[] = [];
  const notes: string[] = [];
  const load = (bytes: string | Uint8Array) =>
    loadOnnxModel(bytes, {
      executionProviders: providers,
      ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    });
  try {
    for (const s of sources) {
      let session: OnnxModel;
      let metadata: BratsModelMetadata;
      try {
        if (s.kind === "onnx") {
          session = await load(s.path);
          if (session.metadata === null) {
            await session.dispose();
            throw new InferError(
              "BAD_MODEL",
              `${s.name} has no "brats" metadata_props: export it with @brats/unet3d saveOnnx or brats-train`,
            );
          }
          metadata = session.metadata;
        } else {
          // The run's checkpoint exported in memory; TF.js (cpu) only reads its weights.
          await setupTfjs({ backend: "cpu" });
          const exported = await runOnnxBytes(s.path, { checkpoint: s.checkpoint ?? "best" });
          metadata = exported.metadata;
          session = await load(exported.onnx);
        }
      } catch (err) {
        throw unet3dError(err, s.name);
      }
      sessions.push(session);
      models.push({ ...s, metadata, modelCard: s.modelCard ?? modelCardOf(metadata) });
      for (const note of session.notes) notes.push(`${s.name}: ${note}`);
    }
    checkEnsemble(models);
  } catch (err) {
    await Promise.all(sessions.map((s) => s.dispose()));
    throw err;
  }
  return {
    engine: "onnx",
    backend: sessions[0]!.executionProviders.join("+"),
    models,
    metadata: models[0]!.metadata,
    predictors: sessions,
    notes,
    dispose: async () => {
      await Promise.all(sessions.map((s) => s.dispose()));
    },
  };
}
