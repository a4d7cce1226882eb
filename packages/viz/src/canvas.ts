// The Node canvas layer: one small interface over @napi-rs/canvas (the default, prebuilt everywhere) or
// node-canvas (`canvas`) when it is installed and chosen. Everything above this file draws through
// `Surface`/`DrawContext`, so the backends are interchangeable, and text always uses the DejaVu Sans
// files shipped by the `dejavu-fonts-ttf` npm package (a fresh machine may have no system fonts).
import { createRequire } from "node:module";
import type { RgbaImage } from "./rgba.js";

export type CanvasBackendName = "napi-rs" | "node-canvas";
/** "auto": @napi-rs/canvas, or node-canvas when @napi-rs/canvas cannot be loaded on this platform. */
export type CanvasBackendChoice = CanvasBackendName | "auto";

/** The family name the bundled font is registered under; `ctx.font = "14px " + FONT_FAMILY`. */
export const FONT_FAMILY = "BratsSans";

/** The subset of CanvasRenderingContext2D this package draws with; both backends provide it. */
export interface DrawContext {
  fillStyle: string | object;
  strokeStyle: string | object;
  lineWidth: number;
  lineJoin: "bevel" | "miter" | "round";
  lineCap: "butt" | "round" | "square";
  font: string;
  textAlign: "start" | "end" | "left" | "right" | "center";
  textBaseline: "top" | "hanging" | "middle" | "alphabetic" | "ideographic" | "bottom";
  globalAlpha: number;
  save(): void;
  restore(): void;
  translate(x: number, y: number): void;
  scale(x: number, y: number): void;
  rotate(angle: number): void;
  beginPath(): void;
  closePath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  rect(x: number, y: number, w: number, h: number): void;
  arc(x: number, y: number, r: number, start: number, end: number): void;
  clip(): void;
  fill(): void;
  stroke(): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  strokeText(text: string, x: number, y: number): void;
  measureText(text: string): { width: number };
  setLineDash(segments: number[]): void;
}

/** A drawing surface of fixed size. */
export interface Surface {
  readonly width: number;
  readonly height: number;
  readonly ctx: DrawContext;
  /** Copies pixels in (no blending, ignores the context's transform), as putImageData does. */
  putRgba(image: RgbaImage, x: number, y: number): void;
  /** The surface's pixels as a fresh RgbaImage (unpremultiplied, as getImageData returns them). */
  toRgba(): RgbaImage;
}

export interface CanvasBackend {
  readonly name: CanvasBackendName;
  createSurface(width: number, height: number): Surface;
}

/** Thrown when no canvas backend can be loaded or the requested one is not installed. */
export class CanvasUnavailableError extends Error {
  override readonly name = "CanvasUnavailableError";
  readonly code = "NO_CANVAS" as const;
}

// Structural views of the two packages: only what is used here.
interface ImageDataLike {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}
interface NativeContext extends DrawContext {
  putImageData(imageData: ImageDataLike, dx: number, dy: number): void;
  getImageData(sx: number, sy: number, sw: number, sh: number): ImageDataLike;
}
interface NativeCanvas {
  width: number;
  height: number;
  getContext(kind: "2d"): NativeContext;
}
interface NapiRsCanvasModule {
  createCanvas(width: number, height: number): NativeCanvas;
  ImageData: new (data: Uint8ClampedArray, width: number, height: number) => ImageDataLike;
  GlobalFonts: {
    registerFromPath(path: string, alias?: string): unknown;
    has(name: string): boolean;
  };
}
interface NodeCanvasModule {
  createCanvas(width: number, height: number): NativeCanvas;
  ImageData: new (data: Uint8ClampedArray, width: number, height: number) => ImageDataLike;
  registerFont(path: string, face: { family: string; weight?: string }): void;
}

const require = createRequire(import.meta.url);

/** Regular and bold DejaVu Sans from the npm package, resolved by path (never a system font). */
export function bundledFontPaths(): { regular: string; bold: string } {
  return {
    regular: require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"),
    bold: require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"),
  };
}

const backends = new Map<CanvasBackendName, CanvasBackend>();
const fontsRegistered = new Set<CanvasBackendName>();
let defaultChoice: CanvasBackendChoice = "auto";

function loadModule<T>(id: string, backend: CanvasBackendName): T {
  try {
    return require(id) as T;
  } catch (cause) {
    throw new CanvasUnavailableError(
      `canvas backend "${backend}" is not available: cannot load "${id}" (${cause instanceof Error ? cause.message : String(cause)})`,
      { cause },
    );
  }
}

function surfaceOf(
  canvas: NativeCanvas,
  ImageDataCtor: new (data: Uint8ClampedArray, width: number, height: number) => ImageDataLike,
): Surface {
  const ctx = canvas.getContext("2d");
  return {
    width: canvas.width,
    height: canvas.height,
    ctx,
    putRgba(image, x, y) {
      if (image.width === 0 || image.height === 0) return;
      // Copy: the backend may keep or transfer the buffer it is given.
      ctx.putImageData(new ImageDataCtor(image.data.slice(), image.width, image.height), x, y);
    },
    toRgba() {
      const id = ctx.getImageData(0, 0, canvas.width, canvas.height);
      return { width: id.width, height: id.height, data: new Uint8ClampedArray(id.data) };
    },
  };
}

function checkSize(width: number, height: number): void {
  // Skia and cairo both fail (or allocate gigabytes) on absurd sizes; refuse them plainly.
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    width * height > 1 << 26
  ) {
    throw new RangeError(
      `canvas size ${width}×${height} must be positive integers with at most 2^26 pixels`,
    );
  }
}

function loadBackend(name: CanvasBackendName): CanvasBackend {
  const cached = backends.get(name);
  if (cached) return cached;
  let backend: CanvasBackend;
  if (name === "napi-rs") {
    const mod = loadModule<NapiRsCanvasModule>("@napi-rs/canvas", name);
    backend = {
      name,
      createSurface(width, height) {
        checkSize(width, height);
        return surfaceOf(mod.createCanvas(width, height), mod.ImageData);
      },
    };
  } else {
    const mod = loadModule<NodeCanvasModule>("canvas", name);
    backend = {
      name,
      createSurface(width, height) {
        checkSize(width, height);
        return surfaceOf(mod.createCanvas(width, height), mod.ImageData);
      },
    };
  }
  backends.set(name, backend);
  return backend;
}

/** Chooses the backend `canvasBackend()` returns by default ("auto" unless set; also read from BRATS_VIZ_CANVAS). */
export function setCanvasBackend(choice: CanvasBackendChoice): void {
  if (choice !== "auto" && choice !== "napi-rs" && choice !== "node-canvas") {
    throw new CanvasUnavailableError(
      `unknown canvas backend "${String(choice)}" (auto, napi-rs or node-canvas)`,
    );
  }
  defaultChoice = choice;
}

function envChoice(): CanvasBackendChoice | undefined {
  const value = typeof process === "undefined" ? undefined : process.env.BRATS_VIZ_CANVAS;
  return value === "auto" || value === "napi-rs" || value === "node-canvas" ? value : undefined;
}

/**
 * The canvas backend to draw with, with the bundled font registered.
 * `choice` overrides `setCanvasBackend`, which overrides the BRATS_VIZ_CANVAS environment variable.
 */
export function canvasBackend(choice?: CanvasBackendChoice): CanvasBackend {
  const wanted = choice ?? (defaultChoice !== "auto" ? defaultChoice : (envChoice() ?? "auto"));
  let backend: CanvasBackend;
  if (wanted === "auto") {
    try {
      backend = loadBackend("napi-rs");
    } catch (napiError) {
      try {
        backend = loadBackend("node-canvas");
      } catch {
        throw napiError;
      }
    }
  } else {
    backend = loadBackend(wanted);
  }
  registerFonts(backend.name);
  return backend;
}

/**
 * Registers the bundled DejaVu Sans (regular and bold) as `FONT_FAMILY` with a backend, once.
 * Renderers call it lazily; importing this package registers nothing.
 */
export function registerFonts(backendName: CanvasBackendName = "napi-rs"): void {
  if (fontsRegistered.has(backendName)) return;
  const { regular, bold } = bundledFontPaths();
  if (backendName === "napi-rs") {
    const mod = loadModule<NapiRsCanvasModule>("@napi-rs/canvas", backendName);
    const ok =
      mod.GlobalFonts.registerFromPath(regular, FONT_FAMILY) &&
      mod.GlobalFonts.registerFromPath(bold, FONT_FAMILY);
    if (!ok) throw new CanvasUnavailableError(`could not register the bundled font ${regular}`);
  } else {
    // node-canvas wants fonts registered before its first canvas is created.
    const mod = loadModule<NodeCanvasModule>("canvas", backendName);
    mod.registerFont(regular, { family: FONT_FAMILY });
    mod.registerFont(bold, { family: FONT_FAMILY, weight: "bold" });
  }
  fontsRegistered.add(backendName);
}

/** A CSS font string in the bundled font with generic fallbacks. */
export function fontSpec(sizePx: number, bold = false): string {
  return `${bold ? "bold " : ""}${sizePx}px ${FONT_FAMILY}, sans-serif`;
}

/** Draws an RgbaImage into a new surface (a convenience for callers that want to keep drawing). */
export function surfaceFromRgba(
  image: RgbaImage,
  backend: CanvasBackend = canvasBackend(),
): Surface {
  const surface = backend.createSurface(image.width, image.height);
  surface.putRgba(image, 0, 0);
  return surface;
}
