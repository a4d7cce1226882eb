// Test-only: the read + render pipeline the browser-bundle test runs twice, in headless Chromium (from
// an esbuild bundle of @brats/nifti's browser entry and @brats/viz/core) and in Node (the Node entries),
// so the pixels can be compared. The modules come in as arguments, so the same code runs on both.
import type { NiftiImage } from "@brats/nifti";
import type * as Core from "./core.js";

export interface PipelineModules {
  core: typeof Core;
  readNifti: (source: string | Uint8Array) => Promise<NiftiImage>;
  getScaledData: (image: NiftiImage, type: "float32") => Float32Array;
}

export interface RenderedSlice {
  shape: number[];
  affine: number[][];
  /** Axial slice shown: the one with the most "tumour". */
  index: number;
  window: { low: number; high: number };
  /** Voxels of labels 1, 2, 4. */
  labelCounts: [number, number, number];
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/**
 * Reads a NIfTI file, makes labels from intensity percentiles (≥ p85 oedema 2, ≥ p95 necrosis 1,
 * ≥ p99 enhancing 4, of the nonzero voxels), and renders the axial slice with the most labelled
 * voxels: windowed grey (p0.5–p99.5) with the labels blended at 40 %.
 */
export async function renderNiftiSlice(
  m: PipelineModules,
  source: string | Uint8Array,
): Promise<RenderedSlice> {
  const { core } = m;
  const image = await m.readNifti(source);
  const data = m.getScaledData(image, "float32");
  const volume: Core.Volume = { data, shape: image.shape, affine: image.affine };
  // the first 3D volume, as the core's functions read it
  const [nx = 1, ny = 1, nz = 1] = image.shape;
  const n = nx * ny * nz;
  const mid = core.percentileWindow(data.subarray(0, n), 85, 95);
  const top = core.percentileWindow(data.subarray(0, n), 99, 99).low;
  const labels = new Uint8Array(n);
  const labelCounts: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    const label = v >= top ? 4 : v >= mid.high ? 1 : v >= mid.low ? 2 : 0;
    labels[i] = label;
    if (label === 4) labelCounts[2]++;
    else if (label === 1) labelCounts[0]++;
    else if (label === 2) labelCounts[1]++;
  }
  const labelVolume: Core.Volume = { data: labels, shape: [nx, ny, nz], affine: image.affine };
  const index = core.largestTumourSlice(labelVolume, "axial");
  const geometry = core.sliceGeometry(volume, "axial", index);
  const window = core.percentileWindow(data.subarray(0, n));
  const grey = core.applyWindow(
    core.extractSlice(volume, geometry),
    window,
    geometry.width,
    geometry.height,
  );
  const overlay = core.overlayLabels(
    grey,
    core.extractSlice(labelVolume, geometry),
    core.labelStyles("brats2021"),
  );
  return {
    shape: [...image.shape],
    affine: image.affine.map((row) => [...row]),
    index,
    window,
    labelCounts,
    width: overlay.width,
    height: overlay.height,
    rgba: overlay.data,
  };
}

/** Puts an opaque RGBA image on a canvas and reads it back (what the page displays). */
export function drawOnCanvas(
  canvas: HTMLCanvasElement,
  image: { width: number; height: number; rgba: Uint8ClampedArray },
): Uint8ClampedArray {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext("2d");
  if (ctx === null) throw new Error("no 2D canvas context");
  ctx.putImageData(
    new ImageData(new Uint8ClampedArray(image.rgba), image.width, image.height),
    0,
    0,
  );
  return ctx.getImageData(0, 0, image.width, image.height).data;
}
