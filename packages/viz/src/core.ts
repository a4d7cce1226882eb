// Browser-safe rendering core of @brats/viz (no Node APIs, no canvas): slices, orientation,
// windowing, label colours, overlays and error maps on raw RGBA buffers.
export {
  MAX_IMAGE_PIXELS,
  MAX_IMAGE_SIDE,
  assertRgba,
  blendPixel,
  blit,
  cloneRgba,
  createRgba,
  fillRect,
  pixelAt,
  resize,
  resizeBilinear,
  resizeNearest,
  scaleToSpacing,
  type Interpolation,
  type Rgb,
  type Rgba,
  type RgbaImage,
  type ScaleToSpacingOptions,
} from "./rgba.js";
export {
  PLANES,
  axisCodes,
  planeAxis,
  sliceCount,
  sliceGeometry,
  volumeDims,
  voxelOrientation,
  voxelSpacing,
  worldAxes,
  type Convention,
  type Plane,
  type SliceGeometry,
  type SliceMarkers,
  type Volume,
  type WorldAxis,
} from "./orient.js";
export { extractSlice, extractSliceInto } from "./slice.js";
export {
  applyWindow,
  percentileWindow,
  windowFromLevel,
  type PercentileWindowOptions,
  type Window,
} from "./window.js";
// Label conventions, names and regions are @brats/conventions'; viz only colours them.
export {
  ED_COLOR,
  ERROR_COLORS,
  ET_COLOR,
  NCR_COLOR,
  NET_COLOR,
  TISSUE_COLORS,
  errorStyles,
  labelStyles,
  type LabelStyle,
} from "./colors.js";
export {
  MAX_CONTOUR_THICKNESS,
  contourMask,
  errorMap,
  labelMask,
  overlayLabels,
  type ErrorMapOptions,
  type OverlayMode,
  type OverlayOptions,
} from "./overlay.js";
export { largestTumourSlice, tumourAreas } from "./select.js";
// The HTML report is plain string building, so browsers can render one too.
export {
  REPORT_METRICS,
  base64Encode,
  escapeHtml,
  renderReportHtml,
  reportHref,
  type InferenceReport,
  type ReportCase,
  type ReportImage,
  type ReportMetricName,
  type ReportMetrics,
  type ReportModel,
} from "./report.js";
