/**
 * Training patches from a (preprocessed) case, nnU-Net style: a share of patches is centred on a
 * voxel of a foreground class chosen uniformly among the classes present (so rare classes such as
 * enhancing tumour are seen as often as large ones), the rest are placed uniformly at random.
 * Where a patch leaves the volume it is padded with 0 (images) and 0 (labels).
 *
 * Volumes are x-fastest (index = x + X·(y + Y·z)). Patches are channels-last, [z][y][x][C], as
 * the model wants them; their labels are [z][y][x] (the same order as an x-fastest volume).
 */
import type { LoadedCase } from "./cases.js";
import { DataError } from "./errors.js";
import type { Vec3 } from "./grid.js";
import { randomInt, type Rng } from "./rng.js";

export interface Patch {
  /** Channels-last [z][y][x][C] (C = `channels`), 0 where the patch leaves the volume. */
  image: Float32Array;
  /** [z][y][x], 0 where the patch leaves the volume (or when the case has no seg). */
  labels: Uint8Array;
  /** The volume voxel under patch voxel (0, 0, 0); negative or beyond the volume where padded. */
  origin: Vec3;
  /** Patch size [x, y, z]. */
  shape: Vec3;
  channels: number;
  /** The class whose voxel the patch is centred on, or null for a randomly placed patch. */
  centreClass: number | null;
}

/** What sampling needs of a case: x-fastest channels and labels on one grid. */
export type PatchSource = Pick<LoadedCase, "channels" | "seg" | "shape">;

export interface SamplePatchOptions {
  /** Share of patches centred on a foreground voxel (nnU-Net's oversample_foreground_percent). Default 1/3. */
  foregroundShare?: number;
}

/** The voxels of each nonzero label of a seg, for drawing patch centres without rescanning. */
export interface ForegroundIndex {
  /** Nonzero label values present, ascending. */
  classes: number[];
  /** Linear voxel indices of each present class, ascending. */
  voxels: Map<number, Uint32Array>;
}

const foregroundCache = new WeakMap<Uint8Array, ForegroundIndex>();

/**
 * The voxels of every nonzero label in `seg` (a case's classes or labels). Cached per array, so
 * the array must not be modified afterwards.
 */
export function foregroundIndex(seg: Uint8Array): ForegroundIndex {
  const cached = foregroundCache.get(seg);
  if (cached !== undefined) return cached;
  const counts = new Uint32Array(256);
  for (let i = 0; i < seg.length; i++) counts[seg[i]!]!++;
  const voxels = new Map<number, Uint32Array>();
  const fill = new Uint32Array(256);
  for (let label = 1; label < 256; label++) {
    if (counts[label]! > 0) voxels.set(label, new Uint32Array(counts[label]!));
  }
  for (let i = 0; i < seg.length; i++) {
    const label = seg[i]!;
    if (label !== 0) (voxels.get(label) as Uint32Array)[fill[label]!++] = i;
  }
  const index = { classes: [...voxels.keys()], voxels };
  foregroundCache.set(seg, index);
  return index;
}

function checkSize(size: readonly number[]): asserts size is Vec3 {
  if (
    !Array.isArray(size) ||
    size.length !== 3 ||
    size.some((n) => !Number.isSafeInteger(n) || n < 1)
  ) {
    throw new DataError(
      "BAD_OPTION",
      `patch size must be three positive integers, got ${JSON.stringify(size)}`,
    );
  }
}

function checkSource(c: PatchSource): number {
  const voxels = c.shape[0] * c.shape[1] * c.shape[2];
  if (
    c.channels.some((ch) => ch.length !== voxels) ||
    (c.seg !== null && c.seg.length !== voxels)
  ) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `channels and seg must hold ${voxels} voxels for shape [${c.shape.join(", ")}]`,
    );
  }
  return voxels;
}

/**
 * The patch of `size` [x, y, z] whose voxel (0, 0, 0) is volume voxel `origin`, padded with 0
 * outside the volume.
 */
export function extractPatch(
  c: PatchSource,
  size: readonly [number, number, number],
  origin: readonly [number, number, number],
  centreClass: number | null = null,
): Patch {
  checkSize(size);
  checkSource(c);
  if (origin.length !== 3 || origin.some((v) => !Number.isSafeInteger(v))) {
    throw new DataError(
      "BAD_OPTION",
      `patch origin must be three integers, got ${JSON.stringify(origin)}`,
    );
  }
  const [px, py, pz] = size;
  const [nx, ny, nz] = c.shape;
  const [ox, oy, oz] = origin;
  const channels = c.channels.length;
  const image = new Float32Array(px * py * pz * channels);
  const labels = new Uint8Array(px * py * pz);
  // the part of the patch inside the volume, in patch coordinates
  const x0 = Math.max(0, -ox);
  const x1 = Math.min(px, nx - ox);
  const y0 = Math.max(0, -oy);
  const y1 = Math.min(py, ny - oy);
  const z0 = Math.max(0, -oz);
  const z1 = Math.min(pz, nz - oz);
  if (x0 < x1 && y0 < y1 && z0 < z1) {
    const width = x1 - x0;
    for (let z = z0; z < z1; z++) {
      for (let y = y0; y < y1; y++) {
        const src = ox + x0 + nx * (oy + y + ny * (oz + z));
        const dst = x0 + px * (y + py * z);
        if (c.seg !== null) labels.set(c.seg.subarray(src, src + width), dst);
        for (let ch = 0; ch < channels; ch++) {
          const data = c.channels[ch]!;
          let o = dst * channels + ch;
          for (let x = 0; x < width; x++, o += channels) image[o] = data[src + x]!;
        }
      }
    }
  }
  return { image, labels, origin: [ox, oy, oz], shape: [px, py, pz], channels, centreClass };
}

/**
 * A random training patch of `size` [x, y, z]. With probability `foregroundShare` (and when the
 * seg has any nonzero voxel) it is centred (at patch voxel ⌊size/2⌋) on a uniformly drawn voxel
 * of a class drawn uniformly among the nonzero classes present; otherwise its origin is uniform
 * over the positions where it lies inside the volume (along an axis shorter than the patch: over
 * the positions where the volume lies inside the patch).
 */
export function samplePatch(
  c: PatchSource,
  size: readonly [number, number, number],
  rng: Rng,
  opts: SamplePatchOptions = {},
): Patch {
  checkSize(size);
  checkSource(c);
  const share = opts.foregroundShare ?? 1 / 3;
  if (!(share >= 0 && share <= 1)) {
    throw new DataError("BAD_OPTION", `foregroundShare must be in [0, 1], got ${share}`);
  }
  const wantForeground = rng.next() < share;
  if (wantForeground && c.seg !== null) {
    const index = foregroundIndex(c.seg);
    if (index.classes.length > 0) {
      const cls = index.classes[randomInt(rng, index.classes.length)]!;
      const voxels = index.voxels.get(cls)!;
      const v = voxels[randomInt(rng, voxels.length)]!;
      const [nx, ny] = c.shape;
      const centre = [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))];
      const origin = [0, 1, 2].map((a) => centre[a]! - Math.floor(size[a]! / 2)) as Vec3;
      return extractPatch(c, size, origin, cls);
    }
  }
  const origin = [0, 1, 2].map((a) => {
    const free = c.shape[a]! - size[a]!; // ≥ 0: room inside the volume; < 0: room around it
    return free >= 0 ? randomInt(rng, free + 1) : free + randomInt(rng, 1 - free);
  }) as Vec3;
  return extractPatch(c, size, origin, null);
}

/** Interleaves x-fastest channels of `shape` into one channels-last [z][y][x][C] array. */
export function toChannelsLast(
  channels: readonly Float32Array[],
  shape: readonly [number, number, number],
): Float32Array {
  const voxels = shape[0] * shape[1] * shape[2];
  const count = channels.length;
  if (channels.some((ch) => ch.length !== voxels)) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `every channel must hold ${voxels} voxels for shape [${shape.join(", ")}]`,
    );
  }
  const out = new Float32Array(voxels * count);
  channels.forEach((data, ch) => {
    for (let i = 0, o = ch; i < voxels; i++, o += count) out[o] = data[i]!;
  });
  return out;
}

/** Splits a channels-last [z][y][x][C] array into C x-fastest channels (the inverse of {@link toChannelsLast}). */
export function fromChannelsLast(
  data: Float32Array,
  shape: readonly [number, number, number],
  channels: number,
): Float32Array[] {
  const voxels = shape[0] * shape[1] * shape[2];
  if (!Number.isSafeInteger(channels) || channels < 1 || data.length !== voxels * channels) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `${data.length} values are not ${channels} channel(s) of shape [${shape.join(", ")}]`,
    );
  }
  return Array.from({ length: channels }, (_, ch) => {
    const out = new Float32Array(voxels);
    for (let i = 0, o = ch; i < voxels; i++, o += channels) out[i] = data[o]!;
    return out;
  });
}
