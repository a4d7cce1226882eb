// What the charts share: tick positions and labels, a plot frame mapping data to pixels, axes, text,
// legends, and the plot colours.
import type { RegionName } from "@brats/conventions";
import type { PlotShape, TextAnchor, TextBaseline } from "./scene.js";

/** Region colours of the plots (readable on white): WT green, TC red, ET orange. */
export const REGION_PLOT_COLORS: Record<RegionName, string> = {
  WT: "#2ca02c",
  TC: "#d62728",
  ET: "#e08a00",
};

export const AXIS_COLOR = "#333333";
const GRID_COLOR = "#e5e5e5";
const TEXT_COLOR = "#222222";

export function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

export interface Ticks {
  lo: number;
  hi: number;
  step: number;
  values: number[];
}

/** Tick positions at 1, 2, 2.5 or 5 × 10^k covering [lo, hi] with about `target` intervals. */
export function niceTicks(lo: number, hi: number, target = 5, integer = false): Ticks {
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

/** A plot area in pixels and the data ranges its edges show. */
export interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
  xs: { lo: number; hi: number };
  ys: { lo: number; hi: number };
}

export function px(f: Frame, x: number): number {
  return f.x + ((x - f.xs.lo) / (f.xs.hi - f.xs.lo)) * f.w;
}
export function py(f: Frame, y: number): number {
  return f.y + f.h - ((y - f.ys.lo) / (f.ys.hi - f.ys.lo)) * f.h;
}

export function text(
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

/** Grid lines, ticks and tick labels, both axis lines, the axis labels and the panel title. */
export function drawAxes(
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

export interface LegendEntry {
  label: string;
  color: string;
  width: number;
  opacity?: number;
  marker?: boolean;
}

export function drawLegend(
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

/** A grey message in the middle of an empty panel. */
export function noData(shapes: PlotShape[], f: Frame, message: string): void {
  shapes.push(
    text(f.x + f.w / 2, f.y + f.h / 2, message, 13, "middle", "middle", { fill: "#888888" }),
  );
}
