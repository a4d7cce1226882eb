// The spatial part of patch augmentation: rotation and scaling about the patch centre, trilinear for
// images, nearest for labels, 0 outside.
import type { Vec3 } from "./grid.js";

/** Entries within 1e-12 of an integer are snapped, so multiples of 90° permute voxels exactly. */
function snap(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-12 ? r : v;
}

/**
 * The 3×3 map from an output voxel's offset to the patch centre to its source offset: the
 * inverse of zoom · Rz · Ry · Rx.
 */
export function spatialInverse(rotation: Vec3 | null, zoom: number | null): number[][] {
  const [ax, ay, az] = rotation ?? [0, 0, 0];
  const [cx, sx, cy, sy, cz, sz] = [ax, ay, az].flatMap((a) => [
    snap(Math.cos(a)),
    snap(Math.sin(a)),
  ]) as [number, number, number, number, number, number];
  const rx = [
    [1, 0, 0],
    [0, cx, -sx],
    [0, sx, cx],
  ];
  const ry = [
    [cy, 0, sy],
    [0, 1, 0],
    [-sy, 0, cy],
  ];
  const rz = [
    [cz, -sz, 0],
    [sz, cz, 0],
    [0, 0, 1],
  ];
  const mul = (a: number[][], b: number[][]) =>
    a.map((row) =>
      [0, 1, 2].map((j) => row[0]! * b[0]![j]! + row[1]! * b[1]![j]! + row[2]! * b[2]![j]!),
    );
  const r = mul(rz, mul(ry, rx));
  const s = zoom ?? 1;
  // a rotation's inverse is its transpose
  return [0, 1, 2].map((i) => [0, 1, 2].map((j) => r[j]![i]! / s));
}

/** Resamples a channels-last patch through `inverse` about its centre: trilinear images, nearest labels, 0 outside. */
export function transformPatch(
  image: Float32Array,
  labels: Uint8Array,
  shape: Vec3,
  channels: number,
  inverse: number[][],
): { image: Float32Array; labels: Uint8Array } {
  const [px, py, pz] = shape;
  const outImage = new Float32Array(image.length);
  const outLabels = new Uint8Array(labels.length);
  const cx = (px - 1) / 2;
  const cy = (py - 1) / 2;
  const cz = (pz - 1) / 2;
  const [m0, m1, m2] = inverse as [number[], number[], number[]];
  const strideY = px * channels;
  const strideZ = px * py * channels;
  const corner = new Float64Array(8);
  let o = 0;
  for (let z = 0; z < pz; z++) {
    for (let y = 0; y < py; y++) {
      // source of output voxel (0, y, z); each step in x adds the first column
      const dz = z - cz;
      const dy = y - cy;
      let sx = cx + m0[0]! * -cx + m0[1]! * dy + m0[2]! * dz;
      let sy = cy + m1[0]! * -cx + m1[1]! * dy + m1[2]! * dz;
      let sz = cz + m2[0]! * -cx + m2[1]! * dy + m2[2]! * dz;
      for (let x = 0; x < px; x++, o++, sx += m0[0]!, sy += m1[0]!, sz += m2[0]!) {
        const nxr = Math.round(sx);
        const nyr = Math.round(sy);
        const nzr = Math.round(sz);
        if (nxr >= 0 && nxr < px && nyr >= 0 && nyr < py && nzr >= 0 && nzr < pz) {
          outLabels[o] = labels[nxr + px * (nyr + py * nzr)]!;
        }
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const z0 = Math.floor(sz);
        if (x0 < -1 || y0 < -1 || z0 < -1 || x0 >= px || y0 >= py || z0 >= pz) continue;
        const wx = sx - x0;
        const wy = sy - y0;
        const wz = sz - z0;
        const base = (x0 + px * (y0 + py * z0)) * channels;
        const out = o * channels;
        if (x0 >= 0 && y0 >= 0 && z0 >= 0 && x0 < px - 1 && y0 < py - 1 && z0 < pz - 1) {
          for (let c = 0; c < channels; c++) {
            const b = base + c;
            const c00 = image[b]! + (image[b + channels]! - image[b]!) * wx;
            const c10 =
              image[b + strideY]! + (image[b + strideY + channels]! - image[b + strideY]!) * wx;
            const c01 =
              image[b + strideZ]! + (image[b + strideZ + channels]! - image[b + strideZ]!) * wx;
            const c11 =
              image[b + strideZ + strideY]! +
              (image[b + strideZ + strideY + channels]! - image[b + strideZ + strideY]!) * wx;
            const c0 = c00 + (c10 - c00) * wy;
            const c1 = c01 + (c11 - c01) * wy;
            outImage[out + c] = c0 + (c1 - c0) * wz;
          }
          continue;
        }
        // at the border: corners outside the patch read 0
        for (let c = 0; c < channels; c++) {
          for (let k = 0; k < 8; k++) {
            const xi = x0 + (k & 1);
            const yi = y0 + ((k >> 1) & 1);
            const zi = z0 + (k >> 2);
            corner[k] =
              xi >= 0 && xi < px && yi >= 0 && yi < py && zi >= 0 && zi < pz
                ? image[(xi + px * (yi + py * zi)) * channels + c]!
                : 0;
          }
          const c00 = corner[0]! * (1 - wx) + corner[1]! * wx;
          const c10 = corner[2]! * (1 - wx) + corner[3]! * wx;
          const c01 = corner[4]! * (1 - wx) + corner[5]! * wx;
          const c11 = corner[6]! * (1 - wx) + corner[7]! * wx;
          const c0 = c00 * (1 - wy) + c10 * wy;
          const c1 = c01 * (1 - wy) + c11 * wy;
          outImage[out + c] = c0 * (1 - wz) + c1 * wz;
        }
      }
    }
  }
  return { image: outImage, labels: outLabels };
}
