/**
 * The training configuration a model needs at inference, stored as JSON under the key "brats" of
 * an ONNX model's metadata_props (or next to a TF.js model), so that a single model file is enough
 * to preprocess a case, run the windows and map the outputs back to BraTS labels.
 */
import { LABEL_CONVENTIONS, type LabelConvention } from "@brats/conventions";
import { UNet3DError } from "./errors.js";
import type { ResolvedUNet3DConfig } from "./model.js";

export interface BratsModelPreprocessing {
  /** Reoriented to the canonical (RAS+) axes before everything else. */
  canonical: boolean;
  /** Resampled to this voxel spacing in mm (x, y, z), or null for the native grid. */
  spacing: [number, number, number] | null;
  /** Cropped to the non-zero bounding box of the modalities. */
  crop: boolean;
  /** Voxels kept around the crop box. */
  margin: number;
  /** "zscore-nonzero": per channel, (x − mean) / std over the non-zero voxels; "none". */
  normalization: "zscore-nonzero" | "none";
}

export interface BratsModelMetadata {
  format: "brats-unet3d";
  version: 1;
  /** Input channel order. */
  modalities: string[];
  labelConvention: LabelConvention;
  outputs: "classes" | "regions";
  /** K: output channels (3 for regions). */
  numClasses: number;
  preprocessing: BratsModelPreprocessing;
  /** D, H, W of the sliding window (the training patch). */
  windowSize: [number, number, number];
  /** Default sliding-window overlap, in [0, 1). */
  overlap: number;
  unet: ResolvedUNet3DConfig;
  /** Free-form provenance (run, cases, epochs, validation Dice, date). */
  training?: Record<string, unknown>;
}

/** The metadata_props key that holds the JSON. */
export const BRATS_METADATA_KEY = "brats";

/** metadata_props holding `meta` as JSON under BRATS_METADATA_KEY (validated first). */
export function metadataProps(meta: BratsModelMetadata): Record<string, string> {
  const json = JSON.stringify(meta);
  // Validate what a reader will see, so a bad value fails at export rather than at inference.
  parseModelMetadata({ [BRATS_METADATA_KEY]: json });
  return { [BRATS_METADATA_KEY]: json };
}

function bad(message: string): never {
  throw new UNet3DError("BAD_METADATA", `model metadata "${BRATS_METADATA_KEY}": ${message}`);
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    bad(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") bad(`${what} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    bad(`${what} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === "string" && s !== "")) {
    bad(`${what} must be a non-empty list of names, got ${JSON.stringify(v)}`);
  }
  return [...(v as string[])];
}

function spatialDim(v: unknown, what: string): number | null {
  if (v === null) return null;
  return positiveInt(v, what);
}

function parseUnet(v: unknown): ResolvedUNet3DConfig {
  if (!isObject(v)) bad("unet must be an object");
  const shape = v["inputShape"];
  if (!Array.isArray(shape) || shape.length !== 4) bad("unet.inputShape must be [D, H, W, C]");
  const inputShape: ResolvedUNet3DConfig["inputShape"] = [
    spatialDim(shape[0], "unet.inputShape[0]"),
    spatialDim(shape[1], "unet.inputShape[1]"),
    spatialDim(shape[2], "unet.inputShape[2]"),
    positiveInt(shape[3], "unet.inputShape[3]"),
  ];
  const dropout = v["dropout"];
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) {
    bad(`unet.dropout must be in [0, 1), got ${JSON.stringify(dropout)}`);
  }
  const seed = v["seed"];
  if (seed !== null && !(typeof seed === "number" && Number.isFinite(seed))) {
    bad(`unet.seed must be a number or null, got ${JSON.stringify(seed)}`);
  }
  return {
    inputShape,
    modalities: stringList(v["modalities"], "unet.modalities"),
    depth: positiveInt(v["depth"], "unet.depth"),
    baseFilters: positiveInt(v["baseFilters"], "unet.baseFilters"),
    normalization: oneOf(v["normalization"], ["batch", "instance", "group"], "unet.normalization"),
    groups: positiveInt(v["groups"], "unet.groups"),
    dropout,
    attention: bool(v["attention"], "unet.attention"),
    attentionKernelSize: positiveInt(v["attentionKernelSize"], "unet.attentionKernelSize"),
    outputs: oneOf(v["outputs"], ["classes", "regions"], "unet.outputs"),
    numClasses: positiveInt(v["numClasses"], "unet.numClasses"),
    upsampling: oneOf(v["upsampling"], ["transpose", "upsample"], "unet.upsampling"),
    seed,
  };
}

/**
 * Reads and validates the metadata stored under BRATS_METADATA_KEY. Throws
 * UNet3DError("BAD_METADATA") when the key is missing, the JSON is invalid, a field is missing or
 * of the wrong type, or fields contradict each other (channels vs modalities, outputs vs K).
 */
export function parseModelMetadata(props: Record<string, string>): BratsModelMetadata {
  const json = props[BRATS_METADATA_KEY];
  if (json === undefined) bad("missing");
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new UNet3DError("BAD_METADATA", `model metadata "${BRATS_METADATA_KEY}" is not JSON`, {
      cause,
    });
  }
  if (!isObject(raw)) bad("must be a JSON object");
  if (raw["format"] !== "brats-unet3d")
    bad(`format must be "brats-unet3d", got ${JSON.stringify(raw["format"])}`);
  if (raw["version"] !== 1)
    bad(`unsupported version ${JSON.stringify(raw["version"])} (this reader knows 1)`);

  const modalities = stringList(raw["modalities"], "modalities");
  const labelConvention = oneOf(raw["labelConvention"], LABEL_CONVENTIONS, "labelConvention");
  const outputs = oneOf(raw["outputs"], ["classes", "regions"], "outputs");
  const numClasses = positiveInt(raw["numClasses"], "numClasses");
  if (outputs === "regions" && numClasses !== 3)
    bad(`outputs "regions" has 3 channels, numClasses is ${numClasses}`);
  if (outputs === "classes" && numClasses < 2) bad("a softmax head needs numClasses >= 2");

  const pre = raw["preprocessing"];
  if (!isObject(pre)) bad("preprocessing must be an object");
  const spacingRaw = pre["spacing"];
  let spacing: [number, number, number] | null = null;
  if (spacingRaw !== null) {
    if (
      !Array.isArray(spacingRaw) ||
      spacingRaw.length !== 3 ||
      !spacingRaw.every((s) => typeof s === "number" && Number.isFinite(s) && s > 0)
    ) {
      bad(
        `preprocessing.spacing must be null or 3 positive numbers, got ${JSON.stringify(spacingRaw)}`,
      );
    }
    spacing = [...(spacingRaw as number[])] as [number, number, number];
  }
  const margin = pre["margin"];
  if (typeof margin !== "number" || !Number.isInteger(margin) || margin < 0) {
    bad(`preprocessing.margin must be a non-negative integer, got ${JSON.stringify(margin)}`);
  }
  const preprocessing: BratsModelPreprocessing = {
    canonical: bool(pre["canonical"], "preprocessing.canonical"),
    spacing,
    crop: bool(pre["crop"], "preprocessing.crop"),
    margin,
    normalization: oneOf(
      pre["normalization"],
      ["zscore-nonzero", "none"],
      "preprocessing.normalization",
    ),
  };

  const ws = raw["windowSize"];
  if (!Array.isArray(ws) || ws.length !== 3) bad("windowSize must be [D, H, W]");
  const windowSize: [number, number, number] = [
    positiveInt(ws[0], "windowSize[0]"),
    positiveInt(ws[1], "windowSize[1]"),
    positiveInt(ws[2], "windowSize[2]"),
  ];
  const overlap = raw["overlap"];
  if (typeof overlap !== "number" || !(overlap >= 0 && overlap < 1)) {
    bad(`overlap must be in [0, 1), got ${JSON.stringify(overlap)}`);
  }

  const unet = parseUnet(raw["unet"]);
  if (unet.inputShape[3] !== modalities.length) {
    bad(`${modalities.length} modalities but the network has ${unet.inputShape[3]} input channels`);
  }
  if (unet.outputs !== outputs || unet.numClasses !== numClasses) {
    bad(`outputs ${outputs}/${numClasses} disagree with unet ${unet.outputs}/${unet.numClasses}`);
  }
  const divisor = 2 ** unet.depth;
  if (windowSize.some((s) => s % divisor !== 0)) {
    bad(`windowSize [${windowSize.join(", ")}] is not divisible by 2^depth = ${divisor}`);
  }

  const meta: BratsModelMetadata = {
    format: "brats-unet3d",
    version: 1,
    modalities,
    labelConvention,
    outputs,
    numClasses,
    preprocessing,
    windowSize,
    overlap,
    unet,
  };
  const training = raw["training"];
  if (training !== undefined) {
    if (!isObject(training)) bad("training must be an object when present");
    meta.training = training;
  }
  return meta;
}
