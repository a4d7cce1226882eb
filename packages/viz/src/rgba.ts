// Raw RGBA images (the layout of a canvas ImageData) and the few operations the renderer needs:
// allocation, rectangles, copying one image into another, blending a colour, and resampling.
// Browser-safe: no Node APIs, no canvas.

/** An 8-bit RGBA image: `width * height * 4` bytes, row-major, top row first (canvas ImageData layout). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** An opaque colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];
/** A colour with alpha, 0–255 per channel. */
export type Rgba = readonly [number, number, number, number];

/** Pixel resampling: nearest keeps exact colours (labels, crisp voxels); bilinear is smoother. */
export type Interpolation = "nearest" | "bilinear";

/** Largest side and pixel count accepted for an allocated image; bigger requests are mistakes, not pictures. */
const MAX_IMAGE_SIDE = 32768;
const MAX_IMAGE_PIXELS = 1 << 27;

function checkSize(width: number, height: number): void {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 0 ||
    height < 0 ||
    width > MAX_IMAGE_SIDE ||
    height > MAX_IMAGE_SIDE ||
    width * height > MAX_IMAGE_PIXELS
  ) {
    throw new RangeError(
      `image size must be integers in [0, ${MAX_IMAGE_SIDE}] with at most ${MAX_IMAGE_PIXELS} pixels, got ${String(width)}×${String(height)}`,
    );
  }
}

/** Throws a RangeError unless `image.data` holds exactly width·height·4 bytes. */
export function assertRgba(image: RgbaImage): void {
  checkSize(image.width, image.height);
  if (!(image.data instanceof Uint8ClampedArray)) {
    throw new TypeError("RgbaImage.data must be a Uint8ClampedArray");
  }
  if (image.data.length !== image.width * image.height * 4) {
    throw new RangeError(
      `RgbaImage.data has ${image.data.length} bytes, expected ${image.width}×${image.height}×4`,
    );
  }
}

/** A new image filled with `color` (default opaque black). */
export function createRgba(width: number, height: number, color: Rgba = [0, 0, 0, 255]): RgbaImage {
  checkSize(width, height);
  const data = new Uint8ClampedArray(width * height * 4);
  const [r, g, b, a] = color;
  if (r !== 0 || g !== 0 || b !== 0 || a !== 0) {
    for (let i = 0; i < data.length; i += 4) {
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = a;
    }
  }
  return { width, height, data };
}

/** A copy with its own pixel buffer. */
export function cloneRgba(image: RgbaImage): RgbaImage {
  assertRgba(image);
  return { width: image.width, height: image.height, data: image.data.slice() };
}

/** The RGBA of pixel (x, y); throws a RangeError outside the image. */
export function pixelAt(image: RgbaImage, x: number, y: number): [number, number, number, number] {
  if (
    !Number.isInteger(x) ||
    !Number.isInteger(y) ||
    x < 0 ||
    y < 0 ||
    x >= image.width ||
    y >= image.height
  ) {
    throw new RangeError(
      `pixel (${String(x)}, ${String(y)}) is outside ${image.width}×${image.height}`,
    );
  }
  const i = (y * image.width + x) * 4;
  const d = image.data;
  return [d[i]!, d[i + 1]!, d[i + 2]!, d[i + 3]!];
}

/** Clips [start, start + size) to [0, limit); returns [from, to) in integers. */
function clipSpan(start: number, size: number, limit: number): [number, number] {
  const from = Math.max(0, Math.round(start));
  const to = Math.min(limit, Math.round(start + size));
  return [from, Math.max(from, to)];
}

/**
 * Sets every pixel of the rectangle (x, y, w, h), clipped to the image, to `color` (no blending).
 * Mutates `image`.
 */
export function fillRect(
  image: RgbaImage,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Rgba,
): void {
  assertRgba(image);
  const [x0, x1] = clipSpan(x, w, image.width);
  const [y0, y1] = clipSpan(y, h, image.height);
  const [r, g, b, a] = color;
  const d = image.data;
  for (let row = y0; row < y1; row++) {
    for (
      let i = (row * image.width + x0) * 4, end = (row * image.width + x1) * 4;
      i < end;
      i += 4
    ) {
      d[i] = r;
      d[i + 1] = g;
      d[i + 2] = b;
      d[i + 3] = a;
    }
  }
}

/**
 * Copies `src` into `dst` with its top-left corner at integer (x, y), clipped to `dst`. With
 * `blend`, `src` is composited over `dst` by its alpha ("source-over"); otherwise its bytes
 * replace `dst`'s. Mutates `dst`.
 */
export function blit(
  dst: RgbaImage,
  src: RgbaImage,
  x: number,
  y: number,
  opts?: { blend?: boolean },
): void {
  assertRgba(dst);
  assertRgba(src);
  if (!Number.isInteger(x) || !Number.isInteger(y)) {
    throw new RangeError(`blit position must be integers, got (${String(x)}, ${String(y)})`);
  }
  const [dx0, dx1] = clipSpan(x, src.width, dst.width);
  const [dy0, dy1] = clipSpan(y, src.height, dst.height);
  if (dx1 <= dx0 || dy1 <= dy0) return;
  const rowBytes = (dx1 - dx0) * 4;
  const s = src.data;
  const d = dst.data;
  for (let row = dy0; row < dy1; row++) {
    const si = ((row - y) * src.width + (dx0 - x)) * 4;
    const di = (row * dst.width + dx0) * 4;
    if (opts?.blend !== true) {
      d.set(s.subarray(si, si + rowBytes), di);
      continue;
    }
    for (let k = 0; k < rowBytes; k += 4) {
      const sa = s[si + k + 3]! / 255;
      if (sa === 0) continue;
      const da = d[di + k + 3]! / 255;
      const outA = sa + da * (1 - sa);
      for (let c = 0; c < 3; c++) {
        d[di + k + c] = (s[si + k + c]! * sa + d[di + k + c]! * da * (1 - sa)) / outA;
      }
      d[di + k + 3] = outA * 255;
    }
  }
}

/**
 * Blends `color` over pixel byte offset `i` of `data` with opacity `alpha` in [0, 1]
 * (out = base·(1 − α) + colour·α per channel, rounded); alpha channel untouched.
 */
export function blendPixel(data: Uint8ClampedArray, i: number, color: Rgb, alpha: number): void {
  const keep = 1 - alpha;
  data[i] = Math.round(data[i]! * keep + color[0] * alpha);
  data[i + 1] = Math.round(data[i + 1]! * keep + color[1] * alpha);
  data[i + 2] = Math.round(data[i + 2]! * keep + color[2] * alpha);
}

/**
 * Resamples to width × height by nearest neighbour: output pixel centre (ox + ½)·w/W falls in
 * source pixel floor of that. Exact colours are kept (label overlays stay pure).
 */
export function resizeNearest(image: RgbaImage, width: number, height: number): RgbaImage {
  assertRgba(image);
  checkSize(width, height);
  const out = createRgba(width, height, [0, 0, 0, 0]);
  if (width === 0 || height === 0 || image.width === 0 || image.height === 0) return out;
  // whole pixels as 32-bit words (a view needs a 4-byte-aligned offset, else copy)
  const srcBytes = image.data.byteOffset % 4 === 0 ? image.data : image.data.slice();
  const src = new Uint32Array(srcBytes.buffer, srcBytes.byteOffset, image.width * image.height);
  const dst = new Uint32Array(out.data.buffer, 0, width * height);
  const xs = new Int32Array(width);
  for (let ox = 0; ox < width; ox++) {
    xs[ox] = Math.min(image.width - 1, Math.floor(((ox + 0.5) * image.width) / width));
  }
  for (let oy = 0; oy < height; oy++) {
    const sy = Math.min(image.height - 1, Math.floor(((oy + 0.5) * image.height) / height));
    const srcRow = sy * image.width;
    const dstRow = oy * width;
    for (let ox = 0; ox < width; ox++) dst[dstRow + ox] = src[srcRow + xs[ox]!]!;
  }
  return out;
}

/** Source sample positions of bilinear resampling along one axis: lower index, upper index, weight of upper. */
function bilinearTaps(
  outSize: number,
  inSize: number,
): { lo: Int32Array; hi: Int32Array; t: Float64Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    // pixel centres aligned: output centre o + ½ maps to input coordinate (o + ½)·in/out − ½
    const pos = Math.min(inSize - 1, Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5));
    const l = Math.floor(pos);
    lo[o] = l;
    hi[o] = Math.min(inSize - 1, l + 1);
    t[o] = pos - l;
  }
  return { lo, hi, t };
}

/**
 * Resamples to width × height by bilinear interpolation between pixel centres (each channel
 * independently, edges clamped). No low-pass filter: meant for enlarging or mild shrinking.
 */
export function resizeBilinear(image: RgbaImage, width: number, height: number): RgbaImage {
  assertRgba(image);
  checkSize(width, height);
  const out = createRgba(width, height, [0, 0, 0, 0]);
  if (width === 0 || height === 0 || image.width === 0 || image.height === 0) return out;
  const xt = bilinearTaps(width, image.width);
  const yt = bilinearTaps(height, image.height);
  const s = image.data;
  const d = out.data;
  const sw = image.width;
  for (let oy = 0; oy < height; oy++) {
    const r0 = yt.lo[oy]! * sw;
    const r1 = yt.hi[oy]! * sw;
    const ty = yt.t[oy]!;
    for (let ox = 0; ox < width; ox++) {
      const tx = xt.t[ox]!;
      const i00 = (r0 + xt.lo[ox]!) * 4;
      const i01 = (r0 + xt.hi[ox]!) * 4;
      const i10 = (r1 + xt.lo[ox]!) * 4;
      const i11 = (r1 + xt.hi[ox]!) * 4;
      const o = (oy * width + ox) * 4;
      for (let c = 0; c < 4; c++) {
        const top = s[i00 + c]! + (s[i01 + c]! - s[i00 + c]!) * tx;
        const bottom = s[i10 + c]! + (s[i11 + c]! - s[i10 + c]!) * tx;
        d[o + c] = Math.round(top + (bottom - top) * ty);
      }
    }
  }
  return out;
}

/** Resamples with the chosen interpolation. */
export function resize(
  image: RgbaImage,
  width: number,
  height: number,
  interpolation: Interpolation = "nearest",
): RgbaImage {
  return interpolation === "bilinear"
    ? resizeBilinear(image, width, height)
    : resizeNearest(image, width, height);
}

export interface ScaleToSpacingOptions {
  /**
   * Length in pixels of the longer output side. Default: keep the finer spacing as the pixel
   * size (only the coarser axis is stretched).
   */
  targetSize?: number;
  /** Default "nearest". */
  interpolation?: Interpolation;
}

/**
 * Resamples an image whose pixels are `pixelSpacing` = [mm along x, mm along y] so that every
 * output pixel is square in millimetres: a slice of 1 × 3 mm pixels comes out 3× taller.
 */
export function scaleToSpacing(
  image: RgbaImage,
  pixelSpacing: readonly [number, number],
  opts?: ScaleToSpacingOptions,
): RgbaImage {
  assertRgba(image);
  const [sx, sy] = pixelSpacing;
  if (!(sx > 0 && sy > 0 && Number.isFinite(sx) && Number.isFinite(sy))) {
    throw new RangeError(
      `pixel spacing must be positive and finite, got [${String(sx)}, ${String(sy)}]`,
    );
  }
  const mmWidth = image.width * sx;
  const mmHeight = image.height * sy;
  let width: number;
  let height: number;
  if (opts?.targetSize !== undefined) {
    const target = opts.targetSize;
    if (!Number.isInteger(target) || target < 1 || target > MAX_IMAGE_SIDE) {
      throw new RangeError(
        `targetSize must be an integer in [1, ${MAX_IMAGE_SIDE}], got ${String(target)}`,
      );
    }
    const mmPerPixel = Math.max(mmWidth, mmHeight) / target;
    width = mmWidth === 0 ? 0 : Math.max(1, Math.round(mmWidth / mmPerPixel));
    height = mmHeight === 0 ? 0 : Math.max(1, Math.round(mmHeight / mmPerPixel));
  } else {
    const mmPerPixel = Math.min(sx, sy);
    width = Math.round(mmWidth / mmPerPixel);
    height = Math.round(mmHeight / mmPerPixel);
  }
  if (width === image.width && height === image.height) return cloneRgba(image);
  return resize(image, width, height, opts?.interpolation ?? "nearest");
}
