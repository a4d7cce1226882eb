// Cutting one panel's slice for the renderers: grid checks, the intensity window, the crop box around
// the head, windowing and resampling to square output pixels, labels remapped and overlaid.
import type { LabelStyle } from "./colors.js";
import {
  sliceGeometry,
  volumeDims,
  voxelSpacing,
  type Plane,
  type SliceGeometry,
  type Volume,
} from "./orient.js";
import { overlayLabels } from "./overlay.js";
import type { DisplayOptions } from "./render-options.js";
import { resize, type RgbaImage } from "./rgba.js";
import { largestTumourSlice } from "./select.js";
import { extractSlice } from "./slice.js";
import { applyWindow, percentileWindow, type Window } from "./window.js";

const PLANE_TITLES: Record<Plane, string> = {
  axial: "Axial",
  coronal: "Coronal",
  sagittal: "Sagittal",
};

function checkScale(scale: number): void {
  if (typeof scale !== "number" || !(scale > 0 && scale <= 16)) {
    throw new RangeError(`scale must be in (0, 16], got ${String(scale)}`);
  }
}

/** The voxels of the first 3D volume, without copying typed arrays. */
function firstVolumeValues(volume: Volume): ArrayLike<number> {
  const [nx, ny, nz] = volumeDims(volume);
  const n = nx * ny * nz;
  const data = volume.data;
  if (data.length === n) return data;
  if (ArrayBuffer.isView(data)) return (data as unknown as Float32Array).subarray(0, n);
  return Array.prototype.slice.call(data, 0, n) as number[];
}

/** The intensity window of a volume: `opts.window`, else its percentiles (nonzero voxels). */
export function volumeWindow(
  volume: Volume,
  opts: Pick<DisplayOptions, "window" | "percentiles"> = {},
): Window {
  if (opts.window) return opts.window;
  const [lo, hi] = opts.percentiles ?? [0.5, 99.5];
  const w = percentileWindow(firstVolumeValues(volume), lo, hi);
  // an all-zero image has no nonzero voxels: show it black rather than as a threshold
  return w.low === 0 && w.high === 0 ? { low: 0, high: 1 } : w;
}

export function checkSameGrid(image: Volume, other: Volume, name: string): void {
  const a = volumeDims(image);
  const b = volumeDims(other);
  if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) {
    throw new RangeError(
      `${name} is ${b.join("×")}, the image ${a.join("×")}: they must share a voxel grid`,
    );
  }
}

/** Resamples a row-major slice of label values by nearest neighbour (labels must stay labels). */
function resampleLabels(
  values: Float32Array,
  w: number,
  h: number,
  outW: number,
  outH: number,
): Float32Array {
  if (w === outW && h === outH) return values;
  const out = new Float32Array(outW * outH);
  const xs = new Int32Array(outW);
  for (let x = 0; x < outW; x++) xs[x] = Math.min(w - 1, Math.floor(((x + 0.5) * w) / outW));
  for (let y = 0; y < outH; y++) {
    const row = Math.min(h - 1, Math.floor(((y + 0.5) * h) / outH)) * w;
    for (let x = 0; x < outW; x++) out[y * outW + x] = values[row + xs[x]!]!;
  }
  return out;
}

function remap(values: Float32Array, map: Record<number, number> | undefined): Float32Array {
  if (!map) return values;
  const table = new Map(Object.entries(map).map(([k, v]) => [Number(k), v]));
  for (let i = 0; i < values.length; i++) {
    const to = table.get(values[i]!);
    if (to !== undefined) values[i] = to;
  }
  return values;
}

/** Millimetres per output pixel: the finest voxel spacing divided by the scale. */
function mmPerPixel(volume: Volume, scale: number): number {
  checkScale(scale);
  return Math.min(...voxelSpacing(volume)) / scale;
}

/** Inclusive voxel index ranges [lo, hi] along the three voxel axes. */
export type VoxelBox = [[number, number], [number, number], [number, number]];

/** The bounding box of the nonzero voxels of the first 3D volume (the head, for skull-stripped MRI), or null if all are zero. */
export function nonzeroBox(volume: Volume): VoxelBox | null {
  const [nx, ny, nz] = volumeDims(volume);
  const data = firstVolumeValues(volume);
  const box: VoxelBox = [
    [nx, -1],
    [ny, -1],
    [nz, -1],
  ];
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      let first = -1;
      let last = -1;
      for (let x = 0; x < nx; x++, i++) {
        const v = data[i]!;
        if (v !== 0 && v === v) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first < 0) continue;
      if (first < box[0][0]) box[0][0] = first;
      if (last > box[0][1]) box[0][1] = last;
      if (y < box[1][0]) box[1][0] = y;
      if (y > box[1][1]) box[1][1] = y;
      if (z < box[2][0]) box[2][0] = z;
      box[2][1] = z;
    }
  }
  return box[0][1] < 0 ? null : box;
}

/** The part of a slice shown, in slice pixels (before scaling). */
export interface SliceCrop {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What every panel of one figure shares: the intensity window, the output scale and the crop box. */
export interface SliceContext {
  win: Window;
  /** mm per output pixel. */
  mmpp: number;
  /** Voxels kept (with the margin), or null to show whole slices. */
  box: VoxelBox | null;
}

/**
 * Margin kept around the head when cropping, in output pixels: with markers, room for the largest
 * marker letters (18 px, inset 5 px) so they sit on the background rather than on the anatomy.
 */
const CROP_MARGIN_PX = { markers: 24, plain: 8 };

export function sliceContext(
  image: Volume,
  opts: DisplayOptions,
  defaultScale: number,
): SliceContext {
  const crop = opts.crop ?? true;
  const mmpp = mmPerPixel(image, opts.scale ?? defaultScale);
  let box: VoxelBox | null = null;
  if (crop) {
    const found = nonzeroBox(image);
    if (found) {
      const dims = volumeDims(image);
      const spacing = voxelSpacing(image);
      const marginMm =
        (opts.markers === false ? CROP_MARGIN_PX.plain : CROP_MARGIN_PX.markers) * mmpp;
      box = found.map(([lo, hi], a) => {
        const m = Math.ceil(marginMm / spacing[a]!);
        return [Math.max(0, lo - m), Math.min(dims[a]! - 1, hi + m)];
      }) as VoxelBox;
    }
  }
  return { win: volumeWindow(image, opts), mmpp, box };
}

/** The screen rectangle of a slice whose voxels lie inside `box`. */
function cropOf(volume: Volume, geometry: SliceGeometry, box: VoxelBox | null): SliceCrop {
  const { width: w, height: h } = geometry;
  if (!box) return { x: 0, y: 0, width: w, height: h };
  const dims = volumeDims(volume);
  const strides = [1, dims[0], dims[0] * dims[1]];
  const coord = (v: number, axis: number) => Math.floor(v / strides[axis]!) % dims[axis]!;
  const span = (screenAxis: 0 | 1): [number, number] => {
    const axis = geometry.voxelAxes[screenAxis];
    const n = screenAxis === 0 ? w : h;
    const start = coord(geometry.voxelOf(0, 0), axis);
    const end = coord(
      screenAxis === 0 ? geometry.voxelOf(w - 1, 0) : geometry.voxelOf(0, h - 1),
      axis,
    );
    const [lo, hi] = box[axis as 0 | 1 | 2];
    // screen pixel p shows voxel coordinate start ± p
    const [p0, p1] = end >= start ? [lo - start, hi - start] : [start - hi, start - lo];
    const from = Math.max(0, p0);
    const to = Math.min(n - 1, p1);
    return to < from ? [0, n] : [from, to - from + 1];
  };
  const [x, width] = span(0);
  const [y, height] = span(1);
  return { x, y, width, height };
}

function cropValues(values: Float32Array, w: number, crop: SliceCrop): Float32Array {
  if (
    crop.x === 0 &&
    crop.y === 0 &&
    crop.width === w &&
    crop.width * crop.height === values.length
  )
    return values;
  const out = new Float32Array(crop.width * crop.height);
  for (let y = 0; y < crop.height; y++) {
    const from = (crop.y + y) * w + crop.x;
    out.set(values.subarray(from, from + crop.width), y * crop.width);
  }
  return out;
}

export interface CutSlice {
  geometry: SliceGeometry;
  crop: SliceCrop;
  grey: RgbaImage;
  /** Label values resampled to the grey image's size (when labels were given). */
  labels?: Float32Array;
}

/** Cuts, crops, windows and resamples one slice (and its labels) to square output pixels. */
export function cutSlice(
  image: Volume,
  labels: Volume | undefined,
  plane: Plane,
  index: number,
  context: SliceContext,
  opts: DisplayOptions,
  labelMap = opts.labelMap,
): CutSlice {
  const geometry = sliceGeometry(image, plane, index, opts.convention ?? "radiological");
  const crop = cropOf(image, geometry, context.box);
  const { width: w, height: h } = crop;
  const outW = Math.max(1, Math.round((w * geometry.pixelSpacing[0]) / context.mmpp));
  const outH = Math.max(1, Math.round((h * geometry.pixelSpacing[1]) / context.mmpp));
  const values = cropValues(extractSlice(image, geometry), geometry.width, crop);
  const grey = resize(applyWindow(values, context.win, w, h), outW, outH, "bilinear");
  if (!labels) return { geometry, crop, grey };
  // the labels are read with the image's geometry: same grid, checked by the callers
  const labelGeometry = sliceGeometry(
    { ...labels, affine: image.affine, spacing: image.spacing },
    plane,
    geometry.index,
    geometry.convention,
  );
  const labelValues = cropValues(
    remap(extractSlice(labels, labelGeometry), labelMap),
    geometry.width,
    crop,
  );
  return { geometry, crop, grey, labels: resampleLabels(labelValues, w, h, outW, outH) };
}

export function overlayOf(
  cut: CutSlice,
  styles: readonly LabelStyle[],
  opts: DisplayOptions,
  scale: number,
): RgbaImage {
  if (!cut.labels) return cut.grey;
  return overlayLabels(cut.grey, cut.labels, styles, {
    mode: opts.mode ?? "fill",
    alpha: opts.alpha,
    thickness:
      opts.mode === "contour" ? (opts.thickness ?? Math.max(1, Math.round(scale))) : undefined,
  });
}

/** "Axial slice 61": the 0-based voxel index along the plane's normal axis, as the API takes it. */
export function sliceTitle(plane: Plane, geometry: SliceGeometry): string {
  return `${PLANE_TITLES[plane]} slice ${geometry.index}`;
}

function sliceTotal(volume: Volume, geometry: SliceGeometry): number {
  return volumeDims(volume)[geometry.voxelAxes[2]]!;
}

/** The slice to show: the given one, else the largest tumour slice, else the middle. */
export function chooseIndex(
  image: Volume,
  labels: Volume | undefined,
  plane: Plane,
  given: number | undefined,
): number {
  if (given !== undefined) return given;
  return labels ? largestTumourSlice(labels, plane) : Math.floor(sliceTotalOf(image, plane) / 2);
}

function sliceTotalOf(volume: Volume, plane: Plane): number {
  return sliceTotal(volume, sliceGeometry(volume, plane));
}
