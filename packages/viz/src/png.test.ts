import { crc32, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { encodePng, PNG_SIGNATURE, type EncodePngOptions } from "./png.js";
import { decodePng } from "./render-test-utils.js";
import type { RgbaImage } from "./rgba.js";

/** A w×h image whose every pixel is a distinct function of (x, y), with alpha from `alphaOf`. */
function pattern(
  w: number,
  h: number,
  alphaOf: (x: number, y: number) => number = () => 255,
): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      data.set([(x * 37) & 255, (y * 53) & 255, (x * y + 11) & 255, alphaOf(x, y)], i);
    }
  }
  return { width: w, height: h, data };
}

interface Chunk {
  type: string;
  data: Uint8Array;
  crcOk: boolean;
}

function chunks(png: Uint8Array): Chunk[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    const crc = view.getUint32(at + 8 + length);
    out.push({ type, data, crcOk: crc32(png.subarray(at + 4, at + 8 + length)) === crc });
    at += 12 + length;
  }
  return out;
}

describe("encodePng", () => {
  it.each([
    { w: 1, h: 1 },
    { w: 7, h: 3 },
    { w: 64, h: 48 },
  ])("an opaque $w×$h image decodes (Skia) to the same pixels, stored as RGB", async ({ w, h }) => {
    const image = pattern(w, h);
    const png = encodePng(image);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const list = chunks(png);
    expect(list.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect(list.every((c) => c.crcOk)).toBe(true);
    const ihdr = new DataView(list[0]!.data.buffer, list[0]!.data.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), list[0]!.data[8], list[0]!.data[9]]).toEqual([
      w,
      h,
      8,
      2,
    ]);
    // the filtered rows inflate to height × (1 + 3·width) bytes, each row starting with a filter type 0–4
    const raw = inflateSync(list[1]!.data);
    expect(raw.length).toBe(h * (1 + 3 * w));
    for (let y = 0; y < h; y++) expect(raw[y * (1 + 3 * w)]).toBeLessThanOrEqual(4);
    const decoded = await decodePng(png);
    expect([decoded.width, decoded.height]).toEqual([w, h]);
    expect(decoded.data).toEqual(image.data);
  });

  it("keeps alpha exactly (RGBA, colour type 6), where a premultiplying canvas would round", async () => {
    const image = pattern(20, 10, (x) => (x === 0 ? 0 : 255));
    image.data.set([200, 100, 50, 128], (3 * 20 + 5) * 4);
    const png = encodePng(image);
    expect(chunks(png)[0]!.data[9]).toBe(6);
    // Inflate and unfilter by hand: the stored bytes must be exactly the input's.
    const raw = inflateSync(chunks(png)[1]!.data);
    const rowBytes = 20 * 4;
    const rows: Uint8Array[] = [];
    for (let y = 0; y < 10; y++) {
      const filter = raw[y * (rowBytes + 1)]!;
      const line = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
      const prev = rows[y - 1] ?? new Uint8Array(rowBytes);
      const out = new Uint8Array(rowBytes);
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= 4 ? out[i - 4]! : 0;
        const b = prev[i]!;
        const c = i >= 4 ? prev[i - 4]! : 0;
        const p = a + b - c;
        const paeth =
          Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
            ? a
            : Math.abs(p - b) <= Math.abs(p - c)
              ? b
              : c;
        const predicted = [0, a, b, (a + b) >> 1, paeth][filter]!;
        out[i] = (line[i]! + predicted) & 255;
      }
      rows.push(out);
    }
    const unfiltered = new Uint8Array(10 * rowBytes);
    rows.forEach((r, y) => unfiltered.set(r, y * rowBytes));
    expect(unfiltered).toEqual(new Uint8Array(image.data.buffer));
    const decoded = await decodePng(png);
    expect([decoded.width, decoded.height]).toEqual([20, 10]);
    // fully opaque and fully transparent pixels survive any decoder
    expect(Array.from(decoded.data.subarray((2 * 20 + 3) * 4, (2 * 20 + 3) * 4 + 4))).toEqual(
      Array.from(image.data.subarray((2 * 20 + 3) * 4, (2 * 20 + 3) * 4 + 4)),
    );
    expect(decoded.data[(4 * 20 + 0) * 4 + 3]).toBe(0);
  });

  it("writes tEXt chunks before the image data", () => {
    const png = encodePng(pattern(2, 2), { text: { Software: "@brats/viz", Source: "synthetic" } });
    const list = chunks(png);
    expect(list.map((c) => c.type)).toEqual(["IHDR", "tEXt", "tEXt", "IDAT", "IEND"]);
    expect(Buffer.from(list[1]!.data).toString("latin1")).toBe("Software\0@brats/viz");
    expect(list.every((c) => c.crcOk)).toBe(true);
  });

  it("compresses a smooth slice well below its raw size (the row filters work)", () => {
    const w = 240;
    const h = 240;
    const data = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const g = Math.round(127 + 120 * Math.sin(x / 17) * Math.cos(y / 23));
        data.set([g, g, g, 255], (y * w + x) * 4);
      }
    }
    const filtered = encodePng({ width: w, height: h, data }).length;
    expect(filtered).toBeLessThan((w * h * 3) / 4);
  });

  it.each([
    { name: "zero width", image: { width: 0, height: 2, data: new Uint8ClampedArray(0) } },
    { name: "short data", image: { width: 2, height: 2, data: new Uint8ClampedArray(15) } },
    { name: "fractional size", image: { width: 1.5, height: 2, data: new Uint8ClampedArray(12) } },
  ])("rejects $name with a RangeError", ({ image }) => {
    expect(() => encodePng(image)).toThrow(RangeError);
  });

  it.each<{ opts: EncodePngOptions }>([
    { opts: { level: 10 } },
    { opts: { text: { "": "x" } } },
    { opts: { text: { Title: "Ödem → x" } } },
  ])("rejects bad options $opts with a RangeError", ({ opts }) => {
    expect(() => encodePng(pattern(2, 2), opts)).toThrow(RangeError);
  });
});
