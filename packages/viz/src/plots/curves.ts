// The training curves of a run's log.jsonl: loss against epoch (steps faint, epoch means bold) and
// validation Dice per region, side by side.
import {
  parseTrainingLog,
  REGION_NAMES,
  type StepRecord,
  type TrainingLog,
} from "@brats/conventions";
import {
  drawAxes,
  drawLegend,
  finite,
  niceTicks,
  noData,
  px,
  py,
  REGION_PLOT_COLORS,
  text,
  type Frame,
  type LegendEntry,
  type Ticks,
} from "./axes.js";
import type { PlotScene, PlotShape } from "./scene.js";

export interface TrainingCurvesOptions {
  title?: string;
  /** Scene size in CSS pixels (default 960 × 380). */
  width?: number;
  height?: number;
}

const LOSS_COLOR = "#1f5fa8";

/** A panel's place in the scene: its frame before the y range is known. */
type Slot = Omit<Frame, "ys">;

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

/** A bold line through data points (x, y), with a dot at each. */
function markedLine(
  shapes: PlotShape[],
  f: Frame,
  points: ReadonlyArray<readonly [number, number]>,
  color: string,
  width: number,
): void {
  shapes.push({
    kind: "polyline",
    points: points.map(([x, y]) => [px(f, x), py(f, y)]),
    stroke: color,
    width,
  });
  for (const [x, y] of points)
    shapes.push({ kind: "circle", cx: px(f, x), cy: py(f, y), r: 3, fill: color });
}

function lossPanel(
  shapes: PlotShape[],
  log: TrainingLog,
  stepX: readonly number[],
  slot: Slot,
  xr: Ticks,
): void {
  const epochLoss = log.epochs.filter((e) => e.loss !== undefined);
  const losses = [...log.steps.map((s) => s.loss), ...epochLoss.map((e) => e.loss!)];
  const lossTicks =
    losses.length > 0
      ? niceTicks(Math.min(0, ...losses), Math.max(...losses), 5)
      : niceTicks(0, 1, 5);
  const f: Frame = { ...slot, ys: lossTicks };
  drawAxes(shapes, f, xr, lossTicks, { x: "epoch", y: "loss", title: "Training loss" });
  if (log.steps.length > 0) {
    shapes.push({
      kind: "polyline",
      points: log.steps.map((s, i) => [px(f, stepX[i]!), py(f, s.loss)]),
      stroke: LOSS_COLOR,
      width: 1,
      opacity: 0.3,
    });
  }
  if (epochLoss.length > 0)
    markedLine(
      shapes,
      f,
      epochLoss.map((e) => [e.epoch, e.loss!]),
      LOSS_COLOR,
      2.5,
    );
  if (losses.length === 0) noData(shapes, f, "no loss in the log");
  drawLegend(
    shapes,
    f,
    [
      ...(log.steps.length > 0
        ? [{ label: "step loss", color: LOSS_COLOR, width: 1, opacity: 0.3 }]
        : []),
      ...(epochLoss.length > 0
        ? [{ label: "epoch loss", color: LOSS_COLOR, width: 2.5, marker: true }]
        : []),
    ],
    "top-right",
  );
}

function dicePanel(shapes: PlotShape[], log: TrainingLog, slot: Slot, xr: Ticks): void {
  const dices = log.epochs.flatMap((e) => REGION_NAMES.map((r) => e.val?.[r]).filter(finite));
  const diceTicks =
    dices.length > 0
      ? niceTicks(Math.max(0, Math.min(...dices) - 0.05), Math.min(1, Math.max(...dices) + 0.05), 5)
      : niceTicks(0, 1, 5);
  const f: Frame = { ...slot, ys: diceTicks };
  drawAxes(shapes, f, xr, diceTicks, { x: "epoch", y: "Dice", title: "Validation Dice" });
  const legend: LegendEntry[] = [];
  for (const region of REGION_NAMES) {
    const points = log.epochs
      .filter((e) => finite(e.val?.[region]))
      .map((e) => [e.epoch, e.val![region]!] as const);
    if (points.length === 0) continue;
    const color = REGION_PLOT_COLORS[region];
    markedLine(shapes, f, points, color, 2);
    legend.push({ label: region, color, width: 2, marker: true });
  }
  if (dices.length === 0) noData(shapes, f, "no validation Dice in the log");
  drawLegend(shapes, f, legend, "bottom-right");
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
  const xsAll = [...stepX, ...parsed.epochs.map((e) => e.epoch)];
  const xr =
    xsAll.length > 0
      ? niceTicks(Math.min(...xsAll), Math.max(...xsAll), 6, true)
      : niceTicks(0, 1, 1, true);
  lossPanel(shapes, parsed, stepX, { x: 80, y: top, w: panelW, h: panelH, xs: xr }, xr);
  const diceX = 80 + panelW + 40 + 80;
  dicePanel(shapes, parsed, { x: diceX, y: top, w: panelW, h: panelH, xs: xr }, xr);

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
