/** NIfTI datatype names accepted and produced by this package (NIfTI names, not nibabel's). */
export type DatatypeName =
  | "uint8"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64"
  | "rgb24"
  | "rgba32"
  | "complex64";

/** Raw voxel storage. rgb24/rgba32 use Uint8Array (3 or 4 bytes a voxel), complex64 a Float32Array (re, im). */
export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** One header extension (esize/ecode block after the header); `data` excludes the 8-byte esize/ecode prefix. */
export interface NiftiExtension {
  code: number;
  data: Uint8Array;
}

/** 4×4 row-major matrix, voxel (i, j, k, 1) → world (x, y, z, 1) in mm. */
export type Affine = number[][];

/**
 * Every field of a NIfTI-1 or NIfTI-2 header, decoded to plain numbers and strings.
 * Field names follow nifti1.h in camelCase.
 */
export interface NiftiHeader {
  /** 1 for NIfTI-1 (348-byte header), 2 for NIfTI-2 (540-byte header). */
  version: 1 | 2;
  /** Byte order the file was written in. */
  littleEndian: boolean;
  /** "n+1" / "ni1" / "n+2" / "ni2"; "" for a plain Analyze 7.5 header. */
  magic: string;
  dimInfo: number;
  /** dim[0..7]: dim[0] is the number of dimensions. */
  dim: number[];
  intentP1: number;
  intentP2: number;
  intentP3: number;
  intentCode: number;
  /** NIfTI datatype code (2 = uint8, 4 = int16, 16 = float32, ...). */
  datatype: number;
  bitpix: number;
  sliceStart: number;
  /** pixdim[0..7]: pixdim[0] is qfac (±1), pixdim[1..] the spacings. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  sliceEnd: number;
  sliceCode: number;
  xyztUnits: number;
  calMax: number;
  calMin: number;
  sliceDuration: number;
  toffset: number;
  descrip: string;
  auxFile: string;
  qformCode: number;
  sformCode: number;
  quaternB: number;
  quaternC: number;
  quaternD: number;
  qoffsetX: number;
  qoffsetY: number;
  qoffsetZ: number;
  srowX: number[];
  srowY: number[];
  srowZ: number[];
  intentName: string;
  extensions: NiftiExtension[];
}

/** A decoded NIfTI image: header, raw voxels in file order (x fastest, Fortran order) and geometry. */
export interface NiftiImage {
  header: NiftiHeader;
  /** dim[1..dim[0]]. */
  shape: number[];
  datatype: DatatypeName;
  /** Raw voxel values in the file's datatype, native byte order; null for a header-only file. */
  data: VoxelArray | null;
  /** pixdim[1..dim[0]] (absolute values are not taken: as stored). */
  spacing: number[];
  /** The affine nibabel reports (`get_best_affine`). */
  affine: Affine;
}
