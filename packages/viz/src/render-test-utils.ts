// Helpers shared by the canvas-layer tests: decoding PNGs with @napi-rs/canvas (an independent
// decoder), pixel queries, synthetic volumes and a small XML well-formedness checker.
import { createCanvas, Image } from "@napi-rs/canvas";
import type { Box } from "./compose.js";
import type { RgbaImage } from "./rgba.js";

/** Decodes PNG bytes with Skia (via @napi-rs/canvas) into RGBA pixels. */
export async function decodePng(bytes: Uint8Array): Promise<RgbaImage> {
  const image = new Image();
  image.src = Buffer.from(bytes);
  await image.decode();
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, image.width, image.height);
  return { width: data.width, height: data.height, data: new Uint8ClampedArray(data.data) };
}

export function rgbAt(image: RgbaImage, x: number, y: number): [number, number, number] {
  const i = (Math.floor(y) * image.width + Math.floor(x)) * 4;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** Pixels in `box` (clipped to the image) for which `test(r, g, b)` holds. */
export function countPixels(
  image: RgbaImage,
  box: Box,
  test: (r: number, g: number, b: number) => boolean,
): number {
  let n = 0;
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.w));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.h));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 4;
      if (test(image.data[i]!, image.data[i + 1]!, image.data[i + 2]!)) n++;
    }
  }
  return n;
}

/** Centroid of the pixels where `test` holds, or null. */
export function centroid(
  image: RgbaImage,
  test: (r: number, g: number, b: number) => boolean,
): { x: number; y: number; n: number } | null {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      if (test(image.data[i]!, image.data[i + 1]!, image.data[i + 2]!)) {
        sx += x;
        sy += y;
        n++;
      }
    }
  }
  return n === 0 ? null : { x: sx / n, y: sy / n, n };
}

/** A pixel that is not grey: some channel differs from another by more than `by`. */
export function isColoured(r: number, g: number, b: number, by = 40): boolean {
  return Math.max(r, g, b) - Math.min(r, g, b) > by;
}

export interface SyntheticCase {
  image: { data: Float32Array; shape: number[]; spacing: number[]; affine: number[][] };
  labels: { data: Uint8Array; shape: number[]; spacing: number[]; affine: number[][] };
}

/**
 * A 40×32×24 head-like volume (an ellipsoid of intensity 100–200, zero outside) with spacing
 * [1, 1, 2] and voxel axes pointing to `axcodes` ("RAS" or "LPS"), and a box of label 2 (ED)
 * around a box of label 4 (ET) at world position `tumourWorld` (mm, RAS+).
 */
export function syntheticCase(
  axcodes: "RAS" | "LPS",
  tumourWorld: [number, number, number] = [10, -6, 4],
): SyntheticCase {
  const shape = [40, 32, 24];
  const spacing = [1, 1, 2];
  const [nx, ny, nz] = shape as [number, number, number];
  const flip = axcodes === "LPS" ? -1 : 1;
  // voxel centre (19.5, 15.5, 11.5) at world 0
  const affine = [
    [flip * spacing[0]!, 0, 0, -flip * spacing[0]! * 19.5],
    [0, flip * spacing[1]!, 0, -flip * spacing[1]! * 15.5],
    [0, 0, spacing[2]!, -spacing[2]! * 11.5],
    [0, 0, 0, 1],
  ];
  const image = new Float32Array(nx * ny * nz);
  const labels = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const w = [
          affine[0]![0]! * i + affine[0]![3]!,
          affine[1]![1]! * j + affine[1]![3]!,
          affine[2]![2]! * k + affine[2]![3]!,
        ];
        const at = i + nx * (j + ny * k);
        const r2 = (w[0]! / 18) ** 2 + (w[1]! / 14) ** 2 + (w[2]! / 20) ** 2;
        if (r2 <= 1) image[at] = 100 + 100 * (1 - r2);
        const d = [
          Math.abs(w[0]! - tumourWorld[0]),
          Math.abs(w[1]! - tumourWorld[1]),
          Math.abs(w[2]! - tumourWorld[2]),
        ];
        if (d[0]! <= 4 && d[1]! <= 4 && d[2]! <= 4)
          labels[at] = d[0]! <= 1.5 && d[1]! <= 1.5 && d[2]! <= 2 ? 4 : 2;
      }
    }
  }
  return {
    image: { data: image, shape, spacing, affine },
    labels: { data: labels, shape, spacing, affine },
  };
}

/**
 * Checks that `xml` is well formed in the ways a hand-written SVG writer can get wrong: tags
 * balanced and properly nested, attribute values quoted, no raw "<" or "&" in text or attributes.
 * Returns the element names in document order.
 */
export function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const textPart = xml.slice(i, lt < 0 ? xml.length : lt);
    if (/&(?!(amp|lt|gt|quot|#39);)/.test(textPart))
      throw new Error(`raw & in text near ${JSON.stringify(textPart.slice(0, 40))}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${JSON.stringify(xml.slice(lt, lt + 60))}`);
    const [, closing, name, attrs, selfClosing] = m;
    if (/&(?!(amp|lt|gt|quot|#39);)/.test(attrs!))
      throw new Error(`raw & in attributes of <${name}>`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${String(open)}>`);
    } else {
      names.push(name!);
      if (!selfClosing) stack.push(name!);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join(">, <")}>`);
  return names;
}

/** Byte equality of two pixel buffers (expect().toEqual on megabytes takes seconds). */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}
