import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { GlobalFonts } from "@napi-rs/canvas";
import { describe, expect, it } from "vitest";
import {
  bundledFontPaths,
  canvasBackend,
  CanvasUnavailableError,
  FONT_FAMILY,
  fontSpec,
  registerFonts,
  setCanvasBackend,
  surfaceFromRgba,
} from "./canvas.js";
import { countPixels } from "./render-test-utils.js";

const require = createRequire(import.meta.url);
const nodeCanvasInstalled = (() => {
  try {
    require.resolve("canvas");
    return true;
  } catch {
    return false;
  }
})();

describe("canvas backend", () => {
  it("defaults to @napi-rs/canvas with the bundled DejaVu Sans registered from the npm package", () => {
    const backend = canvasBackend();
    expect(backend.name).toBe("napi-rs");
    const { regular, bold } = bundledFontPaths();
    expect(regular).toMatch(/dejavu-fonts-ttf[\\/]ttf[\\/]DejaVuSans\.ttf$/);
    expect(bold).toMatch(/DejaVuSans-Bold\.ttf$/);
    expect(existsSync(regular) && existsSync(bold)).toBe(true);
    expect(GlobalFonts.has(FONT_FAMILY)).toBe(true);
    const family = GlobalFonts.families.find((f) => f.family === FONT_FAMILY);
    expect(family?.styles.map((s) => s.weight).sort()).toEqual([400, 700]);
  });

  it("registers the font once, however often it is asked", () => {
    const before = GlobalFonts.families.find((f) => f.family === FONT_FAMILY)?.styles.length;
    registerFonts("napi-rs");
    registerFonts("napi-rs");
    expect(GlobalFonts.families.find((f) => f.family === FONT_FAMILY)?.styles.length).toBe(before);
  });

  it("draws text in the bundled font: ink where the text is, with DejaVu Sans's advance widths", () => {
    const surface = canvasBackend().createSurface(200, 40);
    const ctx = surface.ctx;
    ctx.fillStyle = "#000000";
    ctx.fillRect(0, 0, 200, 40);
    ctx.font = fontSpec(20);
    ctx.fillStyle = "#ffffff";
    ctx.textBaseline = "top";
    ctx.fillText("Oedema", 4, 4);
    const image = surface.toRgba();
    expect(countPixels(image, { x: 0, y: 0, w: 100, h: 40 }, (r) => r > 128)).toBeGreaterThan(100);
    expect(countPixels(image, { x: 110, y: 0, w: 90, h: 40 }, (r) => r > 0)).toBe(0);
    // DejaVu Sans advances (units per em 2048): O 1612, e 1260, d 1300, m 1995, a 1255 → 8682/2048·20 px
    expect(ctx.measureText("Oedema").width).toBeCloseTo((8682 / 2048) * 20, 1);
  });

  it("copies RGBA in and out of a surface exactly (opaque pixels)", () => {
    const data = new Uint8ClampedArray(3 * 2 * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 29) & 255;
    for (let i = 3; i < data.length; i += 4) data[i] = 255;
    const surface = surfaceFromRgba({ width: 3, height: 2, data });
    const back = surface.toRgba();
    expect([back.width, back.height]).toEqual([3, 2]);
    expect(back.data).toEqual(data);
  });

  it.each([
    [0, 10],
    [10, -1],
    [2.5, 3],
    [1 << 14, 1 << 14],
  ])("refuses a %i×%i surface with a RangeError", (w, h) => {
    expect(() => canvasBackend().createSurface(w, h)).toThrow(RangeError);
  });

  it.skipIf(nodeCanvasInstalled)(
    "reports a missing node-canvas as NO_CANVAS when it is asked for",
    () => {
      let error: unknown;
      try {
        canvasBackend("node-canvas");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CanvasUnavailableError);
      expect((error as CanvasUnavailableError).code).toBe("NO_CANVAS");
    },
  );

  it.runIf(nodeCanvasInstalled)(
    "draws with node-canvas through the same interface when it is installed",
    () => {
      const surface = canvasBackend("node-canvas").createSurface(4, 4);
      surface.ctx.fillStyle = "#ff0000";
      surface.ctx.fillRect(0, 0, 4, 4);
      expect(Array.from(surface.toRgba().data.subarray(0, 4))).toEqual([255, 0, 0, 255]);
    },
  );

  it("takes the default from setCanvasBackend and rejects unknown names", () => {
    setCanvasBackend("napi-rs");
    expect(canvasBackend().name).toBe("napi-rs");
    setCanvasBackend("auto");
    expect(() => setCanvasBackend("skia" as "auto")).toThrow(CanvasUnavailableError);
  });
});
