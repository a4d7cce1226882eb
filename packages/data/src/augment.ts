/**
 * Patch augmentation as nnU-Net and MONAI do it: optional small rotations and scaling about the
 * patch centre (trilinear images, nearest labels, 0 outside), random flips on three axes,
 * per-channel intensity scale and shift, and per-channel gamma on min-max normalised values
 * (nnU-Net's augment_gamma, keeping mean and std). Parameters are drawn from a seeded RNG
 * ({@link drawAugmentation}) and applied by a pure function ({@link applyAugmentation}), so the
 * same seed gives the same bytes and a patch's parameters can be logged.
 *
 * Patches are channels-last [z][y][x][C] with labels [z][y][x] (see patches.ts). The resampling is
 * in augment-spatial.ts, flips, intensity and gamma in augment-intensity.ts.
 */
import { applyGamma, flipAndScale, type ChannelStats } from "./augment-intensity.js";
import { spatialInverse, transformPatch } from "./augment-spatial.js";
import { DataError } from "./errors.js";
import type { Patch } from "./patches.js";
import type { Vec3 } from "./grid.js";
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

/** The largest augmentation strength augmentationOfStrength takes. */
export const MAX_AUGMENT_STRENGTH = 2;

/**
 * Augmentation as one knob, `strength` in [0, 2]: 0 none; 1 augmentPatch's defaults (flips,
 * intensity scale and shift ±0.1, gamma with p 0.3 in [0.7, 1.5]); in between and above, the
 * intensity and gamma magnitudes and probabilities scale with it, and above 1 nnU-Net's
 * rotations (±15° per axis) and scaling ([0.85, 1.25]) come in, each with probability
 * 0.2·(strength − 1): at 2 they are nnU-Net's p = 0.2. Flips stay at p 0.5 whenever strength > 0
 * (they cost nothing and keep the model mirror-symmetric). Returns false for 0.
 */
export function augmentationOfStrength(strength: number): AugmentOptions | false {
  if (!(strength >= 0 && strength <= MAX_AUGMENT_STRENGTH)) {
    throw badOption(
      `augmentation strength must be in [0, ${MAX_AUGMENT_STRENGTH}], got ${strength}`,
    );
  }
  if (strength === 0) return false;
  const s = strength;
  const opts: AugmentOptions = {
    flip: { probability: 0.5 },
    intensity: { probability: Math.min(1, s), scale: 0.1 * s, shift: 0.1 * s },
    gamma: {
      probability: Math.min(1, 0.3 * s),
      range: [Math.max(0.1, 1 - 0.3 * s), 1 + 0.5 * s],
    },
  };
  if (s > 1) {
    opts.rotation = { probability: 0.2 * (s - 1), maxAngle: Math.PI / 12 };
    opts.scaling = { probability: 0.2 * (s - 1), range: [0.85, 1.25] };
  }
  return opts;
}
