// The geometry under preprocessCase and its undo: reorientation by an orientation, resampling
// tables, the brain's bounding box, crops and the z-score. Volumes are x-fastest, as in @brats/nifti.
import { applyOrientation, orntToAxcodes, type Ornt } from "@brats/nifti";
import { DataError } from "./errors.js";

export type Vec3 = [number, number, number];

export function volumeOf(shape: readonly number[]): number {
  return (shape[0] as number) * (shape[1] as number) * (shape[2] as number);
}

export function copyAffine(affine: readonly (readonly number[])[]): number[][] {
  return affine.map((row) => row.slice());
}

export function isVec3Of(value: unknown, test: (v: number) => boolean): value is Vec3 {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    value.every((v) => typeof v === "number" && test(v))
  );
}

export function checkAffine(affine: unknown, what: string): asserts affine is number[][] {
  if (
    !Array.isArray(affine) ||
    affine.length !== 4 ||
    !affine.every(
      (row) =>
        Array.isArray(row) &&
        row.length === 4 &&
        row.every((v) => typeof v === "number" && Number.isFinite(v)),
    )
  ) {
    throw new DataError("GEOMETRY_MISMATCH", `${what} must be a 4×4 array of finite numbers`);
  }
}

/**
 * The transform to the closest canonical (RAS) orientation: @brats/nifti's ioOrientation, whose
 * rows are already [canonical axis, flip] per original axis. GEOMETRY_MISMATCH when an axis maps
 * to no world axis.
 */
export function canonicalOrnt(start: Ornt, id: string): Array<[number, number]> {
  if (start.some(([axis]) => Number.isNaN(axis))) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${id}: its affine maps a voxel axis to no world axis (axis codes ${orntToAxcodes(start)}); it cannot be reoriented`,
    );
  }
  return start.map(([axis, flip]) => [axis, flip]);
}

export type Voxels = Float32Array | Uint8Array;

/** `data` (of `shape`) with its axes moved and flipped by `ornt` (nibabel's apply_orientation). */
export function reoriented<T extends Voxels>(
  data: T,
  shape: Vec3,
  ornt: Array<[number, number]>,
): T {
  // applyOrientation returns the same array type it was given.
  return applyOrientation(data, shape, ornt).data as T;
}

// ---------------------------------------------------------------------------------------------
// resampling on separable per-axis tables

export interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float64Array;
}

/**
 * Output voxel i reads input coordinate `offset + i·factor`, clamped to [0, n−1] (the half voxel
 * beyond the outer centres repeats the edge). Linear: its two neighbours and the weight of the
 * upper one; nearest: the rounded coordinate in `lo`, weight 0.
 */
export function axisTable(
  outSize: number,
  inSize: number,
  factor: number,
  offset: number,
  nearest: boolean,
): AxisTable {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const weight = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const c = Math.min(inSize - 1, Math.max(0, offset + i * factor));
    if (nearest) {
      lo[i] = hi[i] = Math.round(c);
    } else {
      const f = Math.floor(c);
      lo[i] = f;
      hi[i] = Math.min(f + 1, inSize - 1);
      weight[i] = c - f;
    }
  }
  return { lo, hi, weight };
}

/** Trilinear (or nearest, when the tables are) resampling of an x-fastest volume. */
export function resample<T extends Voxels>(
  src: T,
  inShape: Vec3,
  dst: T,
  outShape: Vec3,
  tables: [AxisTable, AxisTable, AxisTable],
  nearest: boolean,
): void {
  const [tx, ty, tz] = tables;
  const [inX, inY] = inShape;
  const [outX, outY, outZ] = outShape;
  let o = 0;
  for (let z = 0; z < outZ; z++) {
    const z0 = tz.lo[z]!;
    const z1 = tz.hi[z]!;
    const wz = tz.weight[z]!;
    for (let y = 0; y < outY; y++) {
      const y0 = ty.lo[y]!;
      const y1 = ty.hi[y]!;
      const wy = ty.weight[y]!;
      const r00 = (y0 + inY * z0) * inX;
      if (nearest) {
        for (let x = 0; x < outX; x++) dst[o++] = src[r00 + tx.lo[x]!]!;
        continue;
      }
      const r10 = (y1 + inY * z0) * inX;
      const r01 = (y0 + inY * z1) * inX;
      const r11 = (y1 + inY * z1) * inX;
      for (let x = 0; x < outX; x++) {
        const x0 = tx.lo[x]!;
        const x1 = tx.hi[x]!;
        const wx = tx.weight[x]!;
        const c00 = src[r00 + x0]! * (1 - wx) + src[r00 + x1]! * wx;
        const c10 = src[r10 + x0]! * (1 - wx) + src[r10 + x1]! * wx;
        const c01 = src[r01 + x0]! * (1 - wx) + src[r01 + x1]! * wx;
        const c11 = src[r11 + x0]! * (1 - wx) + src[r11 + x1]! * wx;
        const c0 = c00 * (1 - wy) + c10 * wy;
        const c1 = c01 * (1 - wy) + c11 * wy;
        dst[o++] = c0 * (1 - wz) + c1 * wz;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// crop

/** Bounding box [start, end) of voxels nonzero in any channel, or null when all are zero. */
export function nonzeroBox(
  channels: readonly Float32Array[],
  shape: Vec3,
): { start: Vec3; end: Vec3 } | null {
  const [nx, ny, nz] = shape;
  const start: Vec3 = [nx, ny, nz];
  const end: Vec3 = [0, 0, 0];
  for (const data of channels) {
    let p = 0;
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++, p += nx) {
        let first = -1;
        for (let x = 0; x < nx; x++) {
          if (data[p + x] !== 0) {
            first = x;
            break;
          }
        }
        if (first < 0) continue;
        let last = nx - 1;
        while (data[p + last] === 0) last--;
        if (first < start[0]) start[0] = first;
        if (last + 1 > end[0]) end[0] = last + 1;
        if (y < start[1]) start[1] = y;
        if (y + 1 > end[1]) end[1] = y + 1;
        if (z < start[2]) start[2] = z;
        if (z + 1 > end[2]) end[2] = z + 1;
      }
    }
  }
  return end[0] === 0 ? null : { start, end };
}

export function cropVolume<T extends Voxels>(
  src: T,
  shape: Vec3,
  start: Vec3,
  end: Vec3,
  dst: T,
): void {
  const [nx, ny] = shape;
  const width = end[0] - start[0];
  let o = 0;
  for (let z = start[2]; z < end[2]; z++) {
    for (let y = start[1]; y < end[1]; y++) {
      const row = start[0] + nx * (y + ny * z);
      dst.set(src.subarray(row, row + width), o);
      o += width;
    }
  }
}

/** Writes a cropped volume into `dst` (the full grid, already filled with the background). */
export function uncropVolume<T extends Voxels>(
  src: T,
  shape: Vec3,
  start: Vec3,
  end: Vec3,
  dst: T,
): void {
  const [nx, ny] = shape;
  const width = end[0] - start[0];
  let o = 0;
  for (let z = start[2]; z < end[2]; z++) {
    for (let y = start[1]; y < end[1]; y++) {
      dst.set(src.subarray(o, o + width), start[0] + nx * (y + ny * z));
      o += width;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// z-score

/** In place: nonzero voxels → (v − mean) / std over the nonzero voxels; zeros stay 0. */
export function zscoreNonzero(data: Float32Array): { mean: number; std: number } {
  // one pass of shifted sums (shift: the first nonzero value) keeps the variance accurate in float64
  let shift = 0;
  let count = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    if (count === 0) shift = v;
    const d = v - shift;
    count++;
    sum += d;
    squares += d * d;
  }
  if (count === 0) return { mean: 0, std: 1 };
  const meanShifted = sum / count;
  const mean = shift + meanShifted;
  const std = Math.sqrt(Math.max(0, squares / count - meanShifted * meanShifted));
  // as nnU-Net: a constant brain maps to 0 instead of dividing by zero
  const scale = 1 / Math.max(std, 1e-8);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== 0) data[i] = (v - mean) * scale;
  }
  return { mean, std };
}

// ---------------------------------------------------------------------------------------------
// public API
