// Surface extraction and the exact Euclidean distance transform behind HD, HD95 and ASSD.
//
// Surface: a mask voxel with a 6-neighbour outside the mask, where voxels beyond the array count
// as outside: scipy's binary_erosion(mask, 6-connected, border_value=0) removed from the mask, as
// medpy does. Callers pass crops with a one-voxel margin (clipped to the image), so a crop face is
// either beyond both masks or the image's own border: "beyond the array" then means the same as in
// the full image, and the crop edge is never taken for surface.
//
// Distance transform: Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions"
// (Theory of Computing, 2012). The squared EDT is separable: along x it is the distance to the
// nearest feature in the row; along y, then z, it is the 1-D lower envelope of the parabolas
// f(q) + ((p - q)·spacing)² over the previous pass. Spacing scales each axis's term, which keeps
// it exact for anisotropic voxels. Terms are summed x, then y, then z, each as (d·s)·(d·s): the
// same arithmetic as scipy's distance_transform_edt(sampling=spacing) for the same nearest voxel.
//
// Only the distances at the query voxels (the other mask's surface) are ever read, so each pass
// is evaluated only where a later pass reads it: pass x on rows that hold a feature (other rows
// are infinitely far and drop out of every envelope), at the x of some query; pass y at the
// (x, y) columns that hold a query, in slices that hold a feature; pass z at the queries. Every
// evaluated value is the exact FH value; the skipped ones are never needed.

/** Voxel coordinates in scan order (z slowest, then y, then x), growable. */
export class VoxelList {
  x: Int32Array;
  y: Int32Array;
  z: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    const n = Math.max(1, capacity);
    this.x = new Int32Array(n);
    this.y = new Int32Array(n);
    this.z = new Int32Array(n);
  }

  push(x: number, y: number, z: number): void {
    if (this.length === this.x.length) this.#grow();
    const i = this.length++;
    this.x[i] = x;
    this.y[i] = y;
    this.z[i] = z;
  }

  #grow(): void {
    const n = this.x.length * 2;
    const x = new Int32Array(n);
    const y = new Int32Array(n);
    const z = new Int32Array(n);
    x.set(this.x);
    y.set(this.y);
    z.set(this.z);
    this.x = x;
    this.y = y;
    this.z = z;
  }
}

/**
 * Surface voxels of up to 8 masks at once. `codes` is an nx×ny×nz crop (Fortran order) and
 * `bitsOfCode[code]` says which masks a voxel with that code belongs to (bit s = mask s). The
 * surface voxels of mask s are appended to `lists[s]` in scan order, as crop coordinates; masks
 * whose list is null are skipped. `occupiedRows` (one flag per row, y + z·ny), when given, lets
 * rows known to hold only zeros be skipped.
 */
export function extractSurfaces(
  codes: Uint8Array,
  bitsOfCode: Uint8Array,
  dims: readonly [number, number, number],
  lists: readonly (VoxelList | null)[],
  occupiedRows?: Uint8Array,
): void {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  let wanted = 0;
  for (let s = 0; s < lists.length; s++) if (lists[s] !== null) wanted |= 1 << s;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      if (occupiedRows !== undefined && occupiedRows[z * ny + y] === 0) continue;
      const rowEdge = z === 0 || z === nz - 1 || y === 0 || y === ny - 1;
      for (let x = 0, i = (z * ny + y) * nx; x < nx; x++, i++) {
        const code = codes[i]!;
        if (code === 0) continue;
        const bits = bitsOfCode[code]! & wanted;
        if (bits === 0) continue;
        // Masks every 6-neighbour also belongs to; nothing when a neighbour is beyond the crop.
        const inner =
          rowEdge || x === 0 || x === nx - 1
            ? 0
            : bitsOfCode[codes[i - 1]!]! &
              bitsOfCode[codes[i + 1]!]! &
              bitsOfCode[codes[i - nx]!]! &
              bitsOfCode[codes[i + nx]!]! &
              bitsOfCode[codes[i - nxy]!]! &
              bitsOfCode[codes[i + nxy]!]!;
        let surface = bits & ~inner;
        while (surface !== 0) {
          const s = 31 - Math.clz32(surface);
          lists[s]!.push(x, y, z);
          surface &= ~(1 << s);
        }
      }
    }
  }
}

/** One 1-D lower envelope of parabolas (p - position[q])²·w2 + value[q], read from caller arrays. */
class Envelope {
  private values: Float64Array = new Float64Array(0);
  private valueOffset = 0;
  /** Position of each candidate, and value / w2 + position², which locates the crossings. */
  private readonly position: Float64Array;
  private readonly key: Float64Array;
  /** Candidates forming the envelope; candidate v[k] is lowest on [bound[k], bound[k + 1]]. */
  private readonly v: Int32Array;
  private readonly bound: Float64Array;
  private k = 0;

  constructor(n: number) {
    this.position = new Float64Array(n);
    this.key = new Float64Array(n);
    this.v = new Int32Array(n);
    this.bound = new Float64Array(n + 1);
  }

  /**
   * Builds the envelope of n ≥ 1 finite parabolas centred at positions[positionOffset + q]
   * (strictly increasing) with values[valueOffset + q].
   */
  build(
    positions: Int32Array,
    positionOffset: number,
    values: Float64Array,
    valueOffset: number,
    n: number,
    w2: number,
  ): void {
    this.values = values;
    this.valueOffset = valueOffset;
    const { position, key, v, bound } = this;
    const inverseW2 = 1 / w2;
    for (let q = 0; q < n; q++) {
      const p = positions[positionOffset + q]!;
      position[q] = p;
      key[q] = values[valueOffset + q]! * inverseW2 + p * p;
    }
    let k = 0;
    v[0] = 0;
    bound[0] = -Infinity;
    bound[1] = Infinity;
    for (let q = 1; q < n; q++) {
      const pq = position[q]!;
      const kq = key[q]!;
      // Where the new parabola crosses the top candidate; pop the candidates it hides.
      let j = v[k]!;
      let s = (kq - key[j]!) / (2 * (pq - position[j]!));
      while (s <= bound[k]!) {
        k--;
        j = v[k]!;
        s = (kq - key[j]!) / (2 * (pq - position[j]!));
      }
      k++;
      v[k] = q;
      bound[k] = s;
      bound[k + 1] = Infinity;
    }
    this.k = 0;
  }

  /** The envelope at p, ((p - centre)·spacing)² + value; p must not decrease between reads. */
  at(p: number, spacing: number): number {
    const { v, bound } = this;
    let k = this.k;
    while (bound[k + 1]! < p) k++;
    this.k = k;
    const j = v[k]!;
    const t = (p - this.position[j]!) * spacing;
    return this.values[this.valueOffset + j]! + t * t;
  }
}

/**
 * Euclidean distance (mm) from each query voxel to the nearest feature voxel, written to
 * out[0, queries.length) in query order. Both lists must be in scan order (z, then y, then x
 * ascending) with non-negative coordinates. No features: every distance is Infinity.
 */
export function nearestDistances(
  features: VoxelList,
  queries: VoxelList,
  spacing: readonly [number, number, number],
  out: Float64Array,
): void {
  const nq = queries.length;
  const nf = features.length;
  if (nq === 0) return;
  if (nf === 0) {
    out.fill(Infinity, 0, nq);
    return;
  }
  const [sx, sy, sz] = spacing;
  const fx = features.x;
  const fy = features.y;
  const fz = features.z;
  const qx = queries.x;
  const qy = queries.y;
  const qz = queries.z;

  // Feature rows (runs of equal y, z) and feature slices (runs of equal z).
  const rowStart = new Int32Array(nf + 1);
  const rowY = new Int32Array(nf);
  const sliceZ = new Int32Array(nf);
  const sliceRowStart = new Int32Array(nf + 1);
  let rows = 0;
  let slices = 0;
  for (let i = 0; i < nf; i++) {
    const newSlice = i === 0 || fz[i] !== fz[i - 1];
    if (newSlice || fy[i] !== fy[i - 1]) {
      if (newSlice) {
        sliceZ[slices] = fz[i]!;
        sliceRowStart[slices++] = rows;
      }
      rowStart[rows] = i;
      rowY[rows++] = fy[i]!;
    }
  }
  rowStart[rows] = nf;
  sliceRowStart[slices] = rows;

  // Query columns (x, y), numbered x-major, and the distinct query x values.
  let width = 0;
  let height = 0;
  for (let i = 0; i < nq; i++) {
    if (qx[i]! >= width) width = qx[i]! + 1;
    if (qy[i]! >= height) height = qy[i]! + 1;
  }
  const columnOf = new Int32Array(width * height).fill(-1);
  for (let i = 0; i < nq; i++) columnOf[qx[i]! * height + qy[i]!] = 0;
  const xs = new Int32Array(width);
  const columnStartOfX = new Int32Array(width + 1);
  const columnY = new Int32Array(nq);
  let columns = 0;
  let nxq = 0;
  for (let x = 0; x < width; x++) {
    const first = columns;
    for (let y = 0; y < height; y++) {
      const at = x * height + y;
      if (columnOf[at] === -1) continue;
      columnOf[at] = columns;
      columnY[columns++] = y;
    }
    if (columns > first) {
      xs[nxq] = x;
      columnStartOfX[nxq++] = first;
    }
  }
  columnStartOfX[nxq] = columns;

  // Queries grouped by column, ascending z within a column (scan order already is).
  const queryStart = new Int32Array(columns + 1);
  const queryColumn = new Int32Array(nq);
  for (let i = 0; i < nq; i++) {
    const c = columnOf[qx[i]! * height + qy[i]!]!;
    queryColumn[i] = c;
    queryStart[c + 1]!++;
  }
  for (let c = 0; c < columns; c++) queryStart[c + 1]! += queryStart[c]!;
  const queryOrder = new Int32Array(nq);
  const fill = queryStart.slice(0, columns);
  for (let i = 0; i < nq; i++) queryOrder[fill[queryColumn[i]!]!++] = i;

  // Pass x: squared distance along each feature row, at every query x. Stored per slice as
  // [query x][row of the slice], so that pass y reads each line contiguously.
  const rowDist = new Float64Array(rows * nxq);
  for (let s = 0; s < slices; s++) {
    const r0 = sliceRowStart[s]!;
    const m = sliceRowStart[s + 1]! - r0;
    const block = r0 * nxq;
    for (let r = r0; r < r0 + m; r++) {
      let j = rowStart[r]!;
      const end = rowStart[r + 1]!;
      for (let xi = 0, at = block + r - r0; xi < nxq; xi++, at += m) {
        const x = xs[xi]!;
        while (j + 1 < end && fx[j + 1]! <= x) j++;
        let d = Math.abs(x - fx[j]!);
        if (j + 1 < end && fx[j + 1]! - x < d) d = fx[j + 1]! - x;
        const t = d * sx;
        rowDist[at] = t * t;
      }
    }
  }

  // Pass y: per feature slice and query x, the envelope over that slice's feature rows, read at
  // the query columns of that x.
  let longest = slices;
  for (let s = 0; s < slices; s++) {
    longest = Math.max(longest, sliceRowStart[s + 1]! - sliceRowStart[s]!);
  }
  const envelope = new Envelope(longest);
  const columnDist = new Float64Array(columns * slices);
  const wy = sy * sy;
  for (let s = 0; s < slices; s++) {
    const r0 = sliceRowStart[s]!;
    const m = sliceRowStart[s + 1]! - r0;
    for (let xi = 0; xi < nxq; xi++) {
      envelope.build(rowY, r0, rowDist, r0 * nxq + xi * m, m, wy);
      const c1 = columnStartOfX[xi + 1]!;
      for (let c = columnStartOfX[xi]!; c < c1; c++) {
        columnDist[c * slices + s] = envelope.at(columnY[c]!, sy);
      }
    }
  }

  // Pass z: per query column, the envelope over the feature slices, read at its queries.
  const wz = sz * sz;
  for (let c = 0; c < columns; c++) {
    envelope.build(sliceZ, 0, columnDist, c * slices, slices, wz);
    const q1 = queryStart[c + 1]!;
    for (let k = queryStart[c]!; k < q1; k++) {
      const i = queryOrder[k]!;
      out[i] = Math.sqrt(envelope.at(qz[i]!, sz));
    }
  }
}
