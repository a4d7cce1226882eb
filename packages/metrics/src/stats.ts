// Numeric primitives that mirror numpy bit for bit where it matters for agreement with the Python
// reference: np.sum's pairwise summation, np.mean, np.std (population) and np.percentile (linear).
import { MetricsError } from "./errors.js";

/**
 * numpy's pairwise summation of values[start, start + n) (numpy/core/src/umath/loops_utils.h):
 * sequential below 8 values, eight interleaved accumulators up to 128, else split in halves
 * rounded to a multiple of 8. Same association as numpy, hence the same rounding.
 */
export function pairwiseSum(
  values: ArrayLike<number>,
  start = 0,
  n = values.length - start,
): number {
  if (n < 8) {
    let sum = -0;
    for (let i = start; i < start + n; i++) sum += values[i]!;
    return sum;
  }
  if (n <= 128) {
    let r0 = values[start]!;
    let r1 = values[start + 1]!;
    let r2 = values[start + 2]!;
    let r3 = values[start + 3]!;
    let r4 = values[start + 4]!;
    let r5 = values[start + 5]!;
    let r6 = values[start + 6]!;
    let r7 = values[start + 7]!;
    const blocked = n - (n % 8);
    let i = 8;
    for (; i < blocked; i += 8) {
      const j = start + i;
      r0 += values[j]!;
      r1 += values[j + 1]!;
      r2 += values[j + 2]!;
      r3 += values[j + 3]!;
      r4 += values[j + 4]!;
      r5 += values[j + 5]!;
      r6 += values[j + 6]!;
      r7 += values[j + 7]!;
    }
    let sum = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) sum += values[start + i]!;
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, n - half);
}

/** np.mean: pairwise sum divided by the count; NaN for no values. */
export function mean(values: ArrayLike<number>): number {
  return values.length === 0 ? NaN : pairwiseSum(values) / values.length;
}

/** np.std (ddof 0): sqrt(mean((x - mean(x))²)) with numpy's summation order. */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  const m = pairwiseSum(values) / n;
  const squares = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = values[i]! - m;
    squares[i] = d * d;
  }
  return Math.sqrt(pairwiseSum(squares) / n);
}

function checkQ(q: number): void {
  if (typeof q !== "number" || !(q >= 0 && q <= 100)) {
    throw new MetricsError("BAD_OPTION", `percentile must be in [0, 100], got ${String(q)}`);
  }
}

/**
 * np.percentile(values, q) with the default "linear" method (numpy ≥ 1.22 arithmetic: virtual
 * index (n - 1)·q/100, then numpy's two-sided lerp). Values need not be sorted and are not
 * modified. Any NaN gives NaN (as in numpy); no values give NaN (numpy raises). q outside
 * [0, 100]: BAD_OPTION.
 */
export function percentile(values: Float64Array | readonly number[], q: number): number {
  checkQ(q);
  const sorted = Float64Array.from(values).sort();
  return percentileOfSorted(sorted, q);
}

/** numpy's linear interpolation given the order statistics it reads (`at(i)` = i-th smallest). */
function linearPercentile(n: number, q: number, at: (index: number) => number): number {
  const virtualIndex = (n - 1) * (q / 100);
  let previous = Math.floor(virtualIndex);
  let next = previous + 1;
  if (virtualIndex >= n - 1) {
    // numpy then reads the last value through index -1, and gamma is measured from -1 too.
    previous = -1;
    next = -1;
  }
  const gamma = virtualIndex - previous;
  const a = at(previous < 0 ? n - 1 : previous);
  const b = at(next < 0 ? n - 1 : next);
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** `percentile` of values already sorted ascending (NaN last, as TypedArray sort leaves them). */
export function percentileOfSorted(sorted: Float64Array, q: number): number {
  checkQ(q);
  const n = sorted.length;
  if (n === 0 || Number.isNaN(sorted[n - 1])) return NaN;
  return linearPercentile(n, q, (i) => sorted[i]!);
}

/**
 * `percentile` of NaN-free values by selection instead of a full sort (expected linear time);
 * reorders `values` in place.
 */
export function percentileInPlace(values: Float64Array, q: number): number {
  checkQ(q);
  const n = values.length;
  if (n === 0) return NaN;
  let selected = -1;
  return linearPercentile(n, q, (i) => {
    // Reads are i, then i or i + 1: after selecting i, everything past it is no smaller.
    if (i !== selected) select(values, i, selected + 1);
    selected = i;
    return values[i]!;
  });
}

/**
 * Quickselect (Hoare partition, median-of-three pivot): afterwards values[k] is the k-th smallest,
 * with nothing larger before it and nothing smaller after it. Only values[from..] are searched, so
 * `from` must not exceed k and nothing before `from` may be larger than what it holds.
 */
export function select(values: Float64Array, k: number, from = 0): void {
  let lo = from;
  let hi = values.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot, which also guards both scans.
    if (values[mid]! < values[lo]!) swap(values, mid, lo);
    if (values[hi]! < values[lo]!) swap(values, hi, lo);
    if (values[hi]! < values[mid]!) swap(values, hi, mid);
    const pivot = values[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        swap(values, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(values: Float64Array, i: number, j: number): void {
  const t = values[i]!;
  values[i] = values[j]!;
  values[j] = t;
}
