/**
 * Preprocessing step 2: resampling to the target spacing on the axes where it differs (trilinear
 * images, nearest labels), on separable per-axis tables that the undo reuses in reverse.
 */
import { multiplyAffines } from "@brats/nifti";
import { volumeOf, type Vec3, type Voxels } from "./grid.js";

export interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float64Array;
}

export type AxisTables = [AxisTable, AxisTable, AxisTable];

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
  tables: AxisTables,
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

/**
 * The resampled grid: voxel i along axis a sits at input voxel coordinate `offsets[a] + i·factors[a]`
 * (grids share their centre; factor 1 and offset 0 on axes kept).
 */
export interface ResamplingPlan {
  toShape: Vec3;
  toSpacing: Vec3;
  factors: Vec3;
  offsets: Vec3;
}

/** The resampling of a grid to `target` spacing, or null when every axis is within `tolerance`. */
export function resamplingPlan(
  shape: Vec3,
  spacing: Vec3,
  target: Vec3 | null,
  tolerance: number,
): ResamplingPlan | null {
  if (target === null || ![0, 1, 2].some((a) => Math.abs(spacing[a]! - target[a]!) > tolerance)) {
    return null;
  }
  const factors: Vec3 = [1, 1, 1];
  const offsets: Vec3 = [0, 0, 0];
  const toShape: Vec3 = [...shape];
  const toSpacing: Vec3 = [...spacing];
  for (let a = 0; a < 3; a++) {
    if (Math.abs(spacing[a]! - target[a]!) <= tolerance) continue;
    const n = shape[a]!;
    // nnU-Net's new shape; the two grids share their centre
    const m = Math.max(1, Math.round((n * spacing[a]!) / target[a]!));
    factors[a] = target[a]! / spacing[a]!;
    offsets[a] = (n - 1) / 2 - ((m - 1) / 2) * factors[a]!;
    toShape[a] = m;
    toSpacing[a] = target[a]!;
  }
  return { toShape, toSpacing, factors, offsets };
}

/** The images (trilinear) and seg (nearest) of grid `fromShape` resampled as `plan` says. */
export function resampleCase(
  channels: Float32Array[],
  seg: Uint8Array | null,
  fromShape: Vec3,
  plan: ResamplingPlan,
): { channels: Float32Array[]; seg: Uint8Array | null } {
  const { toShape, factors, offsets } = plan;
  const tables = (nearest: boolean): AxisTables =>
    [0, 1, 2].map((a) =>
      axisTable(toShape[a]!, fromShape[a]!, factors[a]!, offsets[a]!, nearest),
    ) as AxisTables;
  const linear = tables(false);
  const voxels = volumeOf(toShape);
  const images = channels.map((ch) => {
    const out = new Float32Array(voxels);
    resample(ch, fromShape, out, toShape, linear, false);
    return out;
  });
  if (seg === null) return { channels: images, seg };
  const labels = new Uint8Array(voxels);
  resample(seg, fromShape, labels, toShape, tables(true), true);
  return { channels: images, seg: labels };
}

/** The affine of the resampled grid, given the affine of the grid it was resampled from. */
export function resampledAffine(affine: number[][], plan: ResamplingPlan): number[][] {
  const { factors, offsets } = plan;
  const scaling = [
    [factors[0], 0, 0, offsets[0]],
    [0, factors[1], 0, offsets[1]],
    [0, 0, factors[2], offsets[2]],
    [0, 0, 0, 1],
  ];
  return multiplyAffines(affine, scaling);
}
