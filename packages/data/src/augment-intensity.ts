// The voxel-value part of patch augmentation: flips with intensity scale and shift in one pass, and
// nnU-Net's gamma, with the fast x^γ it needs.
import type { Vec3 } from "./grid.js";

// ---------------------------------------------------------------------------------------------
// fast x^γ on [0, 1]: Math.pow costs ~50 ns a call in V8, too slow for millions of voxels

const TABLE_BITS = 12;
const TABLE_SIZE = 1 << TABLE_BITS;
const LN2 = Math.LN2;
/** log2 and reciprocal of the midpoints 1 + (i + ½)/4096 of the mantissa intervals. */
const LOG2_MID = new Float64Array(TABLE_SIZE);
const INV_MID = new Float64Array(TABLE_SIZE);
/** 2^(i/4096). */
const EXP2_STEP = new Float64Array(TABLE_SIZE);
for (let i = 0; i < TABLE_SIZE; i++) {
  const mid = 1 + (i + 0.5) / TABLE_SIZE;
  LOG2_MID[i] = Math.log2(mid);
  INV_MID[i] = 1 / mid;
  EXP2_STEP[i] = 2 ** (i / TABLE_SIZE);
}
/** 2^k for k in −1050..1049, at index k + 1050. */
const POW2 = new Float64Array(2100);
for (let k = -1050; k < 1050; k++) POW2[k + 1050] = 2 ** k;
// reading the high word of a double written just before is cheap; writing words and reading the
// double back stalls the CPU (no store forwarding), so scaling goes through POW2 instead
const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * t^g for t in [0, 1] and g > 0, to ~1e-14 relative, ~6× faster than Math.pow: log2 from the
 * float's exponent, a table at the mantissa's top 12 bits and a 3-term series; 2^y from a table
 * of 2^(i/4096) and a 4-term series. Exported for tests.
 */
export function powUnit(t: number, g: number): number {
  if (!(t > 0)) return 0;
  scratch[0] = t;
  const hi = scratchWords[HI]!;
  const exponent = (hi >>> 20) - 1023;
  if (exponent === -1023) return Math.pow(t, g); // subnormal doubles: never from float32 data
  const index = (hi >>> 8) & (TABLE_SIZE - 1);
  const r = t * POW2[1050 - exponent]! * INV_MID[index]! - 1; // mantissa / table midpoint − 1, |r| ≤ 2^-13
  const log2 = exponent + LOG2_MID[index]! + (r * (1 - r * (0.5 - r / 3))) / LN2;
  const y = g * log2;
  const k = Math.floor(y);
  if (k < -1022) return 0;
  if (k > 1023) return Infinity;
  const f = y - k;
  const j = (f * TABLE_SIZE) | 0;
  const d = (f - j / TABLE_SIZE) * LN2;
  return EXP2_STEP[j]! * (1 + d * (1 + d * (0.5 + d * (1 / 6 + d / 24)))) * POW2[k + 1050]!;
}

// ---------------------------------------------------------------------------------------------
// flips + intensity (one pass), gamma

export interface ChannelStats {
  min: Float64Array;
  max: Float64Array;
  sum: Float64Array;
  sumSq: Float64Array;
}

/**
 * Writes the flipped patch with v·scale + shift into fresh arrays; gathers per-channel
 * min/max/sum/sum² of the written values when `stats` is given. Works row by row, channel by
 * channel within a row, so the row stays in cache and the running statistics in registers.
 */
export function flipAndScale(
  image: Float32Array,
  labels: Uint8Array,
  shape: Vec3,
  channels: number,
  flip: readonly [boolean, boolean, boolean],
  scale: readonly number[],
  shift: readonly number[],
  stats: ChannelStats | null,
): { image: Float32Array; labels: Uint8Array } {
  const [px, py, pz] = shape;
  const outImage = new Float32Array(image.length);
  const outLabels = new Uint8Array(labels.length);
  const identity = scale.every((s) => s === 1) && shift.every((s) => s === 0);
  const rowValues = px * channels;
  // reading x backwards: start at the row's last voxel and step back
  const xStep = flip[0] ? -channels : channels;
  const xStart = flip[0] ? (px - 1) * channels : 0;
  let o = 0;
  for (let z = 0; z < pz; z++) {
    const sz = flip[2] ? pz - 1 - z : z;
    for (let y = 0; y < py; y++) {
      const sy = flip[1] ? py - 1 - y : y;
      const row = px * (sy + py * sz);
      outLabels.set(labels.subarray(row, row + px), o);
      if (flip[0]) outLabels.subarray(o, o + px).reverse();
      const src = row * channels;
      const dst = o * channels;
      o += px;
      if (identity && !flip[0] && stats === null) {
        outImage.set(image.subarray(src, src + rowValues), dst);
        continue;
      }
      for (let c = 0; c < channels; c++) {
        const a = scale[c]!;
        const b = shift[c]!;
        const end = dst + rowValues;
        if (stats === null) {
          for (let d = dst + c, s = src + xStart + c; d < end; d += channels, s += xStep) {
            outImage[d] = image[s]! * a + b;
          }
          continue;
        }
        let min = stats.min[c]!;
        let max = stats.max[c]!;
        let sum = 0;
        let sumSq = 0;
        for (let d = dst + c, s = src + xStart + c; d < end; d += channels, s += xStep) {
          const v = Math.fround(image[s]! * a + b); // statistics of the stored float32 values
          outImage[d] = v;
          if (v < min) min = v;
          if (v > max) max = v;
          sum += v;
          sumSq += v * v;
        }
        stats.min[c] = min;
        stats.max[c] = max;
        stats.sum[c] = stats.sum[c]! + sum;
        stats.sumSq[c] = stats.sumSq[c]! + sumSq;
      }
    }
  }
  return { image: outImage, labels: outLabels };
}

const GAMMA_TABLE_STEPS = 1 << 14;
/** Below this, t^γ bends too fast for the table; powUnit is used instead (few voxels: those near the minimum). */
const GAMMA_TABLE_FROM = 1 / 256;

/**
 * t^γ at t = i / 2^14, i = 0..2^14 (and a repeated last entry). Linear interpolation in it is
 * within |f''|·h²/8 of the true value: ≤ 1.3e-7 for t ≥ 1/256 and γ in [0.7, 1.5], as small
 * as float32 rounding of the result, at a third of powUnit's cost per voxel. Exported for tests.
 */
export function gammaTable(g: number): Float64Array {
  const table = new Float64Array(GAMMA_TABLE_STEPS + 2);
  for (let i = 0; i <= GAMMA_TABLE_STEPS; i++) table[i] = powUnit(i / GAMMA_TABLE_STEPS, g);
  table[GAMMA_TABLE_STEPS + 1] = table[GAMMA_TABLE_STEPS]!;
  return table;
}

/**
 * In place, per channel with a gamma: nnU-Net's augment_gamma. On w = ±v (− when inverted):
 * w → ((w − min) / (range + 1e-7))^γ · (range + 1e-7) + min, then (retainStats) shifted and
 * scaled back to the channel's mean and population std, and the sign restored. The statistics
 * are those of the values as stored (float32), as nnU-Net computes them on its float32 arrays.
 */
export function applyGamma(
  image: Float32Array,
  channels: number,
  gammas: ReadonlyArray<null | { gamma: number; invert: boolean }>,
  retainStats: boolean,
  stats: ChannelStats,
): void {
  const voxels = image.length / channels;
  for (let c = 0; c < channels; c++) {
    const params = gammas[c];
    if (params === null || params === undefined) continue;
    const g = params.gamma;
    const sign = params.invert ? -1 : 1;
    const low = params.invert ? -stats.max[c]! : stats.min[c]!;
    const span = stats.max[c]! - stats.min[c]! + 1e-7;
    const invSpan = 1 / span;
    const table = gammaTable(g);
    let sum = 0;
    let sumSq = 0;
    for (let i = c; i < image.length; i += channels) {
      const t = (sign * image[i]! - low) * invSpan;
      let p: number;
      if (t < GAMMA_TABLE_FROM) {
        p = powUnit(t, g);
      } else {
        const x = t * GAMMA_TABLE_STEPS;
        const k = x | 0;
        const lo = table[k]!;
        p = lo + (table[k + 1]! - lo) * (x - k);
      }
      const v = Math.fround(p * span + low);
      image[i] = v;
      sum += v;
      sumSq += v * v;
    }
    if (!retainStats) {
      if (sign === -1) for (let i = c; i < image.length; i += channels) image[i] = -image[i]!;
      continue;
    }
    const mean = (sign * stats.sum[c]!) / voxels;
    const std = Math.sqrt(Math.max(0, stats.sumSq[c]! / voxels - (stats.sum[c]! / voxels) ** 2));
    const meanAfter = sum / voxels;
    const stdAfter = Math.sqrt(Math.max(0, sumSq / voxels - meanAfter * meanAfter));
    // w → (w − meanAfter) / (stdAfter + 1e-8) · std + mean, then × sign
    const ratio = std / (stdAfter + 1e-8);
    const a = sign * ratio;
    const b = sign * (mean - meanAfter * ratio);
    for (let i = c; i < image.length; i += channels) image[i] = image[i]! * a + b;
  }
}
