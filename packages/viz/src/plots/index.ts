// Plots of a training run and of evaluation results, as SVG text or PNG bytes. Each plot is laid
// out once as a scene (scene.ts) and then written by svg.ts or painted by raster.ts.
import type { TrainingLog } from "@brats/conventions";
import { encodePng } from "../png.js";
import { metricBoxPlotScene, type BoxPlotOptions, type EvalReportLike } from "./boxplot.js";
import { trainingCurvesScene, type TrainingCurvesOptions } from "./curves.js";
import { sceneToRgba, type RasterOptions } from "./raster.js";
import { sceneToSvg } from "./svg.js";

export { REGION_PLOT_COLORS } from "./axes.js";
export type { BoxPlotOptions, EvalReportLike } from "./boxplot.js";
export type { TrainingCurvesOptions } from "./curves.js";
export type { RasterOptions } from "./raster.js";

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
