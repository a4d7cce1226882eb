// Intensity windowing: exact percentiles (numpy's default "linear" method) without sorting the
// volume, and the linear grey mapping. Browser-safe.
import type { RgbaImage } from "./rgba.js";

/** Intensities shown as black (`low` and below) and white (`high` and above). */
export interface Window {
  low: number;
  high: number;
}

export interface PercentileWindowOptions {
  /** Leave out zeros, i.e. the background around the brain (default true). */
  ignoreZeros?: boolean;
}

/** Histogram bins of the selection pass over arbitrary values; each needed rank is then found inside one bin. */
const BINS = 1 << 16;
/** Widest range of integer values counted one bin per value (4 MB of counts). */
const MAX_VALUE_BINS = 1 << 20;

function checkPercent(name: string, p: number): void {
  if (typeof p !== "number" || !(p >= 0 && p <= 100)) {
    throw new RangeError(`${name} percentile must be in [0, 100], got ${String(p)}`);
  }
}

/**
 * Quickselect (Hoare partition, median-of-three pivot) on values[0, n): afterwards values[k] is
 * the k-th smallest. Expected linear time, also with many equal values.
 */
function selectInPlace(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    let a = values[lo]!;
    let b = values[mid]!;
    let c = values[hi]!;
    if (b < a) [a, b] = [b, a];
    if (c < a) [a, c] = [c, a];
    if (c < b) [b, c] = [c, b];
    values[lo] = a;
    values[mid] = b;
    values[hi] = c;
    const pivot = b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k]!;
}

/** Index of the bin holding rank `rank` (0-based) of a histogram, and the rank's offset inside it. */
function locate(counts: Uint32Array, rank: number): { bin: number; offset: number } {
  let below = 0;
  let bin = 0;
  while (below + counts[bin]! <= rank) below += counts[bin++]!;
  return { bin, offset: rank - below };
}

/** Value of each rank from a histogram with one bin per integer value, bin 0 being `first`. */
function ranksFromValueCounts(
  counts: Uint32Array,
  first: number,
  ranks: readonly number[],
): number[] {
  return ranks.map((rank) => first + locate(counts, rank).bin);
}

/** Typed arrays whose values are all integers in a small range: counted by value in one pass. */
type SmallIntArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array;

function isSmallIntArray(values: ArrayLike<number>): values is SmallIntArray {
  return (
    values instanceof Int8Array ||
    values instanceof Uint8Array ||
    values instanceof Uint8ClampedArray ||
    values instanceof Int16Array ||
    values instanceof Uint16Array
  );
}

/** Count and one-bin-per-value histogram (bin v + 32768) of an 8/16-bit integer array. */
function countSmallInts(
  values: SmallIntArray,
  ignoreZeros: boolean,
): { n: number; counts: Uint32Array } {
  const counts = new Uint32Array(1 << 17);
  const len = values.length;
  for (let i = 0; i < len; i++) counts[values[i]! + 32768]!++;
  if (ignoreZeros) counts[32768] = 0;
  let n = 0;
  for (let b = 0; b < counts.length; b++) n += counts[b]!;
  return { n, counts };
}

/** Count, minimum, maximum of the counted values (finite; nonzero when `ignoreZeros`), and whether all are integers. */
function scan(
  values: ArrayLike<number>,
  ignoreZeros: boolean,
): { n: number; min: number; max: number; integers: boolean } {
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  let integers = true;
  const len = values.length;
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    // v - v is NaN for ±Infinity and NaN, 0 for finite values
    if ((v === 0 && ignoreZeros) || v - v !== 0) continue;
    n++;
    if (v < min) min = v;
    if (v > max) max = v;
    if (integers && Math.floor(v) !== v) integers = false;
  }
  return { n, min, max, integers };
}

/**
 * The values of ascending rank `ranks` (0-based) among the counted values of `values`, given
 * their count, minimum and maximum. Integer values in a small range are counted one bin per value
 * (exact, one pass). Otherwise one pass builds a histogram of BINS bins over [min, max] to locate
 * each rank's bin, a second gathers those bins' values, and quickselect finishes.
 */
function valuesAtRanks(
  values: ArrayLike<number>,
  ignoreZeros: boolean,
  ranks: readonly number[],
  stats: { min: number; max: number; integers: boolean },
): number[] {
  const { min, max } = stats;
  const len = values.length;
  if (min === max) return ranks.map(() => min);
  if (stats.integers && max - min < MAX_VALUE_BINS) {
    const counts = new Uint32Array(max - min + 1);
    for (let i = 0; i < len; i++) {
      const v = values[i]!;
      if ((v === 0 && ignoreZeros) || v - v !== 0) continue;
      counts[v - min]!++;
    }
    return ranksFromValueCounts(counts, min, ranks);
  }
  const scale = BINS / (max - min);
  const counts = new Uint32Array(BINS);
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    if ((v === 0 && ignoreZeros) || v - v !== 0) continue;
    const b = Math.floor((v - min) * scale);
    counts[b < BINS ? b : BINS - 1]!++;
  }
  const located = ranks.map((rank) => locate(counts, rank));
  // slot of each wanted bin in `gathered` (-1: not wanted), looked up per value in the second pass
  const slotOfBin = new Int8Array(BINS).fill(-1);
  const gathered: Float64Array[] = [];
  for (const { bin } of located) {
    if (slotOfBin[bin] === -1) {
      slotOfBin[bin] = gathered.length;
      gathered.push(new Float64Array(counts[bin]!));
    }
  }
  const filled = new Uint32Array(gathered.length);
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    if ((v === 0 && ignoreZeros) || v - v !== 0) continue;
    const b = Math.floor((v - min) * scale);
    const slot = slotOfBin[b < BINS ? b : BINS - 1]!;
    if (slot >= 0) gathered[slot]![filled[slot]!++] = v;
  }
  return located.map(({ bin, offset }) => {
    const bucket = gathered[slotOfBin[bin]!]!;
    return selectInPlace(bucket, bucket.length, offset);
  });
}

/** numpy's linear interpolation between the order statistics at virtual index (n − 1)·p/100. */
function numpyLinear(n: number, p: number): { previous: number; next: number; gamma: number } {
  const virtualIndex = (n - 1) * (p / 100);
  if (virtualIndex >= n - 1) {
    // numpy reads the last value (index −1) for both neighbours
    return { previous: n - 1, next: n - 1, gamma: virtualIndex + 1 };
  }
  const previous = Math.floor(virtualIndex);
  return { previous, next: previous + 1, gamma: virtualIndex - previous };
}

function lerp(a: number, b: number, gamma: number): number {
  const diff = b - a;
  // numpy's _lerp: measured from the nearer end, which keeps it monotonic and exact at the ends
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/**
 * The window from percentiles `lowPct` and `highPct` (default 0.5 and 99.5) of `values`, equal
 * to numpy's `np.percentile(v, [lowPct, highPct])` (default linear method) where v is the finite
 * values, nonzero ones only unless `ignoreZeros: false`. Exact, without sorting: a histogram pass
 * finds the bins holding the needed order statistics and quickselect finishes inside them.
 * No counted values at all (e.g. an empty mask): { low: 0, high: 0 }.
 */
export function percentileWindow(
  values: ArrayLike<number>,
  lowPct = 0.5,
  highPct = 99.5,
  opts?: PercentileWindowOptions,
): Window {
  checkPercent("low", lowPct);
  checkPercent("high", highPct);
  if (lowPct > highPct) {
    throw new RangeError(`low percentile ${lowPct} is above high percentile ${highPct}`);
  }
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new TypeError("values must be an array of numbers");
  }
  const ignoreZeros = opts?.ignoreZeros ?? true;
  let n: number;
  let atRanks: (ranks: readonly number[]) => number[];
  if (isSmallIntArray(values)) {
    const counted = countSmallInts(values, ignoreZeros);
    n = counted.n;
    atRanks = (ranks) => ranksFromValueCounts(counted.counts, -32768, ranks);
  } else {
    const stats = scan(values, ignoreZeros);
    n = stats.n;
    atRanks = (ranks) => valuesAtRanks(values, ignoreZeros, ranks, stats);
  }
  if (n === 0) return { low: 0, high: 0 };
  const lowAt = numpyLinear(n, lowPct);
  const highAt = numpyLinear(n, highPct);
  const [a0, a1, b0, b1] = atRanks([lowAt.previous, lowAt.next, highAt.previous, highAt.next]);
  return { low: lerp(a0!, a1!, lowAt.gamma), high: lerp(b0!, b1!, highAt.gamma) };
}

/** The window of a DICOM-style level (centre) and width: [centre − width/2, centre + width/2]. */
export function windowFromLevel(center: number, width: number): Window {
  if (!Number.isFinite(center) || !Number.isFinite(width) || width < 0) {
    throw new RangeError(
      `level must be finite and width finite and ≥ 0, got ${String(center)}, ${String(width)}`,
    );
  }
  return { low: center - width / 2, high: center + width / 2 };
}

/** Grey word (RGBA bytes g, g, g, 255 in memory) of each grey level, in platform byte order. */
const GREY_WORDS: Uint32Array = (() => {
  const bytes = new Uint8ClampedArray(256 * 4);
  for (let g = 0; g < 256; g++) bytes.set([g, g, g, 255], g * 4);
  return new Uint32Array(bytes.buffer);
})();

/**
 * A width × height opaque grey image of `slice`: grey = round((v − low) · 255 / (high − low)),
 * clamped to [0, 255], so `low` and below are black and `high` and above white. NaN is black.
 * A window with high ≤ low is a threshold: above `low` white, else black.
 */
export function applyWindow(
  slice: ArrayLike<number>,
  w: Window,
  width: number,
  height: number,
): RgbaImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(
      `slice size must be non-negative integers, got ${String(width)}×${String(height)}`,
    );
  }
  if (slice.length !== width * height) {
    throw new RangeError(`slice has ${slice.length} values, expected ${width}×${height}`);
  }
  const { low, high } = w;
  if (!Number.isFinite(low) || !Number.isFinite(high)) {
    throw new RangeError(`window bounds must be finite, got [${String(low)}, ${String(high)}]`);
  }
  const data = new Uint8ClampedArray(width * height * 4);
  const words = new Uint32Array(data.buffer);
  const n = width * height;
  if (high <= low) {
    for (let i = 0; i < n; i++) words[i] = GREY_WORDS[slice[i]! > low ? 255 : 0]!;
  } else {
    const scale = 255 / (high - low);
    for (let i = 0; i < n; i++) {
      const t = (slice[i]! - low) * scale;
      // NaN fails both comparisons and lands on black
      words[i] = GREY_WORDS[t >= 255 ? 255 : t > 0 ? Math.round(t) : 0]!;
    }
  }
  return { width, height, data };
}
