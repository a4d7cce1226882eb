// Browser-safe rendering core of @brats/viz (no Node APIs, no canvas): the pipeline from a volume to
// an RGBA slice with labels or an error map over it, and the HTML report. Slice geometry from the
// affine, intensity windows, label colours, overlays, the slice with the most tumour, square-mm
// resampling. Lower-level RGBA drawing and orientation helpers stay internal (the orientation maths
// is @brats/nifti/orientation's).
export type { Rgb, RgbaImage, ScaleToSpacingOptions, Interpolation } from "./rgba.js";
export { scaleToSpacing } from "./rgba.js";
export {
  PLANES,
  sliceCount,
  sliceGeometry,
  type Convention,
  type Plane,
  type SliceGeometry,
  type SliceMarkers,
  type Volume,
} from "./orient.js";
export { extractSlice } from "./slice.js";
export {
  applyWindow,
  percentileWindow,
  windowFromLevel,
  type PercentileWindowOptions,
  type Window,
} from "./window.js";
// Label conventions, names and regions are @brats/conventions'; viz only colours them.
export {
  ERROR_COLORS,
  TISSUE_COLORS,
  errorStyles,
  labelStyles,
  type LabelStyle,
} from "./colors.js";
export {
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
  renderReportHtml,
  type InferenceReport,
  type ReportCase,
  type ReportImage,
  type ReportMetrics,
  type ReportModel,
} from "./report.js";
