import { evaluateCase } from "@brats/metrics";
import { Image } from "@napi-rs/canvas";
import { describe, expect, it } from "vitest";
import { PNG_SIGNATURE } from "../png.js";
import { niceTicks, REGION_PLOT_COLORS } from "./axes.js";
import { boxStats, metricBoxPlotScene, metricValues } from "./boxplot.js";
import { stepPositions, trainingCurvesScene } from "./curves.js";
import {
  renderMetricBoxPlotPng,
  renderMetricBoxPlotSvg,
  renderTrainingCurvesPng,
  renderTrainingCurvesSvg,
} from "./index.js";
import type { PlotScene, PlotShape } from "./scene.js";
import { checkXml, countPixels, decodePng, rgbAt } from "../render-test-utils.js";

type TextShape = Extract<PlotShape, { kind: "text" }>;
type Polyline = Extract<PlotShape, { kind: "polyline" }>;

/** A synthetic run: 6 epochs of 5 steps, validation every other epoch, and some junk lines. */
function syntheticLog(): { text: string; epochLoss: number[] } {
  const lines: string[] = [];
  const epochLoss: number[] = [];
  for (let e = 1; e <= 6; e++) {
    let sum = 0;
    for (let s = 0; s < 5; s++) {
      const loss = 1 / e + 0.05 * s;
      sum += loss;
      lines.push(
        JSON.stringify({
          type: "step",
          epoch: e,
          step: (e - 1) * 5 + s,
          loss,
          lr: 0.001,
          time: e * 10 + s,
        }),
      );
    }
    epochLoss.push(sum / 5);
    const val = e % 2 === 0 ? { WT: 0.5 + e / 20, TC: 0.4 + e / 20, ET: 0.3 + e / 20 } : undefined;
    lines.push(
      JSON.stringify({
        type: "epoch",
        epoch: e,
        loss: sum / 5,
        ...(val ? { val } : {}),
        lr: 0.001,
        time: e * 10 + 5,
      }),
    );
    if (e === 3) lines.push("", "{not json", '{"type":"step","epoch":3}');
  }
  return { text: lines.join("\n") + "\n", epochLoss };
}

/** The linear map value → y of a plot panel, read back from two of its y tick labels. */
function yAxis(scene: PlotScene, panelLeft: number): (value: number) => number {
  const ticks = scene.shapes.filter(
    (s): s is TextShape =>
      s.kind === "text" &&
      s.anchor === "end" &&
      s.baseline === "middle" &&
      Math.abs(s.x - (panelLeft - 8)) < 1e-9,
  );
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  const va = Number(a.text);
  const vb = Number(b.text);
  return (v) => a.y + ((v - va) * (b.y - a.y)) / (vb - va);
}

// parseTrainingLog moved to @brats/conventions (its tests are in conventions/src/log.test.ts).

describe("axes and statistics", () => {
  it("places an epoch's steps between the previous epoch and its own", () => {
    const steps = [1, 1, 1, 1, 2, 2].map((epoch, i) => ({ epoch, step: i, loss: 1 }));
    expect(stepPositions(steps)).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5]);
  });

  it.each([
    { lo: 0, hi: 1, target: 5, integer: false, values: [0, 0.2, 0.4, 0.6, 0.8, 1] },
    { lo: 0.34, hi: 0.95, target: 5, integer: false, values: [0.2, 0.4, 0.6, 0.8, 1] },
    { lo: 3, hi: 3, target: 5, integer: false, values: [2.6, 2.8, 3, 3.2, 3.4] },
    { lo: 0.05, hi: 12, target: 6, integer: true, values: [0, 2, 4, 6, 8, 10, 12] },
    { lo: 0, hi: 373.1, target: 6, integer: false, values: [0, 100, 200, 300, 400] },
    { lo: 0.17, hi: 1.27, target: 5, integer: false, values: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5] },
  ])("niceTicks($lo, $hi) → $values", ({ lo, hi, target, integer, values }) => {
    expect(niceTicks(lo, hi, target, integer).values).toEqual(values);
  });

  it.each([
    // numpy.percentile (linear): [1,2,3,4,100] → 2, 3, 4; fences 2 − 3 = −1 and 4 + 3 = 7
    { values: [1, 2, 3, 4, 100], q1: 2, median: 3, q3: 4, lo: 1, hi: 4, outliers: [100] },
    // q1 at index 1.25 → 0.525, median 0.65, q3 at 3.75 → 0.775; IQR 0.25, lower fence 0.15
    {
      values: [0.9, 0.1, 0.5, 0.6, 0.7, 0.8],
      q1: 0.525,
      median: 0.65,
      q3: 0.775,
      lo: 0.5,
      hi: 0.9,
      outliers: [0.1],
    },
    {
      values: [null, 0.7, Number.NaN, undefined],
      q1: 0.7,
      median: 0.7,
      q3: 0.7,
      lo: 0.7,
      hi: 0.7,
      outliers: [],
    },
  ])("boxStats($values)", ({ values, q1, median, q3, lo, hi, outliers }) => {
    const s = boxStats(values)!;
    expect(s.q1).toBeCloseTo(q1, 12);
    expect(s.median).toBeCloseTo(median, 12);
    expect(s.q3).toBeCloseTo(q3, 12);
    expect([s.whiskerLow, s.whiskerHigh]).toEqual([lo, hi]);
    expect(s.outliers).toEqual(outliers);
  });

  it("boxStats of nothing is null", () => {
    expect(boxStats([null, Number.POSITIVE_INFINITY])).toBeNull();
  });
});

describe("training curves", () => {
  const { text, epochLoss } = syntheticLog();

  it("draws faint step loss, bold epoch loss at the right heights, and Dice per region", () => {
    const scene = trainingCurvesScene(text);
    const lines = scene.shapes.filter((s): s is Polyline => s.kind === "polyline");
    const [steps, epochs, ...dice] = lines;
    expect(steps!.points).toHaveLength(30);
    expect(steps!.opacity).toBeLessThan(0.5);
    expect(steps!.width).toBeLessThan(epochs!.width);
    expect(epochs!.points).toHaveLength(6);
    const lossY = yAxis(scene, 80);
    epochs!.points.forEach(([, y], i) => expect(y).toBeCloseTo(lossY(epochLoss[i]!), 6));
    // step k of epoch e at x = e − 1 + (k + 1)/5: the 5th step of each epoch is level with the epoch point
    for (let e = 0; e < 6; e++)
      expect(steps!.points[e * 5 + 4]![0]).toBeCloseTo(epochs!.points[e]![0], 9);
    // validation every other epoch: 3 points per region, in the region colours
    expect(dice.map((d) => d.stroke)).toEqual([
      REGION_PLOT_COLORS.WT,
      REGION_PLOT_COLORS.TC,
      REGION_PLOT_COLORS.ET,
    ]);
    expect(dice.map((d) => d.points.length)).toEqual([3, 3, 3]);
    const diceLeft = Math.min(...dice.flatMap((d) => d.points.map(([x]) => x))) - 1;
    const diceTicks = scene.shapes.filter(
      (s): s is TextShape => s.kind === "text" && s.anchor === "end" && s.x > 400 && s.x < diceLeft,
    );
    const diceY = yAxis(scene, diceTicks[0]!.x + 8);
    dice[0]!.points.forEach(([, y], i) =>
      expect(y).toBeCloseTo(diceY(0.5 + (2 * (i + 1)) / 20), 6),
    );
    const texts = scene.shapes.filter((s): s is TextShape => s.kind === "text").map((s) => s.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        "Training loss",
        "Validation Dice",
        "epoch",
        "loss",
        "Dice",
        "step loss",
        "epoch loss",
        "WT",
        "TC",
        "ET",
      ]),
    );
    expect(texts).toContain("2 unreadable lines skipped");
  });

  it("writes well-formed SVG that an SVG renderer loads", async () => {
    const svg = renderTrainingCurvesSvg(text, { title: "Run <a> & b" });
    const names = checkXml(svg);
    expect(names[0]).toBe("svg");
    expect(names.filter((n) => n === "polyline")).toHaveLength(5);
    expect(svg).toContain("Run &lt;a&gt; &amp; b");
    expect(svg).toMatch(/font-family="&#39;DejaVu Sans&#39;, [^"]*sans-serif"/);
    expect(svg).toMatch(
      /<polyline points="[^"]+" fill="none" stroke="#1f5fa8" stroke-width="1" stroke-linejoin="round" stroke-linecap="round" stroke-opacity="0.3"\/>/,
    );
    const image = new Image();
    image.src = Buffer.from(svg);
    await image.decode();
    expect([image.width, image.height]).toEqual([960, 380]);
  });

  it("renders the same scene to PNG: white background, loss and region colours in their panels", async () => {
    const png = renderTrainingCurvesPng(text);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const image = await decodePng(png);
    expect([image.width, image.height]).toEqual([960, 380]);
    expect(rgbAt(image, 2, 2)).toEqual([255, 255, 255]);
    const left = { x: 0, y: 0, w: 480, h: 380 };
    const right = { x: 480, y: 0, w: 480, h: 380 };
    const near = (hex: string) => {
      const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      return (r: number, g: number, b: number) =>
        Math.abs(r - c[0]!) + Math.abs(g - c[1]!) + Math.abs(b - c[2]!) < 30;
    };
    expect(countPixels(image, left, near("#1f5fa8"))).toBeGreaterThan(200);
    for (const region of ["WT", "TC", "ET"] as const) {
      expect(countPixels(image, right, near(REGION_PLOT_COLORS[region]))).toBeGreaterThan(100);
      expect(countPixels(image, left, near(REGION_PLOT_COLORS[region]))).toBe(0);
    }
    // 2× for high-density screens
    const sharp = await decodePng(renderTrainingCurvesPng(text, { scale: 2 }));
    expect([sharp.width, sharp.height]).toEqual([1920, 760]);
  });

  it("says so when there is nothing to plot", () => {
    const scene = trainingCurvesScene("\n{junk\n");
    const texts = scene.shapes.filter((s): s is TextShape => s.kind === "text").map((s) => s.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        "no loss in the log",
        "no validation Dice in the log",
        "1 unreadable line skipped",
      ]),
    );
    expect(scene.shapes.some((s) => s.kind === "polyline")).toBe(false);
    expect(() => checkXml(renderTrainingCurvesSvg(""))).not.toThrow();
  });
});

describe("metric box plots", () => {
  // Cases scored by @brats/metrics: a cube of labels 1/2/4 and predictions shifted by 0–3 voxels,
  // one empty prediction (Dice 0, HD95 373.13), one case with HD95 undefined under the NaN policy.
  const shape = [20, 20, 20] as const;
  const cases = Array.from({ length: 7 }, (_, c) => {
    const gt = new Uint8Array(8000);
    const pred = new Uint8Array(8000);
    for (let z = 4; z < 16; z++) {
      for (let y = 4; y < 16; y++) {
        for (let x = 4; x < 16; x++) {
          const label = x < 8 ? 1 : x < 12 ? 2 : 4;
          gt[x + 20 * (y + 20 * z)] = label;
          if (c !== 5) pred[x + (c % 4) + 20 * (y + 20 * z)] = label;
        }
      }
    }
    return {
      case: `case${c}`,
      ...evaluateCase(pred, gt, shape, [1, 1, 1], c === 6 ? { emptyPolicy: "nan" } : {}),
    };
  });
  cases[6]!.regions.ET.hd95 = Number.NaN;
  const report = JSON.stringify(
    { cases, summary: {}, unpaired: { pred: [], gt: [] } },
    (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
  );

  it("reads one metric per region from brats-eval --json, leaving out nulls", () => {
    const dice = metricValues(report);
    expect(dice.WT).toHaveLength(7);
    expect(dice.WT).toEqual(cases.map((c) => c.regions.WT.dice));
    const hd95 = metricValues(report, "hd95");
    expect(hd95.ET).toHaveLength(6);
    expect(hd95.WT).toContain(373.12866);
    expect(() => metricValues({ cases: "no" } as never)).toThrow(TypeError);
    expect(() => metricValues("{}")).toThrow(TypeError);
    expect(() => metricValues("{not json")).toThrow(TypeError);
  });

  it("draws each region's box from q1 to q3 with the median, whiskers and outliers at their values", () => {
    const scene = metricBoxPlotScene(report);
    const y = yAxis(scene, 84);
    const values = metricValues(report);
    const boxes = scene.shapes.filter(
      (s) => s.kind === "rect" && s.fill !== undefined && s.fill !== "#ffffff",
    );
    expect(boxes).toHaveLength(3);
    (["WT", "TC", "ET"] as const).forEach((region, i) => {
      const stats = boxStats(values[region])!;
      const box = boxes[i] as Extract<PlotShape, { kind: "rect" }>;
      expect(box.fill).toBe(REGION_PLOT_COLORS[region]);
      expect(box.y).toBeCloseTo(y(stats.q3), 6);
      expect(box.y + box.h).toBeCloseTo(Math.max(y(stats.q1), y(stats.q3) + 1), 6);
      const median = scene.shapes.find(
        (s) =>
          s.kind === "line" &&
          s.width === 2.5 &&
          s.x1 >= box.x - 1e-9 &&
          s.x2 <= box.x + box.w + 1e-9,
      ) as Extract<PlotShape, { kind: "line" }>;
      expect(median.y1).toBeCloseTo(y(stats.median), 6);
      const circles = scene.shapes.filter(
        (s) => s.kind === "circle" && s.stroke === REGION_PLOT_COLORS[region],
      );
      expect(circles.map((c) => (c as { cy: number }).cy)).toEqual(stats.outliers.map((o) => y(o)));
    });
    // the empty prediction (Dice 0) is an outlier of every region
    expect(boxStats(values.WT)!.outliers).toContain(0);
    const texts = scene.shapes.filter((s): s is TextShape => s.kind === "text").map((s) => s.text);
    expect(texts).toEqual(
      expect.arrayContaining(["WT (n=7)", "TC (n=7)", "ET (n=7)", "Dice per region (7 cases)"]),
    );
  });

  it("plots HD95 in mm with the null left out of n, as SVG and PNG", async () => {
    const svg = renderMetricBoxPlotSvg(report, { metric: "hd95" });
    const names = checkXml(svg);
    expect(names.filter((n) => n === "rect").length).toBeGreaterThanOrEqual(4);
    expect(svg).toContain("HD95 (mm) per region");
    expect(svg).toContain("ET (n=6)");
    const image = await decodePng(renderMetricBoxPlotPng(report, { metric: "hd95" }));
    expect([image.width, image.height]).toEqual([560, 420]);
    expect(rgbAt(image, 1, 1)).toEqual([255, 255, 255]);
    // text drawn: dark pixels in the title band
    expect(countPixels(image, { x: 100, y: 10, w: 360, h: 30 }, (r) => r < 100)).toBeGreaterThan(
      50,
    );
  });
});
