// The options of the high-level renderers (render.ts): what every renderer takes, and each one's own.
import type { CanvasBackendChoice } from "./canvas.js";
import type { LabelConvention, RegionName } from "@brats/conventions";
import type { Convention, Plane, Volume } from "./orient.js";
import type { OverlayMode } from "./overlay.js";
import type { Window } from "./window.js";

/** Options shared by every renderer. */
export interface DisplayOptions {
  /** "radiological" (default: the patient's left on the right of the screen) or "neurological". */
  convention?: Convention;
  /** Label values and colours (default "brats2021": 1 NCR red, 2 ED green, 4 ET yellow). */
  labelConvention?: LabelConvention;
  /** Labels as alpha-blended areas ("fill", default) or outlines ("contour"). */
  mode?: OverlayMode;
  /** Label opacity 0–1 (default 0.4 for fill, 1 for contour). */
  alpha?: number;
  /** Contour width in output pixels (default: `scale` rounded, at least 1). */
  thickness?: number;
  /** Remaps label values before drawing, e.g. {3: 4} for a model writing enhancing tumour as 3. */
  labelMap?: Record<number, number>;
  /** A fixed intensity window; default: `percentiles` of the volume's nonzero voxels. */
  window?: Window;
  /** Percentiles of the nonzero voxels shown black and white (default [0.5, 99.5]). */
  percentiles?: readonly [number, number];
  /** Output pixels per millimetre of the finest voxel spacing (default 2; montages 1). */
  scale?: number;
  /** Crop the panels to the head: the nonzero voxels of the image plus a margin for the markers (default true). */
  crop?: boolean;
  /** Draw L/R/A/P/S/I on the panel edges (default true). */
  markers?: boolean;
  /** Draw a legend of the label colours (default true when there are labels). */
  legend?: boolean;
  /** Figure title (each renderer has a default; "" for none). */
  title?: string;
  /** Small text under the figure (e.g. the data's citation). */
  caption?: string;
  /** Base font size in px (default 14). */
  fontSize?: number;
  backend?: CanvasBackendChoice;
}

export interface RenderOverlayOptions extends DisplayOptions {
  image: Volume;
  labels?: Volume;
  /** Default "axial". */
  plane?: Plane;
  /** Slice index along the plane's normal voxel axis; default the slice with the largest tumour area (middle without labels). */
  index?: number;
}

export interface RenderThreePlaneOptions extends DisplayOptions {
  image: Volume;
  labels?: Volume;
  /** Slice per plane; default each plane's slice with the largest tumour area (middle without labels). */
  indices?: Partial<Record<Plane, number>>;
}

export interface RenderComparisonOptions extends DisplayOptions {
  image: Volume;
  gt: Volume;
  pred: Volume;
  /** Default "axial". */
  plane?: Plane;
  /** Default the slice with the largest ground-truth tumour area (the prediction's when the ground truth is empty). */
  index?: number;
  /** Region of the error map (default "WT"). */
  region?: RegionName;
  /** Remaps prediction labels only (after which `labelMap` does not apply to it). */
  predLabelMap?: Record<number, number>;
  /** Panel titles (default "Ground truth", "Prediction"). */
  gtTitle?: string;
  predTitle?: string;
}

export interface RenderMontageOptions extends DisplayOptions {
  /** One row per volume (e.g. the four modalities), titled with its name. */
  volumes: ReadonlyArray<{ name: string; volume: Volume }>;
  /** Drawn over every panel (unless `overlay: false`) and used to choose slices. */
  labels?: Volume;
  /** Draw the labels over the panels (default true when `labels` is given). */
  overlay?: boolean;
  /** Planes of the columns (default ["axial"]). */
  planes?: readonly Plane[];
  /**
   * Slices per plane: explicit indices, or a count spread evenly over the slices holding tumour
   * (the nonzero voxels of the first volume without labels). Default one: the largest tumour slice.
   */
  slices?: readonly number[] | number;
}
