import { describe, expect, it } from "vitest";
import {
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
  type RgbaImage,
} from "./rgba.js";

/** A width × height image whose pixel (x, y) is [10·x, 10·y, 7, 255]. */
function ramp(width: number, height: number): RgbaImage {
  const img = createRgba(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) img.data.set([10 * x, 10 * y, 7, 255], (y * width + x) * 4);
  }
  return img;
}

/** Red channel of every pixel, row by row. */
function reds(img: RgbaImage): number[][] {
  return Array.from({ length: img.height }, (_, y) =>
    Array.from({ length: img.width }, (_, x) => pixelAt(img, x, y)[0]),
  );
}

describe("createRgba / pixelAt / cloneRgba", () => {
  it("fills with the colour (default opaque black)", () => {
    expect(Array.from(createRgba(2, 1).data)).toEqual([0, 0, 0, 255, 0, 0, 0, 255]);
    expect(Array.from(createRgba(1, 2, [1, 2, 3, 4]).data)).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(createRgba(0, 5).data.length).toBe(0);
  });

  it("rejects bad and huge sizes", () => {
    for (const [w, h] of [
      [-1, 2],
      [1.5, 2],
      [NaN, 1],
      [40000, 1],
      [20000, 20000],
    ] as const) {
      expect(() => createRgba(w, h)).toThrow(RangeError);
    }
  });

  it("pixelAt reads (x, y) and refuses outside pixels; clones are independent", () => {
    const img = ramp(3, 2);
    expect(pixelAt(img, 2, 1)).toEqual([20, 10, 7, 255]);
    expect(() => pixelAt(img, 3, 0)).toThrow(RangeError);
    const copy = cloneRgba(img);
    copy.data[0] = 99;
    expect(img.data[0]).toBe(0);
  });
});

describe("fillRect and blit", () => {
  it("fillRect clips to the image", () => {
    const img = createRgba(3, 3);
    fillRect(img, 1, -1, 5, 2, [255, 0, 0, 255]);
    expect(reds(img)).toEqual([
      [0, 255, 255],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it("blit copies with clipping, at negative offsets too", () => {
    const dst = createRgba(3, 3);
    blit(dst, ramp(2, 2), 2, 1);
    expect(reds(dst)).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(pixelAt(dst, 2, 2)).toEqual([0, 10, 7, 255]);
    const dst2 = createRgba(2, 2);
    blit(dst2, ramp(3, 3), -1, -1);
    // dst (x, y) = src (x + 1, y + 1)
    expect(reds(dst2)).toEqual([
      [10, 20],
      [10, 20],
    ]);
    expect(pixelAt(dst2, 0, 1)[1]).toBe(20);
  });

  it("blit with blend composites by source alpha", () => {
    const dst = createRgba(1, 1, [0, 0, 200, 255]);
    // 50% red over opaque blue: red 255·0.502 ≈ 128, blue 200·0.498 ≈ 100
    blit(dst, createRgba(1, 1, [255, 0, 0, 128]), 0, 0, { blend: true });
    expect(pixelAt(dst, 0, 0)).toEqual([128, 0, 100, 255]);
    // fully transparent source leaves dst alone
    blit(dst, createRgba(1, 1, [9, 9, 9, 0]), 0, 0, { blend: true });
    expect(pixelAt(dst, 0, 0)).toEqual([128, 0, 100, 255]);
  });

  it("blendPixel: base·(1 − α) + colour·α, alpha untouched", () => {
    const img = createRgba(1, 1, [100, 100, 100, 255]);
    blendPixel(img.data, 0, [255, 0, 0], 0.4);
    // 60 + 102 = 162; 60; 60
    expect(pixelAt(img, 0, 0)).toEqual([162, 60, 60, 255]);
  });
});

describe("resampling", () => {
  it("nearest doubles each pixel", () => {
    expect(reds(resizeNearest(ramp(2, 1), 4, 2))).toEqual([
      [0, 0, 10, 10],
      [0, 0, 10, 10],
    ]);
    // and shrinking picks the pixel under each output centre: (o + ½)·3/2 → 0, 2
    expect(reds(resizeNearest(ramp(3, 1), 2, 1))).toEqual([[0, 20]]);
  });

  it("bilinear interpolates between pixel centres, clamped at the edges", () => {
    const src = createRgba(2, 1);
    src.data.set([0, 0, 0, 255, 100, 0, 0, 255]);
    // output centres map to −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    expect(reds(resizeBilinear(src, 4, 1))).toEqual([[0, 25, 75, 100]]);
    expect(reds(resize(src, 4, 1, "bilinear"))).toEqual([[0, 25, 75, 100]]);
    expect(reds(resize(src, 4, 1))).toEqual([[0, 0, 100, 100]]);
  });

  it("works on an image whose buffer is not 4-byte aligned", () => {
    const buffer = new Uint8ClampedArray(1 + 8);
    const img: RgbaImage = { width: 2, height: 1, data: buffer.subarray(1) };
    img.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(resizeNearest(img, 2, 1).data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("scaleToSpacing", () => {
  it("1 × 3 mm pixels come out 3× taller", () => {
    const out = scaleToSpacing(ramp(2, 2), [1, 3]);
    expect([out.width, out.height]).toEqual([2, 6]);
    expect(reds(out).map((row) => row.join(","))).toEqual([
      "0,10",
      "0,10",
      "0,10",
      "0,10",
      "0,10",
      "0,10",
    ]);
    expect([0, 1, 2, 3, 4, 5].map((y) => pixelAt(out, 0, y)[1])).toEqual([0, 0, 0, 10, 10, 10]);
  });

  it("keeps the finer spacing as the pixel size; square pixels are copied", () => {
    const out = scaleToSpacing(ramp(4, 2), [2, 1]);
    expect([out.width, out.height]).toEqual([8, 2]);
    const same = scaleToSpacing(ramp(3, 2), [0.5, 0.5]);
    expect([same.width, same.height]).toEqual([3, 2]);
  });

  it("targetSize sets the longer side", () => {
    // 3 × 4 pixels of 2 × 1 mm = 6 × 4 mm → 12 × 8
    const out = scaleToSpacing(ramp(3, 4), [2, 1], { targetSize: 12 });
    expect([out.width, out.height]).toEqual([12, 8]);
    const tall = scaleToSpacing(ramp(2, 2), [1, 3], { targetSize: 9, interpolation: "bilinear" });
    expect([tall.width, tall.height]).toEqual([3, 9]);
  });

  it("rejects bad spacings and target sizes", () => {
    expect(() => scaleToSpacing(ramp(2, 2), [0, 1])).toThrow(RangeError);
    expect(() => scaleToSpacing(ramp(2, 2), [1, NaN])).toThrow(RangeError);
    expect(() => scaleToSpacing(ramp(2, 2), [1, 1], { targetSize: 0 })).toThrow(RangeError);
    expect(() =>
      scaleToSpacing({ width: 2, height: 2, data: new Uint8ClampedArray(3) }, [1, 1]),
    ).toThrow(RangeError);
  });
});
