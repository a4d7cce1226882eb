/**
 * Voxel-to-world geometry of NIfTI headers, matching nibabel 5 (`Nifti1Header.get_qform`,
 * `set_qform`, `get_sform`, `get_base_affine`, `get_best_affine`).
 *
 * Pure functions over plain numbers; no Node APIs.
 */
import type { Affine, NiftiHeader } from "./types.js";

/** The qform of a NIfTI header: quaternion (b, c, d), offsets, voxel sizes and qfac (±1). */
export interface QformParameters {
  b: number;
  c: number;
  d: number;
  qx: number;
  qy: number;
  qz: number;
  dx: number;
  dy: number;
  dz: number;
  qfac: number;
}

/** Options of {@link setAffine}. */
export interface SetAffineOptions {
  /** sform_code to store; default: the header's, or 1 (scanner) when that is 0. */
  sformCode?: number;
  /** qform_code to store; default: the header's, or 1 (scanner) when that is 0. */
  qformCode?: number;
}

/**
 * nibabel stores quaternions as float32, so it accepts b²+c²+d² up to 3 float32 epsilons above 1
 * (a is then 0) and rejects anything larger (`Nifti1Header.quaternion_threshold`).
 */
const QUATERNION_THRESHOLD = -3 * 2 ** -23;

/** Throws a RangeError unless `affine` is a 4×4 array of numbers. Internal (shared with orientation.ts). */
export function assertAffine(affine: Affine): void {
  if (!Array.isArray(affine) || affine.length !== 4) {
    throw new RangeError("an affine must be a 4×4 array of numbers");
  }
  for (const row of affine) {
    if (!Array.isArray(row) || row.length !== 4 || row.some((v) => typeof v !== "number")) {
      throw new RangeError("an affine must be a 4×4 array of numbers");
    }
  }
}

/** Row `i`, column `j` of a 4×4 (or 3×3) row-major matrix; callers guarantee the bounds. */
function at(m: number[][], i: number, j: number): number {
  return (m[i] as number[])[j] as number;
}

function identity4(): Affine {
  return [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
}

/** a · b for 4×4 affines (`a` applied after `b`), summing in index order like a plain dot product. */
export function multiplyAffines(a: Affine, b: Affine): Affine {
  assertAffine(a);
  assertAffine(b);
  const out: Affine = [];
  for (let i = 0; i < 4; i++) {
    const row: number[] = [];
    for (let j = 0; j < 4; j++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += at(a, i, k) * at(b, k, j);
      row.push(sum + 0); // + 0 turns −0 into 0
    }
    out.push(row);
  }
  return out;
}

/**
 * Inverse of a 4×4 affine whose last row is (0, 0, 0, 1): inverts the 3×3 part by cofactors
 * and maps the translation through it. Throws a RangeError when the 3×3 part is singular.
 */
export function invertAffine(affine: Affine): Affine {
  assertAffine(affine);
  const m = (i: number, j: number): number => at(affine, i, j);
  const c00 = m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1);
  const c01 = m(1, 2) * m(2, 0) - m(1, 0) * m(2, 2);
  const c02 = m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0);
  const det = m(0, 0) * c00 + m(0, 1) * c01 + m(0, 2) * c02;
  if (det === 0 || !Number.isFinite(det)) {
    throw new RangeError("affine is singular and cannot be inverted");
  }
  const inv = [
    [c00, m(0, 2) * m(2, 1) - m(0, 1) * m(2, 2), m(0, 1) * m(1, 2) - m(0, 2) * m(1, 1)],
    [c01, m(0, 0) * m(2, 2) - m(0, 2) * m(2, 0), m(0, 2) * m(1, 0) - m(0, 0) * m(1, 2)],
    [c02, m(0, 1) * m(2, 0) - m(0, 0) * m(2, 1), m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0)],
  ].map((row) => row.map((v) => v / det + 0));
  const out: Affine = [];
  for (let i = 0; i < 3; i++) {
    const r = inv[i] as number[];
    const t = -(at(inv, i, 0) * m(0, 3) + at(inv, i, 1) * m(1, 3) + at(inv, i, 2) * m(2, 3)) + 0;
    out.push([r[0] as number, r[1] as number, r[2] as number, t]);
  }
  out.push([0, 0, 0, 1]);
  return out;
}

/** Voxel sizes of an affine: the Euclidean norms of the columns of its 3×3 part (nibabel `voxel_sizes`). */
export function voxelSizes(affine: Affine): [number, number, number] {
  assertAffine(affine);
  const norm = (j: number): number =>
    Math.sqrt(at(affine, 0, j) ** 2 + at(affine, 1, j) ** 2 + at(affine, 2, j) ** 2);
  return [norm(0), norm(1), norm(2)];
}

/**
 * Affine of a qform, as nibabel's `get_qform`: a = √(1 − b² − c² − d²) (0 when that is negative
 * within float32 rounding), rotation from (a, b, c, d), voxel sizes with qfac applied to z, offsets.
 * qfac is −1 only when it is exactly −1 (nibabel resets any other pixdim[0] to 1 on load).
 * Throws a RangeError when b² + c² + d² exceeds 1 by more than float32 rounding, as nibabel does.
 */
export function quaternionToAffine(q: QformParameters): Affine {
  const { b, c, d } = q;
  const w2 = 1 - (b * b + c * c + d * d);
  let a: number;
  if (w2 < 0) {
    if (w2 < QUATERNION_THRESHOLD) {
      throw new RangeError(
        `qform quaternion (b, c, d) has norm above 1 (1 − b² − c² − d² = ${w2})`,
      );
    }
    a = 0;
  } else {
    a = Math.sqrt(w2);
  }
  // nibabel's quat2mat: s = 2 / |q|² keeps a non-unit quaternion (a clamped to 0) a rotation.
  const s = 2 / (a * a + b * b + c * c + d * d);
  const X = b * s;
  const Y = c * s;
  const Z = d * s;
  const wX = a * X;
  const wY = a * Y;
  const wZ = a * Z;
  const xX = b * X;
  const xY = b * Y;
  const xZ = b * Z;
  const yY = c * Y;
  const yZ = c * Z;
  const zZ = d * Z;
  const dz = q.qfac === -1 ? -q.dz : q.dz;
  const affine = [
    [(1 - (yY + zZ)) * q.dx, (xY - wZ) * q.dy, (xZ + wY) * dz, q.qx],
    [(xY + wZ) * q.dx, (1 - (xX + zZ)) * q.dy, (yZ - wX) * dz, q.qy],
    [(xZ - wY) * q.dx, (yZ + wX) * q.dy, (1 - (xX + yY)) * dz, q.qz],
    [0, 0, 0, 1],
  ];
  return affine.map((row) => row.map((v) => v + 0)); // + 0 turns −0 into 0
}

/**
 * Singular value decomposition of a 3×3 matrix by one-sided Jacobi rotations (Hestenes):
 * A = U · diag(s) · Vᵀ. Columns of U whose singular value is 0 are left as zero vectors;
 * callers that need a full orthonormal U complete them. Accurate to a few ulps.
 * Internal (shared with orientation.ts); singular values come sorted in decreasing order.
 */
export function svd3(a: number[][]): { u: number[][]; s: number[]; v: number[][] } {
  // w holds A·V column by column as the rotations accumulate.
  const w = [0, 1, 2].map((j) => [at(a, 0, j), at(a, 1, j), at(a, 2, j)]);
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ]; // v[j] is column j of V
  const col = (m: number[][], j: number): number[] => m[j] as number[];
  for (let sweep = 0; sweep < 64; sweep++) {
    let rotated = false;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        const wp = col(w, p);
        const wq = col(w, q);
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < 3; i++) {
          const x = wp[i] as number;
          const y = wq[i] as number;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= Number.EPSILON * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.hypot(1, zeta));
        const cs = 1 / Math.hypot(1, t);
        const sn = cs * t;
        for (const m of [w, v]) {
          const mp = col(m, p);
          const mq = col(m, q);
          for (let i = 0; i < 3; i++) {
            const x = mp[i] as number;
            const y = mq[i] as number;
            mp[i] = cs * x - sn * y;
            mq[i] = sn * x + cs * y;
          }
        }
      }
    }
    if (!rotated) break;
  }
  const s = w.map((c) => Math.hypot(c[0] as number, c[1] as number, c[2] as number));
  const uCols = w.map((c, j) => {
    const sj = s[j] as number;
    return sj > 0 ? c.map((x) => x / sj) : [0, 0, 0];
  });
  // Sort by decreasing singular value, as LAPACK returns them.
  const order = [0, 1, 2].sort((i, j) => (s[j] as number) - (s[i] as number));
  const toRows = (cols: number[][]): number[][] =>
    [0, 1, 2].map((i) => order.map((j) => at(cols, j, i)));
  return { u: toRows(uCols), s: order.map((j) => s[j] as number), v: toRows(v) };
}

function cross(x: number[], y: number[]): number[] {
  const [x0, x1, x2] = x as [number, number, number];
  const [y0, y1, y2] = y as [number, number, number];
  return [x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0];
}

function det3(m: number[][]): number {
  return (
    at(m, 0, 0) * (at(m, 1, 1) * at(m, 2, 2) - at(m, 1, 2) * at(m, 2, 1)) -
    at(m, 0, 1) * (at(m, 1, 0) * at(m, 2, 2) - at(m, 1, 2) * at(m, 2, 0)) +
    at(m, 0, 2) * (at(m, 1, 0) * at(m, 2, 1) - at(m, 1, 1) * at(m, 2, 0))
  );
}

/**
 * Closest rotation to a 3×3 matrix: U·Vᵀ from its SVD (the orthogonal polar factor, what
 * nibabel's `set_qform` computes with `P, S, Qs = svd(R); P @ Qs`). For a rank-deficient
 * input the missing directions of U are completed so that the result is a proper rotation.
 */
function closestRotation(r: number[][]): number[][] {
  const { u, s, v } = svd3(r);
  const smax = s[0] as number;
  const tol = smax * 3 * Number.EPSILON;
  const uCols = [0, 1, 2].map((j) => [at(u, 0, j), at(u, 1, j), at(u, 2, j)]);
  const rank = s.filter((x) => x > tol).length;
  if (rank === 0) {
    uCols[0] = [1, 0, 0];
    uCols[1] = [0, 1, 0];
  } else if (rank === 1) {
    // Any unit vector orthogonal to the first: start from the axis it is least aligned with.
    const u0 = uCols[0] as number[];
    const k = [0, 1, 2].reduce((best, i) =>
      Math.abs(u0[i] as number) < Math.abs(u0[best] as number) ? i : best,
    );
    const e = [0, 0, 0];
    e[k] = 1;
    const c = cross(u0, e);
    const n = Math.hypot(c[0] as number, c[1] as number, c[2] as number);
    uCols[1] = c.map((x) => x / n);
  }
  if (rank < 3) uCols[2] = cross(uCols[0] as number[], uCols[1] as number[]);
  const product = (): number[][] =>
    [0, 1, 2].map((i) =>
      [0, 1, 2].map((j) => [0, 1, 2].reduce((sum, k) => sum + at(uCols, k, i) * at(v, j, k), 0)),
    );
  let rot = product();
  if (rank < 3 && det3(rot) < 0) {
    // The completed direction carries no weight, so its sign is free: pick a proper rotation.
    uCols[2] = (uCols[2] as number[]).map((x) => -x);
    rot = product();
  }
  return rot;
}

/**
 * Quaternion (a, b, c, d) with a ≥ 0 of a rotation matrix, by Shepperd's method (the largest of
 * the four squared components is computed directly, the others from off-diagonal sums), which is
 * exact to rounding for orthonormal input and agrees with nibabel's eigenvector `mat2quat`.
 */
function rotationToQuaternion(m: number[][]): [number, number, number, number] {
  const m00 = at(m, 0, 0);
  const m11 = at(m, 1, 1);
  const m22 = at(m, 2, 2);
  const trace = m00 + m11 + m22;
  let q: [number, number, number, number];
  if (trace >= m00 && trace >= m11 && trace >= m22) {
    const a = 0.5 * Math.sqrt(Math.max(0, 1 + trace));
    const f = 0.25 / a;
    q = [
      a,
      (at(m, 2, 1) - at(m, 1, 2)) * f,
      (at(m, 0, 2) - at(m, 2, 0)) * f,
      (at(m, 1, 0) - at(m, 0, 1)) * f,
    ];
  } else if (m00 >= m11 && m00 >= m22) {
    const b = 0.5 * Math.sqrt(Math.max(0, 1 + m00 - m11 - m22));
    const f = 0.25 / b;
    q = [
      (at(m, 2, 1) - at(m, 1, 2)) * f,
      b,
      (at(m, 0, 1) + at(m, 1, 0)) * f,
      (at(m, 0, 2) + at(m, 2, 0)) * f,
    ];
  } else if (m11 >= m22) {
    const c = 0.5 * Math.sqrt(Math.max(0, 1 - m00 + m11 - m22));
    const f = 0.25 / c;
    q = [
      (at(m, 0, 2) - at(m, 2, 0)) * f,
      (at(m, 0, 1) + at(m, 1, 0)) * f,
      c,
      (at(m, 1, 2) + at(m, 2, 1)) * f,
    ];
  } else {
    const d = 0.5 * Math.sqrt(Math.max(0, 1 - m00 - m11 + m22));
    const f = 0.25 / d;
    q = [
      (at(m, 1, 0) - at(m, 0, 1)) * f,
      (at(m, 0, 2) + at(m, 2, 0)) * f,
      (at(m, 1, 2) + at(m, 2, 1)) * f,
      d,
    ];
  }
  if (q[0] < 0) q = [-q[0], -q[1], -q[2], -q[3]];
  // (x + 0) turns −0 into +0, so equal rotations give equal (Object.is) quaternions.
  return [q[0] + 0, q[1] + 0, q[2] + 0, q[3] + 0];
}

/**
 * qform parameters of an affine, as nibabel's `set_qform` computes them: voxel sizes are the
 * column norms; qfac is −1 when the normalised 3×3 part has a determinant ≤ 0 (its z column is
 * then negated); shears are stripped by taking the closest rotation (polar decomposition);
 * the quaternion has a ≥ 0. Columns of zeros (no nibabel result: it divides by zero) are
 * handled as nifti_mat44_to_quatern does: a unit vector along that axis and voxel size 1.
 * Throws a RangeError on non-finite entries.
 */
export function affineToQuaternion(affine: Affine): QformParameters {
  assertAffine(affine);
  if (affine.some((row) => row.some((v) => !Number.isFinite(v)))) {
    throw new RangeError("affine has non-finite entries");
  }
  const zooms = voxelSizes(affine);
  // r[i][j]: normalised 3×3 part.
  const r = [0, 1, 2].map((i) => [0, 1, 2].map((j) => at(affine, i, j)));
  for (let j = 0; j < 3; j++) {
    const zoom = zooms[j] as number;
    if (zoom === 0) {
      zooms[j] = 1;
      for (let i = 0; i < 3; i++) (r[i] as number[])[j] = i === j ? 1 : 0;
    } else {
      for (let i = 0; i < 3; i++) (r[i] as number[])[j] = at(r, i, j) / zoom;
    }
  }
  let qfac = 1;
  if (!(det3(r) > 0)) {
    qfac = -1;
    for (let i = 0; i < 3; i++) (r[i] as number[])[2] = -at(r, i, 2);
  }
  const [, b, c, d] = rotationToQuaternion(closestRotation(r));
  return {
    b,
    c,
    d,
    qx: at(affine, 0, 3),
    qy: at(affine, 1, 3),
    qz: at(affine, 2, 3),
    dx: zooms[0],
    dy: zooms[1],
    dz: zooms[2],
    qfac,
  };
}

/**
 * pixdim[1..3] as nibabel sees them after its load-time header fixes: negative sizes become
 * their absolute values and zeros become 1 (`_chk_pixdims`).
 */
export function fixedSpatialPixdims(header: NiftiHeader): [number, number, number] {
  const fix = (v: number | undefined): number => {
    const x = v ?? 1;
    return x === 0 ? 1 : Math.abs(x);
  };
  return [fix(header.pixdim[1]), fix(header.pixdim[2]), fix(header.pixdim[3])];
}

/** The header's qform as an affine (nibabel `get_qform`, whatever the qform_code). */
export function qformAffine(header: NiftiHeader): Affine {
  const [dx, dy, dz] = fixedSpatialPixdims(header);
  return quaternionToAffine({
    b: header.quaternB,
    c: header.quaternC,
    d: header.quaternD,
    qx: header.qoffsetX,
    qy: header.qoffsetY,
    qz: header.qoffsetZ,
    dx,
    dy,
    dz,
    qfac: header.pixdim[0] === -1 ? -1 : 1,
  });
}

/** The header's sform rows as an affine (nibabel `get_sform`, whatever the sform_code). */
export function sformAffine(header: NiftiHeader): Affine {
  const row = (r: number[]): number[] => [0, 1, 2, 3].map((j) => r[j] ?? 0);
  return [row(header.srowX), row(header.srowY), row(header.srowZ), [0, 0, 0, 1]];
}

/**
 * nibabel's `get_base_affine`: voxel sizes from pixdim[1..3] with x negated (radiological
 * storage), origin at the centre of the volume: −(dim − 1) / 2 · size. Axes beyond dim[0]
 * (2D and 1D images) count as size 1 with 1 voxel.
 */
export function baseAffine(header: NiftiHeader): Affine {
  const ndim = Math.max(0, Math.min(7, Math.trunc(header.dim[0] ?? 0)));
  const pixdims = fixedSpatialPixdims(header);
  const out = identity4();
  for (let i = 0; i < 3; i++) {
    const n = i < ndim ? (header.dim[i + 1] ?? 1) : 1;
    const zoom = i < ndim ? (pixdims[i] as number) : 1;
    const signed = i === 0 ? -zoom : zoom;
    const row = out[i] as number[];
    row[i] = signed;
    row[3] = -((n - 1) / 2) * signed + 0; // + 0: no −0 in the output
  }
  return out;
}

/** nibabel's `get_best_affine`: the sform if sform_code ≠ 0, else the qform if qform_code ≠ 0, else the base affine. */
export function bestAffine(header: NiftiHeader): Affine {
  if (header.sformCode !== 0) return sformAffine(header);
  if (header.qformCode !== 0) return qformAffine(header);
  return baseAffine(header);
}

/**
 * A copy of `header` whose sform and qform both encode `affine`, as nibabel's `set_sform` then
 * `set_qform` write them: srow_x/y/z are the first three rows; quatern_b/c/d, qoffset_x/y/z,
 * pixdim[0] (qfac) and pixdim[1..3] (the column norms) come from {@link affineToQuaternion},
 * so shears survive in the sform only. Codes default to the header's own, or 1 (scanner) when 0
 * (nibabel's own default there would be 2, aligned).
 */
export function setAffine(
  header: NiftiHeader,
  affine: Affine,
  opts: SetAffineOptions = {},
): NiftiHeader {
  assertAffine(affine);
  const q = affineToQuaternion(affine);
  const pixdim = header.pixdim.slice();
  while (pixdim.length < 8) pixdim.push(1);
  pixdim[0] = q.qfac;
  pixdim[1] = q.dx;
  pixdim[2] = q.dy;
  pixdim[3] = q.dz;
  return {
    ...header,
    dim: header.dim.slice(),
    pixdim,
    extensions: header.extensions.slice(),
    sformCode: opts.sformCode ?? (header.sformCode || 1),
    qformCode: opts.qformCode ?? (header.qformCode || 1),
    srowX: (affine[0] as number[]).slice(),
    srowY: (affine[1] as number[]).slice(),
    srowZ: (affine[2] as number[]).slice(),
    quaternB: q.b,
    quaternC: q.c,
    quaternD: q.d,
    qoffsetX: q.qx,
    qoffsetY: q.qy,
    qoffsetZ: q.qz,
  };
}
