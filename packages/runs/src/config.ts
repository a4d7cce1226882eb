// How a run is trained: TrainConfig with its defaults (what brats-train's flags set), the
// validation split it asks for and the one it made, the network it builds, and the preprocessing
// every case it reads goes through. Types and constants only: no file is read here.
import type { LabelConvention } from "@brats/conventions";
import type { Modality } from "@brats/data";
import type {
  BackendPreference,
  BratsModelPreprocessing,
  Schedule,
  UNet3DConfig,
} from "@brats/unet3d";

/** How the validation cases are chosen: a share held out at random, named ids, or fold k of n. */
export type SplitSpec =
  | { kind: "share"; share: number }
  | { kind: "ids"; ids: string[] }
  | { kind: "fold"; k: number; n: number };

/** The case ids a run trains and validates on (both sorted). */
export interface Split {
  train: string[];
  val: string[];
}

export interface TrainConfig {
  /** Folder of BraTS cases. */
  data: string;
  /** The run folder. */
  out: string;
  /** Input channels, in this order. */
  modalities: Modality[];
  labels: LabelConvention;
  /** Patch edge in voxels (also the validation and inference window). */
  patch: number;
  epochs: number;
  stepsPerEpoch: number;
  /** Patches per step. */
  batch: number;
  baseFilters: number;
  /** Encoder levels. */
  depth: number;
  normalization: "batch" | "instance" | "group";
  /**
   * "classes": softmax over background and the three tumour classes, Dice + CE; "regions":
   * sigmoid WT/TC/ET outputs, Dice + BCE (nnU-Net's BraTS choice). Older config.json files lack
   * it, which reads as "classes".
   */
  outputs?: "classes" | "regions";
  dropout: number;
  /** Spatial attention on the skip connections. */
  attention: boolean;
  split: SplitSpec;
  backend: BackendPreference;
  seed: number;
  /** Loader worker threads (0: in the main thread). */
  workers: number;
  /** Peak learning rate. */
  learningRate: number;
  schedule: Schedule;
  /** Stop after this many validations without a better mean Dice; null: never. */
  patience: number | null;
  /** Validate every this many epochs; null: only at the end of the run. */
  valEvery: number | null;
  /**
   * Seconds the whole run may take (resumes and validation included); null: no limit. Written by
   * brats-train since 0.2; older config.json files lack it, which reads as null.
   */
  timeLimit?: number | null;
  /** Overlap of the sliding windows of validation (and of inference by default). */
  valOverlap: number;
  /** Share of patches centred on tumour. */
  foregroundShare: number;
  augment: boolean;
  /**
   * How strong the augmentation is when on: augmentationOfStrength of @brats/data, 0–2, 1 its
   * defaults. Written since 0.2; older config.json files lack it, which reads as 1.
   */
  augmentStrength?: number;
}

/** brats-train's defaults: everything but the data and run folders. */
export const DEFAULT_CONFIG: Omit<TrainConfig, "data" | "out"> = {
  modalities: ["flair", "t1", "t1ce"],
  labels: "brats2021",
  patch: 64,
  epochs: 100,
  stepsPerEpoch: 250,
  batch: 1,
  baseFilters: 16,
  depth: 4,
  normalization: "batch",
  outputs: "classes",
  dropout: 0.1,
  attention: true,
  split: { kind: "share", share: 0.2 },
  backend: "auto",
  seed: 1,
  workers: 1,
  learningRate: 1e-3,
  schedule: "poly",
  patience: null,
  valEvery: 1,
  timeLimit: null,
  valOverlap: 0.5,
  foregroundShare: 0.33,
  augment: true,
  augmentStrength: 1,
};

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
    outputs: config.outputs ?? "classes",
    dropout: config.dropout,
    attention: config.attention,
    seed: config.seed,
  };
}
