// Box plots of one metric across the cases of a `brats-eval --json` report, one box per region.
import { REGION_NAMES, type RegionName } from "@brats/conventions";
import {
  AXIS_COLOR,
  drawAxes,
  finite,
  niceTicks,
  px,
  py,
  REGION_PLOT_COLORS,
  text,
  type Frame,
} from "./axes.js";
import type { PlotScene, PlotShape } from "./scene.js";

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
    regions: Partial<Record<RegionName, Record<string, number | null | undefined>>>;
  }>;
}

/** Per-region values of one metric across the cases of a `brats-eval --json` report; nulls are left out. */
export function metricValues(
  report: EvalReportLike | string,
  metric = "dice",
): Record<RegionName, number[]> {
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
  const out: Record<RegionName, number[]> = { WT: [], TC: [], ET: [] };
  for (const c of (doc as { cases: unknown[] }).cases) {
    const regions =
      typeof c === "object" && c !== null ? (c as { regions?: unknown }).regions : undefined;
    if (typeof regions !== "object" || regions === null) continue;
    for (const region of REGION_NAMES) {
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

/** Metrics whose values lie in [0, 1]: their axis stays inside it. */
const BOUNDED = new Set(["dice", "jaccard", "sensitivity", "specificity", "precision"]);

/** The y ticks of a metric's values and the range shown (a little wider, so points clear the axes). */
function valueAxis(
  metric: string,
  all: readonly number[],
): { ticks: ReturnType<typeof niceTicks>; ys: Frame["ys"] } {
  let lo = all.length > 0 ? Math.min(...all) : 0;
  let hi = all.length > 0 ? Math.max(...all) : 1;
  if (BOUNDED.has(metric)) {
    lo = Math.max(0, lo - 0.05);
    hi = Math.min(1, hi + 0.05);
  } else {
    lo = Math.min(0, lo);
  }
  const ticks = niceTicks(lo, hi, 6);
  // a little room below the lowest tick and above the highest, so points there clear the axes
  const pad = (ticks.hi - ticks.lo) * 0.03;
  return { ticks, ys: { lo: ticks.lo - pad, hi: ticks.hi + pad } };
}

/** One region's box at x = cx: whiskers with caps, the quartile box, the median line, outliers. */
function drawBox(
  shapes: PlotShape[],
  frame: Frame,
  cx: number,
  s: BoxStats,
  color: string,
  boxW: number,
): void {
  const capW = boxW * 0.5;
  const whisker = (y1: number, y2: number): PlotShape => ({
    kind: "line",
    x1: cx,
    y1: py(frame, y1),
    x2: cx,
    y2: py(frame, y2),
    stroke: AXIS_COLOR,
    width: 1.2,
  });
  shapes.push(whisker(s.whiskerHigh, s.q3), whisker(s.q1, s.whiskerLow));
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
}

/** Lays out per-region box plots (median, quartiles, 1.5 IQR whiskers, outliers) of one metric across cases. */
export function metricBoxPlotScene(
  report: EvalReportLike | string,
  opts: BoxPlotOptions = {},
): PlotScene {
  const metric = opts.metric ?? "dice";
  const values = metricValues(report, metric);
  const stats = REGION_NAMES.map((r) => boxStats(values[r]));
  const width = opts.width ?? 560;
  const height = opts.height ?? 420;
  const label = METRIC_LABELS[metric] ?? metric;
  const nCases = Math.max(...REGION_NAMES.map((r) => values[r].length));
  const title = opts.title ?? `${label} per region (${nCases} case${nCases === 1 ? "" : "s"})`;
  const shapes: PlotShape[] = [];

  const { ticks: yTicks, ys } = valueAxis(
    metric,
    REGION_NAMES.flatMap((r) => values[r]),
  );
  const frame: Frame = {
    x: 84,
    y: 48,
    w: width - 84 - 24,
    h: height - 48 - 66,
    xs: { lo: 0, hi: REGION_NAMES.length },
    ys,
  };
  drawAxes(
    shapes,
    frame,
    {
      values: REGION_NAMES.map((_, i) => i + 0.5),
      labels: REGION_NAMES.map((r, i) => `${r} (n=${stats[i]?.n ?? 0})`),
    },
    yTicks,
    { x: "region", y: label, title },
  );
  const boxW = Math.min(70, (frame.w / REGION_NAMES.length) * 0.45);
  REGION_NAMES.forEach((region, i) => {
    const s = stats[i];
    const cx = px(frame, i + 0.5);
    if (s) drawBox(shapes, frame, cx, s, REGION_PLOT_COLORS[region], boxW);
    else
      shapes.push(
        text(cx, frame.y + frame.h / 2, "no values", 12, "middle", "middle", { fill: "#888888" }),
      );
  });
  return { width, height, background: "#ffffff", shapes };
}
