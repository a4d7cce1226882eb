// A plot scene painted on a canvas with the bundled font, for PNG output.
import { canvasBackend, fontSpec, type CanvasBackendChoice } from "../canvas.js";
import type { RgbaImage } from "../rgba.js";
import { BASELINE_SHIFT, type PlotScene } from "./scene.js";

export interface RasterOptions {
  /** Device pixels per scene unit (default 1; 2 for sharp pictures on high-density screens). */
  scale?: number;
  backend?: CanvasBackendChoice;
}

/** Paints a scene on a canvas (bundled font) and returns its pixels. */
export function sceneToRgba(scene: PlotScene, opts: RasterOptions = {}): RgbaImage {
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 8))
    throw new RangeError(`scale must be in (0, 8], got ${String(scale)}`);
  const surface = canvasBackend(opts.backend).createSurface(
    Math.max(1, Math.round(scene.width * scale)),
    Math.max(1, Math.round(scene.height * scale)),
  );
  const ctx = surface.ctx;
  ctx.scale(scale, scale);
  ctx.fillStyle = scene.background;
  ctx.fillRect(0, 0, scene.width, scene.height);
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  for (const s of scene.shapes) {
    ctx.save();
    switch (s.kind) {
      case "line":
      case "polyline": {
        const points: Array<[number, number]> =
          s.kind === "line"
            ? [
                [s.x1, s.y1],
                [s.x2, s.y2],
              ]
            : s.points;
        if (points.length === 0) break;
        ctx.globalAlpha = s.opacity ?? 1;
        ctx.strokeStyle = s.stroke;
        ctx.lineWidth = s.width;
        ctx.setLineDash(s.dash ?? []);
        ctx.beginPath();
        points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
        ctx.stroke();
        break;
      }
      case "rect":
        if (s.fill) {
          ctx.globalAlpha = s.fillOpacity ?? 1;
          ctx.fillStyle = s.fill;
          ctx.fillRect(s.x, s.y, s.w, s.h);
          ctx.globalAlpha = 1;
        }
        if (s.stroke) {
          ctx.strokeStyle = s.stroke;
          ctx.lineWidth = s.width ?? 1;
          ctx.strokeRect(s.x, s.y, s.w, s.h);
        }
        break;
      case "circle":
        ctx.beginPath();
        ctx.arc(s.cx, s.cy, s.r, 0, 2 * Math.PI);
        if (s.fill) {
          ctx.fillStyle = s.fill;
          ctx.fill();
        }
        if (s.stroke) {
          ctx.strokeStyle = s.stroke;
          ctx.lineWidth = s.width ?? 1;
          ctx.stroke();
        }
        break;
      case "text":
        ctx.font = fontSpec(s.size, s.bold);
        ctx.fillStyle = s.fill;
        ctx.textBaseline = "alphabetic";
        ctx.textAlign = s.anchor === "start" ? "left" : s.anchor === "end" ? "right" : "center";
        ctx.translate(s.x, s.y);
        if (s.rotate) ctx.rotate((s.rotate * Math.PI) / 180);
        ctx.fillText(s.text, 0, BASELINE_SHIFT[s.baseline] * s.size);
        break;
    }
    ctx.restore();
  }
  return surface.toRgba();
}
