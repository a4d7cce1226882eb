// Choosing the slice to show: the one with the most tumour. Browser-safe.
import { planeAxis, volumeDims, type Plane, type Volume } from "./orient.js";

/**
 * Number of tumour voxels in each slice of `labels` in `plane` (indexed like `sliceGeometry`'s
 * `index`, along the plane's normal voxel axis), in one pass over the first 3D volume. Tumour is
 * any nonzero value, or the values in `values` (e.g. `regionLabels("ET")` of @brats/conventions).
 */
export function tumourAreas(
  labels: Volume,
  plane: Plane,
  values?: readonly number[],
): Float64Array {
  const dims = volumeDims(labels);
  const axis = planeAxis(labels, plane);
  const [nx, ny, nz] = dims;
  const counts = new Float64Array(dims[axis]!);
  const data = labels.data;
  // Membership of small non-negative integer labels by table, others by set; `mode` picks the
  // test inline (a closure per voxel costs several times more).
  const table = new Uint8Array(256);
  const set = new Set(values ?? []);
  let mode: 0 | 1 | 2 = values === undefined ? 0 : 1;
  for (const v of values ?? []) {
    if (Number.isInteger(v) && v >= 0 && v < 256) table[v] = 1;
    else mode = 2;
  }
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      let row = 0;
      for (let x = 0; x < nx; x++, i++) {
        const v = data[i]!;
        const hit =
          mode === 0
            ? v !== 0 && v === v
            : mode === 1
              ? (v & 255) === v && table[v] === 1
              : set.has(v);
        if (hit) {
          if (axis === 0) counts[x]!++;
          else row++;
        }
      }
      if (axis === 1) counts[y]! += row;
      else if (axis === 2) counts[z]! += row;
    }
  }
  return counts;
}

/**
 * Index (along the plane's normal voxel axis, as `sliceGeometry` takes it) of the slice of
 * `labels` with the most tumour voxels (nonzero, or in `values`); the lowest such index on a
 * tie; the middle slice (⌊n/2⌋) when there is no tumour at all.
 */
export function largestTumourSlice(
  labels: Volume,
  plane: Plane,
  values?: readonly number[],
): number {
  const counts = tumourAreas(labels, plane, values);
  let best = -1;
  let bestCount = 0;
  for (let k = 0; k < counts.length; k++) {
    if (counts[k]! > bestCount) {
      bestCount = counts[k]!;
      best = k;
    }
  }
  return best >= 0 ? best : Math.floor(counts.length / 2);
}
