import { describe, expect, it } from "vitest";
import { labelStyles } from "./colors.js";
import { contourMask, errorMap, labelMask, overlayLabels } from "./overlay.js";
import { createRgba, pixelAt, type RgbaImage } from "./rgba.js";

const grey = (w: number, h: number, g = 100): RgbaImage => createRgba(w, h, [g, g, g, 255]);
const rgb = (img: RgbaImage, x: number, y: number): number[] => pixelAt(img, x, y).slice(0, 3);

/** A w × h label slice with `value` on the rectangle [x0, x1] × [y0, y1]. */
function rect(
  w: number,
  h: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  value: number,
): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out[y * w + x] = value;
  return out;
}

/** Rows of 1 (drawn) and 0 from an image: pixel differs from the grey base. */
function drawnRows(img: RgbaImage, base = 100): string[] {
  return Array.from({ length: img.height }, (_, y) =>
    Array.from({ length: img.width }, (_, x) =>
      rgb(img, x, y).every((c) => c === base) ? "." : "#",
    ).join(""),
  );
}

describe("overlayLabels fill", () => {
  it("blends each label's colour with alpha 0.4 by default", () => {
    // out = 100·0.6 + colour·0.4: 255 → 162, 0 → 60
    const out = overlayLabels(
      grey(5, 1),
      Float32Array.from([0, 1, 2, 4, 3]),
      labelStyles("brats2021"),
    );
    expect([0, 1, 2, 3, 4].map((x) => rgb(out, x, 0))).toEqual([
      [100, 100, 100],
      [162, 60, 60], // NCR red
      [60, 162, 60], // ED green
      [162, 162, 60], // ET yellow
      [100, 100, 100], // 3 is not a brats2021 label
    ]);
    expect(pixelAt(out, 1, 0)[3]).toBe(255);
  });

  it("brats2023 label 3 is enhancing tumour (yellow); brats2015 label 3 non-enhancing core (blue)", () => {
    const labels = Uint8Array.from([3]);
    expect(
      rgb(overlayLabels(grey(1, 1), labels, labelStyles("brats2023"), { alpha: 1 }), 0, 0),
    ).toEqual([255, 255, 0]);
    expect(
      rgb(overlayLabels(grey(1, 1), labels, labelStyles("brats2015"), { alpha: 1 }), 0, 0),
    ).toEqual([0, 0, 255]);
  });

  it("leaves the base image untouched and places colours at the right pixels", () => {
    const base = grey(4, 3);
    const out = overlayLabels(base, rect(4, 3, 2, 1, 3, 1, 2), labelStyles(), { alpha: 0.5 });
    expect(drawnRows(out)).toEqual(["....", "..##", "...."]);
    // 50 + 127.5 = 177.5 → 178 for green
    expect(rgb(out, 3, 1)).toEqual([50, 178, 50]);
    expect(drawnRows(base)).toEqual(["....", "....", "...."]);
  });

  it("rejects a label slice of the wrong size and bad options", () => {
    expect(() => overlayLabels(grey(2, 2), new Uint8Array(3), labelStyles())).toThrow(RangeError);
    expect(() =>
      overlayLabels(grey(2, 2), new Uint8Array(4), labelStyles(), { alpha: 1.5 }),
    ).toThrow(RangeError);
    expect(() =>
      overlayLabels(grey(2, 2), new Uint8Array(4), labelStyles(), { thickness: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      overlayLabels(grey(2, 2), new Uint8Array(4), labelStyles(), { mode: "outline" as "fill" }),
    ).toThrow(RangeError);
  });
});

describe("overlayLabels contour", () => {
  it("draws the boundary ring of a region, opaque by default; thickness 2 fills a 3×3 square", () => {
    const labels = rect(5, 5, 1, 1, 3, 3, 2);
    const thin = overlayLabels(grey(5, 5), labels, labelStyles(), { mode: "contour" });
    expect(drawnRows(thin)).toEqual([".....", ".###.", ".#.#.", ".###.", "....."]);
    expect(rgb(thin, 1, 1)).toEqual([0, 255, 0]);
    const thick = overlayLabels(grey(5, 5), labels, labelStyles(), {
      mode: "contour",
      thickness: 2,
    });
    expect(drawnRows(thick)).toEqual([".....", ".###.", ".###.", ".###.", "....."]);
  });

  it("outlines each label on both sides of a shared boundary, and at the image edge", () => {
    // columns 0–1 label 1, columns 2–4 label 4, all rows
    const labels = Uint8Array.from({ length: 15 }, (_, i) => (i % 5 < 2 ? 1 : 4));
    const out = overlayLabels(grey(5, 3), labels, labelStyles(), { mode: "contour" });
    // row 1: x = 0 and 4 touch the edge, x = 1 and 2 the other label; x = 3 is inside label 4
    expect(drawnRows(out)).toEqual(["#####", "###.#", "#####"]);
    expect(rgb(out, 1, 1)).toEqual([255, 0, 0]);
    expect(rgb(out, 2, 1)).toEqual([255, 255, 0]);
  });

  it("fill vs contour on the same region", () => {
    const labels = rect(6, 6, 1, 1, 4, 4, 1);
    const fill = overlayLabels(grey(6, 6), labels, labelStyles(), { alpha: 1 });
    const contour = overlayLabels(grey(6, 6), labels, labelStyles(), { mode: "contour" });
    expect(drawnRows(fill).filter((r) => r === ".####.")).toHaveLength(4);
    expect(drawnRows(contour)).toEqual([
      "......",
      ".####.",
      ".#..#.",
      ".#..#.",
      ".####.",
      "......",
    ]);
  });
});

describe("contourMask", () => {
  it("layers of a 7×7 region: 24, 40, 48, 49 pixels for thickness 1–4", () => {
    const labels = new Uint8Array(49).fill(1);
    const counts = [1, 2, 3, 4].map((t) =>
      contourMask(labels, 7, 7, [1], t).reduce((a, b) => a + b, 0),
    );
    expect(counts).toEqual([24, 40, 48, 49]);
  });
  it("skips values not asked for", () => {
    expect(Array.from(contourMask(Uint8Array.from([1, 2]), 2, 1, [2]))).toEqual([0, 1]);
  });
});

describe("labelMask", () => {
  it("nonzero by default (NaN is not tumour), or the given values", () => {
    expect(Array.from(labelMask(Float32Array.from([0, 1, 2, 4, NaN])))).toEqual([0, 1, 1, 1, 0]);
    expect(Array.from(labelMask([0, 1, 2, 4], [1, 4]))).toEqual([0, 1, 0, 1]);
  });
});

describe("errorMap", () => {
  const pred = Uint8Array.from([1, 1, 0, 0]);
  const gt = Uint8Array.from([1, 0, 1, 0]);
  it("FP magenta, FN cyan, TP faint green, TN untouched", () => {
    const out = errorMap(grey(4, 1), pred, gt, { alpha: 0.6, truePositiveAlpha: 0.2 });
    // 100·0.4 + 255·0.6 = 193, 100·0.4 = 40; TP: 100·0.8 + 255·0.2 = 131, 80
    expect([0, 1, 2, 3].map((x) => rgb(out, x, 0))).toEqual([
      [80, 131, 80],
      [193, 40, 193],
      [40, 193, 193],
      [100, 100, 100],
    ]);
  });

  it("defaults: alpha 0.7, true positives at 0.25", () => {
    // base 11: 3.3 + 178.5 = 181.8 → 182, 3.3 → 3; TP: 8.25 + 63.75 = 72, 8.25 → 8
    const out = errorMap(grey(4, 1, 11), pred, gt);
    expect([0, 1, 2].map((x) => rgb(out, x, 0))).toEqual([
      [8, 72, 8],
      [182, 3, 182],
      [3, 182, 182],
    ]);
  });

  it("true positives can be left out", () => {
    const out = errorMap(grey(4, 1), pred, gt, { truePositives: false });
    expect(rgb(out, 0, 0)).toEqual([100, 100, 100]);
  });

  it("rejects slices of the wrong size", () => {
    expect(() => errorMap(grey(4, 1), pred, new Uint8Array(3))).toThrow(RangeError);
  });
});
