/**
 * The BraTS 3D U-Net with spatial attention on its skips, as a tfjs-layers functional model
 * (channels-last [N, D, H, W, C]). With the defaults it has the structure and the parameter count
 * (5,648,784 with 3 inputs) of ../shared/peers/pytorch_unet3d.py:
 *   per level: 2 × (Conv3D 3×3×3 'same' with bias → norm → ReLU), MaxPool 2
 *   bottleneck: the same block at 16·base filters, then SpatialDropout3D
 *   per level, deepest first: Conv3DTranspose 2×2×2 stride 2 → concat(up, attention(skip)) → block
 *   head: Conv3D 1×1×1 → softmax over classes (or sigmoid over regions).
 * Conv biases are kept before BatchNorm because the reference keeps them (nn.Conv3d's default).
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "./errors.js";
import {
  BatchNormalization3D,
  GroupNormalization,
  InstanceNormalization,
  SpatialAttention3D,
  SpatialDropout3D,
  UpSampling3D,
} from "./layers.js";

export type SpatialDim = number | null;

export interface UNet3DConfig {
  /** [D, H, W, C]; default [null, null, null, modalities.length]. Known spatial sizes must be
   * divisible by 2^depth. */
  inputShape?: [SpatialDim, SpatialDim, SpatialDim, number];
  /** Input channels in order; default ["flair", "t1", "t1ce"]. Sets C when inputShape is absent. */
  modalities?: string[];
  /** Encoder levels (each halves the resolution), default 4, plus the bottleneck. */
  depth?: number;
  /** Filters of the first level, doubled per level; default 16 → 16/32/64/128, bottleneck 256. */
  baseFilters?: number;
  /** Normalisation after every 3×3×3 conv; default "batch". */
  normalization?: "batch" | "instance" | "group";
  /** Groups of group normalisation; must divide every level's filter count. Default 8. */
  groups?: number;
  /** SpatialDropout3D rate after the bottleneck (0 = no dropout layer); default 0.1. */
  dropout?: number;
  /** Spatial attention on every skip connection; default true. */
  attention?: boolean;
  /** Kernel edge of the attention conv over the [mean, max] maps; odd, default 1. */
  attentionKernelSize?: number;
  /** "classes": softmax over numClasses; "regions": 3 sigmoid channels WT/TC/ET. */
  outputs?: "classes" | "regions";
  /** Classes of the softmax head; default 4 (BraTS labels 0, 1, 2, 4 as 0..3). */
  numClasses?: number;
  /** "transpose": Conv3DTranspose 2×2×2 stride 2 (default); "upsample": nearest UpSampling3D
   * followed by a 1×1×1 conv to the level's filter count. */
  upsampling?: "transpose" | "upsample";
  /** Seed of every initialiser (and of the dropout masks); layers get distinct derived seeds.
   * Without it the weights are random. */
  seed?: number;
}

/** A UNet3DConfig with every default filled in (stored in the model's user-defined metadata). */
export interface ResolvedUNet3DConfig {
  inputShape: [SpatialDim, SpatialDim, SpatialDim, number];
  modalities: string[];
  depth: number;
  baseFilters: number;
  normalization: "batch" | "instance" | "group";
  groups: number;
  dropout: number;
  attention: boolean;
  attentionKernelSize: number;
  outputs: "classes" | "regions";
  numClasses: number;
  upsampling: "transpose" | "upsample";
  seed: number | null;
}

const DEFAULT_MODALITIES = ["flair", "t1", "t1ce"];

function bad(message: string): never {
  throw new UNet3DError("BAD_CONFIG", message);
}

function checkPositiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1)
    bad(`${what} must be a positive integer, got ${value}`);
}

/** Fills in the defaults and validates a UNet3DConfig; throws UNet3DError("BAD_CONFIG"). */
export function resolveUNet3DConfig(config: UNet3DConfig = {}): ResolvedUNet3DConfig {
  const depth = config.depth ?? 4;
  checkPositiveInt(depth, "depth");
  const baseFilters = config.baseFilters ?? 16;
  checkPositiveInt(baseFilters, "baseFilters");

  let modalities = config.modalities ?? DEFAULT_MODALITIES;
  if (modalities.length === 0) bad("modalities must not be empty");
  let inputShape: [SpatialDim, SpatialDim, SpatialDim, number];
  if (config.inputShape !== undefined) {
    if ((config.inputShape as unknown[]).length !== 4) {
      bad(`inputShape must be [D, H, W, C], got length ${(config.inputShape as unknown[]).length}`);
    }
    inputShape = [...config.inputShape];
    const channels = inputShape[3];
    checkPositiveInt(channels, "inputShape channels");
    if (config.modalities !== undefined && config.modalities.length !== channels) {
      bad(
        `inputShape has ${channels} channels but ${config.modalities.length} modalities are named`,
      );
    }
    if (config.modalities === undefined && channels !== DEFAULT_MODALITIES.length) {
      // No names for a non-default channel count: number them.
      modalities = Array.from({ length: channels }, (_, i) => `channel${i}`);
    }
    const divisor = 2 ** depth;
    for (let i = 0; i < 3; i++) {
      const d = inputShape[i];
      if (d === null || d === undefined) continue;
      checkPositiveInt(d, "inputShape spatial size");
      if (d % divisor !== 0)
        bad(`inputShape spatial size ${d} is not divisible by 2^depth = ${divisor}`);
    }
  } else {
    inputShape = [null, null, null, modalities.length];
  }

  const normalization = config.normalization ?? "batch";
  if (!["batch", "instance", "group"].includes(normalization))
    bad(`unknown normalization "${normalization}"`);
  const groups = config.groups ?? 8;
  checkPositiveInt(groups, "groups");
  if (normalization === "group") {
    for (let level = 0; level <= depth; level++) {
      const filters = baseFilters * 2 ** level;
      if (filters % groups !== 0)
        bad(`group norm: ${filters} filters cannot be split into ${groups} groups`);
    }
  }

  const dropout = config.dropout ?? 0.1;
  if (!(Number.isFinite(dropout) && dropout >= 0 && dropout < 1))
    bad(`dropout must be in [0, 1), got ${dropout}`);
  const attention = config.attention ?? true;
  const attentionKernelSize = config.attentionKernelSize ?? 1;
  checkPositiveInt(attentionKernelSize, "attentionKernelSize");
  if (attentionKernelSize % 2 !== 1)
    bad(`attentionKernelSize must be odd, got ${attentionKernelSize}`);

  const outputs = config.outputs ?? "classes";
  if (outputs !== "classes" && outputs !== "regions") bad(`unknown outputs "${String(outputs)}"`);
  let numClasses: number;
  if (outputs === "regions") {
    if (config.numClasses !== undefined && config.numClasses !== 3) {
      bad(
        `outputs "regions" has 3 channels (WT, TC, ET); numClasses ${config.numClasses} contradicts it`,
      );
    }
    numClasses = 3;
  } else {
    numClasses = config.numClasses ?? 4;
    checkPositiveInt(numClasses, "numClasses");
    if (numClasses < 2) bad("a softmax head needs numClasses >= 2");
  }
  const upsampling = config.upsampling ?? "transpose";
  if (upsampling !== "transpose" && upsampling !== "upsample")
    bad(`unknown upsampling "${String(upsampling)}"`);
  const seed = config.seed ?? null;
  if (seed !== null && !Number.isFinite(seed)) bad(`seed must be a finite number, got ${seed}`);

  return {
    inputShape,
    modalities: [...modalities],
    depth,
    baseFilters,
    normalization,
    groups,
    dropout,
    attention,
    attentionKernelSize,
    outputs,
    numClasses,
    upsampling,
    seed,
  };
}

type Sym = tfl.SymbolicTensor;

function applyLayer(layer: tfl.layers.Layer, input: Sym | Sym[]): Sym {
  return layer.apply(input) as Sym;
}

/**
 * Builds the U-Net. Layer names: enc{i}_conv{1,2}, enc{i}_norm{1,2}, enc{i}_relu{1,2}, pool{i},
 * bott_*, bott_dropout, up{i}, att{i}, concat{i}, dec{i}_*, head, head_softmax|head_sigmoid —
 * where level i = 1 is full resolution and i = depth the coarsest (att{i} gates the skip of
 * enc{i}; up{i} brings level i+1 up to level i).
 */
export function createUNet3D(config: UNet3DConfig = {}): tfl.LayersModel {
  const cfg = resolveUNet3DConfig(config);
  let seedCounter = 0;
  // Distinct seeds per initialiser: equal seeds would give equally-shaped layers equal weights.
  const nextSeed = (): number | undefined =>
    cfg.seed === null ? undefined : cfg.seed + 1000 * ++seedCounter;

  const conv = (
    filters: number,
    kernelSize: number,
    name: string,
    init: "he" | "glorot",
  ): tfl.layers.Layer =>
    tfl.layers.conv3d({
      filters,
      kernelSize,
      padding: "same",
      useBias: true,
      name,
      kernelInitializer:
        init === "he"
          ? tfl.initializers.heNormal({ seed: nextSeed() })
          : tfl.initializers.glorotUniform({ seed: nextSeed() }),
      biasInitializer: "zeros",
    });

  const norm = (name: string): tfl.layers.Layer => {
    switch (cfg.normalization) {
      case "batch":
        // PyTorch BatchNorm3d: running = 0.9·running + 0.1·batch, eps 1e-5.
        return new BatchNormalization3D({ momentum: 0.9, epsilon: 1e-5, name });
      case "instance":
        return new InstanceNormalization({ epsilon: 1e-5, name });
      case "group":
        return new GroupNormalization({ groups: cfg.groups, epsilon: 1e-5, name });
    }
  };

  const block = (x: Sym, filters: number, prefix: string): Sym => {
    for (const j of [1, 2]) {
      x = applyLayer(conv(filters, 3, `${prefix}_conv${j}`, "he"), x);
      x = applyLayer(norm(`${prefix}_norm${j}`), x);
      x = applyLayer(tfl.layers.reLU({ name: `${prefix}_relu${j}` }), x);
    }
    return x;
  };

  const input = tfl.input({ shape: cfg.inputShape, name: "input", dtype: "float32" });
  let x: Sym = input;
  const skips: Sym[] = [];
  for (let level = 1; level <= cfg.depth; level++) {
    x = block(x, cfg.baseFilters * 2 ** (level - 1), `enc${level}`);
    skips.push(x);
    x = applyLayer(
      tfl.layers.maxPooling3d({ poolSize: 2, strides: 2, padding: "valid", name: `pool${level}` }),
      x,
    );
  }
  x = block(x, cfg.baseFilters * 2 ** cfg.depth, "bott");
  if (cfg.dropout > 0) {
    x = applyLayer(
      new SpatialDropout3D({ rate: cfg.dropout, seed: nextSeed(), name: "bott_dropout" }),
      x,
    );
  }

  for (let level = cfg.depth; level >= 1; level--) {
    const filters = cfg.baseFilters * 2 ** (level - 1);
    if (cfg.upsampling === "transpose") {
      x = applyLayer(
        tfl.layers.conv3dTranspose({
          filters,
          kernelSize: 2,
          strides: 2,
          padding: "valid",
          useBias: true,
          name: `up${level}`,
          kernelInitializer: tfl.initializers.heNormal({ seed: nextSeed() }),
          biasInitializer: "zeros",
        }),
        x,
      );
    } else {
      x = applyLayer(new UpSampling3D({ size: 2, name: `up${level}` }), x);
      x = applyLayer(conv(filters, 1, `up${level}_conv`, "he"), x);
    }
    let skip = skips[level - 1] as Sym;
    if (cfg.attention) {
      skip = applyLayer(
        new SpatialAttention3D({
          kernelSize: cfg.attentionKernelSize,
          seed: nextSeed(),
          name: `att${level}`,
        }),
        skip,
      );
    }
    // Same channel order as the reference: cat([up(x), att(skip)]).
    x = applyLayer(tfl.layers.concatenate({ axis: -1, name: `concat${level}` }), [x, skip]);
    x = block(x, filters, `dec${level}`);
  }

  const logits = applyLayer(conv(cfg.numClasses, 1, "head", "glorot"), x);
  const activation = cfg.outputs === "regions" ? "sigmoid" : "softmax";
  const output = applyLayer(
    tfl.layers.activation({ activation, name: `head_${activation}` }),
    logits,
  );

  const model = tfl.model({ inputs: input, outputs: output, name: "unet3d" });
  model.setUserDefinedMetadata({ unet3d: cfg });
  return model;
}

/** Number of trainable scalars (BatchNorm's moving statistics are not trainable). */
export function countTrainableParams(model: tfl.LayersModel | tfl.layers.Layer): number {
  let total = 0;
  for (const w of model.trainableWeights)
    total += w.shape.reduce<number>((a, b) => a * (b ?? 0), 1);
  return total;
}

/** Trainable parameters per layer name, in layer order (layers without any are omitted). */
export function trainableParamsByLayer(
  model: tfl.LayersModel,
): Array<{ name: string; params: number }> {
  const rows: Array<{ name: string; params: number }> = [];
  for (const layer of model.layers) {
    const params = countTrainableParams(layer);
    if (params > 0) rows.push({ name: layer.name, params });
  }
  return rows;
}

/** Reads back the resolved config createUNet3D stored in the model (null for other models). */
export function unet3dConfigOf(model: tfl.LayersModel): ResolvedUNet3DConfig | null {
  const meta = model.getUserDefinedMetadata() as { unet3d?: ResolvedUNet3DConfig } | undefined;
  return meta?.unet3d ?? null;
}
