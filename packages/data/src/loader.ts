/**
 * A prefetching patch loader: worker threads sample and augment training patches into a bounded
 * queue of batches, delivered in index order.
 *
 * Determinism: patch `i` of epoch `e` depends only on (seed, e, i). Its case comes from a seeded
 * per-epoch shuffle of the cases, and sampling plus augmentation draw from an RNG derived from
 * (seed, e, i) alone. So the stream is the same with 0, 1 or 2 workers, whatever their timing,
 * and a loader started at a saved `state()` continues it exactly.
 *
 * Memory: at most `queueSize` batches exist at once (being produced or waiting for `next()`), and
 * the case volumes are in shared memory, read by every worker without copies.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { augmentPatch, drawAugmentation, type AugmentOptions } from "./augment.js";
import { loadCase, type CaseFiles, type LoadCaseOptions, type LoadedCase } from "./cases.js";
import {
  DEFAULT_LABEL_CONVENTION,
  labelsToClasses,
  NUM_CLASSES,
  type LabelConvention,
} from "@brats/conventions";
import { DataError, withDataErrors, type DataErrorCode } from "./errors.js";
import { samplePatch } from "./patches.js";
import { preprocessCase, type PreprocessOptions, type Vec3 } from "./preprocess.js";
import { createRng, deriveRngState, randomInt } from "./rng.js";

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

/** A batch of patches, channels-last as the model wants them. */
export interface Batch {
  /** [B][z][y][x][C]. */
  images: Float32Array;
  /** Classes 0..3, [B][z][y][x]. */
  labels: Uint8Array;
  /** [B, D (z), H (y), W (x), C]. */
  shape: [number, number, number, number, number];
  /** Position of the first patch: patches index .. index + B − 1 of this epoch. */
  epoch: number;
  index: number;
  /** Case id and origin (volume voxel [x, y, z] under patch voxel 0) of each patch. */
  caseIds: string[];
  origins: Vec3[];
}

/** The position of the next batch `next()` returns; pass it back as startEpoch/startIndex to resume. */
export interface LoaderState {
  seed: number;
  epoch: number;
  index: number;
}

export interface LoaderStats {
  /** Batches produced and waiting for `next()`. */
  ready: number;
  /** Batches being produced or waiting (never above queueSize). */
  inFlight: number;
  /** The largest inFlight seen. */
  peakInFlight: number;
  /** Batches produced so far (by all workers). */
  produced: number;
  /** Workers running. */
  workers: number;
}

// ---------------------------------------------------------------------------------------------
// Production of batches: the same code in workers and in-process.

/** What a producer needs besides the cases; structured-cloneable, sent to every worker. */
export interface ProducerConfig {
  seed: number;
  patchSize: Vec3;
  augment: AugmentOptions | null;
  foregroundShare: number | undefined;
}

/** A batch as produced, before it gets its shape. */
export interface ProducedBatch {
  epoch: number;
  index: number;
  images: Float32Array;
  labels: Uint8Array;
  caseIds: string[];
  origins: Vec3[];
}

/** Keys the case shuffle apart from the per-patch streams (which use three keys). */
const CASE_ORDER_KEY = 0x0c45e;

/** A seeded permutation of 0..n−1 (Fisher–Yates). */
function permutation(n: number, seed: number, epoch: number, block: number): Uint32Array {
  const rng = createRng(deriveRngState(seed, epoch, block, CASE_ORDER_KEY));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * Produces the patches of any position from cases in memory. Patch i of epoch e uses case
 * order[i mod n] of shuffle ⌊i / n⌋ of that epoch (every case equally often), and an RNG derived
 * from (seed, e, i) for sampling and augmentation.
 */
export class BatchProducer {
  private order: { epoch: number; block: number; perm: Uint32Array } | null = null;

  constructor(
    private readonly cases: readonly LoadedCase[],
    private readonly config: ProducerConfig,
  ) {}

  /** The case patch `index` of `epoch` comes from. */
  caseIndex(epoch: number, index: number): number {
    const n = this.cases.length;
    const block = Math.floor(index / n);
    if (this.order === null || this.order.epoch !== epoch || this.order.block !== block) {
      this.order = { epoch, block, perm: permutation(n, this.config.seed, epoch, block) };
    }
    return this.order.perm[index % n]!;
  }

  produce(epoch: number, index: number, count: number): ProducedBatch {
    const [px, py, pz] = this.config.patchSize;
    const voxels = px * py * pz;
    const channels = this.cases[0]!.channels.length;
    const images = new Float32Array(count * voxels * channels);
    const labels = new Uint8Array(count * voxels);
    const caseIds: string[] = [];
    const origins: Vec3[] = [];
    for (let j = 0; j < count; j++) {
      const c = this.cases[this.caseIndex(epoch, index + j)]!;
      const rng = createRng(deriveRngState(this.config.seed, epoch, index + j));
      let patch = samplePatch(c, this.config.patchSize, rng, {
        ...(this.config.foregroundShare === undefined
          ? {}
          : { foregroundShare: this.config.foregroundShare }),
      });
      if (this.config.augment !== null) patch = augmentPatch(patch, rng, this.config.augment);
      images.set(patch.image, j * voxels * channels);
      labels.set(patch.labels, j * voxels);
      caseIds.push(c.id);
      origins.push(patch.origin);
    }
    return { epoch, index, images, labels, caseIds, origins };
  }
}

// ---------------------------------------------------------------------------------------------
// Cases: reading case files, checking loaded cases, sharing them with workers.

/** How case files become training cases. */
export interface PrepareOptions {
  /** loadCase options (default: the four modalities, a missing one is an error). */
  load?: LoadCaseOptions;
  /** preprocessCase options (default {}), or false to keep the scans as read. */
  preprocess?: PreprocessOptions | false;
  /** Label convention of the seg files (default brats2021). */
  convention?: LabelConvention;
}

/**
 * Reads a case, preprocesses it and turns its labels into classes 0..3: what the loader does
 * with case files (the PreprocessRecord is dropped; call preprocessCase yourself to keep it).
 */
export async function prepareCase(
  files: CaseFiles,
  opts: PrepareOptions = {},
): Promise<LoadedCase> {
  const loaded = await loadCase(files, opts.load);
  const c = opts.preprocess === false ? loaded : preprocessCase(loaded, opts.preprocess ?? {}).case;
  return {
    id: c.id,
    channels: c.channels,
    modalities: c.modalities,
    seg:
      c.seg === null
        ? null
        : withDataErrors(() =>
            labelsToClasses(c.seg!, opts.convention ?? DEFAULT_LABEL_CONVENTION),
          ),
    shape: c.shape,
    spacing: c.spacing,
    affine: c.affine,
  };
}

/** Checks what sampling relies on: one grid, the same channel count as the first case, classes 0..3. */
export function checkTrainingCase(c: LoadedCase, channels: number): void {
  const voxels = c.shape[0] * c.shape[1] * c.shape[2];
  if (c.channels.length !== channels) {
    throw new DataError(
      "BAD_OPTION",
      `case ${c.id} has ${c.channels.length} channels, the first case ${channels}: every case needs the same modalities`,
    );
  }
  if (
    c.channels.some((ch) => ch.length !== voxels) ||
    (c.seg !== null && c.seg.length !== voxels)
  ) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${c.id}: channels and seg must hold ${voxels} voxels for shape [${c.shape.join(", ")}]`,
    );
  }
  if (c.seg !== null) {
    for (let i = 0; i < c.seg.length; i++) {
      if (c.seg[i]! >= NUM_CLASSES) {
        throw new DataError(
          "BAD_LABELS",
          `case ${c.id} has label ${c.seg[i]} at voxel ${i}; the loader wants classes 0..${NUM_CLASSES - 1} (labelsToClasses)`,
        );
      }
    }
  }
}

function sharedCopy<T extends Float32Array | Uint8Array>(data: T): T {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const copy = (
    data instanceof Float32Array
      ? new Float32Array(new SharedArrayBuffer(data.byteLength))
      : new Uint8Array(new SharedArrayBuffer(data.byteLength))
  ) as T;
  copy.set(data);
  return copy;
}

/** The case with its arrays in shared memory (copied once unless they already are), without header. */
export function shareCase(c: LoadedCase): LoadedCase {
  return {
    id: c.id,
    channels: c.channels.map(sharedCopy),
    modalities: [...c.modalities],
    seg: c.seg === null ? null : sharedCopy(c.seg),
    shape: [c.shape[0], c.shape[1], c.shape[2]],
    spacing: [c.spacing[0], c.spacing[1], c.spacing[2]],
    affine: c.affine.map((row) => [...row]),
  };
}

// ---------------------------------------------------------------------------------------------
// Messages between the loader and its workers.

export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
}

export interface WorkerInit {
  config: ProducerConfig;
  caseCount: number;
}

export type ToWorker =
  | { type: "case"; slot: number; case: LoadedCase }
  | { type: "load"; slot: number; files: CaseFiles; prepare: PrepareOptions }
  | { type: "batch"; job: number; epoch: number; index: number; count: number };

export type FromWorker =
  | { type: "loaded"; slot: number; case: LoadedCase }
  | ({ type: "batch"; job: number } & ProducedBatch)
  | { type: "error"; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === "string" ? code : undefined,
    };
  }
  return { name: "Error", message: String(error), stack: undefined, code: undefined };
}

const DATA_ERROR_CODES: readonly string[] = [
  "MISSING_MODALITY",
  "GEOMETRY_MISMATCH",
  "NO_CASES",
  "DUPLICATE_CASE",
  "BAD_LABELS",
  "BAD_OPTION",
  "IO",
] satisfies DataErrorCode[];

/**
 * The error next() rejects with for a failure in worker `worker`: a DataError with the worker's
 * code when it threw one (bad input found there), otherwise an Error; the worker's error, with
 * its stack, is the `cause`.
 */
function workerFailure(worker: number, e: SerializedError): Error {
  const cause = new Error(e.message);
  cause.name = e.name;
  if (e.stack !== undefined) cause.stack = e.stack;
  if (e.code !== undefined) Object.assign(cause, { code: e.code });
  const message = `loader worker ${worker}: ${e.message}`;
  return e.code !== undefined && DATA_ERROR_CODES.includes(e.code)
    ? new DataError(e.code as DataErrorCode, message, { cause })
    : new Error(message, { cause });
}

// ---------------------------------------------------------------------------------------------
// Starting a worker from the built package or from TypeScript sources.

let tsxRegisterUrl: string | null = null;

/** The URL of tsx's ESM register API (from its package exports), for workers run from sources. */
function tsxEsmApiUrl(): string {
  if (tsxRegisterUrl !== null) return tsxRegisterUrl;
  try {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve("tsx/package.json");
    const pkg = JSON.parse(readFileSync(packageJson, "utf8")) as {
      exports: Record<string, { import?: { default?: string } } | string>;
    };
    const entry = pkg.exports["./esm/api"];
    const file = typeof entry === "object" ? entry.import?.default : undefined;
    if (file === undefined) throw new Error("tsx has no ./esm/api import export");
    tsxRegisterUrl = pathToFileURL(join(dirname(packageJson), file)).href;
    return tsxRegisterUrl;
  } catch (cause) {
    throw new DataError(
      "BAD_OPTION",
      "loader workers run from TypeScript sources need tsx (a dev dependency); build the package or use workers: 0",
      { cause },
    );
  }
}

/**
 * A loader worker. From the built package, dist/loader-worker.js next to this module. From
 * sources (tests, tsx), Node 20 cannot start a worker from a .ts file, and `--import tsx` in the
 * worker's execArgv does not reach its entry module, so a tiny bootstrap registers tsx's ESM
 * hooks first; `--conditions=source` resolves @brats/* to sources as the tests do.
 */
function startWorker(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (!/\.[cm]?ts$/.test(new URL(here).pathname)) {
    return new Worker(new URL("./loader-worker.js", here), { workerData: init });
  }
  const entry = new URL("./loader-worker.ts", here).href;
  const bootstrap = `import(${JSON.stringify(tsxEsmApiUrl())})
    .then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, {
    eval: true,
    workerData: init,
    execArgv: ["--conditions=source"],
  });
}

// ---------------------------------------------------------------------------------------------
// The loader.

interface Position {
  epoch: number;
  index: number;
}

interface Waiter {
  resolve: (batch: Batch) => void;
  reject: (error: unknown) => void;
}

interface WorkerSlot {
  worker: Worker;
  id: number;
  busy: boolean;
  exited: boolean;
}

const DEFAULT_BATCHES_PER_EPOCH = 250;

function isCaseFiles(c: LoadedCase | CaseFiles): c is CaseFiles {
  return !("channels" in c);
}

function intOption(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new DataError("BAD_OPTION", `${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

export class PatchLoader {
  readonly batchSize: number;
  readonly patchSize: Vec3;
  readonly patchesPerEpoch: number;
  readonly queueSize: number;
  readonly workerCount: number;
  readonly seed: number;

  private readonly config: ProducerConfig;
  private inputCases: readonly (LoadedCase | CaseFiles)[];
  private readonly prepare: PrepareOptions;
  private channels = 0;

  /** Cases in memory (in-process mode, or shared with the workers). */
  private cases: LoadedCase[] = [];
  private producer: BatchProducer | null = null;
  private readonly workers: WorkerSlot[] = [];
  private readonly ready: Promise<void>;
  private isReady = false;

  /** Next position to produce and the sequence number its batch gets. */
  private dispatchPos: Position;
  private dispatchSeq = 0;
  /** Sequence number of the next batch to hand out, and the position after the last handed out. */
  private deliverSeq = 0;
  private statePos: Position;
  /** Sequence number the next next() call waits for. */
  private requestSeq = 0;
  private readonly results = new Map<number, Batch>();
  private readonly waiters = new Map<number, Waiter>();
  /** In-process mode: next() calls run one after another. */
  private chain: Promise<unknown> = Promise.resolve();

  private produced = 0;
  private peakInFlight = 0;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  constructor(opts: PatchLoaderOptions) {
    if (!Array.isArray(opts.cases) || opts.cases.length === 0) {
      throw new DataError("NO_CASES", "the loader needs at least one case");
    }
    this.inputCases = opts.cases as readonly (LoadedCase | CaseFiles)[];
    const kinds = new Set(this.inputCases.map(isCaseFiles));
    if (kinds.size !== 1) {
      throw new DataError("BAD_OPTION", "cases must be all LoadedCase or all CaseFiles, not a mix");
    }
    if (typeof opts.seed !== "number" || !Number.isSafeInteger(opts.seed)) {
      throw new DataError("BAD_OPTION", `seed must be a safe integer, got ${String(opts.seed)}`);
    }
    this.seed = opts.seed;
    this.batchSize = intOption("batchSize", opts.batchSize, 1);
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
    this.patchSize = [
      intOption("patchSize x", size[0], 1),
      intOption("patchSize y", size[1], 1),
      intOption("patchSize z", size[2], 1),
    ];
    this.patchesPerEpoch = intOption(
      "patchesPerEpoch",
      opts.patchesPerEpoch ?? DEFAULT_BATCHES_PER_EPOCH * this.batchSize,
      1,
    );
    this.workerCount = intOption("workers", opts.workers ?? 1, 0);
    this.queueSize = intOption("queueSize", opts.queueSize ?? Math.max(2, 2 * this.workerCount), 1);
    const startEpoch = intOption("startEpoch", opts.startEpoch ?? 0, 0);
    const startIndex = intOption("startIndex", opts.startIndex ?? 0, 0);
    if (startIndex >= this.patchesPerEpoch) {
      throw new DataError(
        "BAD_OPTION",
        `startIndex ${startIndex} is not below patchesPerEpoch ${this.patchesPerEpoch}`,
      );
    }
    const share = opts.foregroundShare;
    if (share !== undefined && !(typeof share === "number" && share >= 0 && share <= 1)) {
      throw new DataError("BAD_OPTION", `foregroundShare must be in [0, 1], got ${String(share)}`);
    }
    const augment = opts.augment ?? true;
    // Bad augmentation options fail here, not later in a worker (drawing checks every option).
    if (typeof augment === "object") drawAugmentation(createRng(0), 1, augment);
    this.config = {
      seed: this.seed,
      patchSize: this.patchSize,
      augment: augment === false ? null : augment === true ? {} : augment,
      foregroundShare: share,
    };
    this.prepare = {
      load: opts.load,
      preprocess: opts.preprocess ?? {},
      convention: opts.convention ?? "brats2021",
    };
    this.dispatchPos = { epoch: startEpoch, index: startIndex };
    this.statePos = { ...this.dispatchPos };

    if (!isCaseFiles(this.inputCases[0]!)) {
      const loaded = this.inputCases as LoadedCase[];
      this.channels = loaded[0]!.channels.length;
      for (const c of loaded) checkTrainingCase(c, this.channels);
    }
    this.ready = this.workerCount === 0 ? this.prepareInProcess() : this.prepareWorkers();
    // A failure is kept and reported by next(); nothing is left unhandled.
    this.ready.then(
      () => {
        this.isReady = true;
        this.pump();
      },
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** The next batch, in index order; rejects with the cause when producing it failed. */
  next(): Promise<Batch> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing !== null) return Promise.reject(closedError());
    if (this.workerCount === 0) {
      const result = this.chain.then(() => this.nextInProcess());
      this.chain = result.catch(() => undefined);
      return result;
    }
    const seq = this.requestSeq++;
    const promise = new Promise<Batch>((resolve, reject) => {
      this.waiters.set(seq, { resolve, reject });
    });
    this.updateRefs();
    this.flush();
    this.pump();
    return promise;
  }

  /** The position of the next batch next() returns (after the batches already returned). */
  state(): LoaderState {
    return { seed: this.seed, epoch: this.statePos.epoch, index: this.statePos.index };
  }

  stats(): LoaderStats {
    return {
      ready: this.results.size,
      inFlight: this.dispatchSeq - this.deliverSeq,
      peakInFlight: this.peakInFlight,
      produced: this.produced,
      workers: this.workers.filter((w) => !w.exited).length,
    };
  }

  /**
   * Stops the workers (terminating batches in progress) and drops queued batches; pending and
   * later next() calls reject. Resolves once every worker has exited.
   */
  close(): Promise<void> {
    if (this.closing === null) {
      const error = closedError();
      for (const w of this.waiters.values()) w.reject(error);
      this.waiters.clear();
      this.results.clear();
      this.closing = this.terminateWorkers();
      this.onPrepareFailure?.(error);
    }
    return this.closing;
  }

  // ---- in-process mode

  private async prepareInProcess(): Promise<void> {
    if (isCaseFiles(this.inputCases[0]!)) {
      const cases: LoadedCase[] = [];
      for (const files of this.inputCases as CaseFiles[]) {
        const c = await prepareCase(files, this.prepare);
        if (cases.length === 0) this.channels = c.channels.length;
        checkTrainingCase(c, this.channels);
        cases.push(c);
      }
      this.cases = cases;
    } else {
      this.cases = [...(this.inputCases as LoadedCase[])];
    }
    this.producer = new BatchProducer(this.cases, this.config);
  }

  private async nextInProcess(): Promise<Batch> {
    await this.ready;
    if (this.failure !== null) throw this.failure;
    if (this.closing !== null) throw closedError();
    const pos = this.dispatchPos;
    const count = this.countAt(pos);
    this.dispatchPos = this.advance(pos, count);
    const batch = this.shapeBatch(this.producer!.produce(pos.epoch, pos.index, count));
    this.produced++;
    this.statePos = this.dispatchPos;
    return batch;
  }

  // ---- worker mode

  private async prepareWorkers(): Promise<void> {
    const files = isCaseFiles(this.inputCases[0]!) ? (this.inputCases as CaseFiles[]) : null;
    const init: WorkerInit = { config: this.config, caseCount: this.inputCases.length };
    for (let id = 0; id < this.workerCount; id++) {
      const slot: WorkerSlot = { worker: startWorker(init), id, busy: false, exited: false };
      slot.worker.on("message", (m: FromWorker) => this.onMessage(slot, m));
      slot.worker.on("error", (error: Error) =>
        this.fail(workerFailure(id, serializeError(error))),
      );
      slot.worker.on("exit", (code: number) => {
        slot.exited = true;
        if (this.closing === null && this.failure === null) {
          this.fail(new Error(`loader worker ${id} exited unexpectedly (code ${code})`));
        }
      });
      this.workers.push(slot);
    }
    this.updateRefs();
    if (files === null) {
      // Shared once: every worker reads the same memory.
      this.cases = (this.inputCases as LoadedCase[]).map(shareCase);
      this.inputCases = this.cases; // the caller's copies are not kept alive by the loader
      this.cases.forEach((c, slot) => this.broadcast({ type: "case", slot, case: c }));
      return;
    }
    // Each case is read and preprocessed by one worker, then shared with the others.
    this.cases = new Array<LoadedCase>(files.length);
    await new Promise<void>((resolve, reject) => {
      let nextSlot = 0;
      let loaded = 0;
      const assign = (w: WorkerSlot): void => {
        if (nextSlot >= files.length) return;
        const slot = nextSlot++;
        w.busy = true;
        w.worker.postMessage({
          type: "load",
          slot,
          files: files[slot]!,
          prepare: this.prepare,
        } satisfies ToWorker);
      };
      this.onLoaded = (w, slot, c) => {
        try {
          if (loaded === 0) this.channels = c.channels.length;
          checkTrainingCase(c, this.channels);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        this.cases[slot] = c;
        for (const other of this.workers) {
          if (other !== w)
            other.worker.postMessage({ type: "case", slot, case: c } satisfies ToWorker);
        }
        w.busy = false;
        if (++loaded === files.length) resolve();
        else assign(w);
      };
      this.onPrepareFailure = reject;
      for (const w of this.workers) assign(w);
    });
    this.onLoaded = null;
    this.onPrepareFailure = null;
  }

  private onLoaded: ((w: WorkerSlot, slot: number, c: LoadedCase) => void) | null = null;
  private onPrepareFailure: ((error: unknown) => void) | null = null;

  private broadcast(message: ToWorker): void {
    for (const w of this.workers) w.worker.postMessage(message);
  }

  private onMessage(w: WorkerSlot, m: FromWorker): void {
    if (this.closing !== null || this.failure !== null) return;
    if (m.type === "error") {
      this.fail(workerFailure(w.id, m.error));
    } else if (m.type === "loaded") {
      this.onLoaded?.(w, m.slot, m.case);
    } else {
      w.busy = false;
      this.produced++;
      this.results.set(m.job, this.shapeBatch(m));
      this.flush();
      this.pump();
    }
  }

  /** Hands out produced batches to waiting next() calls, in sequence order. */
  private flush(): void {
    for (;;) {
      const waiter = this.waiters.get(this.deliverSeq);
      const batch = this.results.get(this.deliverSeq);
      if (waiter === undefined || batch === undefined) break;
      this.waiters.delete(this.deliverSeq);
      this.results.delete(this.deliverSeq);
      this.deliverSeq++;
      this.statePos = this.advance({ epoch: batch.epoch, index: batch.index }, batch.shape[0]);
      waiter.resolve(batch);
    }
    this.updateRefs();
  }

  /** Starts batches on idle workers while fewer than queueSize are in flight. */
  private pump(): void {
    if (!this.isReady || this.closing !== null || this.failure !== null) return;
    for (const w of this.workers) {
      if (this.dispatchSeq - this.deliverSeq >= this.queueSize) break;
      if (w.busy || w.exited) continue;
      const pos = this.dispatchPos;
      const count = this.countAt(pos);
      this.dispatchPos = this.advance(pos, count);
      w.busy = true;
      w.worker.postMessage({
        type: "batch",
        job: this.dispatchSeq++,
        epoch: pos.epoch,
        index: pos.index,
        count,
      } satisfies ToWorker);
      this.peakInFlight = Math.max(this.peakInFlight, this.dispatchSeq - this.deliverSeq);
    }
  }

  /** Workers keep the process alive only while a next() call waits, so a forgotten loader cannot hang it. */
  private updateRefs(): void {
    const needed = this.waiters.size > 0;
    for (const w of this.workers) {
      if (needed) w.worker.ref();
      else w.worker.unref();
    }
  }

  private fail(error: Error): void {
    if (this.failure !== null || this.closing !== null) return;
    this.failure = error;
    this.onPrepareFailure?.(error);
    for (const w of this.waiters.values()) w.reject(error);
    this.waiters.clear();
    this.results.clear();
    void this.terminateWorkers();
  }

  private async terminateWorkers(): Promise<void> {
    await Promise.all(
      // terminate() resolves once the thread has stopped, even in the middle of a batch.
      this.workers.map(async (w) => {
        await w.worker.terminate();
      }),
    );
  }

  // ---- positions

  private countAt(pos: Position): number {
    return Math.min(this.batchSize, this.patchesPerEpoch - pos.index);
  }

  private advance(pos: Position, count: number): Position {
    const index = pos.index + count;
    return index >= this.patchesPerEpoch
      ? { epoch: pos.epoch + 1, index: 0 }
      : { epoch: pos.epoch, index };
  }

  private shapeBatch(b: ProducedBatch): Batch {
    const [px, py, pz] = this.patchSize;
    const count = b.caseIds.length;
    return {
      images: b.images,
      labels: b.labels,
      shape: [count, pz, py, px, b.images.length / (count * px * py * pz)],
      epoch: b.epoch,
      index: b.index,
      caseIds: b.caseIds,
      origins: b.origins,
    };
  }
}

function closedError(): DataError {
  return new DataError("BAD_OPTION", "the loader is closed");
}
