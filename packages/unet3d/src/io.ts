/**
 * Saving and loading tfjs LayersModels to a folder (model.json + weights.bin) with node:fs —
 * no tfjs-node needed. The files are the standard tfjs "layers-model" format, so tfjs-node's
 * `file://` loader and the browser's http loader read them too.
 *
 * Saving is crash-safe: both files are first written and fsynced under temporary names, then
 * renamed into place, weights first and model.json last (the commit point). Until model.json is
 * replaced the old weights stay reachable as weights.prev.bin, and model.json records the size and
 * SHA-256 of its weights, so a crash between the two renames is detected and repaired: loading
 * picks the weights that match model.json, and the next save restores them before it starts.
 */
import { createHash } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { makeDirs, syncDir, writeTemp } from "@brats/kit/fs";
import { UNet3DError } from "./errors.js";
import { registerBratsLayers } from "./register.js";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";
const WEIGHTS_PREV = "weights.prev.bin";

/** Extra key in model.json (ignored by other tfjs loaders) tying it to its weights file. */
interface WeightsIntegrity {
  bytes: number;
  sha256: string;
}

type ModelJSONWithIntegrity = tf.io.ModelJSON & { weightsIntegrity?: WeightsIntegrity };

function ioError(message: string, cause: unknown): UNet3DError {
  return new UNet3DError(
    "IO",
    `${message}: ${cause instanceof Error ? cause.message : String(cause)}`,
    { cause },
  );
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function readIfExists(file: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw ioError(`cannot read ${file}`, err);
  }
}

function matches(bytes: Uint8Array | null, integrity: WeightsIntegrity): bytes is Uint8Array {
  return (
    bytes !== null && bytes.byteLength === integrity.bytes && sha256(bytes) === integrity.sha256
  );
}

async function readModelJSON(dir: string): Promise<ModelJSONWithIntegrity | null> {
  const raw = await readIfExists(path.join(dir, MODEL_JSON));
  if (raw === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(raw));
  } catch (err) {
    throw new UNet3DError("BAD_MODEL", `${path.join(dir, MODEL_JSON)} is not valid JSON`, {
      cause: err,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UNet3DError("BAD_MODEL", `${path.join(dir, MODEL_JSON)} is not a JSON object`);
  }
  const json = parsed as Partial<ModelJSONWithIntegrity>;
  if (typeof json.modelTopology !== "object" || json.modelTopology === null) {
    throw new UNet3DError("BAD_MODEL", `${path.join(dir, MODEL_JSON)} has no modelTopology`);
  }
  if (!Array.isArray(json.weightsManifest)) {
    throw new UNet3DError("BAD_MODEL", `${path.join(dir, MODEL_JSON)} has no weightsManifest`);
  }
  return json as ModelJSONWithIntegrity;
}

/** If a save crashed after replacing weights.bin but before model.json, put the old weights back. */
async function repairInterruptedSave(dir: string): Promise<void> {
  let json: ModelJSONWithIntegrity | null;
  try {
    json = await readModelJSON(dir);
  } catch {
    return; // An unreadable model.json is about to be replaced anyway.
  }
  const integrity = json?.weightsIntegrity;
  if (integrity === undefined) return;
  const current = await readIfExists(path.join(dir, WEIGHTS_BIN));
  if (matches(current, integrity)) return;
  const previous = await readIfExists(path.join(dir, WEIGHTS_PREV));
  if (matches(previous, integrity)) {
    await fs.rename(path.join(dir, WEIGHTS_PREV), path.join(dir, WEIGHTS_BIN));
    await syncDir(dir);
  }
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

async function saveArtifacts(
  dir: string,
  artifacts: tf.io.ModelArtifacts,
): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new UNet3DError(
      "BAD_MODEL",
      "folderIO saves layers models (JSON topology), not binary graph models",
    );
  }
  const bytes = weightBytes(artifacts.weightData);
  const json: ModelJSONWithIntegrity = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format ?? "layers-model",
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    weightsIntegrity: { bytes: bytes.byteLength, sha256: sha256(bytes) },
  };
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature != null) json.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null)
    json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null)
    json.initializerSignature = artifacts.initializerSignature;

  const tmpFiles: string[] = [];
  try {
    await makeDirs(dir);
    await repairInterruptedSave(dir);
    const weightsPath = path.join(dir, WEIGHTS_BIN);
    const tmpWeights = await writeTemp(weightsPath, bytes);
    tmpFiles.push(tmpWeights);
    const tmpJson = await writeTemp(path.join(dir, MODEL_JSON), JSON.stringify(json));
    tmpFiles.push(tmpJson);

    const prevPath = path.join(dir, WEIGHTS_PREV);
    await fs.rm(prevPath, { force: true });
    // Keep the weights the current model.json describes reachable until model.json is replaced.
    if (await exists(weightsPath)) await fs.link(weightsPath, prevPath);
    await fs.rename(tmpWeights, weightsPath);
    await fs.rename(tmpJson, path.join(dir, MODEL_JSON)); // commit point
    tmpFiles.length = 0;
    await syncDir(dir);
    await fs.rm(prevPath, { force: true });
  } catch (err) {
    await Promise.all(tmpFiles.map((f) => fs.rm(f, { force: true }).catch(() => undefined)));
    if (err instanceof UNet3DError) throw err;
    throw ioError(`cannot save the model to ${dir}`, err);
  }
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Bytes the manifest's weights need, or null when a dtype (e.g. string) has no fixed size. */
function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const per =
      spec.quantization !== undefined
        ? QUANT_BYTES[spec.quantization.dtype]
        : DTYPE_BYTES[spec.dtype];
    if (per === undefined) return null;
    total += count * per;
  }
  return total;
}

function checkWeightFileName(name: unknown, dir: string): string {
  if (
    typeof name !== "string" ||
    name === "" ||
    name !== path.basename(name) ||
    name === "." ||
    name === ".."
  ) {
    throw new UNet3DError(
      "BAD_MODEL",
      `weights path ${JSON.stringify(name)} in ${dir}/${MODEL_JSON} must be a file name in that folder`,
    );
  }
  return name;
}

async function loadArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const json = await readModelJSON(dir);
  if (json === null) throw new UNet3DError("IO", `no ${MODEL_JSON} in ${dir}`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const files: string[] = [];
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new UNet3DError("BAD_MODEL", `malformed weightsManifest in ${dir}/${MODEL_JSON}`);
    }
    for (const p of group.paths) files.push(checkWeightFileName(p, dir));
    specs.push(...group.weights);
  }

  let data: Uint8Array;
  const integrity = json.weightsIntegrity;
  if (integrity !== undefined && files.length === 1 && files[0] === WEIGHTS_BIN) {
    const current = await readIfExists(path.join(dir, WEIGHTS_BIN));
    if (matches(current, integrity)) {
      data = current;
    } else {
      // A save was interrupted between its two renames: the previous weights belong to this model.json.
      const previous = await readIfExists(path.join(dir, WEIGHTS_PREV));
      if (!matches(previous, integrity)) {
        throw new UNet3DError(
          "WEIGHTS_MISMATCH",
          `${dir}/${WEIGHTS_BIN} does not match ${MODEL_JSON} (expected ${integrity.bytes} bytes, sha256 ${integrity.sha256})`,
        );
      }
      data = previous;
    }
  } else {
    const parts: Uint8Array[] = [];
    for (const file of files) {
      const bytes = await readIfExists(path.join(dir, file));
      if (bytes === null)
        throw new UNet3DError(
          "IO",
          `weights file ${file} listed in ${dir}/${MODEL_JSON} is missing`,
        );
      parts.push(bytes);
    }
    data = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let offset = 0;
    for (const p of parts) {
      data.set(p, offset);
      offset += p.byteLength;
    }
  }
  const need = expectedBytes(specs);
  if (need !== null && need !== data.byteLength) {
    throw new UNet3DError(
      "WEIGHTS_MISMATCH",
      `${dir}: the manifest needs ${need} weight bytes, the files hold ${data.byteLength}`,
    );
  }
  // A fresh ArrayBuffer holding exactly the weight bytes (Buffers may share a larger pool).
  const weightData = data.slice().buffer;
  return tf.io.getModelArtifactsForJSONSync(json, specs, weightData);
}

/**
 * An IOHandler for `model.save(folderIO(dir))` and `tf.loadLayersModel(folderIO(dir))`: writes
 * dir/model.json and dir/weights.bin atomically (the folder is created if needed) and reads them
 * back bit for bit. Loading also accepts folders written by other tfjs savers (sharded weights).
 */
export function folderIO(dir: string): tf.io.IOHandler {
  return {
    save: (artifacts: tf.io.ModelArtifacts) => saveArtifacts(dir, artifacts),
    load: () => loadArtifacts(dir),
  };
}

/** Saves a LayersModel (topology, weights, user metadata) to `dir` atomically. */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(folderIO(dir));
}

/** Loads a LayersModel saved by saveModel (or any tfjs layers-model folder); registers this
 * package's custom layers first. */
export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  registerBratsLayers();
  return tfl.loadLayersModel(folderIO(dir));
}
