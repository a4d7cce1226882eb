/**
 * Patch augmentation as nnU-Net and MONAI do it: optional small rotations and scaling about the
 * patch centre (trilinear images, nearest labels, 0 outside), random flips on three axes,
 * per-channel intensity scale and shift, and per-channel gamma on min-max normalised values
 * (nnU-Net's augment_gamma, keeping mean and std). Parameters are drawn from a seeded RNG
 * ({@link drawAugmentation}) and applied by a pure function ({@link applyAugmentation}), so the
 * same seed gives the same bytes and a patch's parameters can be logged.
 *
 * Patches are channels-last [z][y][x][C] with labels [z][y][x] (see patches.ts).
 */
import { DataError } from "./errors.js";
import type { Patch } from "./patches.js";
import type { Vec3 } from "./preprocess.js";
import { uniform, type Rng } from "./rng.js";

export interface AugmentOptions {
  /** Flip each enabled axis with `probability` (default 0.5, axes [x, y, z] all enabled). false: none. */
  flip?: false | { probability?: number; axes?: readonly [boolean, boolean, boolean] };
  /**
   * Per channel, with `probability` (default 1): v → v·(1 + U(−scale, scale)) + U(−shift, shift)
   * (MONAI's RandScaleIntensity and RandShiftIntensity on z-scored data; defaults 0.1 and 0.1).
   */
  intensity?: false | { probability?: number; scale?: number; shift?: number };
  /**
   * Per channel, with `probability` (default 0.3): nnU-Net's gamma, γ from `range` (default
   * [0.7, 1.5]; below 1 half of the time when the range allows), on values min-max normalised to
   * [0, 1]; `invertProbability` (default 0) applies it to −v instead; `retainStats` (default
   * true) restores the channel's mean and std afterwards.
   */
  gamma?:
    | false
    | {
        probability?: number;
        range?: readonly [number, number];
        invertProbability?: number;
        retainStats?: boolean;
      };
  /** Off unless given. With `probability` (default 0.2) rotate about x, y and z by U(−maxAngle, maxAngle) radians each (default π/12 = 15°). */
  rotation?:
    false | { probability?: number; maxAngle?: number | readonly [number, number, number] };
  /** Off unless given. With `probability` (default 0.2) magnify the content by U(range) (default [0.85, 1.25]). */
  scaling?: false | { probability?: number; range?: readonly [number, number] };
}

/** The drawn parameters of one augmentation (JSON-safe). */
export interface AugmentParams {
  /** Axes [x, y, z] to reverse. */
  flip: [boolean, boolean, boolean];
  /** Per channel: v → v·scale[c] + shift[c]. */
  scale: number[];
  shift: number[];
  /** Per channel: the gamma applied (on −v when `invert`), or null. */
  gamma: Array<null | { gamma: number; invert: boolean }>;
  retainStats: boolean;
  /** Angles (radians) about x, y and z, applied in that order, or null. */
  rotation: Vec3 | null;
  /** Content magnification about the patch centre, or null. */
  zoom: number | null;
}

// ---------------------------------------------------------------------------------------------
// options

function badOption(message: string): DataError {
  return new DataError("BAD_OPTION", message);
}

function probability(value: number | undefined, fallback: number, name: string): number {
  const p = value ?? fallback;
  if (!(p >= 0 && p <= 1)) throw badOption(`${name} must be a probability in [0, 1], got ${p}`);
  return p;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(v >= 0) || !Number.isFinite(v))
    throw badOption(`${name} must be a non-negative number, got ${v}`);
  return v;
}

function range(
  value: readonly [number, number] | undefined,
  fallback: [number, number],
  name: string,
): [number, number] {
  const r = value ?? fallback;
  if (
    !Array.isArray(r) ||
    r.length !== 2 ||
    !(r[0] > 0) ||
    !(r[1] >= r[0]) ||
    !Number.isFinite(r[1])
  ) {
    throw badOption(`${name} must be [low, high] with 0 < low ≤ high, got ${JSON.stringify(r)}`);
  }
  return [r[0], r[1]];
}

/**
 * Draws the parameters of one augmentation of a patch with `channels` channels. The draws are
 * made in a fixed order (rotation, scaling, flips, then intensity and gamma channel by channel),
 * so a given RNG state always gives the same parameters.
 */
export function drawAugmentation(
  rng: Rng,
  channels: number,
  opts: AugmentOptions = {},
): AugmentParams {
  if (!Number.isSafeInteger(channels) || channels < 1) {
    throw badOption(`channels must be a positive integer, got ${channels}`);
  }
  const params: AugmentParams = {
    flip: [false, false, false],
    scale: new Array<number>(channels).fill(1),
    shift: new Array<number>(channels).fill(0),
    gamma: new Array<null>(channels).fill(null),
    retainStats: true,
    rotation: null,
    zoom: null,
  };

  if (opts.rotation) {
    const p = probability(opts.rotation.probability, 0.2, "rotation.probability");
    const maxOpt = opts.rotation.maxAngle ?? Math.PI / 12;
    const max = typeof maxOpt === "number" ? [maxOpt, maxOpt, maxOpt] : maxOpt;
    if (
      !Array.isArray(max) ||
      max.length !== 3 ||
      max.some((a) => !(a >= 0) || !Number.isFinite(a))
    ) {
      throw badOption(
        `rotation.maxAngle must be a non-negative number of radians or three of them`,
      );
    }
    if (rng.next() < p) params.rotation = max.map((a) => uniform(rng, -a, a)) as Vec3;
  }
  if (opts.scaling) {
    const p = probability(opts.scaling.probability, 0.2, "scaling.probability");
    const [lo, hi] = range(opts.scaling.range, [0.85, 1.25], "scaling.range");
    if (rng.next() < p) params.zoom = uniform(rng, lo, hi);
  }
  if (opts.flip !== false) {
    const flip = opts.flip ?? {};
    const p = probability(flip.probability, 0.5, "flip.probability");
    const axes = flip.axes ?? [true, true, true];
    for (let a = 0; a < 3; a++) params.flip[a] = rng.next() < p && axes[a] === true;
  }
  const intensity = opts.intensity === false ? null : (opts.intensity ?? {});
  const pIntensity =
    intensity === null ? 0 : probability(intensity.probability, 1, "intensity.probability");
  const scale = intensity === null ? 0 : nonNegative(intensity.scale, 0.1, "intensity.scale");
  const shift = intensity === null ? 0 : nonNegative(intensity.shift, 0.1, "intensity.shift");
  const gamma = opts.gamma === false ? null : (opts.gamma ?? {});
  const pGamma = gamma === null ? 0 : probability(gamma.probability, 0.3, "gamma.probability");
  const pInvert =
    gamma === null ? 0 : probability(gamma.invertProbability, 0, "gamma.invertProbability");
  const [gLo, gHi] = gamma === null ? [1, 1] : range(gamma.range, [0.7, 1.5], "gamma.range");
  params.retainStats = gamma?.retainStats ?? true;
  for (let c = 0; c < channels; c++) {
    if (intensity !== null && rng.next() < pIntensity) {
      params.scale[c] = uniform(rng, 1 - scale, 1 + scale);
      params.shift[c] = uniform(rng, -shift, shift);
    }
    if (gamma !== null && rng.next() < pGamma) {
      const invert = rng.next() < pInvert;
      // nnU-Net: half of the draws below 1 (when the range reaches below 1), the rest at or above 1
      const g =
        rng.next() < 0.5 && gLo < 1
          ? uniform(rng, gLo, Math.min(1, gHi))
          : uniform(rng, Math.max(gLo, 1), gHi);
      params.gamma[c] = { gamma: g, invert };
    }
  }
  return params;
}

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
// spatial transform (rotation and scaling about the patch centre)

/** Entries within 1e-12 of an integer are snapped, so multiples of 90° permute voxels exactly. */
function snap(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-12 ? r : v;
}

/**
 * The 3×3 map from an output voxel's offset to the patch centre to its source offset: the
 * inverse of zoom · Rz · Ry · Rx.
 */
export function spatialInverse(rotation: Vec3 | null, zoom: number | null): number[][] {
  const [ax, ay, az] = rotation ?? [0, 0, 0];
  const [cx, sx, cy, sy, cz, sz] = [ax, ay, az].flatMap((a) => [
    snap(Math.cos(a)),
    snap(Math.sin(a)),
  ]) as [number, number, number, number, number, number];
  const rx = [
    [1, 0, 0],
    [0, cx, -sx],
    [0, sx, cx],
  ];
  const ry = [
    [cy, 0, sy],
    [0, 1, 0],
    [-sy, 0, cy],
  ];
  const rz = [
    [cz, -sz, 0],
    [sz, cz, 0],
    [0, 0, 1],
  ];
  const mul = (a: number[][], b: number[][]) =>
    a.map((row) =>
      [0, 1, 2].map((j) => row[0]! * b[0]![j]! + row[1]! * b[1]![j]! + row[2]! * b[2]![j]!),
    );
  const r = mul(rz, mul(ry, rx));
  const s = zoom ?? 1;
  // a rotation's inverse is its transpose
  return [0, 1, 2].map((i) => [0, 1, 2].map((j) => r[j]![i]! / s));
}

/** Resamples a channels-last patch through `inverse` about its centre: trilinear images, nearest labels, 0 outside. */
function transformPatch(
  image: Float32Array,
  labels: Uint8Array,
  shape: Vec3,
  channels: number,
  inverse: number[][],
): { image: Float32Array; labels: Uint8Array } {
  const [px, py, pz] = shape;
  const outImage = new Float32Array(image.length);
  const outLabels = new Uint8Array(labels.length);
  const cx = (px - 1) / 2;
  const cy = (py - 1) / 2;
  const cz = (pz - 1) / 2;
  const [m0, m1, m2] = inverse as [number[], number[], number[]];
  const strideY = px * channels;
  const strideZ = px * py * channels;
  const corner = new Float64Array(8);
  let o = 0;
  for (let z = 0; z < pz; z++) {
    for (let y = 0; y < py; y++) {
      // source of output voxel (0, y, z); each step in x adds the first column
      const dz = z - cz;
      const dy = y - cy;
      let sx = cx + m0[0]! * -cx + m0[1]! * dy + m0[2]! * dz;
      let sy = cy + m1[0]! * -cx + m1[1]! * dy + m1[2]! * dz;
      let sz = cz + m2[0]! * -cx + m2[1]! * dy + m2[2]! * dz;
      for (let x = 0; x < px; x++, o++, sx += m0[0]!, sy += m1[0]!, sz += m2[0]!) {
        const nxr = Math.round(sx);
        const nyr = Math.round(sy);
        const nzr = Math.round(sz);
        if (nxr >= 0 && nxr < px && nyr >= 0 && nyr < py && nzr >= 0 && nzr < pz) {
          outLabels[o] = labels[nxr + px * (nyr + py * nzr)]!;
        }
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const z0 = Math.floor(sz);
        if (x0 < -1 || y0 < -1 || z0 < -1 || x0 >= px || y0 >= py || z0 >= pz) continue;
        const wx = sx - x0;
        const wy = sy - y0;
        const wz = sz - z0;
        const base = (x0 + px * (y0 + py * z0)) * channels;
        const out = o * channels;
        if (x0 >= 0 && y0 >= 0 && z0 >= 0 && x0 < px - 1 && y0 < py - 1 && z0 < pz - 1) {
          for (let c = 0; c < channels; c++) {
            const b = base + c;
            const c00 = image[b]! + (image[b + channels]! - image[b]!) * wx;
            const c10 =
              image[b + strideY]! + (image[b + strideY + channels]! - image[b + strideY]!) * wx;
            const c01 =
              image[b + strideZ]! + (image[b + strideZ + channels]! - image[b + strideZ]!) * wx;
            const c11 =
              image[b + strideZ + strideY]! +
              (image[b + strideZ + strideY + channels]! - image[b + strideZ + strideY]!) * wx;
            const c0 = c00 + (c10 - c00) * wy;
            const c1 = c01 + (c11 - c01) * wy;
            outImage[out + c] = c0 + (c1 - c0) * wz;
          }
          continue;
        }
        // at the border: corners outside the patch read 0
        for (let c = 0; c < channels; c++) {
          for (let k = 0; k < 8; k++) {
            const xi = x0 + (k & 1);
            const yi = y0 + ((k >> 1) & 1);
            const zi = z0 + (k >> 2);
            corner[k] =
              xi >= 0 && xi < px && yi >= 0 && yi < py && zi >= 0 && zi < pz
                ? image[(xi + px * (yi + py * zi)) * channels + c]!
                : 0;
          }
          const c00 = corner[0]! * (1 - wx) + corner[1]! * wx;
          const c10 = corner[2]! * (1 - wx) + corner[3]! * wx;
          const c01 = corner[4]! * (1 - wx) + corner[5]! * wx;
          const c11 = corner[6]! * (1 - wx) + corner[7]! * wx;
          const c0 = c00 * (1 - wy) + c10 * wy;
          const c1 = c01 * (1 - wy) + c11 * wy;
          outImage[out + c] = c0 * (1 - wz) + c1 * wz;
        }
      }
    }
  }
  return { image: outImage, labels: outLabels };
}

// ---------------------------------------------------------------------------------------------
// flips + intensity (one pass), gamma

interface ChannelStats {
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
function flipAndScale(
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
function applyGamma(
  image: Float32Array,
  channels: number,
  gammas: AugmentParams["gamma"],
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

// ---------------------------------------------------------------------------------------------
// public API

function checkPatch(p: Patch): void {
  const [px, py, pz] = p.shape;
  const voxels = px * py * pz;
  if (
    !Number.isSafeInteger(p.channels) ||
    p.channels < 1 ||
    p.image.length !== voxels * p.channels ||
    p.labels.length !== voxels
  ) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `a patch of shape [${p.shape.join(", ")}] with ${p.channels} channel(s) needs ${voxels * p.channels} image values and ${voxels} labels`,
    );
  }
}

/** Applies drawn parameters to a patch; returns a new patch (fresh arrays, other fields kept). */
export function applyAugmentation<P extends Patch>(p: P, params: AugmentParams): P {
  checkPatch(p);
  const { channels, shape } = p;
  if (
    params.scale.length !== channels ||
    params.shift.length !== channels ||
    params.gamma.length !== channels
  ) {
    throw badOption(
      `augmentation parameters are for ${params.scale.length} channel(s), the patch has ${channels}`,
    );
  }
  let image = p.image;
  let labels = p.labels;
  if (params.rotation !== null || params.zoom !== null) {
    ({ image, labels } = transformPatch(
      image,
      labels,
      shape,
      channels,
      spatialInverse(params.rotation, params.zoom),
    ));
  }
  const needStats = params.gamma.some((g) => g !== null);
  const stats: ChannelStats | null = needStats
    ? {
        min: new Float64Array(channels).fill(Infinity),
        max: new Float64Array(channels).fill(-Infinity),
        sum: new Float64Array(channels),
        sumSq: new Float64Array(channels),
      }
    : null;
  ({ image, labels } = flipAndScale(
    image,
    labels,
    shape,
    channels,
    params.flip,
    params.scale,
    params.shift,
    stats,
  ));
  if (stats !== null) applyGamma(image, channels, params.gamma, params.retainStats, stats);
  return { ...p, image, labels };
}

/** Draws parameters from `rng` and applies them: {@link applyAugmentation}(p, {@link drawAugmentation}(rng, p.channels, opts)). */
export function augmentPatch<P extends Patch>(p: P, rng: Rng, opts: AugmentOptions = {}): P {
  return applyAugmentation(p, drawAugmentation(rng, p.channels, opts));
}
