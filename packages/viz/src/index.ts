// Public API of @brats/viz (Node): pictures of volumes (overlays, three planes, comparisons with an
// error map, montages) as RgbaImages or PNG bytes, the figure parts behind them for your own
// figures, training curves and metric box plots as PNG or SVG, the HTML report, and the colour
// palettes. The browser-safe pipeline (slice geometry, windows, overlays on RGBA buffers) is
// @brats/viz/core; the types they share are exported from both.
export type { Rgb, RgbaImage } from "./rgba.js";
export type { Convention, Plane, SliceGeometry, Volume } from "./orient.js";
export type { Window } from "./window.js";
export type { OverlayMode } from "./overlay.js";
export { ERROR_COLORS, TISSUE_COLORS } from "./colors.js";
export { CanvasUnavailableError, setCanvasBackend, type CanvasBackendChoice } from "./canvas.js";
export {
  composeFigure,
  composeFigureWithLayout,
  type FigureLayout,
  type FigureOptions,
  type LegendItem,
  type Panel,
} from "./compose.js";
export { PNG_SIGNATURE, encodePng, type EncodePngOptions } from "./png.js";
export {
  comparisonFigure,
  composeParts,
  errorLegend,
  labelLegend,
  montageFigure,
  overlayFigure,
  renderComparison,
  renderComparisonPng,
  renderMontage,
  renderMontagePng,
  renderOverlay,
  renderOverlayPng,
  renderThreePlane,
  renderThreePlanePng,
  slicePanel,
  threePlaneFigure,
  type FigureParts,
  type SlicePanel,
} from "./render.js";
export type {
  DisplayOptions,
  RenderComparisonOptions,
  RenderMontageOptions,
  RenderOverlayOptions,
  RenderThreePlaneOptions,
} from "./render-options.js";
export {
  REGION_PLOT_COLORS,
  renderMetricBoxPlotPng,
  renderMetricBoxPlotSvg,
  renderTrainingCurvesPng,
  renderTrainingCurvesSvg,
  type BoxPlotOptions,
  type EvalReportLike,
  type RasterOptions,
  type TrainingCurvesOptions,
} from "./plots/index.js";
// The HTML report of an inference run (browser-safe: also in @brats/viz/core).
export {
  renderReportHtml,
  type InferenceReport,
  type ReportCase,
  type ReportImage,
  type ReportMetrics,
  type ReportModel,
} from "./report.js";
