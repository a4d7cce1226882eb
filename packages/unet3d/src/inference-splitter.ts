// The splitter of sliding-window inference: where the windows go (MONAI's dense_patch_slices), how
// one is cut out of the volume with padding, and the mirrored views of test-time augmentation (the
// same flips turn the outputs back, so the merge sees them unmirrored).
import { UNet3DError } from "./errors.js";

export type Vec3 = [number, number, number];

/** A batch of channels-last windows or outputs: [N,D,H,W,C]. */
export type Shape5 = [number, number, number, number, number];

function badConfig(message: string): UNet3DError {
  return new UNet3DError("BAD_CONFIG", message);
}

export function checkShape3(name: string, v: unknown): asserts v is Vec3 {
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    !v.every((n) => typeof n === "number" && Number.isInteger(n) && n >= 1)
  ) {
    throw badConfig(`${name} must be three positive integers, got ${JSON.stringify(v)}`);
  }
}

export function checkOverlap(overlap: number): void {
  if (!(overlap >= 0 && overlap < 1)) {
    throw badConfig(`overlap must be in [0, 1), got ${overlap}`);
  }
}

/**
 * Start of each window along one axis, as MONAI's dense_patch_slices: step
 * floor(window × (1 − overlap)) (at least 1), the last window flush with the end. An axis
 * shorter than the window gets one window centred on it, starting at −floor((window − size)/2)
 * (the part outside the volume is padding).
 */
export function windowStarts(size: number, window: number, overlap: number): number[] {
  if (size <= window) return [0 - Math.floor((window - size) / 2)]; // 0 - x: never -0
  const step = Math.max(1, Math.floor(window * (1 - overlap)));
  const count = Math.ceil((size - window) / step) + 1;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.min(i * step, size - window);
    if (starts[starts.length - 1] !== start) starts.push(start);
  }
  return starts;
}

/**
 * Window starts [d,h,w] (z-major order) that cover a volume of the given spatial shape. Starts
 * are in volume coordinates; a negative start means the volume is smaller than the window along
 * that axis and is padded, half before and half after (MONAI's split).
 */
export function slidingWindows(volumeShape: Vec3, windowSize: Vec3, overlap = 0.5): Vec3[] {
  checkShape3("volume shape", volumeShape);
  checkShape3("windowSize", windowSize);
  checkOverlap(overlap);
  const [zs, ys, xs] = [0, 1, 2].map((a) => windowStarts(volumeShape[a]!, windowSize[a]!, overlap));
  const out: Vec3[] = [];
  for (const z of zs!) for (const y of ys!) for (const x of xs!) out.push([z, y, x]);
  return out;
}

/** Copies one window of the volume into `out` at `offset`, padding what lies outside. */
export function extractWindow(
  data: Float32Array,
  [D, H, W, C]: [number, number, number, number],
  [z0, y0, x0]: Vec3,
  [wd, wh, ww]: Vec3,
  padValue: number,
  out: Float32Array,
  offset: number,
): void {
  // Window columns that fall inside the volume along x (the rest is padding).
  const xFrom = Math.max(0, -x0);
  const xTo = Math.min(ww, W - x0);
  const rowLength = ww * C;
  let o = offset;
  for (let z = 0; z < wd; z++) {
    const sz = z0 + z;
    for (let y = 0; y < wh; y++, o += rowLength) {
      const sy = y0 + y;
      if (sz < 0 || sz >= D || sy < 0 || sy >= H) {
        out.fill(padValue, o, o + rowLength);
        continue;
      }
      if (xFrom > 0) out.fill(padValue, o, o + xFrom * C);
      const src = ((sz * H + sy) * W + x0 + xFrom) * C;
      out.set(data.subarray(src, src + (xTo - xFrom) * C), o + xFrom * C);
      if (xTo < ww) out.fill(padValue, o + xTo * C, o + rowLength);
    }
  }
}

/**
 * The mirroring combinations of test-time augmentation, as nnU-Net: bit 0 flips D, bit 1 H,
 * bit 2 W; 0 is the identity. Every flip is its own inverse.
 */
export const MIRROR_FLIPS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];

/**
 * Mirrors a batch of channels-last volumes [N,D,H,W,C] along D (flips & 1), H (flips & 2) and
 * W (flips & 4) into `out` (a new array when omitted). Works on any array of channels, so it
 * applies to windows and to model outputs alike.
 */
export function flipChannelsLast(
  data: Float32Array,
  shape: Shape5,
  flips: number,
  out: Float32Array = new Float32Array(data.length),
): Float32Array {
  const [n, d, h, w, c] = shape;
  if (data.length !== n * d * h * w * c || out.length !== data.length || out === data) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `flip of [${shape.join(",")}] needs ${n * d * h * w * c} values in distinct arrays`,
    );
  }
  const flipD = (flips & 1) !== 0;
  const flipH = (flips & 2) !== 0;
  const flipW = (flips & 4) !== 0;
  const row = w * c;
  for (let b = 0; b < n; b++) {
    for (let z = 0; z < d; z++) {
      const sz = flipD ? d - 1 - z : z;
      for (let y = 0; y < h; y++) {
        const sy = flipH ? h - 1 - y : y;
        const dst = ((b * d + z) * h + y) * row;
        const src = ((b * d + sz) * h + sy) * row;
        if (!flipW) {
          out.set(data.subarray(src, src + row), dst);
        } else if (c === 1) {
          for (let x = 0; x < w; x++) out[dst + x] = data[src + w - 1 - x]!;
        } else {
          for (let x = 0; x < w; x++) {
            const o = dst + x * c;
            const i = src + (w - 1 - x) * c;
            for (let k = 0; k < c; k++) out[o + k] = data[i + k]!;
          }
        }
      }
    }
  }
  return out;
}
