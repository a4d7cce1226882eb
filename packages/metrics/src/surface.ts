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
// nearest feature in the row; along y and then z it is the 1-D lower envelope of the parabolas
// f(q) + ((p - q)·s)² over the rows, then over the slices. Spacing scales each axis's term, which
// keeps it exact for anisotropic voxels. Terms are summed x, then y, then z, each as (d·s)·(d·s):
// the same arithmetic as scipy's distance_transform_edt(sampling=spacing) for the same nearest
// voxel.
//
// Only the distances at the query voxels (the other mask's surface) are read, so the passes are
// evaluated only where a later pass needs them: rows and slices without a feature are infinitely
// far and never enter; the y envelope of a slice is built once per x that holds a query; the z
// envelope once per (x, y) column that holds one. Each step is linear in its input, so the whole
// transform costs at most a constant times the crop size, and every value it uses is the exact
// FH value.

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

/**
 * Passes x and y, one x at a time: for each feature slice, the lower envelope along y of its
 * feature rows at that x, read at the wanted y's. Rows are stored slice by slice: slice s owns
 * entries [sliceRowStart[s], sliceRowStart[s + 1]) of the row arrays.
 */
class SlicePlanes {
  /** Squared x distance of each row at the current x. */
  private readonly rowValue: Float64Array;
  /** rowValue / sy² + y², which locates the crossings. */
  private readonly rowKey: Float64Array;
  /** Rows forming the envelope of the slice being read. */
  private readonly envelopeRow: Int32Array;
  /** Envelope row k is lowest on [bound[k], bound[k + 1]]. */
  private readonly bound: Float64Array;
  /** Per row, the last feature at or before x (x only grows between calls). */
  private readonly rowCursor: Int32Array;
  private readonly inverseWy: number;

  constructor(
    private readonly features: VoxelList,
    private readonly rowStart: Int32Array,
    private readonly rowY: Int32Array,
    private readonly sliceRowStart: Int32Array,
    rows: number,
    private readonly slices: number,
    private readonly sx: number,
    private readonly sy: number,
  ) {
    this.rowValue = new Float64Array(rows);
    this.rowKey = new Float64Array(rows);
    this.envelopeRow = new Int32Array(rows);
    this.bound = new Float64Array(rows + 1);
    this.rowCursor = rowStart.slice(0, rows);
    this.inverseWy = 1 / (sy * sy);
  }

  /**
   * Squared in-slice distances at x for the `count` ascending y's of `ys`: the value of slice s
   * at ys[n] goes to plane[n * slices + s], so each (x, y) column's slices are contiguous. Calls
   * must come with growing x.
   */
  fill(x: number, ys: Int32Array, count: number, plane: Float64Array): void {
    const { rowValue, rowKey, envelopeRow, bound, rowCursor, rowStart, rowY, sx, sy, slices } =
      this;
    const { inverseWy } = this;
    const fx = this.features.x;
    for (let s = 0; s < slices; s++) {
      const r0 = this.sliceRowStart[s]!;
      const r1 = this.sliceRowStart[s + 1]!;
      for (let r = r0; r < r1; r++) {
        let j = rowCursor[r]!;
        const end = rowStart[r + 1]!;
        while (j + 1 < end && fx[j + 1]! <= x) j++;
        rowCursor[r] = j;
        let d = Math.abs(x - fx[j]!);
        if (j + 1 < end && fx[j + 1]! - x < d) d = fx[j + 1]! - x;
        const t = d * sx;
        const value = t * t;
        const y = rowY[r]!;
        rowValue[r] = value;
        rowKey[r] = value * inverseWy + y * y;
      }
      let top = 0;
      envelopeRow[0] = r0;
      bound[0] = -Infinity;
      bound[1] = Infinity;
      for (let q = r0 + 1; q < r1; q++) {
        const pq = rowY[q]!;
        const kq = rowKey[q]!;
        // Where the new parabola crosses the top one; pop the ones it hides.
        let j = envelopeRow[top]!;
        let crossing = (kq - rowKey[j]!) / (2 * (pq - rowY[j]!));
        while (crossing <= bound[top]!) {
          top--;
          j = envelopeRow[top]!;
          crossing = (kq - rowKey[j]!) / (2 * (pq - rowY[j]!));
        }
        top++;
        envelopeRow[top] = q;
        bound[top] = crossing;
        bound[top + 1] = Infinity;
      }
      let k = 0;
      for (let n = 0; n < count; n++) {
        const y = ys[n]!;
        while (bound[k + 1]! < y) k++;
        const j = envelopeRow[k]!;
        const t = (y - rowY[j]!) * sy;
        plane[n * slices + s] = rowValue[j]! + t * t;
      }
    }
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

  // Queries grouped by column (x, y), columns in x-major order, queries by ascending z within a
  // column (a counting sort; scan order already has z ascending).
  let width = 0;
  let height = 0;
  for (let i = 0; i < nq; i++) {
    if (qx[i]! >= width) width = qx[i]! + 1;
    if (qy[i]! >= height) height = qy[i]! + 1;
  }
  const queriesAt = new Int32Array(width * height + 1);
  for (let i = 0; i < nq; i++) queriesAt[qx[i]! * height + qy[i]! + 1]!++;
  for (let c = 0; c < width * height; c++) queriesAt[c + 1]! += queriesAt[c]!;
  const queryOrder = new Int32Array(nq);
  const fill = queriesAt.slice(0, width * height);
  for (let i = 0; i < nq; i++) queryOrder[fill[qx[i]! * height + qy[i]!]!++] = i;

  const planes = new SlicePlanes(features, rowStart, rowY, sliceRowStart, rows, slices, sx, sy);
  const ys = new Int32Array(height);
  const plane = new Float64Array(height * slices);

  // Pass z per column: the lower envelope along z of the parabolas g(s) + ((z - zs)·sz)² over the
  // feature slices, g(s) the slice's value in the column, read at the column's queries in
  // ascending z.
  const key = new Float64Array(slices);
  const envelope = new Int32Array(slices);
  const bound = new Float64Array(slices + 1);
  const inverseWz = 1 / (sz * sz);
  for (let x = 0; x < width; x++) {
    let count = 0;
    for (let y = 0; y < height; y++) {
      const column = x * height + y;
      if (queriesAt[column + 1]! > queriesAt[column]!) ys[count++] = y;
    }
    if (count === 0) continue;
    planes.fill(x, ys, count, plane);
    for (let n = 0; n < count; n++) {
      const column = x * height + ys[n]!;
      const v0 = n * slices;
      const p0 = sliceZ[0]!;
      key[0] = plane[v0]! * inverseWz + p0 * p0;
      let top = 0;
      envelope[0] = 0;
      bound[0] = -Infinity;
      bound[1] = Infinity;
      for (let q = 1; q < slices; q++) {
        const pq = sliceZ[q]!;
        const kq = plane[v0 + q]! * inverseWz + pq * pq;
        key[q] = kq;
        let j = envelope[top]!;
        let crossing = (kq - key[j]!) / (2 * (pq - sliceZ[j]!));
        while (crossing <= bound[top]!) {
          top--;
          j = envelope[top]!;
          crossing = (kq - key[j]!) / (2 * (pq - sliceZ[j]!));
        }
        top++;
        envelope[top] = q;
        bound[top] = crossing;
        bound[top + 1] = Infinity;
      }
      let k = 0;
      for (let m = queriesAt[column]!; m < queriesAt[column + 1]!; m++) {
        const i = queryOrder[m]!;
        const z = qz[i]!;
        while (bound[k + 1]! < z) k++;
        const j = envelope[k]!;
        const t = (z - sliceZ[j]!) * sz;
        let best = plane[v0 + j]! + t * t;
        // A rounded crossing can put z on the wrong side of a near-tie: comparing the neighbours'
        // sums keeps the smaller one, as a minimum over all the slices would.
        if (k > 0) {
          const jb = envelope[k - 1]!;
          const tb = (z - sliceZ[jb]!) * sz;
          const d2 = plane[v0 + jb]! + tb * tb;
          if (d2 < best) best = d2;
        }
        if (k < top) {
          const ja = envelope[k + 1]!;
          const ta = (z - sliceZ[ja]!) * sz;
          const d2 = plane[v0 + ja]! + ta * ta;
          if (d2 < best) best = d2;
        }
        out[i] = Math.sqrt(best);
      }
    }
  }
}
