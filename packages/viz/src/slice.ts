// Extracting an oriented 2D slice of a volume. Browser-safe.
import { volumeDims, type SliceGeometry, type Volume } from "./orient.js";

/**
 * The values of `volume` on the slice described by `geometry` (from `sliceGeometry` of this
 * volume): width·height values, row-major, top row first, as float32.
 */
export function extractSlice(volume: Volume, geometry: SliceGeometry): Float32Array {
  const out = new Float32Array(geometry.width * geometry.height);
  extractSliceInto(volume, geometry, out);
  return out;
}

/**
 * `extractSlice` into a caller's buffer of at least width·height values (e.g. a `Uint8Array`
 * for labels, or a reused buffer when scrolling through slices). Returns `out`.
 */
export function extractSliceInto<T extends { [index: number]: number; length: number }>(
  volume: Volume,
  geometry: SliceGeometry,
  out: T,
): T {
  const dims = volumeDims(volume);
  const { width, height } = geometry;
  if (out.length < width * height) {
    throw new RangeError(`output holds ${out.length} values, the slice needs ${width * height}`);
  }
  if (width === 0 || height === 0) return out;
  const data = volume.data;
  const voxels = dims[0] * dims[1] * dims[2];
  // The geometry maps pixels to voxels linearly: read its origin and strides once and check the
  // far corner, instead of calling voxelOf per pixel.
  const origin = geometry.voxelOf(0, 0);
  const strideX = width > 1 ? geometry.voxelOf(1, 0) - origin : 0;
  const strideY = height > 1 ? geometry.voxelOf(0, 1) - origin : 0;
  const last = geometry.voxelOf(width - 1, height - 1);
  const corners = [origin, last, origin + (width - 1) * strideX, origin + (height - 1) * strideY];
  if (
    last !== origin + (width - 1) * strideX + (height - 1) * strideY ||
    corners.some((v) => !Number.isInteger(v) || v < 0 || v >= voxels)
  ) {
    throw new RangeError(
      "slice geometry does not belong to this volume (voxel indices out of range)",
    );
  }
  let o = 0;
  for (let y = 0; y < height; y++) {
    let v = origin + y * strideY;
    for (let x = 0; x < width; x++, v += strideX) out[o++] = data[v]!;
  }
  return out;
}
