// Drawing segmentations over a grey slice: filled (alpha blend) or as contour lines, and error
// maps of a prediction against the ground truth. Inputs are slices as `extractSlice` returns
// them (row-major, top row first). Browser-safe; every function returns a new image.
import { ERROR_COLORS } from "./colors.js";
import type { LabelStyle } from "./colors.js";
import { assertRgba, blendPixel, cloneRgba, type Rgb, type RgbaImage } from "./rgba.js";

export type OverlayMode = "fill" | "contour";

export interface OverlayOptions {
  /** "fill" (default) blends each labelled pixel; "contour" draws the outline of each label's regions. */
  mode?: OverlayMode;
  /** Opacity of the label colour, 0–1: default 0.4 for fill, 1 for contour. */
  alpha?: number;
  /** Contour width in pixels, inside each region (default 1). */
  thickness?: number;
}

/** Thickest contour accepted; more is a filled region drawn slowly. */
const MAX_CONTOUR_THICKNESS = 64;

function checkAlpha(alpha: number): void {
  if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1)) {
    throw new RangeError(`alpha must be in [0, 1], got ${String(alpha)}`);
  }
}

function checkThickness(thickness: number): void {
  if (!Number.isInteger(thickness) || thickness < 1 || thickness > MAX_CONTOUR_THICKNESS) {
    throw new RangeError(
      `thickness must be an integer in [1, ${MAX_CONTOUR_THICKNESS}], got ${String(thickness)}`,
    );
  }
}

function checkSlice(name: string, slice: ArrayLike<number>, base: RgbaImage): void {
  if (slice === null || typeof slice !== "object" || typeof slice.length !== "number") {
    throw new TypeError(`${name} must be an array of numbers`);
  }
  if (slice.length !== base.width * base.height) {
    throw new RangeError(
      `${name} has ${slice.length} values, the ${base.width}×${base.height} image needs ${base.width * base.height}`,
    );
  }
}

/**
 * 1 where `labels` equals one of `values` (default: any nonzero value), else 0: a binary mask of a
 * label slice, e.g. a region (`regionLabels("WT")` of @brats/conventions) for `errorMap`.
 */
export function labelMask(labels: ArrayLike<number>, values?: readonly number[]): Uint8Array {
  const out = new Uint8Array(labels.length);
  if (values === undefined) {
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      out[i] = v !== 0 && v === v ? 1 : 0;
    }
    return out;
  }
  const wanted = new Set(values);
  for (let i = 0; i < labels.length; i++) out[i] = wanted.has(labels[i]!) ? 1 : 0;
  return out;
}

/**
 * 1 on the contour pixels of each region of equal value in `labels` whose value is in `values`:
 * pixels with a 4-neighbour of another value (or the image edge), then `thickness − 1` more
 * layers inwards (4-connected steps within the same value).
 */
export function contourMask(
  labels: ArrayLike<number>,
  width: number,
  height: number,
  values: readonly number[],
  thickness = 1,
): Uint8Array {
  checkThickness(thickness);
  if (labels.length !== width * height) {
    throw new RangeError(`labels have ${labels.length} values, expected ${width}×${height}`);
  }
  const wanted = new Set(values);
  const mask = new Uint8Array(width * height);
  let frontier: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = labels[i]!;
      if (!wanted.has(v)) continue;
      if (
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        labels[i - 1] !== v ||
        labels[i + 1] !== v ||
        labels[i - width] !== v ||
        labels[i + width] !== v
      ) {
        mask[i] = 1;
        frontier.push(i);
      }
    }
  }
  for (let layer = 1; layer < thickness && frontier.length > 0; layer++) {
    const next: number[] = [];
    for (const i of frontier) {
      const v = labels[i]!;
      const x = i % width;
      const neighbours = [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, i - width, i + width];
      for (const j of neighbours) {
        if (j < 0 || j >= mask.length || mask[j] === 1 || labels[j] !== v) continue;
        mask[j] = 1;
        next.push(j);
      }
    }
    frontier = next;
  }
  return mask;
}

/**
 * `base` with the labels of `styles` drawn over it: each pixel whose label value has a style is
 * blended with that colour (out = base·(1 − α) + colour·α), everywhere ("fill") or only on the
 * contour pixels of each label's regions ("contour", `thickness` px). Values without a style
 * (background 0) are left alone. `labels` is a slice of label values the size of `base`.
 */
export function overlayLabels(
  base: RgbaImage,
  labels: ArrayLike<number>,
  styles: readonly LabelStyle[],
  opts?: OverlayOptions,
): RgbaImage {
  assertRgba(base);
  checkSlice("labels", labels, base);
  const mode = opts?.mode ?? "fill";
  if (mode !== "fill" && mode !== "contour") {
    throw new RangeError(`mode must be "fill" or "contour", got "${String(mode)}"`);
  }
  const alpha = opts?.alpha ?? (mode === "fill" ? 0.4 : 1);
  checkAlpha(alpha);
  const colorOf = new Map<number, Rgb>();
  for (const s of styles) colorOf.set(s.value, s.color);
  const out = cloneRgba(base);
  const n = base.width * base.height;
  const drawn =
    mode === "contour"
      ? contourMask(labels, base.width, base.height, [...colorOf.keys()], opts?.thickness ?? 1)
      : undefined;
  // validated in fill mode too, so a wrong option is not silently ignored
  if (opts?.thickness !== undefined) checkThickness(opts.thickness);
  let previous = NaN;
  let color: Rgb | undefined;
  for (let i = 0; i < n; i++) {
    const v = labels[i]!;
    if (v === 0 && !colorOf.has(0)) continue;
    if (drawn !== undefined && drawn[i] === 0) continue;
    if (v !== previous) {
      color = colorOf.get(v);
      previous = v;
    }
    if (color !== undefined) blendPixel(out.data, i * 4, color, alpha);
  }
  return out;
}

export interface ErrorMapOptions {
  /** Opacity of false positives and false negatives, 0–1 (default 0.7). */
  alpha?: number;
  /** Draw true positives faintly too (default true). */
  truePositives?: boolean;
  /** Opacity of true positives (default 0.25). */
  truePositiveAlpha?: number;
}

/**
 * `base` with the disagreements of a prediction and the ground truth (binary slices the size of
 * `base`, nonzero = inside): false positives (pred, not gt) in magenta, false negatives (gt, not
 * pred) in cyan, true positives faintly green (`ERROR_COLORS`).
 */
export function errorMap(
  base: RgbaImage,
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  opts?: ErrorMapOptions,
): RgbaImage {
  assertRgba(base);
  checkSlice("pred", pred, base);
  checkSlice("gt", gt, base);
  const alpha = opts?.alpha ?? 0.7;
  checkAlpha(alpha);
  const tpAlpha = opts?.truePositiveAlpha ?? 0.25;
  checkAlpha(tpAlpha);
  const showTp = opts?.truePositives ?? true;
  const out = cloneRgba(base);
  const n = base.width * base.height;
  for (let i = 0; i < n; i++) {
    const pv = pred[i]!;
    const gv = gt[i]!;
    // nonzero and not NaN, as in labelMask
    const p = pv !== 0 && pv === pv;
    const g = gv !== 0 && gv === gv;
    if (p && !g) blendPixel(out.data, i * 4, ERROR_COLORS.fp, alpha);
    else if (g && !p) blendPixel(out.data, i * 4, ERROR_COLORS.fn, alpha);
    else if (p && g && showTp) blendPixel(out.data, i * 4, ERROR_COLORS.tp, tpAlpha);
  }
  return out;
}
