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
 *
 * Parts: options (loader-options.ts), cases (loader-cases.ts), batch production (loader-producer.ts),
 * the worker messages (loader-protocol.ts), starting a worker (loader-start.ts) and the worker
 * itself (loader-worker.ts).
 */
import type { Worker } from "node:worker_threads";
import type { CaseFiles, LoadedCase } from "./cases.js";
import { DataError } from "./errors.js";
import { checkTrainingCase, prepareCase, shareCase, type PrepareOptions } from "./loader-cases.js";
import { isCaseFiles, resolveLoaderOptions, type PatchLoaderOptions } from "./loader-options.js";
import { BatchProducer, type ProducedBatch, type ProducerConfig } from "./loader-producer.js";
import {
  serializeError,
  workerFailure,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from "./loader-protocol.js";
import { startWorker } from "./loader-start.js";
import type { Vec3 } from "./grid.js";

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
    const o = resolveLoaderOptions(opts);
    this.inputCases = o.cases;
    this.seed = o.seed;
    this.batchSize = o.batchSize;
    this.patchSize = o.patchSize;
    this.patchesPerEpoch = o.patchesPerEpoch;
    this.workerCount = o.workerCount;
    this.queueSize = o.queueSize;
    this.config = o.config;
    this.prepare = o.prepare;
    this.dispatchPos = { epoch: o.startEpoch, index: o.startIndex };
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
