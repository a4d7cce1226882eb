// The PatchLoader's options: their defaults, and the checks that reject bad ones in the constructor
// rather than later in a worker.
import { drawAugmentation, type AugmentOptions } from "./augment.js";
import type { CaseFiles, LoadCaseOptions, LoadedCase } from "./cases.js";
import { DataError } from "./errors.js";
import type { LabelConvention } from "@brats/conventions";
import type { PrepareOptions } from "./loader-cases.js";
import type { ProducerConfig } from "./loader-producer.js";
import type { Vec3 } from "./grid.js";
import type { PreprocessOptions } from "./preprocess.js";
import { createRng } from "./rng.js";

export interface PatchLoaderOptions {
  /**
   * Loaded cases, used as given: preprocessed, with `seg` as classes 0..3 (or null); or case
   * files, which the loader reads, preprocesses and converts to classes itself (in the workers).
   */
  cases: readonly LoadedCase[] | readonly CaseFiles[];
  /** Patch size in voxels: one number for a cube, or [x, y, z]. */
  patchSize: number | readonly [number, number, number];
  /** Patches per batch (the last batch of an epoch is shorter when patchesPerEpoch is not a multiple). */
  batchSize: number;
  /** A safe integer; the whole stream follows from it. */
  seed: number;
  /** Patches per epoch (default 250 batches, as nnU-Net). */
  patchesPerEpoch?: number;
  /** Worker threads (default 1); 0 produces the same batches in this thread, on demand. */
  workers?: number;
  /** Batches in flight at most: being produced or waiting for `next()` (default max(2, 2 × workers)). */
  queueSize?: number;
  /** Augmentation: true (default, augmentPatch's defaults), false, or options for augmentPatch. */
  augment?: boolean | AugmentOptions;
  /** Share of patches centred on a foreground voxel (samplePatch's default when omitted). */
  foregroundShare?: number;
  /** Where to start: the epoch and the index of the first patch (as returned by `state()`). */
  startEpoch?: number;
  startIndex?: number;
  /** For case files: how to read them (loadCase options). */
  load?: LoadCaseOptions;
  /** For case files: preprocessCase options, or false to use the scans as read. */
  preprocess?: PreprocessOptions | false;
  /** For case files: the label convention of their seg files (default brats2021). */
  convention?: LabelConvention;
}

/** The options checked, with their defaults filled in. */
export interface ResolvedLoaderOptions {
  cases: readonly (LoadedCase | CaseFiles)[];
  seed: number;
  batchSize: number;
  patchSize: Vec3;
  patchesPerEpoch: number;
  workerCount: number;
  queueSize: number;
  startEpoch: number;
  startIndex: number;
  config: ProducerConfig;
  prepare: PrepareOptions;
}

const DEFAULT_BATCHES_PER_EPOCH = 250;

export function isCaseFiles(c: LoadedCase | CaseFiles): c is CaseFiles {
  return !("channels" in c);
}

function intOption(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new DataError("BAD_OPTION", `${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Checks every option (DataError NO_CASES or BAD_OPTION) and fills in the defaults. */
export function resolveLoaderOptions(opts: PatchLoaderOptions): ResolvedLoaderOptions {
  if (!Array.isArray(opts.cases) || opts.cases.length === 0) {
    throw new DataError("NO_CASES", "the loader needs at least one case");
  }
  const cases = opts.cases as readonly (LoadedCase | CaseFiles)[];
  const kinds = new Set(cases.map(isCaseFiles));
  if (kinds.size !== 1) {
    throw new DataError("BAD_OPTION", "cases must be all LoadedCase or all CaseFiles, not a mix");
  }
  if (typeof opts.seed !== "number" || !Number.isSafeInteger(opts.seed)) {
    throw new DataError("BAD_OPTION", `seed must be a safe integer, got ${String(opts.seed)}`);
  }
  const seed = opts.seed;
  const batchSize = intOption("batchSize", opts.batchSize, 1);
  const size =
    typeof opts.patchSize === "number"
      ? [opts.patchSize, opts.patchSize, opts.patchSize]
      : opts.patchSize;
  if (!Array.isArray(size) || size.length !== 3) {
    throw new DataError(
      "BAD_OPTION",
      `patchSize must be a number or [x, y, z], got ${JSON.stringify(opts.patchSize)}`,
    );
  }
  const patchSize: Vec3 = [
    intOption("patchSize x", size[0], 1),
    intOption("patchSize y", size[1], 1),
    intOption("patchSize z", size[2], 1),
  ];
  const patchesPerEpoch = intOption(
    "patchesPerEpoch",
    opts.patchesPerEpoch ?? DEFAULT_BATCHES_PER_EPOCH * batchSize,
    1,
  );
  const workerCount = intOption("workers", opts.workers ?? 1, 0);
  const queueSize = intOption("queueSize", opts.queueSize ?? Math.max(2, 2 * workerCount), 1);
  const startEpoch = intOption("startEpoch", opts.startEpoch ?? 0, 0);
  const startIndex = intOption("startIndex", opts.startIndex ?? 0, 0);
  if (startIndex >= patchesPerEpoch) {
    throw new DataError(
      "BAD_OPTION",
      `startIndex ${startIndex} is not below patchesPerEpoch ${patchesPerEpoch}`,
    );
  }
  const share = opts.foregroundShare;
  if (share !== undefined && !(typeof share === "number" && share >= 0 && share <= 1)) {
    throw new DataError("BAD_OPTION", `foregroundShare must be in [0, 1], got ${String(share)}`);
  }
  const augment = opts.augment ?? true;
  // Bad augmentation options fail here, not later in a worker (drawing checks every option).
  if (typeof augment === "object") drawAugmentation(createRng(0), 1, augment);
  return {
    cases,
    seed,
    batchSize,
    patchSize,
    patchesPerEpoch,
    workerCount,
    queueSize,
    startEpoch,
    startIndex,
    config: {
      seed,
      patchSize,
      augment: augment === false ? null : augment === true ? {} : augment,
      foregroundShare: share,
    },
    prepare: {
      load: opts.load,
      preprocess: opts.preprocess ?? {},
      convention: opts.convention ?? "brats2021",
    },
  };
}
