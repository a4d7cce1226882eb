// High-level pictures of volumes: one overlaid slice, the three planes, ground truth against a
// prediction with an error map, and montages of modalities × planes/slices. Each returns an
// RgbaImage; the ...Png variants encode it. Inputs are plain {data, shape, spacing, affine} objects
// (what @brats/nifti returns, with intensities scaled), so no other @brats package is needed.
import { regionLabels, type LabelConvention, type RegionName } from "@brats/conventions";
import type { CanvasBackendChoice } from "./canvas.js";
import { errorStyles, labelStyles, type LabelStyle } from "./colors.js";
import { composeFigure, type FigureOptions, type LegendItem, type Panel } from "./compose.js";
import {
  PLANES,
  sliceGeometry,
  volumeDims,
  voxelSpacing,
  type Convention,
  type Plane,
  type SliceGeometry,
  type Volume,
} from "./orient.js";
import { errorMap, labelMask, overlayLabels, type OverlayMode } from "./overlay.js";
import { encodePng, type EncodePngOptions } from "./png.js";
import { resize, type RgbaImage } from "./rgba.js";
import { largestTumourSlice, tumourAreas } from "./select.js";
import { extractSlice } from "./slice.js";
import { applyWindow, percentileWindow, type Window } from "./window.js";

/** Options shared by every renderer. */
export interface DisplayOptions {
  /** "radiological" (default: the patient's left on the right of the screen) or "neurological". */
  convention?: Convention;
  /** Label values and colours (default "brats2021": 1 NCR red, 2 ED green, 4 ET yellow). */
  labelConvention?: LabelConvention;
  /** Labels as alpha-blended areas ("fill", default) or outlines ("contour"). */
  mode?: OverlayMode;
  /** Label opacity 0–1 (default 0.4 for fill, 1 for contour). */
  alpha?: number;
  /** Contour width in output pixels (default: `scale` rounded, at least 1). */
  thickness?: number;
  /** Remaps label values before drawing, e.g. {3: 4} for a model writing enhancing tumour as 3. */
  labelMap?: Record<number, number>;
  /** A fixed intensity window; default: `percentiles` of the volume's nonzero voxels. */
  window?: Window;
  /** Percentiles of the nonzero voxels shown black and white (default [0.5, 99.5]). */
  percentiles?: readonly [number, number];
  /** Output pixels per millimetre of the finest voxel spacing (default 2; montages 1). */
  scale?: number;
  /** Crop the panels to the head: the nonzero voxels of the image plus a margin for the markers (default true). */
  crop?: boolean;
  /** Draw L/R/A/P/S/I on the panel edges (default true). */
  markers?: boolean;
  /** Draw a legend of the label colours (default true when there are labels). */
  legend?: boolean;
  /** Figure title (each renderer has a default; "" for none). */
  title?: string;
  /** Small text under the figure (e.g. the data's citation). */
  caption?: string;
  /** Base font size in px (default 14). */
  fontSize?: number;
  backend?: CanvasBackendChoice;
}

export interface RenderOverlayOptions extends DisplayOptions {
  image: Volume;
  labels?: Volume;
  /** Default "axial". */
  plane?: Plane;
  /** Slice index along the plane's normal voxel axis; default the slice with the largest tumour area (middle without labels). */
  index?: number;
}

export interface RenderThreePlaneOptions extends DisplayOptions {
  image: Volume;
  labels?: Volume;
  /** Slice per plane; default each plane's slice with the largest tumour area (middle without labels). */
  indices?: Partial<Record<Plane, number>>;
}

export interface RenderComparisonOptions extends DisplayOptions {
  image: Volume;
  gt: Volume;
  pred: Volume;
  /** Default "axial". */
  plane?: Plane;
  /** Default the slice with the largest ground-truth tumour area (the prediction's when the ground truth is empty). */
  index?: number;
  /** Region of the error map (default "WT"). */
  region?: RegionName;
  /** Remaps prediction labels only (after which `labelMap` does not apply to it). */
  predLabelMap?: Record<number, number>;
  /** Panel titles (default "Ground truth", "Prediction"). */
  gtTitle?: string;
  predTitle?: string;
}

export interface RenderMontageOptions extends DisplayOptions {
  /** One row per volume (e.g. the four modalities), titled with its name. */
  volumes: ReadonlyArray<{ name: string; volume: Volume }>;
  /** Drawn over every panel (unless `overlay: false`) and used to choose slices. */
  labels?: Volume;
  /** Draw the labels over the panels (default true when `labels` is given). */
  overlay?: boolean;
  /** Planes of the columns (default ["axial"]). */
  planes?: readonly Plane[];
  /**
   * Slices per plane: explicit indices, or a count spread evenly over the slices holding tumour
   * (the nonzero voxels of the first volume without labels). Default one: the largest tumour slice.
   */
  slices?: readonly number[] | number;
}

/** A slice ready for composition, with the geometry it was cut with. */
export interface SlicePanel extends Panel {
  geometry: SliceGeometry;
  /** The part of the slice shown (slice pixels); output pixel (x, y) shows slice pixel (crop.x + x·crop.width/width, ...). */
  crop: SliceCrop;
}

/** Opacity of true positives on error maps (errorMap's default). */
const TP_ALPHA = 0.25;

function blendOnGrey(
  color: readonly [number, number, number],
  alpha: number,
): [number, number, number] {
  const grey = 128;
  return [0, 1, 2].map((c) => Math.round(grey * (1 - alpha) + color[c]! * alpha)) as [
    number,
    number,
    number,
  ];
}

const PLANE_TITLES: Record<Plane, string> = {
  axial: "Axial",
  coronal: "Coronal",
  sagittal: "Sagittal",
};

function checkScale(scale: number): void {
  if (typeof scale !== "number" || !(scale > 0 && scale <= 16)) {
    throw new RangeError(`scale must be in (0, 16], got ${String(scale)}`);
  }
}

/** The voxels of the first 3D volume, without copying typed arrays. */
function firstVolumeValues(volume: Volume): ArrayLike<number> {
  const [nx, ny, nz] = volumeDims(volume);
  const n = nx * ny * nz;
  const data = volume.data;
  if (data.length === n) return data;
  if (ArrayBuffer.isView(data)) return (data as unknown as Float32Array).subarray(0, n);
  return Array.prototype.slice.call(data, 0, n) as number[];
}

/** The intensity window of a volume: `opts.window`, else its percentiles (nonzero voxels). */
export function volumeWindow(
  volume: Volume,
  opts: Pick<DisplayOptions, "window" | "percentiles"> = {},
): Window {
  if (opts.window) return opts.window;
  const [lo, hi] = opts.percentiles ?? [0.5, 99.5];
  const w = percentileWindow(firstVolumeValues(volume), lo, hi);
  // an all-zero image has no nonzero voxels: show it black rather than as a threshold
  return w.low === 0 && w.high === 0 ? { low: 0, high: 1 } : w;
}

function checkSameGrid(image: Volume, other: Volume, name: string): void {
  const a = volumeDims(image);
  const b = volumeDims(other);
  if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) {
    throw new RangeError(
      `${name} is ${b.join("×")}, the image ${a.join("×")}: they must share a voxel grid`,
    );
  }
}

/** Resamples a row-major slice of label values by nearest neighbour (labels must stay labels). */
function resampleLabels(
  values: Float32Array,
  w: number,
  h: number,
  outW: number,
  outH: number,
): Float32Array {
  if (w === outW && h === outH) return values;
  const out = new Float32Array(outW * outH);
  const xs = new Int32Array(outW);
  for (let x = 0; x < outW; x++) xs[x] = Math.min(w - 1, Math.floor(((x + 0.5) * w) / outW));
  for (let y = 0; y < outH; y++) {
    const row = Math.min(h - 1, Math.floor(((y + 0.5) * h) / outH)) * w;
    for (let x = 0; x < outW; x++) out[y * outW + x] = values[row + xs[x]!]!;
  }
  return out;
}

function remap(values: Float32Array, map: Record<number, number> | undefined): Float32Array {
  if (!map) return values;
  const table = new Map(Object.entries(map).map(([k, v]) => [Number(k), v]));
  for (let i = 0; i < values.length; i++) {
    const to = table.get(values[i]!);
    if (to !== undefined) values[i] = to;
  }
  return values;
}

/** Millimetres per output pixel: the finest voxel spacing divided by the scale. */
function mmPerPixel(volume: Volume, scale: number): number {
  checkScale(scale);
  return Math.min(...voxelSpacing(volume)) / scale;
}

/** Inclusive voxel index ranges [lo, hi] along the three voxel axes. */
export type VoxelBox = [[number, number], [number, number], [number, number]];

/** The bounding box of the nonzero voxels of the first 3D volume (the head, for skull-stripped MRI), or null if all are zero. */
export function nonzeroBox(volume: Volume): VoxelBox | null {
  const [nx, ny, nz] = volumeDims(volume);
  const data = firstVolumeValues(volume);
  const box: VoxelBox = [
    [nx, -1],
    [ny, -1],
    [nz, -1],
  ];
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      let first = -1;
      let last = -1;
      for (let x = 0; x < nx; x++, i++) {
        const v = data[i]!;
        if (v !== 0 && v === v) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first < 0) continue;
      if (first < box[0][0]) box[0][0] = first;
      if (last > box[0][1]) box[0][1] = last;
      if (y < box[1][0]) box[1][0] = y;
      if (y > box[1][1]) box[1][1] = y;
      if (z < box[2][0]) box[2][0] = z;
      box[2][1] = z;
    }
  }
  return box[0][1] < 0 ? null : box;
}

/** The part of a slice shown, in slice pixels (before scaling). */
export interface SliceCrop {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What every panel of one figure shares: the intensity window, the output scale and the crop box. */
interface SliceContext {
  win: Window;
  /** mm per output pixel. */
  mmpp: number;
  /** Voxels kept (with the margin), or null to show whole slices. */
  box: VoxelBox | null;
}

/**
 * Margin kept around the head when cropping, in output pixels: with markers, room for the largest
 * marker letters (18 px, inset 5 px) so they sit on the background rather than on the anatomy.
 */
const CROP_MARGIN_PX = { markers: 24, plain: 8 };

function sliceContext(image: Volume, opts: DisplayOptions, defaultScale: number): SliceContext {
  const crop = opts.crop ?? true;
  const mmpp = mmPerPixel(image, opts.scale ?? defaultScale);
  let box: VoxelBox | null = null;
  if (crop) {
    const found = nonzeroBox(image);
    if (found) {
      const dims = volumeDims(image);
      const spacing = voxelSpacing(image);
      const marginMm =
        (opts.markers === false ? CROP_MARGIN_PX.plain : CROP_MARGIN_PX.markers) * mmpp;
      box = found.map(([lo, hi], a) => {
        const m = Math.ceil(marginMm / spacing[a]!);
        return [Math.max(0, lo - m), Math.min(dims[a]! - 1, hi + m)];
      }) as VoxelBox;
    }
  }
  return { win: volumeWindow(image, opts), mmpp, box };
}

/** The screen rectangle of a slice whose voxels lie inside `box`. */
function cropOf(volume: Volume, geometry: SliceGeometry, box: VoxelBox | null): SliceCrop {
  const { width: w, height: h } = geometry;
  if (!box) return { x: 0, y: 0, width: w, height: h };
  const dims = volumeDims(volume);
  const strides = [1, dims[0], dims[0] * dims[1]];
  const coord = (v: number, axis: number) => Math.floor(v / strides[axis]!) % dims[axis]!;
  const span = (screenAxis: 0 | 1): [number, number] => {
    const axis = geometry.voxelAxes[screenAxis];
    const n = screenAxis === 0 ? w : h;
    const start = coord(geometry.voxelOf(0, 0), axis);
    const end = coord(
      screenAxis === 0 ? geometry.voxelOf(w - 1, 0) : geometry.voxelOf(0, h - 1),
      axis,
    );
    const [lo, hi] = box[axis as 0 | 1 | 2];
    // screen pixel p shows voxel coordinate start ± p
    const [p0, p1] = end >= start ? [lo - start, hi - start] : [start - hi, start - lo];
    const from = Math.max(0, p0);
    const to = Math.min(n - 1, p1);
    return to < from ? [0, n] : [from, to - from + 1];
  };
  const [x, width] = span(0);
  const [y, height] = span(1);
  return { x, y, width, height };
}

function cropValues(values: Float32Array, w: number, crop: SliceCrop): Float32Array {
  if (
    crop.x === 0 &&
    crop.y === 0 &&
    crop.width === w &&
    crop.width * crop.height === values.length
  )
    return values;
  const out = new Float32Array(crop.width * crop.height);
  for (let y = 0; y < crop.height; y++) {
    const from = (crop.y + y) * w + crop.x;
    out.set(values.subarray(from, from + crop.width), y * crop.width);
  }
  return out;
}

interface CutSlice {
  geometry: SliceGeometry;
  crop: SliceCrop;
  grey: RgbaImage;
  /** Label values resampled to the grey image's size (when labels were given). */
  labels?: Float32Array;
}

/** Cuts, crops, windows and resamples one slice (and its labels) to square output pixels. */
function cutSlice(
  image: Volume,
  labels: Volume | undefined,
  plane: Plane,
  index: number,
  context: SliceContext,
  opts: DisplayOptions,
  labelMap = opts.labelMap,
): CutSlice {
  const geometry = sliceGeometry(image, plane, index, opts.convention ?? "radiological");
  const crop = cropOf(image, geometry, context.box);
  const { width: w, height: h } = crop;
  const outW = Math.max(1, Math.round((w * geometry.pixelSpacing[0]) / context.mmpp));
  const outH = Math.max(1, Math.round((h * geometry.pixelSpacing[1]) / context.mmpp));
  const values = cropValues(extractSlice(image, geometry), geometry.width, crop);
  const grey = resize(applyWindow(values, context.win, w, h), outW, outH, "bilinear");
  if (!labels) return { geometry, crop, grey };
  // the labels are read with the image's geometry: same grid, checked by the callers
  const labelGeometry = sliceGeometry(
    { ...labels, affine: image.affine, spacing: image.spacing },
    plane,
    geometry.index,
    geometry.convention,
  );
  const labelValues = cropValues(
    remap(extractSlice(labels, labelGeometry), labelMap),
    geometry.width,
    crop,
  );
  return { geometry, crop, grey, labels: resampleLabels(labelValues, w, h, outW, outH) };
}

function overlayOf(
  cut: CutSlice,
  styles: readonly LabelStyle[],
  opts: DisplayOptions,
  scale: number,
): RgbaImage {
  if (!cut.labels) return cut.grey;
  return overlayLabels(cut.grey, cut.labels, styles, {
    mode: opts.mode ?? "fill",
    alpha: opts.alpha,
    thickness:
      opts.mode === "contour" ? (opts.thickness ?? Math.max(1, Math.round(scale))) : undefined,
  });
}

/** "Axial slice 61": the 0-based voxel index along the plane's normal axis, as the API takes it. */
function sliceTitle(plane: Plane, geometry: SliceGeometry): string {
  return `${PLANE_TITLES[plane]} slice ${geometry.index}`;
}

function sliceTotal(volume: Volume, geometry: SliceGeometry): number {
  return volumeDims(volume)[geometry.voxelAxes[2]]!;
}

/** The slice to show: the given one, else the largest tumour slice, else the middle. */
function chooseIndex(
  image: Volume,
  labels: Volume | undefined,
  plane: Plane,
  given: number | undefined,
): number {
  if (given !== undefined) return given;
  return labels ? largestTumourSlice(labels, plane) : Math.floor(sliceTotalOf(image, plane) / 2);
}

/**
 * One slice with its labels: the image panel plus, for callers composing their own figures, the
 * geometry used. Throws a RangeError for labels on another grid, a bad plane, index or option.
 */
export function slicePanel(opts: RenderOverlayOptions): SlicePanel {
  if (opts.labels) checkSameGrid(opts.image, opts.labels, "labels");
  return panelWith(opts, sliceContext(opts.image, opts, 2));
}

function panelWith(opts: RenderOverlayOptions, context: SliceContext): SlicePanel {
  const plane = opts.plane ?? "axial";
  const index = chooseIndex(opts.image, opts.labels, plane, opts.index);
  const cut = cutSlice(opts.image, opts.labels, plane, index, context, opts);
  const styles = labelStyles(opts.labelConvention ?? "brats2021");
  return {
    image: overlayOf(cut, styles, opts, opts.scale ?? 2),
    title: sliceTitle(plane, cut.geometry),
    markers: opts.markers === false ? undefined : cut.geometry.markers,
    geometry: cut.geometry,
    crop: cut.crop,
  };
}

function sliceTotalOf(volume: Volume, plane: Plane): number {
  return sliceTotal(volume, sliceGeometry(volume, plane));
}

function figureTitle(opts: DisplayOptions, fallback: string): string | undefined {
  return opts.title === undefined ? fallback || undefined : opts.title || undefined;
}

/**
 * What a renderer composes: its panels and the figure options (title, legend, grid). Use it to
 * combine several figures into one, or to learn where the panels land (`composeFigureWithLayout`).
 */
export interface FigureParts extends Pick<
  FigureOptions,
  "title" | "legend" | "columns" | "columnTitles" | "rowTitles"
> {
  panels: Panel[];
}

/** Draws figure parts with a renderer's display options (caption, font size, backend). */
export function composeParts(
  parts: FigureParts,
  opts: Pick<DisplayOptions, "caption" | "fontSize" | "backend"> = {},
): RgbaImage {
  return composeFigure(parts.panels, {
    ...parts,
    caption: opts.caption,
    fontSize: opts.fontSize,
    backend: opts.backend,
  });
}

/** The legend entries of a label convention: "Oedema (2)" and its colour, ... */
export function labelLegend(convention: LabelConvention = "brats2021"): LegendItem[] {
  return labelStyles(convention).map((s) => ({ label: `${s.name} (${s.value})`, color: s.color }));
}

/** The legend entries of an error map (the true-positive swatch as it looks: faint green on grey). */
export function errorLegend(): LegendItem[] {
  return errorStyles(true).map((e) => ({
    label: e.short === "TP" ? `${e.name} (faint)` : e.name,
    // true positives are drawn faintly: show the swatch as it looks on mid-grey, not as the oedema green
    color: e.short === "TP" ? blendOnGrey(e.color, TP_ALPHA) : e.color,
  }));
}

/** The parts of `renderOverlay`. */
export function overlayFigure(opts: RenderOverlayOptions): FigureParts {
  const panel = slicePanel(opts);
  const legend =
    opts.labels && opts.legend !== false ? labelLegend(opts.labelConvention) : undefined;
  return {
    panels: [{ ...panel, title: undefined }],
    title: figureTitle(opts, panel.title ?? ""),
    legend,
  };
}

/** The parts of `renderThreePlane`. */
export function threePlaneFigure(opts: RenderThreePlaneOptions): FigureParts {
  if (opts.labels) checkSameGrid(opts.image, opts.labels, "labels");
  const context = sliceContext(opts.image, opts, 2);
  const panels = PLANES.map((plane) =>
    panelWith({ ...opts, plane, index: opts.indices?.[plane] }, context),
  );
  const legend =
    opts.labels && opts.legend !== false ? labelLegend(opts.labelConvention) : undefined;
  return { panels, title: figureTitle(opts, ""), legend };
}

/** One slice of `image` (default axial, largest tumour slice) with `labels` overlaid, a title, markers and a legend. */
export function renderOverlay(opts: RenderOverlayOptions): RgbaImage {
  return composeParts(overlayFigure(opts), opts);
}

/** Axial, coronal and sagittal slices of one volume side by side (same mm per pixel), with labels overlaid. */
export function renderThreePlane(opts: RenderThreePlaneOptions): RgbaImage {
  return composeParts(threePlaneFigure(opts), opts);
}

/**
 * Ground truth | prediction | error map of one slice (default axial, the largest ground-truth
 * tumour slice). The error map shows `region` (default WT): false positives magenta, false
 * negatives cyan, agreement faint green.
 */
export function renderComparison(opts: RenderComparisonOptions): RgbaImage {
  return composeParts(comparisonFigure(opts), opts);
}

/** The parts of `renderComparison`. */
export function comparisonFigure(opts: RenderComparisonOptions): FigureParts {
  const { image, gt, pred } = opts;
  checkSameGrid(image, gt, "gt");
  checkSameGrid(image, pred, "pred");
  const plane = opts.plane ?? "axial";
  const scale = opts.scale ?? 2;
  const labelConvention = opts.labelConvention ?? "brats2021";
  const region = opts.region ?? "WT";
  const regionValues = regionLabels(region, labelConvention);
  let index = opts.index;
  if (index === undefined) {
    const gtAreas = tumourAreas(gt, plane);
    index = gtAreas.some((a) => a > 0)
      ? largestTumourSlice(gt, plane)
      : largestTumourSlice(pred, plane);
  }
  const context = sliceContext(image, opts, 2);
  const gtCut = cutSlice(image, gt, plane, index, context, opts);
  const predCut = cutSlice(
    image,
    pred,
    plane,
    index,
    context,
    opts,
    opts.predLabelMap ?? opts.labelMap,
  );
  const styles = labelStyles(labelConvention);
  const errors = errorMap(
    gtCut.grey,
    labelMask(predCut.labels!, regionValues),
    labelMask(gtCut.labels!, regionValues),
    {
      truePositiveAlpha: TP_ALPHA,
    },
  );
  const markers = opts.markers === false ? undefined : gtCut.geometry.markers;
  const panels: Panel[] = [
    {
      image: overlayOf(gtCut, styles, opts, scale),
      title: opts.gtTitle ?? "Ground truth",
      markers,
    },
    {
      image: overlayOf(predCut, styles, opts, scale),
      title: opts.predTitle ?? "Prediction",
      markers,
    },
    { image: errors, title: `Errors (${region})`, markers },
  ];
  const legend =
    opts.legend === false ? undefined : [...labelLegend(labelConvention), ...errorLegend()];
  return { panels, title: figureTitle(opts, sliceTitle(plane, gtCut.geometry)), legend };
}

/** `count` slice indices spread evenly over the slices where `areas` is nonzero (over all slices if none is). */
function spreadSlices(areas: Float64Array, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new RangeError(
      `slices must be an integer count in [1, 64] or a list of indices, got ${String(count)}`,
    );
  let lo = areas.findIndex((a) => a > 0);
  let hi = areas.length - 1 - [...areas].reverse().findIndex((a) => a > 0);
  if (lo < 0) {
    lo = 0;
    hi = areas.length - 1;
  }
  return Array.from({ length: count }, (_, i) =>
    Math.round(lo + ((hi - lo) * (i + 1)) / (count + 1)),
  );
}

/**
 * A grid with one row per volume (titled with its name) and one column per plane × slice (titled
 * with the plane and slice), every volume windowed on its own, labels over every panel.
 */
export function renderMontage(opts: RenderMontageOptions): RgbaImage {
  return composeParts(montageFigure(opts), opts);
}

/** The parts of `renderMontage`. */
export function montageFigure(opts: RenderMontageOptions): FigureParts {
  const volumes: ReadonlyArray<{ name: string; volume: Volume }> = opts.volumes;
  // (not Array.isArray: it would widen the element type to any)
  if (typeof volumes !== "object" || volumes === null || !(volumes.length > 0))
    throw new RangeError("montage needs at least one volume");
  const first = volumes[0]!.volume;
  for (const v of volumes) checkSameGrid(first, v.volume, `volume "${v.name}"`);
  if (opts.labels) checkSameGrid(first, opts.labels, "labels");
  const planes = opts.planes ?? ["axial"];
  if (planes.length === 0) throw new RangeError("montage needs at least one plane");
  const scale = opts.scale ?? 1;
  const firstContext = sliceContext(first, opts, 1);
  const columns: Array<{ plane: Plane; index: number }> = [];
  for (const plane of planes) {
    let indices: readonly number[];
    if (Array.isArray(opts.slices)) indices = opts.slices;
    else if (typeof opts.slices === "number") {
      indices = spreadSlices(tumourAreas(opts.labels ?? first, plane), opts.slices);
    } else {
      indices = [chooseIndex(first, opts.labels, plane, undefined)];
    }
    for (const index of indices) columns.push({ plane, index });
  }
  const styles = labelStyles(opts.labelConvention ?? "brats2021");
  const drawLabels = opts.labels !== undefined && opts.overlay !== false;
  const panels: Panel[] = [];
  let columnTitles: string[] = [];
  opts.volumes.forEach(({ volume }, row) => {
    // each volume its own window; one crop box and scale for all, so the rows line up
    const context = {
      ...firstContext,
      win: volume === first ? firstContext.win : volumeWindow(volume, opts),
    };
    columnTitles = [];
    for (const { plane, index } of columns) {
      const cut = cutSlice(
        volume,
        drawLabels ? opts.labels : undefined,
        plane,
        index,
        context,
        opts,
      );
      panels.push({
        image: overlayOf(cut, styles, opts, scale),
        // every row has the same orientation: letters on the first row only keep the grid calm
        markers: opts.markers === false || row > 0 ? undefined : cut.geometry.markers,
      });
      columnTitles.push(sliceTitle(plane, cut.geometry));
    }
  });
  const legend =
    drawLabels && opts.legend !== false ? labelLegend(opts.labelConvention) : undefined;
  return {
    panels,
    title: figureTitle(opts, ""),
    columns: columns.length,
    columnTitles,
    rowTitles: opts.volumes.map((v) => v.name),
    legend,
  };
}

export function renderOverlayPng(opts: RenderOverlayOptions, png?: EncodePngOptions): Uint8Array {
  return encodePng(renderOverlay(opts), png);
}
export function renderThreePlanePng(
  opts: RenderThreePlaneOptions,
  png?: EncodePngOptions,
): Uint8Array {
  return encodePng(renderThreePlane(opts), png);
}
export function renderComparisonPng(
  opts: RenderComparisonOptions,
  png?: EncodePngOptions,
): Uint8Array {
  return encodePng(renderComparison(opts), png);
}
export function renderMontagePng(opts: RenderMontageOptions, png?: EncodePngOptions): Uint8Array {
  return encodePng(renderMontage(opts), png);
}
