// Production of batches from cases in memory: the same code in the loader's workers and in process
// (workers: 0), which is why the stream does not depend on the worker count.
import { augmentPatch, type AugmentOptions } from "./augment.js";
import type { LoadedCase } from "./cases.js";
import { samplePatch } from "./patches.js";
import type { Vec3 } from "./grid.js";
import { createRng, deriveRngState, randomInt } from "./rng.js";

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
