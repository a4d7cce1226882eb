// The surface-distance HD95 of DeepMind's `surface-distance` library, the one the BraTS 2023+
// scorer reports (Nikolov et al., 2018). Unlike medpy's (distance.ts: surface voxels, each counted
// once), the surface is made of surface elements ("surfels") on the grid of voxel corners, each
// weighted by its area, and the 95th percentile is taken over the cumulative area.
//
// A corner's code is the 8-bit pattern of the 2×2×2 voxels around it; bit 1 << (7 − (4a + 2b + c))
// is the voxel at offset (a − 1, b − 1, c − 1) along (x, y, z). A corner whose code is neither 0 nor
// 255 is a surface element. Its area is that of the marching-cubes surface inside the 2×2×2 cell,
// built here from the rules (not a copied table): a vertex at the midpoint of every edge whose ends
// differ; on a face with four such edges the inside corners are cut off when at most four corners
// are inside, else the outside ones (classic marching cubes' complement rule); the face segments
// chain into loops; each loop is triangulated as the fan, from one of its vertices, of largest area.
// With spacing (sx, sy, sz) a triangle of area vector (u, v, w) (in voxel units) has area
// ‖(u·sy·sz, v·sx·sz, w·sx·sy)‖. These rules give the library's published areas for all 254
// surface codes (checked against its table at 31 random spacings while writing this; its published
// test values are pinned in surfels.test.ts).
import { boxDims, isEmptyBox, unionBoundingBox, type Box } from "./crop.js";
import { checkSpacing, checkVolumes } from "./options.js";
import { nearestDistances, VoxelList } from "./surface.js";
import type { Shape, Spacing } from "./types.js";

/** Eight corner offsets or bits of a marching cube. */
type Eight = [number, number, number, number, number, number, number, number];

/** What the BraTS scorer reports when one mask is empty (or a distance is infinite). */
export const SURFACE_HD95_EMPTY = 374;

type Point = readonly [number, number, number];

/** Corner (a, b, c) ∈ {0,1}³ → its bit in the code. */
export const cornerBit = (a: number, b: number, c: number): number =>
  1 << (7 - (4 * a + 2 * b + c));

/** Per code, the area vectors (voxel units) of its triangles; built once. */
const TRIANGLE_VECTORS: readonly (readonly Point[])[] = (() => {
  const corners: Point[] = [];
  for (const a of [0, 1]) for (const b of [0, 1]) for (const c of [0, 1]) corners.push([a, b, c]);
  const key = (p: Point) => `${p[0]},${p[1]},${p[2]}`;
  const faces: Point[][] = [];
  for (let axis = 0; axis < 3; axis++) {
    const [o0, o1] = [0, 1, 2].filter((i) => i !== axis) as [number, number];
    for (const v of [0, 1]) {
      const on = corners.filter((c) => c[axis] === v);
      const at = (p: number, q: number) => on.find((c) => c[o0] === p && c[o1] === q)!;
      faces.push([at(0, 0), at(0, 1), at(1, 1), at(1, 0)]); // cyclic order round the face
    }
  }
  const table: Point[][] = [];
  for (let code = 0; code < 256; code++) {
    const inside = (c: Point) => (code & cornerBit(c[0], c[1], c[2])) !== 0;
    const midpoint = (p: Point, q: Point): Point => [
      (p[0] + q[0]) / 2,
      (p[1] + q[1]) / 2,
      (p[2] + q[2]) / 2,
    ];
    let count = 0;
    for (const c of corners) if (inside(c)) count++;
    const cutOff = count <= 4; // which corners an ambiguous face separates
    const segments: [Point, Point][] = [];
    for (const face of faces) {
      const edges = face.map((c, i) => [c, face[(i + 1) % 4]!] as const);
      const cut = edges.filter(([p, q]) => inside(p) !== inside(q));
      if (cut.length === 2) {
        segments.push([midpoint(...cut[0]!), midpoint(...cut[1]!)]);
      } else if (cut.length === 4) {
        for (let i = 0; i < 4; i++) {
          if (inside(face[i]!) !== cutOff) continue;
          const before = edges[(i + 3) % 4]!;
          const after = edges[i]!;
          segments.push([midpoint(...before), midpoint(...after)]);
        }
      }
    }
    const loops: Point[][] = [];
    while (segments.length > 0) {
      const [a, b] = segments.shift()!;
      const loop = [a, b];
      for (;;) {
        const last = key(loop[loop.length - 1]!);
        const i = segments.findIndex(([p, q]) => key(p) === last || key(q) === last);
        if (i < 0) break;
        const [p, q] = segments.splice(i, 1)[0]!;
        loop.push(key(p) === last ? q : p);
      }
      if (key(loop[loop.length - 1]!) === key(loop[0]!)) loop.pop();
      loops.push(loop);
    }
    const vectors: Point[] = [];
    for (const loop of loops) {
      let best: Point[] = [];
      let bestArea = -1;
      for (let start = 0; start < loop.length; start++) {
        const fan = fanVectors(loop, start);
        const area = fan.reduce((s, v) => s + Math.hypot(v[0], v[1], v[2]), 0);
        if (area > bestArea) {
          best = fan;
          bestArea = area;
        }
      }
      vectors.push(...best);
    }
    table.push(vectors);
  }
  return table;
})();

/** Area vectors (half cross products) of the fan of `loop` from vertex `start`. */
function fanVectors(loop: readonly Point[], start: number): Point[] {
  const n = loop.length;
  const o = loop[start]!;
  const out: Point[] = [];
  for (let i = 1; i < n - 1; i++) {
    const p = loop[(start + i) % n]!;
    const q = loop[(start + i + 1) % n]!;
    const u = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
    const v = [q[0] - o[0], q[1] - o[1], q[2] - o[2]];
    out.push([
      (u[1]! * v[2]! - u[2]! * v[1]!) / 2,
      (u[2]! * v[0]! - u[0]! * v[2]!) / 2,
      (u[0]! * v[1]! - u[1]! * v[0]!) / 2,
    ]);
  }
  return out;
}

/** Area (mm²) of the surface element of each of the 256 codes, for voxels of `spacing`. */
export function surfelAreas(spacing: Spacing): Float64Array {
  const [sx, sy, sz] = spacing;
  const areas = new Float64Array(256);
  for (let code = 0; code < 256; code++) {
    let sum = 0;
    for (const [u, v, w] of TRIANGLE_VECTORS[code]!)
      sum += Math.hypot(u * sy * sz, v * sx * sz, w * sx * sy);
    areas[code] = sum;
  }
  return areas;
}

/** The surface elements of one mask: corner positions (scan order) and their areas. */
interface Surfels {
  corners: VoxelList;
  areas: Float64Array;
}

/**
 * Surface elements of `mask` on the corner grid of `box` (one corner more per axis than voxels):
 * corner (i, j, k) sits between voxels i − 1 and i of the box along x, and so on. The box is
 * copied once into an array with a zero border all round, so that each corner's code is eight
 * plain reads at fixed offsets.
 */
function surfelsOf(mask: Uint8Array, shape: Shape, box: Box, areaOfCode: Float64Array): Surfels {
  const [nx, ny] = shape;
  const [cx, cy, cz] = boxDims(box);
  const px = cx + 2;
  const py = cy + 2;
  const pz = cz + 2;
  const padded = new Uint8Array(px * py * pz);
  // Per padded row (y + py·z): the first and last x holding the mask (first > last when none), so
  // that corners are visited only next to the mask: scattered components in a large box cost
  // their own rows, not the box.
  const rowFirst = new Int32Array(py * pz).fill(px);
  const rowLast = new Int32Array(py * pz).fill(-1);
  for (let z = 0; z < cz; z++) {
    for (let y = 0; y < cy; y++) {
      const from = ((box.z0 + z) * ny + box.y0 + y) * nx + box.x0;
      const row = y + 1 + py * (z + 1);
      const to = px * row + 1;
      let first = px;
      let last = -1;
      for (let x = 0; x < cx; x++) {
        if (mask[from + x] !== 0) {
          padded[to + x] = 1;
          if (first === px) first = x + 1;
          last = x + 1;
        }
      }
      rowFirst[row] = first;
      rowLast[row] = last;
    }
  }
  // Corner (i, j, k) reads padded voxels (i + a, j + b, k + c) for a, b, c ∈ {0, 1}.
  const offsets: number[] = [];
  const bits: number[] = [];
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 2; c++) {
        offsets.push(a + px * (b + py * c));
        bits.push(cornerBit(a, b, c));
      }
    }
  }
  const [o0, o1, o2, o3, o4, o5, o6, o7] = offsets as Eight;
  const [b0, b1, b2, b3, b4, b5, b6, b7] = bits as Eight;
  const corners = new VoxelList(1024);
  const areas: number[] = [];
  for (let k = 0; k <= cz; k++) {
    for (let j = 0; j <= cy; j++) {
      // The four padded rows this corner row reads; corners reading none of their voxels are 0.
      const r = j + py * k;
      const first = Math.min(
        rowFirst[r]!,
        rowFirst[r + 1]!,
        rowFirst[r + py]!,
        rowFirst[r + py + 1]!,
      );
      const last = Math.max(rowLast[r]!, rowLast[r + 1]!, rowLast[r + py]!, rowLast[r + py + 1]!);
      if (last < 0) continue;
      const i1 = Math.min(cx, last);
      let v = px * r + first - 1;
      for (let i = first - 1; i <= i1; i++, v++) {
        const code =
          (padded[v + o0]! ? b0 : 0) |
          (padded[v + o1]! ? b1 : 0) |
          (padded[v + o2]! ? b2 : 0) |
          (padded[v + o3]! ? b3 : 0) |
          (padded[v + o4]! ? b4 : 0) |
          (padded[v + o5]! ? b5 : 0) |
          (padded[v + o6]! ? b6 : 0) |
          (padded[v + o7]! ? b7 : 0);
        if (code !== 0 && code !== 255) {
          corners.push(i, j, k);
          areas.push(areaOfCode[code]!);
        }
      }
    }
  }
  return { corners, areas: Float64Array.from(areas) };
}

/** Both directions: distances (mm) from each surfel of one mask to the other's surface, with areas. */
export interface SurfelDistances {
  gtToPred: Float64Array;
  gtAreas: Float64Array;
  predToGt: Float64Array;
  predAreas: Float64Array;
}

/**
 * `compute_surface_distances` of the surface-distance library: the surfels of both masks in their
 * union bounding box, and for each the distance to the nearest surfel of the other mask (an exact
 * Euclidean distance transform with the spacing; Infinity when the other mask has none).
 */
export function surfelDistances(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
): SurfelDistances {
  checkVolumes(pred, gt, shape);
  checkSpacing(spacing);
  const box = unionBoundingBox(pred, gt, shape);
  const none = new Float64Array(0);
  if (isEmptyBox(box)) return { gtToPred: none, gtAreas: none, predToGt: none, predAreas: none };
  const areaOfCode = surfelAreas(spacing);
  const g = surfelsOf(gt, shape, box, areaOfCode);
  const p = surfelsOf(pred, shape, box, areaOfCode);
  const gtToPred = new Float64Array(g.corners.length);
  const predToGt = new Float64Array(p.corners.length);
  nearestDistances(p.corners, g.corners, spacing, gtToPred);
  nearestDistances(g.corners, p.corners, spacing, predToGt);
  return { gtToPred, gtAreas: g.areas, predToGt, predAreas: p.areas };
}

/**
 * `compute_robust_hausdorff` of one direction: the distance at which the cumulative surfel area,
 * surfels sorted by (distance, area), first reaches `percent` % of the total. Infinity when there
 * are no surfels.
 */
export function areaPercentile(
  distances: Float64Array,
  areas: Float64Array,
  percent: number,
): number {
  const n = distances.length;
  if (n === 0) return Infinity;
  // Sorting by (distance, area) is sorting integer keys rank(distance)·A + rank(area), A the
  // number of distinct areas (at most one per surface code): a native numeric sort, and equal
  // keys hold equal areas, so the order and the sums are the library's exactly.
  const uniqueAreas = uniqueSorted(areas);
  const uniqueDistances = uniqueSorted(distances);
  const a = uniqueAreas.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = rankOf(uniqueDistances, distances[i]!) * a + rankOf(uniqueAreas, areas[i]!);
  }
  keys.sort();
  const sorted = new Float64Array(n);
  for (let r = 0; r < n; r++) sorted[r] = uniqueAreas[keys[r]! % a]!;
  const total = numpySum(sorted, 0, n);
  const target = percent / 100;
  let cumulative = 0;
  for (let r = 0; r < n; r++) {
    cumulative += sorted[r]!; // np.cumsum: in order
    if (cumulative / total >= target) return uniqueDistances[Math.floor(keys[r]! / a)]!;
  }
  return uniqueDistances[uniqueDistances.length - 1]!;
}

/** The distinct values of `values`, ascending. */
function uniqueSorted(values: Float64Array): Float64Array {
  const sorted = values.slice().sort();
  let u = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[u - 1]) sorted[u++] = sorted[i]!;
  }
  return sorted.subarray(0, u);
}

/** The index of `value` in the ascending distinct `sorted` (binary search; it is there). */
function rankOf(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * np.sum of float64 values: numpy's pairwise summation (8 accumulators over blocks of at most 128,
 * halves above that, split at multiples of 8), so that the total, and with it the percentile at a
 * boundary, is the library's to the last bit.
 */
function numpySum(a: Float64Array, from: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[from + i]!;
    return res;
  }
  if (n <= 128) {
    const r = a.slice(from, from + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = r[j]! + a[from + i + j]!;
    }
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[from + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, from, n2) + numpySum(a, from + n2, n - n2);
}

/**
 * HD95 as the BraTS 2023+ scorer computes it (surface-distance's robust Hausdorff at 95 %): the
 * larger of the two directed area-weighted 95th percentiles. Both masks empty: 0; one empty (or an
 * infinite distance): SURFACE_HD95_EMPTY (374), as the scorer reports it.
 */
export function hd95Surface(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
): number {
  const d = surfelDistances(pred, gt, shape, spacing);
  if (d.gtAreas.length === 0 && d.predAreas.length === 0) return 0;
  const value = Math.max(
    areaPercentile(d.gtToPred, d.gtAreas, 95),
    areaPercentile(d.predToGt, d.predAreas, 95),
  );
  return Number.isFinite(value) ? value : SURFACE_HD95_EMPTY;
}

/**
 * `compute_average_surface_distance`: the area-weighted mean distance of each direction,
 * [gt → pred, pred → gt] (NaN for a mask without surfels).
 */
export function averageSurfaceDistances(d: SurfelDistances): [number, number] {
  const weighted = (dist: Float64Array, areas: Float64Array) => {
    let sum = 0;
    let total = 0;
    for (let i = 0; i < dist.length; i++) {
      sum += dist[i]! * areas[i]!;
      total += areas[i]!;
    }
    return dist.length === 0 ? NaN : sum / total;
  };
  return [weighted(d.gtToPred, d.gtAreas), weighted(d.predToGt, d.predAreas)];
}
