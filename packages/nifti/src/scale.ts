// scl_slope / scl_inter applied as nibabel 5 does (`get_slope_inter`, `ArrayProxy._get_scaled`,
// `apply_read_scaling`), including its float32 arithmetic for narrow integer and float32 data.
import { NiftiError } from "./errors.js";
import type { NiftiHeader, NiftiImage, VoxelArray } from "./types.js";

export type ScaledType = "float32" | "float64";

export interface Scaling {
  slope: number;
  inter: number;
}

/**
 * The scaling nibabel applies: null when scl_slope is 0 or not finite (no scaling); otherwise the raw
 * slope and intercept. A valid slope with a non-finite intercept is an error in nibabel too (BAD_HEADER).
 */
export function scalingOf(header: NiftiHeader): Scaling | null {
  const slope = header.sclSlope;
  const inter = header.sclInter;
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter)) {
    throw new NiftiError(
      "BAD_HEADER",
      `scl_slope ${slope} is valid but scl_inter ${inter} is not finite`,
    );
  }
  return { slope, inter };
}

/** The default output type: float64 for int64/uint64/float64 data (float32 would lose precision), else float32. */
export function defaultScaledType(image: NiftiImage): ScaledType {
  return image.datatype === "int64" || image.datatype === "uint64" || image.datatype === "float64"
    ? "float64"
    : "float32";
}

/**
 * The voxel values after scl_slope/scl_inter, as a new Float32Array (default) or Float64Array.
 * rgb24/rgba32/complex64 have no scalar value: UNSUPPORTED_DATATYPE. A header-only image: TRUNCATED.
 */
export function getScaledData(image: NiftiImage, type: "float64"): Float64Array;
export function getScaledData(image: NiftiImage, type: "float32"): Float32Array;
export function getScaledData(image: NiftiImage, type?: ScaledType): Float32Array | Float64Array;
export function getScaledData(image: NiftiImage, type?: ScaledType): Float32Array | Float64Array {
  const length = scalarData(image).length;
  const out =
    (type ?? defaultScaledType(image)) === "float32"
      ? new Float32Array(length)
      : new Float64Array(length);
  return scaleInto(image, out);
}

/**
 * `getScaledData` into a caller's array (its type picks float32 or float64 arithmetic), e.g. one
 * channel of a multi-modality tensor, or a buffer reused across files: fresh multi-megabyte arrays
 * cost a page fault per 4 KiB on first write, which can take as long as the gunzip. Returns `out`.
 * Throws BAD_HEADER unless `out` holds exactly one element per voxel.
 */
export function scaleInto<T extends Float32Array | Float64Array>(image: NiftiImage, out: T): T {
  return scaleBlockInto(image.header, scalarData(image), out);
}

/**
 * scaleInto for some voxels of an image (`data`: any run of them in the header's datatype, such as
 * a block from scanNifti): the same arithmetic, so statistics over blocks equal those over the
 * whole volume. Returns `out`; BAD_HEADER unless `out` holds one element per voxel of `data`.
 */
export function scaleBlockInto<T extends Float32Array | Float64Array>(
  header: NiftiHeader,
  data: VoxelArray,
  out: T,
): T {
  if (out.length !== data.length) {
    throw new NiftiError(
      "BAD_HEADER",
      `output has ${out.length} elements for ${data.length} voxels`,
    );
  }
  const scaling = scalingOf(header);
  if (scaling === null) {
    convert(data, out);
    return out;
  }
  const narrow = out instanceof Float32Array;
  // nibabel casts the slope and intercept to the output type first ...
  const slope = narrow ? Math.fround(scaling.slope) : scaling.slope;
  const inter = narrow ? Math.fround(scaling.inter) : scaling.inter;
  if (slope === 1 && inter === 0) convert(data, out);
  // ... and numpy then computes int8/uint8/int16/uint16/float32 voxels × float32 in float32 (rounding
  // the product before adding), but int32/uint32/int64/uint64/float64 voxels in float64.
  else if (!narrow || isWide(data)) scaleWide(data, out, slope, inter);
  else scaleNarrow(data as NumberArray, out, slope, inter);
  return out;
}

function scalarData(image: NiftiImage): VoxelArray {
  if (image.datatype === "rgb24" || image.datatype === "rgba32" || image.datatype === "complex64") {
    throw new NiftiError(
      "UNSUPPORTED_DATATYPE",
      `${image.datatype} voxels have no single scalar value to scale; use image.data directly`,
    );
  }
  if (image.data === null) {
    throw new NiftiError("TRUNCATED", "the image has no voxel data (header-only file)");
  }
  return image.data;
}

function isWide(data: VoxelArray): boolean {
  return (
    data instanceof BigInt64Array ||
    data instanceof BigUint64Array ||
    data instanceof Int32Array ||
    data instanceof Uint32Array ||
    data instanceof Float64Array
  );
}

type NumberArray = Exclude<VoxelArray, BigInt64Array | BigUint64Array>;

function convert(data: VoxelArray, out: Float32Array | Float64Array): void {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    out.set(data);
  }
}

// Like numpy, skip the multiply when the slope is 1 and the add when the intercept is 0 (this keeps -0).
function scaleWide(
  data: VoxelArray,
  out: Float32Array | Float64Array,
  slope: number,
  inter: number,
): void {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) {
      const x = Number(data[i]);
      out[i] = slope === 1 ? x + inter : inter === 0 ? x * slope : x * slope + inter;
    }
    return;
  }
  const src: NumberArray = data;
  const n = src.length;
  if (slope === 1) for (let i = 0; i < n; i++) out[i] = src[i]! + inter;
  else if (inter === 0) for (let i = 0; i < n; i++) out[i] = src[i]! * slope;
  else for (let i = 0; i < n; i++) out[i] = src[i]! * slope + inter;
}

function scaleNarrow(src: NumberArray, out: Float32Array, slope: number, inter: number): void {
  const n = src.length;
  // x × slope is exact in float64 for these inputs, so fround gives numpy's float32 product; the
  // float32 store then rounds the float64 sum exactly as a float32 addition would.
  if (slope === 1) for (let i = 0; i < n; i++) out[i] = src[i]! + inter;
  else if (inter === 0) for (let i = 0; i < n; i++) out[i] = src[i]! * slope;
  else for (let i = 0; i < n; i++) out[i] = Math.fround(src[i]! * slope) + inter;
}
