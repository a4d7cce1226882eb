// Browser-safe encoding of an image as a single-file NIfTI-1 (.nii), optionally gzipped with fflate.
import { bestAffine, setAffine } from "./affine.js";
import { datatypeInfo } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import { gzipBytes } from "./gzip.js";
import { serializeHeader } from "./header.js";
import { HOST_LITTLE_ENDIAN, swapBytes } from "./parse.js";
import type { Affine, NiftiHeader, NiftiImage } from "./types.js";

export interface SerializeNiftiOptions {
  /** gzip the output (default false). */
  gzip?: boolean;
}

/** The two parts of a .nii: header bytes (exactly vox_offset long) and little-endian voxel bytes. */
export interface NiftiParts {
  header: Uint8Array;
  /** Empty for a header-only image. May be a view of `image.data` (no copy on little-endian hosts). */
  data: Uint8Array;
}

/** A single-file NIfTI-1 (magic n+1, little-endian), gzipped when asked. */
export function serializeNifti(image: NiftiImage, opts: SerializeNiftiOptions = {}): Uint8Array {
  const parts = niftiParts(image);
  const out = new Uint8Array(parts.header.length + parts.data.length);
  out.set(parts.header);
  out.set(parts.data, parts.header.length);
  return opts.gzip ? gzipBytes(out) : out;
}

/**
 * Header and data bytes for `image`. dim, datatype and pixdim[1..ndim] come from the image's shape,
 * datatype and spacing; the header's own sform/qform are kept when they already give `image.affine`
 * (nibabel does the same), otherwise both are rewritten from it with `setAffine`.
 * Throws BAD_HEADER when the data does not match shape/datatype or NIfTI-1 cannot hold a value.
 */
export function niftiParts(image: NiftiImage): NiftiParts {
  const header = headerForWrite(image);
  return {
    header: serializeHeader(header, { littleEndian: true, version: 1 }),
    data: littleEndianBytes(image),
  };
}

/** The header `serializeNifti` writes, before encoding. */
export function headerForWrite(image: NiftiImage): NiftiHeader {
  const info = datatypeInfo(image.datatype);
  const ndim = image.shape.length;
  if (ndim < 1 || ndim > 7)
    throw new NiftiError("BAD_HEADER", `shape has ${ndim} dimensions; NIfTI holds 1..7`);
  let voxels = 1;
  for (const size of image.shape) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new NiftiError(
        "BAD_HEADER",
        `shape [${image.shape.join(", ")}] must hold positive integers`,
      );
    }
    voxels *= size;
  }
  if (image.data !== null) {
    const expected = voxels * info.elementsPerVoxel;
    if (!(image.data instanceof info.arrayType) || image.data.length !== expected) {
      throw new NiftiError(
        "BAD_HEADER",
        `${image.datatype} data of shape [${image.shape.join(", ")}] must be a ${info.arrayType.name} of ${expected} elements; got a ${image.data.constructor.name} of ${image.data.length}`,
      );
    }
  }
  if (image.spacing.length !== ndim) {
    throw new NiftiError(
      "BAD_HEADER",
      `spacing has ${image.spacing.length} values for ${ndim} dimensions`,
    );
  }
  const dim = [ndim, ...image.shape];
  while (dim.length < 8) dim.push(1);
  const pixdim = image.header.pixdim.slice(0, 8);
  while (pixdim.length < 8) pixdim.push(1);
  image.spacing.forEach((value, i) => (pixdim[i + 1] = value));
  const header: NiftiHeader = {
    ...image.header,
    version: 1,
    littleEndian: true,
    magic: "n+1",
    dim,
    pixdim,
    datatype: info.code,
    bitpix: info.bitpix,
  };
  return sameAffine(bestAffine(header), image.affine)
    ? header
    : headerWithAffine(header, image.affine);
}

/** `setAffine`, with its RangeError for a malformed or non-finite affine turned into BAD_HEADER. */
export function headerWithAffine(header: NiftiHeader, affine: Affine): NiftiHeader {
  try {
    return setAffine(header, affine);
  } catch (error) {
    if (error instanceof RangeError)
      throw new NiftiError("BAD_HEADER", `invalid affine: ${error.message}`, { cause: error });
    throw error;
  }
}

function sameAffine(a: number[][], b: number[][]): boolean {
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) if (a[r]?.[c] !== b[r]?.[c]) return false;
  }
  return true;
}

function littleEndianBytes(image: NiftiImage): Uint8Array {
  const data = image.data;
  if (data === null) return new Uint8Array(0);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = bytes.slice();
  swapBytes(copy.buffer, data.BYTES_PER_ELEMENT);
  return copy;
}
