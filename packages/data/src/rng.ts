/**
 * A small seeded PRNG (xoshiro128**, Blackman & Vigna) with a serialisable state, so patch
 * sampling and augmentation are reproducible across processes, workers and resumed runs.
 * Not for cryptography.
 */
import { DataError } from "./errors.js";

export interface Rng {
  /** A uniform number in [0, 1) with 32 random bits. */
  next(): number;
  /** The four 32-bit words of the state; `createRng(rng.state())` continues the same stream. */
  state(): number[];
}

const TWO_POW_32 = 4294967296;

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(words: readonly number[]) {
    this.s0 = words[0] as number;
    this.s1 = words[1] as number;
    this.s2 = words[2] as number;
    this.s3 = words[3] as number;
  }

  /** The next 32-bit output, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  state(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }
}

/** Splits a safe integer into its low and high 32-bit words (two's complement for negatives). */
function words64(key: number): [number, number] {
  if (!Number.isSafeInteger(key)) {
    throw new DataError("BAD_OPTION", `seeds and keys must be safe integers, got ${key}`);
  }
  return [key >>> 0, Math.floor(key / TWO_POW_32) >>> 0];
}

const LANE_MULTIPLIERS = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f];

/**
 * A generator state derived from any number of integer keys, e.g. `(seed, epoch, index)`:
 * different key lists give unrelated streams (128 bits of state, each key mixed into every word).
 * `createRng(seed)` is `createRng(deriveRngState(seed))`.
 */
export function deriveRngState(...keys: number[]): number[] {
  const lanes: number[] = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
  // the key count is mixed in so that (1) and (1, 0) differ
  const words = [keys.length, ...keys.flatMap(words64)];
  for (const word of words) {
    for (let i = 0; i < 4; i++) {
      const other = lanes[(i + 1) & 3] as number;
      lanes[i] = fmix32(
        ((lanes[i] as number) + Math.imul(word ^ other, LANE_MULTIPLIERS[i] as number)) >>> 0,
      );
    }
  }
  // a final round so that the last key reaches every lane
  for (let i = 0; i < 4; i++) {
    lanes[i] = fmix32(((lanes[i] as number) ^ (lanes[(i + 3) & 3] as number)) + i + 1);
  }
  if (!lanes.some((w) => w !== 0)) lanes[0] = 1; // the all-zero state is xoshiro's fixed point
  return lanes;
}

/**
 * A seeded generator. `seed` is a safe integer, or a state from `rng.state()` /
 * {@link deriveRngState} (four 32-bit unsigned integers, not all zero) to resume a stream.
 */
export function createRng(seed: number | readonly number[]): Rng {
  if (typeof seed === "number") return new Xoshiro128(deriveRngState(seed));
  if (
    seed.length !== 4 ||
    seed.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32) ||
    seed.every((w) => w === 0)
  ) {
    throw new DataError(
      "BAD_OPTION",
      "an RNG state must be four 32-bit unsigned integers, not all zero (use deriveRngState(...keys) to make one from keys)",
    );
  }
  return new Xoshiro128(seed);
}

/** A uniform integer in 0..n−1 (n ≥ 1, at most 2³²). */
export function randomInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng.next() * n));
}

/** A uniform number in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}
