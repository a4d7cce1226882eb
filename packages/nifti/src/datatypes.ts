import { NiftiError } from "./errors.js";
import type { DatatypeName, VoxelArray } from "./types.js";

/** The typed-array constructors used for voxel storage, reduced to the two signatures this package calls. */
export interface VoxelArrayConstructor {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): VoxelArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): VoxelArray;
}

/** Everything the reader and writer need to know about one NIfTI datatype. */
export interface DatatypeInfo {
  readonly name: DatatypeName;
  /** NIfTI `datatype` code (nifti1.h DT_*). */
  readonly code: number;
  /** NIfTI `bitpix`: bits per voxel. */
  readonly bitpix: number;
  readonly bytesPerVoxel: number;
  /** Typed array holding the raw voxels (Uint8Array for rgb, Float32Array for complex64). */
  readonly arrayType: VoxelArrayConstructor;
  /** Array elements per voxel: 3 for rgb24, 4 for rgba32, 2 for complex64, else 1. */
  readonly elementsPerVoxel: number;
}

function info(
  name: DatatypeName,
  code: number,
  arrayType: VoxelArrayConstructor,
  elementsPerVoxel = 1,
): DatatypeInfo {
  const bytesPerVoxel = arrayType.BYTES_PER_ELEMENT * elementsPerVoxel;
  return Object.freeze({
    name,
    code,
    bitpix: bytesPerVoxel * 8,
    bytesPerVoxel,
    arrayType,
    elementsPerVoxel,
  });
}

/** The 13 supported datatypes, in nifti1.h code order. */
export const DATATYPES: readonly DatatypeInfo[] = Object.freeze([
  info("uint8", 2, Uint8Array),
  info("int16", 4, Int16Array),
  info("int32", 8, Int32Array),
  info("float32", 16, Float32Array),
  info("complex64", 32, Float32Array, 2),
  info("float64", 64, Float64Array),
  info("rgb24", 128, Uint8Array, 3),
  info("int8", 256, Int8Array),
  info("uint16", 512, Uint16Array),
  info("uint32", 768, Uint32Array),
  info("int64", 1024, BigInt64Array),
  info("uint64", 1280, BigUint64Array),
  info("rgba32", 2304, Uint8Array, 4),
]);

const BY_CODE = new Map(DATATYPES.map((d) => [d.code, d]));
const BY_NAME = new Map(DATATYPES.map((d) => [d.name, d]));

/** nifti1.h codes that exist but have no typed-array home here; named only for error messages. */
const UNSUPPORTED_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "unknown"],
  [1, "binary"],
  [1536, "float128"],
  [1792, "complex128"],
  [2048, "complex256"],
]);

/** The datatype for a NIfTI code or name; throws UNSUPPORTED_DATATYPE for anything else. */
export function datatypeInfo(codeOrName: number | DatatypeName): DatatypeInfo {
  const found = typeof codeOrName === "number" ? BY_CODE.get(codeOrName) : BY_NAME.get(codeOrName);
  if (found) return found;
  const known = typeof codeOrName === "number" ? UNSUPPORTED_NAMES.get(codeOrName) : undefined;
  throw new NiftiError(
    "UNSUPPORTED_DATATYPE",
    typeof codeOrName === "number"
      ? `unsupported NIfTI datatype code ${codeOrName}${known ? ` (${known})` : ""}`
      : `unknown datatype name "${String(codeOrName)}"`,
  );
}

export function datatypeName(code: number): DatatypeName {
  return datatypeInfo(code).name;
}

export function datatypeCode(name: DatatypeName): number {
  return datatypeInfo(name).code;
}

export function bytesPerVoxel(name: DatatypeName): number {
  return datatypeInfo(name).bytesPerVoxel;
}

/**
 * The datatype a typed array holds when nothing else is said: Uint8Array is uint8 (not rgb24) and
 * Float32Array is float32 (not complex64).
 */
export function datatypeOfArray(data: VoxelArray): DatatypeName {
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof BigUint64Array) return "uint64";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  throw new NiftiError(
    "UNSUPPORTED_DATATYPE",
    "voxel data must be one of the typed arrays listed in VoxelArray",
  );
}
