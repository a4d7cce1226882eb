// Figures from rendered slices: a grid of panels with a figure title, column and row titles, a title
// per panel, L/R/A/P/S/I markers on the panel edges and a legend of colour swatches, all text in the
// bundled font. Panels are RgbaImages already at display size (see render.ts); this file only lays
// them out and draws text, so it works for any picture the core renders.
import {
  canvasBackend,
  fontSpec,
  type CanvasBackendChoice,
  type DrawContext,
  type Surface,
} from "./canvas.js";
import type { SliceMarkers } from "./orient.js";
import type { Rgb, RgbaImage } from "./rgba.js";

export interface Panel {
  image: RgbaImage;
  /** Drawn above the image. */
  title?: string;
  /** Anatomical letters drawn inside the image at the middle of each edge. */
  markers?: SliceMarkers;
}

export interface LegendItem {
  label: string;
  color: Rgb;
}

export interface FigureOptions {
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Bold title above everything. */
  title?: string;
  /** One per column, above the first row. */
  columnTitles?: readonly string[];
  /** One per row, left of the row. */
  rowTitles?: readonly string[];
  /** Swatches and names in a line (wrapped as needed) under the panels. */
  legend?: readonly LegendItem[];
  /** Small text under the legend (data credits, options used). */
  caption?: string;
  /** Base font size in px (default 14). */
  fontSize?: number;
  /** Space between panels in px (default 16: room between one panel's R and the next one's L). */
  gap?: number;
  /** Outer margin in px (default 10). */
  margin?: number;
  /** Default black, with light text. */
  background?: Rgb;
  backend?: CanvasBackendChoice;
}

export interface MarkerBoxes {
  left: Box;
  right: Box;
  top: Box;
  bottom: Box;
}
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Where each part of a composed figure landed, for callers that draw more and for tests. */
export interface FigureLayout {
  width: number;
  height: number;
  /** Image rectangle of each panel (null where the panel was null). */
  panels: Array<Box | null>;
  /** Marker text boxes of each panel that has markers. */
  markers: Array<MarkerBoxes | null>;
  /** Swatch rectangle and text box of each legend item. */
  legend: Array<{ swatch: Box; text: Box }>;
}

function css([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}

function luminance([r, g, b]: Rgb): number {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * Size of the marker letters of a figure: readable, yet small next to the anatomy; one size for
 * all panels (that of the smallest panel), so that letters do not change size across a figure.
 */
function markerFontSize(panels: ReadonlyArray<Panel | null>): number {
  const sides = panels
    .filter((p): p is Panel => p?.markers !== undefined)
    .map((p) => Math.min(p.image.width, p.image.height));
  if (sides.length === 0) return 11;
  return Math.round(Math.min(18, Math.max(11, Math.min(...sides) / 14)));
}

type TextWidth = (value: string, size: number, bold?: boolean) => number;

/** Sizes and positions of everything in a figure, worked out before anything is drawn. */
interface FigurePlan {
  columns: number;
  rows: number;
  fontSize: number;
  gap: number;
  margin: number;
  background: Rgb;
  textColor: string;
  dimColor: string;
  width: number;
  height: number;
  /** Column widths and left edges, row heights (images only) and top edges. */
  colW: number[];
  colX: number[];
  rowH: number[];
  rowY: number[];
  panelTitleH: number;
  titleH: number;
  colTitleH: number;
  gridX: number;
  gridY: number;
  gridW: number;
  gridH: number;
  /** Legend boxes relative to the legend's top-left corner. */
  legend: Array<{ swatch: Box; text: Box }>;
  legendH: number;
  captionSize: number;
  captionH: number;
}

function gridShape(count: number, opts: FigureOptions): { columns: number; rows: number } {
  const columns = opts.columns ?? Math.max(1, count);
  if (!Number.isInteger(columns) || columns < 1)
    throw new RangeError(`columns must be a positive integer, got ${String(columns)}`);
  const rows = Math.max(1, Math.ceil(count / columns));
  if (opts.columnTitles && opts.columnTitles.length > columns) {
    throw new RangeError(`${opts.columnTitles.length} column titles for ${columns} columns`);
  }
  if (opts.rowTitles && opts.rowTitles.length > rows) {
    throw new RangeError(`${opts.rowTitles.length} row titles for ${rows} rows`);
  }
  return { columns, rows };
}

/** Column widths and row heights from the largest panel in each, and the title bands around them. */
function measureGrid(
  panels: ReadonlyArray<Panel | null>,
  opts: FigureOptions,
  { columns, rows }: { columns: number; rows: number },
  fontSize: number,
  gap: number,
  textWidth: TextWidth,
) {
  const colW = new Array<number>(columns).fill(0);
  const rowH = new Array<number>(rows).fill(0);
  const panelTitleH = panels.some((p) => p?.title) ? Math.round(fontSize * 1.6) : 0;
  panels.forEach((p, i) => {
    if (!p) return;
    const c = i % columns;
    const r = Math.floor(i / columns);
    colW[c] = Math.max(
      colW[c]!,
      p.image.width,
      p.title ? Math.ceil(textWidth(p.title, fontSize)) : 0,
    );
    rowH[r] = Math.max(rowH[r]!, p.image.height);
  });
  for (let c = 0; c < columns; c++) colW[c] = Math.max(colW[c]!, 1);
  const rowTitleW = opts.rowTitles?.length
    ? Math.ceil(Math.max(...opts.rowTitles.map((t) => textWidth(t, fontSize, true)))) + gap + 4
    : 0;
  return {
    colW,
    rowH,
    panelTitleH,
    titleH: opts.title ? Math.round(fontSize * 2.1) : 0,
    colTitleH: opts.columnTitles?.length ? Math.round(fontSize * 1.7) : 0,
    rowTitleW,
    gridW: colW.reduce((s, w) => s + w, 0) + gap * (columns - 1),
    gridH: rowH.reduce((s, h) => s + h + panelTitleH, 0) + gap * (rows - 1),
  };
}

/** Legend items flow left to right and wrap to `contentW`; boxes relative to the legend's corner. */
function flowLegend(
  legend: readonly LegendItem[] | undefined,
  contentW: number,
  fontSize: number,
  textWidth: TextWidth,
): { placed: Array<{ swatch: Box; text: Box }>; height: number } {
  const swatch = Math.round(fontSize * 1.05);
  const legendGap = Math.round(fontSize * 1.3);
  const legendRowH = Math.round(fontSize * 1.7);
  const placed: Array<{ swatch: Box; text: Box }> = [];
  if (!legend || legend.length === 0) return { placed, height: 0 };
  let x = 0;
  let line = 0;
  for (const item of legend) {
    const w = swatch + 6 + Math.ceil(textWidth(item.label, fontSize));
    if (x > 0 && x + w > contentW) {
      x = 0;
      line++;
    }
    const y = line * legendRowH;
    placed.push({
      // whole pixels, so the swatch is a crisp square of its colour
      swatch: { x, y: y + Math.round((legendRowH - swatch) / 2), w: swatch, h: swatch },
      text: { x: x + swatch + 6, y, w: w - swatch - 6, h: legendRowH },
    });
    x += w + legendGap;
  }
  return { placed, height: (line + 1) * legendRowH + Math.round(fontSize * 0.6) };
}

function planFigure(
  panels: ReadonlyArray<Panel | null>,
  opts: FigureOptions,
  textWidth: TextWidth,
): FigurePlan {
  const shape = gridShape(panels.length, opts);
  const fontSize = opts.fontSize ?? 14;
  const gap = opts.gap ?? 16;
  const margin = opts.margin ?? 10;
  const background = opts.background ?? ([0, 0, 0] as const);
  const grid = measureGrid(panels, opts, shape, fontSize, gap, textWidth);
  const gridY = margin + grid.titleH + grid.colTitleH;
  const contentW = Math.max(
    grid.gridW + grid.rowTitleW,
    opts.title ? textWidth(opts.title, fontSize + 2, true) : 0,
  );
  const legend = flowLegend(opts.legend, contentW, fontSize, textWidth);
  const captionSize = Math.max(10, Math.round(fontSize * 0.8));
  const captionH = opts.caption ? Math.round(captionSize * 1.6) : 0;
  const width = Math.ceil(
    margin * 2 +
      Math.max(
        contentW,
        legend.placed.reduce((m, l) => Math.max(m, l.text.x + l.text.w), 0),
        opts.caption ? textWidth(opts.caption, captionSize) : 0,
      ),
  );
  // the grid is centred when a wide title, legend or caption makes the figure wider than it
  const gridX =
    margin + grid.rowTitleW + Math.floor((width - 2 * margin - grid.rowTitleW - grid.gridW) / 2);
  const height = Math.ceil(
    gridY + grid.gridH + (legend.height || captionH ? gap : 0) + legend.height + captionH + margin,
  );
  const colX: number[] = [];
  for (let c = 0, x = gridX; c < shape.columns; x += grid.colW[c]! + gap, c++) colX.push(x);
  const rowY: number[] = [];
  for (let r = 0, y = gridY; r < shape.rows; y += grid.rowH[r]! + grid.panelTitleH + gap, r++)
    rowY.push(y);
  const dark = luminance(background) < 128;
  return {
    ...shape,
    ...grid,
    fontSize,
    gap,
    margin,
    background,
    textColor: dark ? "#f2f2f2" : "#1a1a1a",
    dimColor: dark ? "#a8a8a8" : "#606060",
    width,
    height,
    colX,
    rowY,
    gridX,
    gridY,
    legend: legend.placed,
    legendH: legend.height,
    captionSize,
    captionH,
  };
}

/** Puts each panel's image at the centre of its cell; returns the image boxes. */
function drawPanels(
  surface: Surface,
  panels: ReadonlyArray<Panel | null>,
  plan: FigurePlan,
): Array<Box | null> {
  return panels.map((p, i) => {
    if (!p) return null;
    const c = i % plan.columns;
    const r = Math.floor(i / plan.columns);
    const x = plan.colX[c]! + Math.floor((plan.colW[c]! - p.image.width) / 2);
    const y = plan.rowY[r]! + plan.panelTitleH + Math.floor((plan.rowH[r]! - p.image.height) / 2);
    surface.putRgba(p.image, x, y);
    return { x, y, w: p.image.width, h: p.image.height };
  });
}

type DrawText = (
  value: string,
  x: number,
  y: number,
  size: number,
  align: "left" | "center" | "right",
  style?: { bold?: boolean; color?: string; baseline?: "top" | "middle" | "bottom" },
) => void;

function textDrawer(ctx: DrawContext, color: string): DrawText {
  return (value, x, y, size, align, style = {}) => {
    ctx.font = fontSpec(size, style.bold);
    ctx.fillStyle = style.color ?? color;
    ctx.textAlign = align;
    ctx.textBaseline = style.baseline ?? "middle";
    ctx.fillText(value, x, y);
  };
}

/** The figure title, column and row titles, then each panel's title and markers. */
function drawTitlesAndMarkers(
  ctx: DrawContext,
  drawText: DrawText,
  panels: ReadonlyArray<Panel | null>,
  panelBoxes: ReadonlyArray<Box | null>,
  opts: FigureOptions,
  plan: FigurePlan,
  textWidth: TextWidth,
): Array<MarkerBoxes | null> {
  const { colX, colW, rowY, rowH, fontSize, margin, titleH, colTitleH, panelTitleH } = plan;
  if (opts.title)
    drawText(opts.title, plan.gridX + plan.gridW / 2, margin + titleH / 2, fontSize + 2, "center", {
      bold: true,
    });
  opts.columnTitles?.forEach((t, c) =>
    drawText(t, colX[c]! + colW[c]! / 2, margin + titleH + colTitleH / 2, fontSize, "center", {
      bold: true,
    }),
  );
  opts.rowTitles?.forEach((t, r) =>
    drawText(t, margin, rowY[r]! + panelTitleH + rowH[r]! / 2, fontSize, "left", { bold: true }),
  );
  const markerSize = markerFontSize(panels);
  return panels.map((p, i) => {
    const box = panelBoxes[i];
    if (!p || !box) return null;
    if (p.title) {
      const c = i % plan.columns;
      drawText(p.title, colX[c]! + colW[c]! / 2, box.y - panelTitleH / 2, fontSize, "center");
    }
    return p.markers ? drawMarkers(ctx, p.markers, box, markerSize, textWidth) : null;
  });
}

/** Legend swatches and names under the grid, then the caption; returns the legend boxes. */
function drawLegendAndCaption(
  ctx: DrawContext,
  drawText: DrawText,
  opts: FigureOptions,
  plan: FigurePlan,
): Array<{ swatch: Box; text: Box }> {
  const { margin, fontSize } = plan;
  const legendTop = plan.gridY + plan.gridH + plan.gap;
  const boxes = plan.legend.map((l, i) => {
    const item = opts.legend![i]!;
    const sw = { ...l.swatch, x: l.swatch.x + margin, y: l.swatch.y + legendTop };
    const tx = { ...l.text, x: l.text.x + margin, y: l.text.y + legendTop };
    ctx.fillStyle = css(item.color);
    ctx.fillRect(sw.x, sw.y, sw.w, sw.h);
    ctx.strokeStyle = plan.textColor;
    ctx.lineWidth = 1;
    ctx.strokeRect(sw.x - 0.5, sw.y - 0.5, sw.w + 1, sw.h + 1);
    drawText(item.label, tx.x, tx.y + tx.h / 2, fontSize, "left");
    return { swatch: sw, text: tx };
  });
  if (opts.caption)
    drawText(
      opts.caption,
      margin,
      legendTop + plan.legendH + plan.captionH / 2,
      plan.captionSize,
      "left",
      { color: plan.dimColor },
    );
  return boxes;
}

/**
 * Lays out and draws a figure. Returns the pixels and where everything went.
 * Throws a RangeError for a bad column count or mismatched title lists.
 */
export function composeFigureWithLayout(
  panels: ReadonlyArray<Panel | null>,
  opts: FigureOptions = {},
): { image: RgbaImage; layout: FigureLayout } {
  const backend = canvasBackend(opts.backend);
  const measureCtx = backend.createSurface(1, 1).ctx;
  const textWidth: TextWidth = (value, size, bold = false) => {
    measureCtx.font = fontSpec(size, bold);
    return measureCtx.measureText(value).width;
  };
  const plan = planFigure(panels, opts, textWidth);
  const { width, height } = plan;

  const surface = backend.createSurface(width, height);
  const ctx = surface.ctx;
  ctx.fillStyle = css(plan.background);
  ctx.fillRect(0, 0, width, height);
  // Images first: putImageData replaces pixels, so text must come after.
  const panelBoxes = drawPanels(surface, panels, plan);
  const drawText = textDrawer(ctx, plan.textColor);
  const markers = drawTitlesAndMarkers(ctx, drawText, panels, panelBoxes, opts, plan, textWidth);
  const legend = drawLegendAndCaption(ctx, drawText, opts, plan);
  return {
    image: surface.toRgba(),
    layout: { width, height, panels: panelBoxes, markers, legend },
  };
}

/** Draws a figure (see `composeFigureWithLayout`) and returns its pixels. */
export function composeFigure(
  panels: ReadonlyArray<Panel | null>,
  opts?: FigureOptions,
): RgbaImage {
  return composeFigureWithLayout(panels, opts).image;
}

/** Letters at the middle of each edge, inside the image, light with a dark outline to stay legible on any anatomy. */
function drawMarkers(
  ctx: DrawContext,
  markers: SliceMarkers,
  box: Box,
  size: number,
  textWidth: (value: string, size: number, bold?: boolean) => number,
): MarkerBoxes {
  const inset = Math.max(3, Math.round(size * 0.3));
  const h = Math.round(size * 0.75); // cap height of DejaVu Sans is 0.73 em
  const w = (s: string) => Math.ceil(textWidth(s, size, true));
  const boxes: MarkerBoxes = {
    left: { x: box.x + inset, y: box.y + box.h / 2 - h / 2, w: w(markers.left), h },
    right: {
      x: box.x + box.w - inset - w(markers.right),
      y: box.y + box.h / 2 - h / 2,
      w: w(markers.right),
      h,
    },
    top: { x: box.x + box.w / 2 - w(markers.top) / 2, y: box.y + inset, w: w(markers.top), h },
    bottom: {
      x: box.x + box.w / 2 - w(markers.bottom) / 2,
      y: box.y + box.h - inset - h,
      w: w(markers.bottom),
      h,
    },
  };
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.x, box.y, box.w, box.h);
  ctx.clip();
  ctx.font = fontSpec(size, true);
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.lineJoin = "round";
  for (const edge of ["left", "right", "top", "bottom"] as const) {
    const b = boxes[edge];
    // alphabetic baseline at the bottom of the capital letters
    ctx.lineWidth = Math.max(2, size / 5);
    ctx.strokeStyle = "rgba(0, 0, 0, 0.85)";
    ctx.strokeText(markers[edge], b.x, b.y + b.h);
    ctx.fillStyle = "#ffffff";
    ctx.fillText(markers[edge], b.x, b.y + b.h);
  }
  ctx.restore();
  return boxes;
}
