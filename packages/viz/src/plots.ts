// Plots of a training run and of evaluation results. Each plot is first laid out as a list of simple
// shapes (a `PlotScene`), which is then written as SVG text by our own writer or painted on a canvas
// for PNG, so the two outputs show exactly the same picture.
// REGIONS and Region: this file's short names for REGION_NAMES and RegionName.
import {
  parseTrainingLog,
  REGION_NAMES as REGIONS,
  type RegionName as Region,
  type StepRecord,
  type TrainingLog,
} from "@brats/conventions";
import { canvasBackend, fontSpec, type CanvasBackendChoice } from "./canvas.js";
import { encodePng } from "./png.js";
import type { RgbaImage } from "./rgba.js";

// ---------------------------------------------------------------------------------------------
// Scenes

export type TextAnchor = "start" | "middle" | "end";
/** Where `y` sits on the text: its alphabetic baseline, its vertical middle, or its top. */
export type TextBaseline = "alphabetic" | "middle" | "top";

export type PlotShape =
  | {
      kind: "line";
      x1: number;
      y1: number;
      x2: number;
      y2: number;
      stroke: string;
      width: number;
      opacity?: number;
      dash?: number[];
    }
  | {
      kind: "polyline";
      points: Array<[number, number]>;
      stroke: string;
      width: number;
      opacity?: number;
      dash?: number[];
    }
  | {
      kind: "rect";
      x: number;
      y: number;
      w: number;
      h: number;
      fill?: string;
      fillOpacity?: number;
      stroke?: string;
      width?: number;
    }
  | {
      kind: "circle";
      cx: number;
      cy: number;
      r: number;
      fill?: string;
      stroke?: string;
      width?: number;
    }
  | {
      kind: "text";
      x: number;
      y: number;
      text: string;
      size: number;
      fill: string;
      anchor: TextAnchor;
      baseline: TextBaseline;
      bold?: boolean;
      /** Degrees clockwise about (x, y). */
      rotate?: number;
    };

/** A plot as shapes in pixel coordinates (origin top-left), rendered by `sceneToSvg` and `sceneToRgba`. */
export interface PlotScene {
  width: number;
  height: number;
  background: string;
  shapes: PlotShape[];
}

/** Fonts named in SVG output; the first is the one bundled for PNG output. */
export const SVG_FONT_FAMILY =
  "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', Arial, Helvetica, sans-serif";

// Offsets of the alphabetic baseline below `y` for the other baselines, in em, so SVG (where
// dominant-baseline support varies) and canvas place text identically.
const BASELINE_SHIFT: Record<TextBaseline, number> = { alphabetic: 0, middle: 0.36, top: 0.76 };

function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;",
  );
}

/** Writes a scene as a standalone SVG document. */
export function sceneToSvg(scene: PlotScene): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(scene.width)}" height="${num(scene.height)}" viewBox="0 0 ${num(scene.width)} ${num(scene.height)}" font-family="${escapeXml(SVG_FONT_FAMILY)}">`,
    `<rect x="0" y="0" width="${num(scene.width)}" height="${num(scene.height)}" fill="${scene.background}"/>`,
  ];
  for (const s of scene.shapes) {
    const dash =
      "dash" in s && s.dash && s.dash.length > 0
        ? ` stroke-dasharray="${s.dash.map(num).join(" ")}"`
        : "";
    const opacity =
      "opacity" in s && s.opacity !== undefined ? ` stroke-opacity="${num(s.opacity)}"` : "";
    switch (s.kind) {
      case "line":
        out.push(
          `<line x1="${num(s.x1)}" y1="${num(s.y1)}" x2="${num(s.x2)}" y2="${num(s.y2)}" stroke="${s.stroke}" stroke-width="${num(s.width)}"${opacity}${dash}/>`,
        );
        break;
      case "polyline":
        if (s.points.length === 0) break;
        out.push(
          `<polyline points="${s.points.map(([x, y]) => `${num(x)},${num(y)}`).join(" ")}" fill="none" stroke="${s.stroke}" stroke-width="${num(s.width)}" stroke-linejoin="round" stroke-linecap="round"${opacity}${dash}/>`,
        );
        break;
      case "rect":
        out.push(
          `<rect x="${num(s.x)}" y="${num(s.y)}" width="${num(s.w)}" height="${num(s.h)}" fill="${s.fill ?? "none"}"${s.fillOpacity !== undefined ? ` fill-opacity="${num(s.fillOpacity)}"` : ""}${s.stroke ? ` stroke="${s.stroke}" stroke-width="${num(s.width ?? 1)}"` : ""}/>`,
        );
        break;
      case "circle":
        out.push(
          `<circle cx="${num(s.cx)}" cy="${num(s.cy)}" r="${num(s.r)}" fill="${s.fill ?? "none"}"${s.stroke ? ` stroke="${s.stroke}" stroke-width="${num(s.width ?? 1)}"` : ""}/>`,
        );
        break;
      case "text": {
        const y = s.y + BASELINE_SHIFT[s.baseline] * s.size;
        const transform = s.rotate
          ? ` transform="rotate(${num(s.rotate)} ${num(s.x)} ${num(s.y)})"`
          : "";
        out.push(
          `<text x="${num(s.x)}" y="${num(y)}" font-size="${num(s.size)}"${s.bold ? ' font-weight="bold"' : ""} fill="${s.fill}" text-anchor="${s.anchor}"${transform}>${escapeXml(s.text)}</text>`,
        );
        break;
      }
    }
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

export interface RasterOptions {
  /** Device pixels per scene unit (default 1; 2 for sharp pictures on high-density screens). */
  scale?: number;
  backend?: CanvasBackendChoice;
}

/** Paints a scene on a canvas (bundled font) and returns its pixels. */
export function sceneToRgba(scene: PlotScene, opts: RasterOptions = {}): RgbaImage {
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 8))
    throw new RangeError(`scale must be in (0, 8], got ${String(scale)}`);
  const surface = canvasBackend(opts.backend).createSurface(
    Math.max(1, Math.round(scene.width * scale)),
    Math.max(1, Math.round(scene.height * scale)),
  );
  const ctx = surface.ctx;
  ctx.scale(scale, scale);
  ctx.fillStyle = scene.background;
  ctx.fillRect(0, 0, scene.width, scene.height);
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  for (const s of scene.shapes) {
    ctx.save();
    switch (s.kind) {
      case "line":
      case "polyline": {
        const points: Array<[number, number]> =
          s.kind === "line"
            ? [
                [s.x1, s.y1],
                [s.x2, s.y2],
              ]
            : s.points;
        if (points.length === 0) break;
        ctx.globalAlpha = s.opacity ?? 1;
        ctx.strokeStyle = s.stroke;
        ctx.lineWidth = s.width;
        ctx.setLineDash(s.dash ?? []);
        ctx.beginPath();
        points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
        ctx.stroke();
        break;
      }
      case "rect":
        if (s.fill) {
          ctx.globalAlpha = s.fillOpacity ?? 1;
          ctx.fillStyle = s.fill;
          ctx.fillRect(s.x, s.y, s.w, s.h);
          ctx.globalAlpha = 1;
        }
        if (s.stroke) {
          ctx.strokeStyle = s.stroke;
          ctx.lineWidth = s.width ?? 1;
          ctx.strokeRect(s.x, s.y, s.w, s.h);
        }
        break;
      case "circle":
        ctx.beginPath();
        ctx.arc(s.cx, s.cy, s.r, 0, 2 * Math.PI);
        if (s.fill) {
          ctx.fillStyle = s.fill;
          ctx.fill();
        }
        if (s.stroke) {
          ctx.strokeStyle = s.stroke;
          ctx.lineWidth = s.width ?? 1;
          ctx.stroke();
        }
        break;
      case "text":
        ctx.font = fontSpec(s.size, s.bold);
        ctx.fillStyle = s.fill;
        ctx.textBaseline = "alphabetic";
        ctx.textAlign = s.anchor === "start" ? "left" : s.anchor === "end" ? "right" : "center";
        ctx.translate(s.x, s.y);
        if (s.rotate) ctx.rotate((s.rotate * Math.PI) / 180);
        ctx.fillText(s.text, 0, BASELINE_SHIFT[s.baseline] * s.size);
        break;
    }
    ctx.restore();
  }
  return surface.toRgba();
}

// ---------------------------------------------------------------------------------------------
// Axes

/** Tick positions at 1, 2, 2.5 or 5 × 10^k covering [lo, hi] with about `target` intervals. */
export function niceTicks(
  lo: number,
  hi: number,
  target = 5,
  integer = false,
): { lo: number; hi: number; step: number; values: number[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    throw new RangeError(`tick range must be finite, got [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
  if (integer) step = Math.max(1, Math.round(step));
  // snap to the step, with a tolerance so 0.30000000000000004 is not a new tick
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const values: number[] = [];
  for (let k = 0; first + k * step <= last + step * 1e-9; k++)
    values.push(Number((first + k * step).toPrecision(12)));
  return { lo: first, hi: last, step, values };
}

function formatTick(value: number, step: number): string {
  const decimals = Math.max(
    0,
    Math.ceil(-Math.log10(step) - 1e-9) +
      (Math.abs(step / 10 ** Math.floor(Math.log10(step)) - 2.5) < 1e-9 ? 1 : 0),
  );
  return value.toFixed(Math.min(decimals, 10));
}

interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
  xs: { lo: number; hi: number };
  ys: { lo: number; hi: number };
}

const AXIS_COLOR = "#333333";
const GRID_COLOR = "#e5e5e5";
const TEXT_COLOR = "#222222";

function px(f: Frame, x: number): number {
  return f.x + ((x - f.xs.lo) / (f.xs.hi - f.xs.lo)) * f.w;
}
function py(f: Frame, y: number): number {
  return f.y + f.h - ((y - f.ys.lo) / (f.ys.hi - f.ys.lo)) * f.h;
}

function text(
  x: number,
  y: number,
  value: string,
  size: number,
  anchor: TextAnchor,
  baseline: TextBaseline,
  extra: { bold?: boolean; rotate?: number; fill?: string } = {},
): PlotShape {
  return {
    kind: "text",
    x,
    y,
    text: value,
    size,
    fill: extra.fill ?? TEXT_COLOR,
    anchor,
    baseline,
    bold: extra.bold,
    rotate: extra.rotate,
  };
}

function drawAxes(
  shapes: PlotShape[],
  f: Frame,
  xTicks: { values: number[]; step: number } | { values: number[]; labels: string[] },
  yTicks: { values: number[]; step: number },
  labels: { x: string; y: string; title: string },
): void {
  for (const v of yTicks.values) {
    const y = py(f, v);
    shapes.push({
      kind: "line",
      x1: f.x,
      y1: y,
      x2: f.x + f.w,
      y2: y,
      stroke: GRID_COLOR,
      width: 1,
    });
    shapes.push({ kind: "line", x1: f.x - 5, y1: y, x2: f.x, y2: y, stroke: AXIS_COLOR, width: 1 });
    shapes.push(text(f.x - 8, y, formatTick(v, yTicks.step), 12, "end", "middle"));
  }
  xTicks.values.forEach((v, i) => {
    const x = px(f, v);
    const label = "labels" in xTicks ? (xTicks.labels[i] ?? "") : formatTick(v, xTicks.step);
    shapes.push({
      kind: "line",
      x1: x,
      y1: f.y + f.h,
      x2: x,
      y2: f.y + f.h + 5,
      stroke: AXIS_COLOR,
      width: 1,
    });
    shapes.push(text(x, f.y + f.h + 8, label, 12, "middle", "top"));
  });
  shapes.push({
    kind: "line",
    x1: f.x,
    y1: f.y + f.h,
    x2: f.x + f.w,
    y2: f.y + f.h,
    stroke: AXIS_COLOR,
    width: 1,
  });
  shapes.push({
    kind: "line",
    x1: f.x,
    y1: f.y,
    x2: f.x,
    y2: f.y + f.h,
    stroke: AXIS_COLOR,
    width: 1,
  });
  shapes.push(text(f.x + f.w / 2, f.y + f.h + 30, labels.x, 13, "middle", "top"));
  shapes.push(text(f.x - 48, f.y + f.h / 2, labels.y, 13, "middle", "middle", { rotate: -90 }));
  shapes.push(
    text(f.x + f.w / 2, f.y - 12, labels.title, 15, "middle", "alphabetic", { bold: true }),
  );
}

/** Rough width of DejaVu Sans text (its mean advance is about 0.6 em), enough to size legend boxes. */
function approxTextWidth(value: string, size: number): number {
  return value.length * size * 0.62;
}

interface LegendEntry {
  label: string;
  color: string;
  width: number;
  opacity?: number;
  marker?: boolean;
}

function drawLegend(
  shapes: PlotShape[],
  f: Frame,
  entries: LegendEntry[],
  corner: "top-right" | "bottom-right",
): void {
  if (entries.length === 0) return;
  const size = 12;
  const rowHeight = 18;
  const w = 44 + Math.max(...entries.map((e) => approxTextWidth(e.label, size)));
  const h = entries.length * rowHeight + 8;
  const x = f.x + f.w - w - 8;
  const y = corner === "top-right" ? f.y + 8 : f.y + f.h - h - 8;
  shapes.push({
    kind: "rect",
    x,
    y,
    w,
    h,
    fill: "#ffffff",
    fillOpacity: 0.9,
    stroke: "#bbbbbb",
    width: 1,
  });
  entries.forEach((e, i) => {
    const cy = y + 4 + rowHeight * i + rowHeight / 2;
    shapes.push({
      kind: "line",
      x1: x + 8,
      y1: cy,
      x2: x + 32,
      y2: cy,
      stroke: e.color,
      width: e.width,
      opacity: e.opacity,
    });
    if (e.marker) shapes.push({ kind: "circle", cx: x + 20, cy, r: 3, fill: e.color });
    shapes.push(text(x + 38, cy, e.label, size, "start", "middle"));
  });
}

function noData(shapes: PlotShape[], f: Frame, message: string): void {
  shapes.push(
    text(f.x + f.w / 2, f.y + f.h / 2, message, 13, "middle", "middle", { fill: "#888888" }),
  );
}

// ---------------------------------------------------------------------------------------------
// Training log

/** Region colours of the plots (readable on white): WT green, TC red, ET orange. */
export const REGION_PLOT_COLORS: Record<Region, string> = {
  WT: "#2ca02c",
  TC: "#d62728",
  ET: "#e08a00",
};

function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

export interface TrainingCurvesOptions {
  title?: string;
  /** Scene size in CSS pixels (default 960 × 380). */
  width?: number;
  height?: number;
}

/**
 * Where each step's loss is drawn on the epoch axis: the k-th step (of n, the most steps any epoch
 * has) of epoch e at e − 1 + (k + 1)/n, so an epoch's steps lead up to its mean drawn at x = e.
 */
export function stepPositions(steps: readonly StepRecord[]): number[] {
  const perEpoch = new Map<number, number>();
  for (const s of steps) perEpoch.set(s.epoch, (perEpoch.get(s.epoch) ?? 0) + 1);
  const n = Math.max(1, ...perEpoch.values());
  const seen = new Map<number, number>();
  return steps.map((s) => {
    const k = seen.get(s.epoch) ?? 0;
    seen.set(s.epoch, k + 1);
    return s.epoch - 1 + (k + 1) / n;
  });
}

/** Lays out the training curves: loss against epoch (steps faint, epoch means bold) and validation Dice per region. */
export function trainingCurvesScene(
  log: TrainingLog | string,
  opts: TrainingCurvesOptions = {},
): PlotScene {
  const parsed = typeof log === "string" ? parseTrainingLog(log) : log;
  const width = opts.width ?? 960;
  const height = opts.height ?? 380;
  const shapes: PlotShape[] = [];
  const top = opts.title ? 62 : 40;
  if (opts.title)
    shapes.push(text(width / 2, 24, opts.title, 16, "middle", "alphabetic", { bold: true }));
  const footer = parsed.skipped > 0 ? 18 : 0;
  // per panel: 80 px for the y axis on the left; 40 px between the panels, 24 px right margin
  const panelW = (width - 2 * 80 - 40 - 24) / 2;
  const panelH = height - top - 60 - footer;

  const stepX = stepPositions(parsed.steps);
  const epochLoss = parsed.epochs.filter((e) => e.loss !== undefined);
  const xsAll = [...stepX, ...parsed.epochs.map((e) => e.epoch)];
  const xr =
    xsAll.length > 0
      ? niceTicks(Math.min(...xsAll), Math.max(...xsAll), 6, true)
      : niceTicks(0, 1, 1, true);

  // Loss panel
  const losses = [...parsed.steps.map((s) => s.loss), ...epochLoss.map((e) => e.loss!)];
  const lossTicks =
    losses.length > 0
      ? niceTicks(Math.min(0, ...losses), Math.max(...losses), 5)
      : niceTicks(0, 1, 5);
  const lossFrame: Frame = { x: 80, y: top, w: panelW, h: panelH, xs: xr, ys: lossTicks };
  drawAxes(shapes, lossFrame, xr, lossTicks, { x: "epoch", y: "loss", title: "Training loss" });
  const LOSS = "#1f5fa8";
  if (parsed.steps.length > 0) {
    shapes.push({
      kind: "polyline",
      points: parsed.steps.map((s, i) => [px(lossFrame, stepX[i]!), py(lossFrame, s.loss)]),
      stroke: LOSS,
      width: 1,
      opacity: 0.3,
    });
  }
  if (epochLoss.length > 0) {
    shapes.push({
      kind: "polyline",
      points: epochLoss.map((e) => [px(lossFrame, e.epoch), py(lossFrame, e.loss!)]),
      stroke: LOSS,
      width: 2.5,
    });
    for (const e of epochLoss)
      shapes.push({
        kind: "circle",
        cx: px(lossFrame, e.epoch),
        cy: py(lossFrame, e.loss!),
        r: 3,
        fill: LOSS,
      });
  }
  if (losses.length === 0) noData(shapes, lossFrame, "no loss in the log");
  drawLegend(
    shapes,
    lossFrame,
    [
      ...(parsed.steps.length > 0
        ? [{ label: "step loss", color: LOSS, width: 1, opacity: 0.3 }]
        : []),
      ...(epochLoss.length > 0
        ? [{ label: "epoch loss", color: LOSS, width: 2.5, marker: true }]
        : []),
    ],
    "top-right",
  );

  // Validation Dice panel
  const dices = parsed.epochs.flatMap((e) => REGIONS.map((r) => e.val?.[r]).filter(finite));
  const diceTicks =
    dices.length > 0
      ? niceTicks(Math.max(0, Math.min(...dices) - 0.05), Math.min(1, Math.max(...dices) + 0.05), 5)
      : niceTicks(0, 1, 5);
  const diceFrame: Frame = {
    x: 80 + panelW + 40 + 80,
    y: top,
    w: panelW,
    h: panelH,
    xs: xr,
    ys: diceTicks,
  };
  drawAxes(shapes, diceFrame, xr, diceTicks, { x: "epoch", y: "Dice", title: "Validation Dice" });
  const legend: LegendEntry[] = [];
  for (const region of REGIONS) {
    const points = parsed.epochs
      .filter((e) => finite(e.val?.[region]))
      .map((e) => [e.epoch, e.val![region]!] as const);
    if (points.length === 0) continue;
    const color = REGION_PLOT_COLORS[region];
    shapes.push({
      kind: "polyline",
      points: points.map(([x, y]) => [px(diceFrame, x), py(diceFrame, y)]),
      stroke: color,
      width: 2,
    });
    for (const [x, y] of points)
      shapes.push({
        kind: "circle",
        cx: px(diceFrame, x),
        cy: py(diceFrame, y),
        r: 3,
        fill: color,
      });
    legend.push({ label: region, color, width: 2, marker: true });
  }
  if (dices.length === 0) noData(shapes, diceFrame, "no validation Dice in the log");
  drawLegend(shapes, diceFrame, legend, "bottom-right");

  if (parsed.skipped > 0) {
    shapes.push(
      text(
        width - 8,
        height - 6,
        `${parsed.skipped} unreadable line${parsed.skipped === 1 ? "" : "s"} skipped`,
        11,
        "end",
        "alphabetic",
        { fill: "#a33" },
      ),
    );
  }
  return { width, height, background: "#ffffff", shapes };
}

// ---------------------------------------------------------------------------------------------
// Box plots of metrics across cases

/** Tukey box statistics with numpy's default (linear) quartiles. */
export interface BoxStats {
  n: number;
  q1: number;
  median: number;
  q3: number;
  /** Most extreme data within 1.5 IQR of the box. */
  whiskerLow: number;
  whiskerHigh: number;
  /** Data beyond the whiskers, ascending. */
  outliers: number[];
  mean: number;
}

function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Box statistics of the finite values (null when there are none). */
export function boxStats(values: ArrayLike<number | null | undefined>): BoxStats | null {
  const sorted = Array.from(values)
    .filter(finite)
    .sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const q1 = quantileSorted(sorted, 0.25);
  const median = quantileSorted(sorted, 0.5);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  const inside = sorted.filter((v) => v >= q1 - 1.5 * iqr && v <= q3 + 1.5 * iqr);
  return {
    n: sorted.length,
    q1,
    median,
    q3,
    whiskerLow: inside[0]!,
    whiskerHigh: inside[inside.length - 1]!,
    outliers: sorted.filter((v) => v < q1 - 1.5 * iqr || v > q3 + 1.5 * iqr),
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

/** The part of a `brats-eval --json` document the box plots read. */
export interface EvalReportLike {
  cases: Array<{
    case: string;
    regions: Partial<Record<Region, Record<string, number | null | undefined>>>;
  }>;
}

/** Per-region values of one metric across the cases of a `brats-eval --json` report; nulls are left out. */
export function metricValues(
  report: EvalReportLike | string,
  metric = "dice",
): Record<Region, number[]> {
  let doc: unknown = report;
  if (typeof report === "string") {
    try {
      doc = JSON.parse(report);
    } catch (cause) {
      throw new TypeError("not a brats-eval --json report: the text is not JSON", { cause });
    }
  }
  if (
    typeof doc !== "object" ||
    doc === null ||
    !Array.isArray((doc as { cases?: unknown }).cases)
  ) {
    throw new TypeError("not a brats-eval --json report: it has no `cases` array");
  }
  const out: Record<Region, number[]> = { WT: [], TC: [], ET: [] };
  for (const c of (doc as { cases: unknown[] }).cases) {
    const regions =
      typeof c === "object" && c !== null ? (c as { regions?: unknown }).regions : undefined;
    if (typeof regions !== "object" || regions === null) continue;
    for (const region of REGIONS) {
      const v = (regions as Record<string, Record<string, unknown> | undefined>)[region]?.[metric];
      if (finite(v)) out[region].push(v);
    }
  }
  return out;
}

export interface BoxPlotOptions {
  /** A MetricSet key: "dice" (default), "hd95", "hd", "assd", "sensitivity", ... */
  metric?: string;
  title?: string;
  width?: number;
  height?: number;
}

const METRIC_LABELS: Record<string, string> = {
  dice: "Dice",
  hd95: "HD95 (mm)",
  hd: "Hausdorff distance (mm)",
  assd: "ASSD (mm)",
  sensitivity: "sensitivity",
  specificity: "specificity",
  precision: "precision",
  jaccard: "Jaccard",
  volumePredMl: "predicted volume (mL)",
  volumeGtMl: "ground-truth volume (mL)",
};

/** Lays out per-region box plots (median, quartiles, 1.5 IQR whiskers, outliers) of one metric across cases. */
export function metricBoxPlotScene(
  report: EvalReportLike | string,
  opts: BoxPlotOptions = {},
): PlotScene {
  const metric = opts.metric ?? "dice";
  const values = metricValues(report, metric);
  const stats = REGIONS.map((r) => boxStats(values[r]));
  const width = opts.width ?? 560;
  const height = opts.height ?? 420;
  const label = METRIC_LABELS[metric] ?? metric;
  const nCases = Math.max(...REGIONS.map((r) => values[r].length));
  const title = opts.title ?? `${label} per region (${nCases} case${nCases === 1 ? "" : "s"})`;
  const shapes: PlotShape[] = [];

  const all = REGIONS.flatMap((r) => values[r]);
  const bounded =
    metric === "dice" ||
    metric === "jaccard" ||
    metric === "sensitivity" ||
    metric === "specificity" ||
    metric === "precision";
  let lo = all.length > 0 ? Math.min(...all) : 0;
  let hi = all.length > 0 ? Math.max(...all) : 1;
  if (bounded) {
    lo = Math.max(0, lo - 0.05);
    hi = Math.min(1, hi + 0.05);
  } else {
    lo = Math.min(0, lo);
  }
  const yTicks = niceTicks(lo, hi, 6);
  // a little room below the lowest tick and above the highest, so points there clear the axes
  const pad = (yTicks.hi - yTicks.lo) * 0.03;
  const ys = { lo: yTicks.lo - pad, hi: yTicks.hi + pad };
  const frame: Frame = {
    x: 84,
    y: 48,
    w: width - 84 - 24,
    h: height - 48 - 66,
    xs: { lo: 0, hi: REGIONS.length },
    ys,
  };
  drawAxes(
    shapes,
    frame,
    {
      values: REGIONS.map((_, i) => i + 0.5),
      labels: REGIONS.map((r, i) => `${r} (n=${stats[i]?.n ?? 0})`),
    },
    yTicks,
    { x: "region", y: label, title },
  );
  const boxW = Math.min(70, (frame.w / REGIONS.length) * 0.45);
  REGIONS.forEach((region, i) => {
    const s = stats[i];
    const cx = px(frame, i + 0.5);
    if (!s) {
      shapes.push(
        text(cx, frame.y + frame.h / 2, "no values", 12, "middle", "middle", { fill: "#888888" }),
      );
      return;
    }
    const color = REGION_PLOT_COLORS[region];
    const capW = boxW * 0.5;
    shapes.push({
      kind: "line",
      x1: cx,
      y1: py(frame, s.whiskerHigh),
      x2: cx,
      y2: py(frame, s.q3),
      stroke: AXIS_COLOR,
      width: 1.2,
    });
    shapes.push({
      kind: "line",
      x1: cx,
      y1: py(frame, s.q1),
      x2: cx,
      y2: py(frame, s.whiskerLow),
      stroke: AXIS_COLOR,
      width: 1.2,
    });
    for (const w of [s.whiskerLow, s.whiskerHigh]) {
      shapes.push({
        kind: "line",
        x1: cx - capW / 2,
        y1: py(frame, w),
        x2: cx + capW / 2,
        y2: py(frame, w),
        stroke: AXIS_COLOR,
        width: 1.2,
      });
    }
    const top = py(frame, s.q3);
    // a box of zero height (all values equal) still shows as a line
    shapes.push({
      kind: "rect",
      x: cx - boxW / 2,
      y: top,
      w: boxW,
      h: Math.max(1, py(frame, s.q1) - top),
      fill: color,
      fillOpacity: 0.35,
      stroke: color,
      width: 1.5,
    });
    shapes.push({
      kind: "line",
      x1: cx - boxW / 2,
      y1: py(frame, s.median),
      x2: cx + boxW / 2,
      y2: py(frame, s.median),
      stroke: "#111111",
      width: 2.5,
    });
    for (const o of s.outliers)
      shapes.push({ kind: "circle", cx, cy: py(frame, o), r: 3.5, stroke: color, width: 1.5 });
  });
  return { width, height, background: "#ffffff", shapes };
}

// ---------------------------------------------------------------------------------------------
// Entry points

export function renderTrainingCurvesSvg(
  log: TrainingLog | string,
  opts?: TrainingCurvesOptions,
): string {
  return sceneToSvg(trainingCurvesScene(log, opts));
}
export function renderTrainingCurvesPng(
  log: TrainingLog | string,
  opts?: TrainingCurvesOptions & RasterOptions,
): Uint8Array {
  return encodePng(sceneToRgba(trainingCurvesScene(log, opts), opts));
}
export function renderMetricBoxPlotSvg(
  report: EvalReportLike | string,
  opts?: BoxPlotOptions,
): string {
  return sceneToSvg(metricBoxPlotScene(report, opts));
}
export function renderMetricBoxPlotPng(
  report: EvalReportLike | string,
  opts?: BoxPlotOptions & RasterOptions,
): Uint8Array {
  return encodePng(sceneToRgba(metricBoxPlotScene(report, opts), opts));
}
