/**
 * Preprocessing step 3: cropping to the brain's bounding box (voxels nonzero in any channel) plus
 * a margin, and the un-crop of the undo.
 */
import { multiplyAffines } from "@brats/nifti";
import { copyAffine, volumeOf, type Vec3, type Voxels } from "./grid.js";

/** Bounding box [start, end) of voxels nonzero in any channel, or null when all are zero. */
function nonzeroBox(
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

function cropVolume<T extends Voxels>(src: T, shape: Vec3, start: Vec3, end: Vec3, dst: T): void {
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

/**
 * The kept box [start, end) of a grid: the brain's bounding box grown by `margin` and clamped to
 * the grid, or the whole grid when `crop` is off or every channel is zero.
 */
export function cropBox(
  channels: readonly Float32Array[],
  shape: Vec3,
  crop: boolean,
  margin: Vec3,
): { start: Vec3; end: Vec3 } {
  let start: Vec3 = [0, 0, 0];
  let end: Vec3 = [...shape];
  const box = crop ? nonzeroBox(channels, shape) : null;
  if (box !== null) {
    start = [0, 1, 2].map((a) => Math.max(0, box.start[a]! - margin[a]!)) as Vec3;
    end = [0, 1, 2].map((a) => Math.min(shape[a]!, box.end[a]! + margin[a]!)) as Vec3;
  }
  return { start, end };
}

/**
 * The images, seg and affine of a grid (`shape`, `affine`) cut to [start, end). The arrays come
 * back as they were when the box is the whole grid.
 */
export function cropCase(
  channels: Float32Array[],
  seg: Uint8Array | null,
  grid: { shape: Vec3; affine: number[][] },
  start: Vec3,
  end: Vec3,
): { channels: Float32Array[]; seg: Uint8Array | null; shape: Vec3; affine: number[][] } {
  const outShape: Vec3 = [end[0] - start[0], end[1] - start[1], end[2] - start[2]];
  const cropped = outShape.some((n, a) => n !== grid.shape[a]);
  if (!cropped) return { channels, seg, shape: outShape, affine: copyAffine(grid.affine) };
  const voxels = volumeOf(outShape);
  const images = channels.map((ch) => {
    const out = new Float32Array(voxels);
    cropVolume(ch, grid.shape, start, end, out);
    return out;
  });
  let labels = seg;
  if (seg !== null) {
    labels = new Uint8Array(voxels);
    cropVolume(seg, grid.shape, start, end, labels);
  }
  const affine = multiplyAffines(grid.affine, [
    [1, 0, 0, start[0]],
    [0, 1, 0, start[1]],
    [0, 0, 1, start[2]],
    [0, 0, 0, 1],
  ]);
  return { channels: images, seg: labels, shape: outShape, affine };
}
