// A plot as a list of simple shapes in pixel coordinates (a `PlotScene`): the charts lay one out,
// then svg.ts writes it as SVG text and raster.ts paints it on a canvas for PNG, so the two outputs
// show exactly the same picture.

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
export const BASELINE_SHIFT: Record<TextBaseline, number> = {
  alphabetic: 0,
  middle: 0.36,
  top: 0.76,
};
