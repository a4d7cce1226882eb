// Building fresh images from arrays.
import { bestAffine } from "./affine.js";
import { datatypeInfo, datatypeOfArray } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import { defaultHeader } from "./header.js";
import { headerWithAffine } from "./serialize.js";
import type {
  Affine,
  DatatypeName,
  NiftiExtension,
  NiftiHeader,
  NiftiImage,
  VoxelArray,
} from "./types.js";

export interface CreateImageOptions {
  /** Raw voxels, x fastest (Fortran order). rgb24/rgba32: Uint8Array; complex64: Float32Array (re, im). */
  data: VoxelArray;
  /** 1 to 7 sizes. */
  shape: number[];
  /** Default: from the typed array (Uint8Array → uint8, Float32Array → float32, ...). */
  datatype?: DatatypeName;
  /** One spacing per dimension; default 1. pixdim[1..3] then follow the affine when one is given. */
  spacing?: number[];
  /**
   * Voxel → world. When given, sform and qform both encode it (codes 1, scanner). When omitted the codes
   * are 0 and the affine is nibabel's base affine (from spacing, x flipped, volume centred).
   */
  affine?: Affine;
  /** `descrip`, at most 80 bytes of UTF-8. */
  description?: string;
  /** Default 1 and 0 (no scaling). */
  sclSlope?: number;
  sclInter?: number;
  /** Default 10: millimetres and seconds. */
  xyztUnits?: number;
  extensions?: NiftiExtension[];
}

/** A new image with a valid NIfTI-1 header describing `data`. Throws BAD_HEADER when data and shape disagree. */
export function createImage(opts: CreateImageOptions): NiftiImage {
  const { data, shape } = opts;
  const datatype = opts.datatype ?? datatypeOfArray(data);
  const info = datatypeInfo(datatype);
  const ndim = shape.length;
  if (ndim < 1 || ndim > 7)
    throw new NiftiError("BAD_HEADER", `shape has ${ndim} dimensions; NIfTI holds 1..7`);
  let voxels = 1;
  for (const size of shape) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new NiftiError("BAD_HEADER", `shape [${shape.join(", ")}] must hold positive integers`);
    }
    voxels *= size;
  }
  if (!(data instanceof info.arrayType)) {
    throw new NiftiError(
      "BAD_HEADER",
      `${datatype} data must be a ${info.arrayType.name}, got a ${data.constructor.name}`,
    );
  }
  if (data.length !== voxels * info.elementsPerVoxel) {
    throw new NiftiError(
      "BAD_HEADER",
      `shape [${shape.join(", ")}] of ${datatype} needs ${voxels * info.elementsPerVoxel} elements, the data has ${data.length}`,
    );
  }
  const spacing = opts.spacing ?? shape.map(() => 1);
  if (spacing.length !== ndim || spacing.some((v) => !Number.isFinite(v))) {
    throw new NiftiError(
      "BAD_HEADER",
      `spacing must hold ${ndim} finite numbers, got [${spacing.join(", ")}]`,
    );
  }
  const dim = [ndim, ...shape];
  while (dim.length < 8) dim.push(1);
  const pixdim = [1, ...spacing];
  while (pixdim.length < 8) pixdim.push(1);
  let header: NiftiHeader = defaultHeader({
    dim,
    datatype: info.code,
    bitpix: info.bitpix,
    pixdim,
    sclSlope: opts.sclSlope ?? 1,
    sclInter: opts.sclInter ?? 0,
    xyztUnits: opts.xyztUnits ?? 10,
    descrip: opts.description ?? "",
    extensions: opts.extensions ?? [],
  });
  if (opts.affine) header = headerWithAffine(header, opts.affine);
  return {
    header,
    shape: shape.slice(),
    datatype,
    data,
    spacing: header.pixdim.slice(1, ndim + 1),
    affine: bestAffine(header),
  };
}
