/**
 * Axis orientation of images, matching nibabel 5 `orientations` (`io_orientation`,
 * `aff2axcodes`, `ornt_transform`, `inv_ornt_aff`, `apply_orientation`) and
 * `as_closest_canonical` / `as_reoriented`.
 *
 * An orientation ("ornt") has one row [axis, flip] per voxel axis: the world (or target) axis it
 * runs along, and +1 or −1 for its direction. World axes are 0 = x (L→R), 1 = y (P→A), 2 = z (I→S).
 *
 * Pure maths, no Node APIs: this module is also the package's "./orientation" entry (browser-safe,
 * for bundles that need no reader), so everything it exports is public.
 */
import { assertAffine, multiplyAffines, setAffine, svd3, voxelSizes } from "./affine.js";
import type { Affine, DatatypeName, NiftiHeader, NiftiImage, VoxelArray } from "./types.js";

/** One [axis, flip] row per voxel axis; a row of NaN means the axis maps to no world axis. */
export type Ornt = Array<[number, number]>;

/** Labels of the negative and positive ends of world axes x, y, z. */
const AXIS_LABELS: ReadonlyArray<readonly [string, string]> = [
  ["L", "R"],
  ["P", "A"],
  ["I", "S"],
];

/** Placeholder axis code of a voxel axis that maps to no world axis (nibabel: None). */
export const DROPPED_AXIS_CODE = "?";

/**
 * nibabel's `io_orientation`: for each voxel axis, the world axis it is closest to and the sign.
 * The 3×3 part is normalised by column, its closest shear-free matrix R is taken from the SVD
 * (singular values ≤ `tol`, default max(S) · 3 · ε, are dropped), then voxel axes are assigned in
 * order to the world axis of largest |R| in their column, each world axis used once.
 */
export function ioOrientation(affine: Affine, tol?: number): Ornt {
  assertAffine(affine);
  if (affine.some((row) => row.some((v) => !Number.isFinite(v)))) {
    throw new RangeError("affine has non-finite entries");
  }
  const zooms = voxelSizes(affine).map((z) => (z === 0 ? 1 : z));
  const rs = [0, 1, 2].map((i) =>
    [0, 1, 2].map((j) => ((affine[i] as number[])[j] as number) / (zooms[j] as number)),
  );
  const { u, s, v } = svd3(rs);
  const threshold = tol ?? (s[0] as number) * 3 * Number.EPSILON;
  const keep = [0, 1, 2].filter((k) => (s[k] as number) > threshold);
  // r = U[:, keep] · V[:, keep]ᵀ
  const r = [0, 1, 2].map((i) =>
    [0, 1, 2].map((j) =>
      keep.reduce(
        (sum, k) => sum + ((u[i] as number[])[k] as number) * ((v[j] as number[])[k] as number),
        0,
      ),
    ),
  );
  const ornt: Ornt = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    const col = r.map((row) => row[inAx] as number);
    // np.allclose(col, 0): every entry within 1e-8 of zero
    if (col.every((x) => Math.abs(x) <= 1e-8)) {
      ornt.push([NaN, NaN]);
      continue;
    }
    let outAx = 0;
    for (let i = 1; i < 3; i++) {
      if (Math.abs(col[i] as number) > Math.abs(col[outAx] as number)) outAx = i;
    }
    ornt.push([outAx, (col[outAx] as number) < 0 ? -1 : 1]);
    (r[outAx] as number[]).fill(0); // each world axis is taken once
  }
  return ornt;
}

/** Axis codes of an orientation, e.g. [[0, -1], [1, -1], [2, 1]] → "LPS"; "?" for a dropped axis. */
export function orntToAxcodes(ornt: Ornt): string {
  return ornt
    .map(([axis, flip]) => {
      if (Number.isNaN(axis)) return DROPPED_AXIS_CODE;
      const labels = AXIS_LABELS[axis];
      if (labels === undefined || (flip !== 1 && flip !== -1)) {
        throw new RangeError(`invalid orientation row [${axis}, ${flip}]`);
      }
      return flip === 1 ? labels[1] : labels[0];
    })
    .join("");
}

/**
 * nibabel's `aff2axcodes`: the world direction each voxel axis points to, as letters from
 * (L, R), (P, A), (I, S): "RAS" for the identity, "LPS" for diag(−1, −1, 1). An axis of a
 * degenerate affine that maps to no world axis gets "?" (nibabel: None).
 */
export function axcodes(affine: Affine, tol?: number): string {
  return orntToAxcodes(ioOrientation(affine, tol));
}

/**
 * nibabel's `axcodes2ornt` for a three-letter code such as "LPS" (case-insensitive): one letter
 * from each of (L, R), (P, A), (I, S), in any order. Throws a RangeError otherwise.
 */
export function axcodesToOrnt(codes: string): Ornt {
  const upper = codes.toUpperCase();
  if (upper.length !== 3) {
    throw new RangeError(`axis codes must be 3 letters such as "RAS", got "${codes}"`);
  }
  const ornt: Ornt = [];
  const used = new Set<number>();
  for (const letter of upper) {
    const axis = AXIS_LABELS.findIndex((pair) => pair.includes(letter));
    if (axis < 0 || used.has(axis)) {
      throw new RangeError(
        `axis codes must use one letter of each of L/R, P/A, I/S, got "${codes}"`,
      );
    }
    used.add(axis);
    ornt.push([axis, letter === (AXIS_LABELS[axis] as readonly [string, string])[0] ? -1 : 1]);
  }
  return ornt;
}

/**
 * nibabel's `ornt_transform`: the transform (an orientation applied to voxel axes) that takes
 * data in orientation `start` to orientation `end`. Throws a RangeError when they do not span
 * the same world axes.
 */
export function orntTransform(start: Ornt, end: Ornt): Ornt {
  if (start.length !== end.length) {
    throw new RangeError("orientations must have the same number of axes");
  }
  const result: Ornt = start.map(() => [NaN, NaN]);
  end.forEach(([endAxis, endFlip], endIdx) => {
    const startIdx = start.findIndex(([startAxis]) => startAxis === endAxis);
    if (startIdx < 0) {
      throw new RangeError(`world axis ${endAxis} is not in the start orientation`);
    }
    const startFlip = (start[startIdx] as [number, number])[1];
    result[startIdx] = [endIdx, startFlip === endFlip ? 1 : -1];
  });
  return result;
}

/** The transform that undoes `ornt` (applying `ornt`, then this, leaves data unchanged). */
export function inverseOrnt(ornt: Ornt): Ornt {
  assertTransform(ornt);
  const inverse: Ornt = ornt.map(() => [NaN, NaN]);
  ornt.forEach(([axis, flip], i) => {
    inverse[axis] = [i, flip];
  });
  return inverse;
}

/** Throws a RangeError unless `ornt` is a permutation of its axes with flips ±1. */
function assertTransform(ornt: Ornt): void {
  const seen = new Set<number>();
  for (const [axis, flip] of ornt) {
    if (!Number.isInteger(axis) || axis < 0 || axis >= ornt.length || seen.has(axis)) {
      throw new RangeError("orientation transform must permute its axes (no dropped axes)");
    }
    if (flip !== 1 && flip !== -1) throw new RangeError("orientation flips must be 1 or -1");
    seen.add(axis);
  }
}

/**
 * nibabel's `inv_ornt_aff` for 3 axes: the 4×4 affine taking voxel indices of data transformed
 * by `ornt` back to voxel indices of the original data of shape `shape` (its first 3 entries).
 */
export function invOrntAffine(ornt: Ornt, shape: readonly number[]): Affine {
  if (ornt.length !== 3) throw new RangeError("orientation must have 3 axes");
  assertTransform(ornt);
  const out: Affine = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 1],
  ];
  ornt.forEach(([axis, flip], i) => {
    const n = shape[i] ?? 1;
    const row = out[i] as number[];
    row[axis] = flip;
    // the original index counts down from n − 1 along a flipped axis
    row[3] = flip === -1 ? n - 1 : 0;
  });
  return out;
}

/** Numbers stored per voxel: 3 and 4 bytes for rgb24 and rgba32, 2 floats for complex64. */
function componentsPerVoxel(datatype: DatatypeName): number {
  switch (datatype) {
    case "rgb24":
      return 3;
    case "rgba32":
      return 4;
    case "complex64":
      return 2;
    default:
      return 1;
  }
}

type UnitArray = Uint8Array | Uint16Array | Uint32Array;

/** An unsigned-integer view of the same bytes (8-byte elements as pairs of 32-bit units), so copies keep NaN payloads. */
function unitView(data: VoxelArray): { units: UnitArray; unitsPerElement: number } {
  const { buffer, byteOffset, length } = data;
  switch (data.BYTES_PER_ELEMENT) {
    case 1:
      return { units: new Uint8Array(buffer, byteOffset, length), unitsPerElement: 1 };
    case 2:
      return { units: new Uint16Array(buffer, byteOffset, length), unitsPerElement: 1 };
    case 4:
      return { units: new Uint32Array(buffer, byteOffset, length), unitsPerElement: 1 };
    default:
      return { units: new Uint32Array(buffer, byteOffset, length * 2), unitsPerElement: 2 };
  }
}

/** A typed array of the same element type as `like` over `buffer`. */
function sameKind(like: VoxelArray, buffer: ArrayBuffer): VoxelArray {
  if (like instanceof Uint8Array) return new Uint8Array(buffer);
  if (like instanceof Int8Array) return new Int8Array(buffer);
  if (like instanceof Int16Array) return new Int16Array(buffer);
  if (like instanceof Uint16Array) return new Uint16Array(buffer);
  if (like instanceof Int32Array) return new Int32Array(buffer);
  if (like instanceof Uint32Array) return new Uint32Array(buffer);
  if (like instanceof Float32Array) return new Float32Array(buffer);
  if (like instanceof Float64Array) return new Float64Array(buffer);
  if (like instanceof BigInt64Array) return new BigInt64Array(buffer);
  return new BigUint64Array(buffer);
}

/**
 * Copies `src` into `dst` reordered: output voxels are visited in Fortran order (x fastest) and
 * read from `src` at `start + x·step[0] + y·step[1] + z·step[2] + t·volume`, all in units.
 */
function gather(
  src: UnitArray,
  dst: UnitArray,
  outShape: readonly [number, number, number],
  steps: readonly [number, number, number],
  start: number,
  volumes: number,
  volumeUnits: number,
  unitsPerVoxel: number,
): void {
  const [n0, n1, n2] = outShape;
  const [step0, step1, step2] = steps;
  if (unitsPerVoxel === 1 && step0 !== 1 && step0 !== -1) {
    gatherTiled(src, dst, outShape, steps, start, volumes, volumeUnits);
    return;
  }
  let o = 0;
  for (let t = 0; t < volumes; t++) {
    const volumeStart = start + t * volumeUnits;
    for (let z = 0; z < n2; z++) {
      const planeStart = volumeStart + z * step2;
      for (let y = 0; y < n1; y++) {
        const rowStart = planeStart + y * step1;
        if (unitsPerVoxel === 1) {
          if (step0 === 1) {
            dst.set(src.subarray(rowStart, rowStart + n0), o);
            o += n0;
          } else if (step0 === -1) {
            // a flipped x row is a contiguous run read backwards: native copy, native reverse
            dst.set(src.subarray(rowStart - n0 + 1, rowStart + 1), o);
            dst.subarray(o, o + n0).reverse();
            o += n0;
          } else {
            let s = rowStart;
            for (let x = 0; x < n0; x++) {
              dst[o++] = src[s] as number;
              s += step0;
            }
          }
        } else {
          let s = rowStart;
          for (let x = 0; x < n0; x++) {
            for (let c = 0; c < unitsPerVoxel; c++) dst[o++] = src[s + c] as number;
            s += step0;
          }
        }
      }
    }
  }
}

/**
 * {@link gather} for single-unit voxels when x is not read contiguously (axes permuted): a plain
 * loop would read every voxel from a different cache line, so the output is visited in
 * TILE³ blocks whose source lines stay cached.
 */
function gatherTiled(
  src: UnitArray,
  dst: UnitArray,
  outShape: readonly [number, number, number],
  steps: readonly [number, number, number],
  start: number,
  volumes: number,
  volumeUnits: number,
): void {
  const TILE = 16;
  const [n0, n1, n2] = outShape;
  const [step0, step1, step2] = steps;
  const outVolume = n0 * n1 * n2;
  for (let t = 0; t < volumes; t++) {
    const volumeStart = start + t * volumeUnits;
    const outStart = t * outVolume;
    for (let z0 = 0; z0 < n2; z0 += TILE) {
      const z1 = Math.min(z0 + TILE, n2);
      for (let y0 = 0; y0 < n1; y0 += TILE) {
        const y1 = Math.min(y0 + TILE, n1);
        for (let x0 = 0; x0 < n0; x0 += TILE) {
          const x1 = Math.min(x0 + TILE, n0);
          for (let z = z0; z < z1; z++) {
            for (let y = y0; y < y1; y++) {
              let o = outStart + x0 + n0 * (y + n1 * z);
              let s = volumeStart + x0 * step0 + y * step1 + z * step2;
              for (let x = x0; x < x1; x++) {
                dst[o++] = src[s] as number;
                s += step0;
              }
            }
          }
        }
      }
    }
  }
}

/**
 * nibabel's `apply_orientation` on raw voxel data in Fortran order (x fastest): flips the first
 * three axes where `ornt` says −1, then moves axis i to position ornt[i][0]. Axes 4–7 and the
 * `componentsPerVoxel` numbers of each voxel (3 for rgb24 bytes, 2 for complex64 floats) move
 * with their voxel. `shape` must have at least 3 entries. Returns a new array of the same type.
 */
export function applyOrientation(
  data: VoxelArray,
  shape: readonly number[],
  ornt: Ornt,
  componentsPerVoxel = 1,
): { data: VoxelArray; shape: number[] } {
  if (ornt.length !== 3) throw new RangeError("orientation must have 3 axes");
  assertTransform(ornt);
  if (shape.length < 3 || shape.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new RangeError("shape must list at least 3 non-negative integer sizes");
  }
  if (!Number.isInteger(componentsPerVoxel) || componentsPerVoxel < 1) {
    throw new RangeError("componentsPerVoxel must be a positive integer");
  }
  const voxels = shape.reduce((p, n) => p * n, 1);
  if (data.length !== voxels * componentsPerVoxel) {
    throw new RangeError(
      `data has ${data.length} values; shape [${shape.join(", ")}] × ${componentsPerVoxel} needs ${voxels * componentsPerVoxel}`,
    );
  }
  const outShape = shape.slice();
  ornt.forEach(([axis], i) => {
    outShape[axis] = shape[i] as number;
  });
  const { units, unitsPerElement } = unitView(data);
  const unitsPerVoxel = unitsPerElement * componentsPerVoxel;
  const buffer = new ArrayBuffer(data.byteLength);
  const out = sameKind(data, buffer);
  const outUnits = unitView(out).units;

  const [n0, n1, n2] = shape as [number, number, number];
  const srcStrides = [unitsPerVoxel, unitsPerVoxel * n0, unitsPerVoxel * n0 * n1];
  const volumeUnits = unitsPerVoxel * n0 * n1 * n2;
  const steps: [number, number, number] = [0, 0, 0];
  let start = 0;
  ornt.forEach(([axis, flip], i) => {
    const stride = srcStrides[i] as number;
    steps[axis] = flip * stride;
    if (flip === -1) start += ((shape[i] as number) - 1) * stride;
  });
  const volumes = voxels === 0 ? 0 : voxels / (n0 * n1 * n2);
  gather(
    units,
    outUnits,
    [outShape[0] as number, outShape[1] as number, outShape[2] as number],
    steps,
    start,
    volumes,
    volumeUnits,
    unitsPerVoxel,
  );
  return { data: out, shape: outShape };
}

function isIdentity(ornt: Ornt): boolean {
  return ornt.every(([axis, flip], i) => axis === i && flip === 1);
}

/**
 * nifti dim_info packs the frequency, phase and slice axes (1-based, 0 = unknown) into 2 bits
 * each; nibabel's `as_reoriented` moves them with their axes.
 */
function reorderDimInfo(dimInfo: number, ornt: Ornt): number {
  let out = 0;
  for (const shift of [0, 2, 4]) {
    const code = (dimInfo >> shift) & 3;
    const moved = code === 0 ? 0 : (ornt[code - 1] as [number, number])[0] + 1;
    out |= moved << shift;
  }
  return out;
}

/** Applies a transform to an image's data, affine and header (nibabel `as_reoriented`). */
function applyToImage(image: NiftiImage, ornt: Ornt): NiftiImage {
  if (isIdentity(ornt)) return image;
  const shape = image.shape.slice();
  while (shape.length < 3) shape.push(1); // 1D/2D images act as 3D with single-voxel axes
  const spatialShape = shape.slice(0, 3);
  const newShape = shape.slice();
  ornt.forEach(([axis], i) => {
    newShape[axis] = shape[i] as number;
  });
  const data =
    image.data === null
      ? null
      : applyOrientation(image.data, shape, ornt, componentsPerVoxel(image.datatype)).data;
  const affine = multiplyAffines(image.affine, invOrntAffine(ornt, spatialShape));

  const dim = image.header.dim.slice();
  dim[0] = Math.max(dim[0] ?? 0, 3);
  for (let i = 0; i < 3; i++) dim[i + 1] = newShape[i] as number;
  const reshaped: NiftiHeader = {
    ...image.header,
    dim,
    dimInfo: reorderDimInfo(image.header.dimInfo, ornt),
  };
  // Codes are kept. With neither code set the header's affine would be the base affine, which
  // cannot express the reordering: nibabel then stores sform_code 2 (aligned), qform_code 0.
  const noCodes = image.header.sformCode === 0 && image.header.qformCode === 0;
  const header = setAffine(reshaped, affine, {
    sformCode: noCodes ? 2 : image.header.sformCode,
    qformCode: noCodes ? 0 : image.header.qformCode,
  });
  return {
    header,
    shape: newShape,
    datatype: image.datatype,
    data,
    spacing: header.pixdim.slice(1, newShape.length + 1),
    affine,
  };
}

function assertOriented(ornt: Ornt): void {
  if (ornt.some(([axis]) => Number.isNaN(axis))) {
    throw new RangeError(
      `the image affine maps a voxel axis to no world axis (axis codes ${orntToAxcodes(ornt)}); it cannot be reoriented`,
    );
  }
}

/**
 * nibabel's `as_closest_canonical`: data reordered and flipped so that voxel axes run, as
 * closely as the affine allows, along R, A, S; the affine is updated so every voxel keeps its
 * world position. An image already in RAS order is returned as is (same object).
 */
export function asClosestCanonical(image: NiftiImage): NiftiImage {
  const ornt = ioOrientation(image.affine);
  assertOriented(ornt);
  return applyToImage(image, ornt);
}

/**
 * The image reordered so its voxel axes run along `target` axis codes (e.g. "LPS"), like
 * nibabel's `img.as_reoriented(ornt_transform(io_orientation(img.affine), axcodes2ornt(target)))`.
 * `reorient(asClosestCanonical(img), axcodes(img.affine))` gives back img's data and affine.
 * Header: dims, dim_info, pixdim[0..3], srow and qform fields follow the new affine; codes are
 * kept (an image with both codes 0 gets sform_code 2, as nibabel gives it).
 */
export function reorient(image: NiftiImage, target: string): NiftiImage {
  const start = ioOrientation(image.affine);
  assertOriented(start);
  return applyToImage(image, orntTransform(start, axcodesToOrnt(target)));
}
