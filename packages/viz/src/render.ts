// High-level pictures of volumes: one overlaid slice, the three planes, ground truth against a
// prediction with an error map, and montages of modalities × planes/slices. Each returns an
// RgbaImage; the ...Png variants encode it. Inputs are plain {data, shape, spacing, affine} objects
// (what @brats/nifti returns, with intensities scaled), so no other @brats package is needed.
// Options are in render-options.ts; cutting and cropping one slice in render-slice.ts.
import { regionLabels, type LabelConvention } from "@brats/conventions";
import { errorStyles, labelStyles } from "./colors.js";
import { composeFigure, type FigureOptions, type LegendItem, type Panel } from "./compose.js";
import { PLANES, type Plane, type SliceGeometry, type Volume } from "./orient.js";
import { errorMap, labelMask } from "./overlay.js";
import { encodePng, type EncodePngOptions } from "./png.js";
import type {
  DisplayOptions,
  RenderComparisonOptions,
  RenderMontageOptions,
  RenderOverlayOptions,
  RenderThreePlaneOptions,
} from "./render-options.js";
import {
  checkSameGrid,
  chooseIndex,
  cutSlice,
  overlayOf,
  sliceContext,
  sliceTitle,
  volumeWindow,
  type SliceContext,
  type SliceCrop,
} from "./render-slice.js";
import type { RgbaImage } from "./rgba.js";
import { largestTumourSlice, tumourAreas } from "./select.js";

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
