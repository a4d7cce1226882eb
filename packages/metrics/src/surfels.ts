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

/**
 * The surface elements of one mask: corner positions (scan order) and their areas, and with
 * `labelled`, the label each one's cell holds. Every voxel of a 2×2×2 cell is a 26-neighbour of
 * every other, so the nonzero voxels of a cell belong to one connected component: a surfel has one
 * component (or lesion), and the surfels of a union of components are the surfels of the whole mask
 * whose label is in the union, with the same codes and areas.
 */
export interface Surfels {
  corners: VoxelList;
  areas: Float64Array;
  /** Per surfel, the value of the nonzero voxels of its cell (labelled surfels only). */
  labels: Int32Array | null;
}

/** A growable Float64Array. */
class Float64List {
  values = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }
}

/**
 * Surface elements of `mask` on the corner grid of `box` (one corner more per axis than voxels):
 * corner (i, j, k) sits between voxels i − 1 and i of the box along x, and so on. The box is
 * copied once into an array with a zero border all round, so that each corner's code is eight
 * plain reads at fixed offsets. `labelled`: `mask` holds component labels, and each surfel gets
 * its cell's (see Surfels).
 */
export function surfelsOf(
  mask: Uint8Array | Int32Array,
  shape: Shape,
  box: Box,
  areaOfCode: Float64Array,
  labelled = false,
): Surfels {
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
  // Corner (i, j, k) reads padded voxels (i + a, j + b, k + c) for a, b, c ∈ {0, 1}, which are
  // voxels (i + a − 1, j + b − 1, k + c − 1) of the box.
  const offsets: number[] = [];
  const bits: number[] = [];
  const maskOffsets: number[] = [];
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 2; c++) {
        offsets.push(a + px * (b + py * c));
        bits.push(cornerBit(a, b, c));
        maskOffsets.push(a - 1 + nx * (b - 1 + ny * (c - 1)));
      }
    }
  }
  const [o0, o1, o2, o3, o4, o5, o6, o7] = offsets as Eight;
  const [b0, b1, b2, b3, b4, b5, b6, b7] = bits as Eight;
  const corners = new VoxelList(1024);
  const areas = new Float64List();
  const labels: number[] = [];
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
          if (labelled) {
            // The first inside voxel of the cell, read in the mask (its index at offset 0 is
            // that of box voxel (i, j, k), which may lie outside the box: only offsets are used).
            const at = ((box.z0 + k) * ny + box.y0 + j) * nx + box.x0 + i;
            let s = 0;
            while (padded[v + offsets[s]!] === 0) s++;
            labels.push(mask[at + maskOffsets[s]!]!);
          }
        }
      }
    }
  }
  return {
    corners,
    areas: areas.values.slice(0, areas.length),
    labels: labelled ? Int32Array.from(labels) : null,
  };
}

/** The surfels whose label `keep` flags (keep[label] === 1), in their order. */
export function surfelSubset(surfels: Surfels, keep: Uint8Array): Surfels {
  const { corners, areas, labels } = surfels;
  const n = corners.length;
  let count = 0;
  for (let i = 0; i < n; i++) if (keep[labels![i]!] === 1) count++;
  const out = new VoxelList(count);
  const outAreas = new Float64Array(count);
  const outLabels = new Int32Array(count);
  for (let i = 0, j = 0; i < n; i++) {
    const label = labels![i]!;
    if (keep[label] !== 1) continue;
    out.push(corners.x[i]!, corners.y[i]!, corners.z[i]!);
    outAreas[j] = areas[i]!;
    outLabels[j++] = label;
  }
  return { corners: out, areas: outAreas, labels: outLabels };
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
  return distancesOfSurfels(
    surfelsOf(pred, shape, box, areaOfCode),
    surfelsOf(gt, shape, box, areaOfCode),
    spacing,
  );
}

/** Both directions of surfelDistances, for surfels already found (on one corner grid). */
export function distancesOfSurfels(p: Surfels, g: Surfels, spacing: Spacing): SurfelDistances {
  return {
    gtToPred: distancesTo(p, g, spacing),
    gtAreas: g.areas,
    predToGt: distancesTo(g, p, spacing),
    predAreas: p.areas,
  };
}

/** Distance (mm) from each surfel of `from` to the nearest one of `to`. */
export function distancesTo(to: Surfels, from: Surfels, spacing: Spacing): Float64Array {
  const out = new Float64Array(from.corners.length);
  nearestDistances(to.corners, from.corners, spacing, out);
  return out;
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
  // The library sorts the (distance, area) pairs. Equal pairs are equal areas, so the sorted
  // areas are a counting sort by (rank of distance, rank of area): one native sort of the
  // distances for their ranks, a few distinct areas (at most one per surface code), and the
  // cumulative sums in the library's order, to the last bit.
  const { values: uniqueDistances, rankOf: distanceRank } = ranks(distances);
  const { values: areaValues, rankOf: areaRank } = ranks(areas);
  const a = areaValues.length;
  const counts = new Int32Array(uniqueDistances.length * a);
  for (let i = 0; i < n; i++) counts[distanceRank[i]! * a + areaRank[i]!]!++;
  const sorted = new Float64Array(n);
  for (let key = 0, r = 0; key < counts.length; key++) {
    const value = areaValues[key % a]!;
    for (let c = counts[key]!; c > 0; c--) sorted[r++] = value;
  }
  const total = numpySum(sorted, 0, n);
  const target = percent / 100;
  let cumulative = 0;
  for (let key = 0, r = 0; key < counts.length; key++) {
    const value = areaValues[key % a]!;
    for (let c = counts[key]!; c > 0; c--, r++) {
      cumulative += value; // np.cumsum: in order
      if (cumulative / total >= target) return uniqueDistances[Math.floor(key / a)]!;
    }
  }
  return uniqueDistances[uniqueDistances.length - 1]!;
}

/**
 * The distinct values, ascending, and each value's rank among them. Distances and areas take few
 * distinct values (areas at most one per surface code), so a hash of the values and a sort of the
 * distinct ones beats sorting them all.
 */
function ranks(values: Float64Array): { values: Float64Array; rankOf: Int32Array } {
  const index = new Map<number, number>();
  const firstSeen: number[] = [];
  const seenAs = new Int32Array(values.length);
  let last = NaN;
  let lastIndex = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== last) {
      last = v;
      let k = index.get(v);
      if (k === undefined) {
        k = firstSeen.length;
        index.set(v, k);
        firstSeen.push(v);
      }
      lastIndex = k;
    }
    seenAs[i] = lastIndex;
  }
  const sorted = Float64Array.from(firstSeen).sort();
  const rankOfSeen = new Int32Array(firstSeen.length);
  sorted.forEach((v, r) => {
    rankOfSeen[index.get(v)!] = r;
  });
  for (let i = 0; i < seenAs.length; i++) seenAs[i] = rankOfSeen[seenAs[i]!]!;
  return { values: sorted, rankOf: seenAs };
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
  return hd95OfDistances(surfelDistances(pred, gt, shape, spacing));
}

/** hd95Surface of surfel distances found already. */
export function hd95OfDistances(d: SurfelDistances): number {
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
