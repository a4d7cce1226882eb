// Parse and serialise NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers in either byte order, plus the
// extension blocks that follow them. Browser-safe: Uint8Array and DataView only.
// The layouts live in header-nifti1.ts and header-nifti2.ts, the shared field codec in header-fields.ts.
import { datatypeInfo } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import {
  badHeader,
  checkDims,
  checkedInt,
  readString,
  requireLength,
  validateHeader,
} from "./header-fields.js";
import { NIFTI1_HEADER_SIZE, parseNifti1, writeNifti1 } from "./header-nifti1.js";
import { NIFTI2_HEADER_SIZE, parseNifti2, writeNifti2 } from "./header-nifti2.js";
import type { NiftiExtension, NiftiHeader } from "./types.js";

/** Default cap on the declared data size: 2 GiB. */
export const DEFAULT_MAX_BYTES = 2 ** 31;

/** What the first four bytes (sizeof_hdr) say about a header. */
export interface HeaderLayout {
  version: 1 | 2;
  littleEndian: boolean;
  /** 348 or 540. */
  headerSize: number;
}

export interface ParseHeaderOptions {
  /** Largest declared data size, and extension area, accepted (bytes); default 2 GiB. Larger gives TOO_LARGE. */
  maxBytes?: number;
  /**
   * True when the header is a separate file (.hdr): extensions run to the end of `bytes` and vox_offset
   * is an offset into the .img file. Default: true for the pair magics "ni1"/"ni2" and Analyze headers.
   */
  detached?: boolean;
}

export interface SerializeHeaderOptions {
  /** Default true. */
  littleEndian?: boolean;
  /** Default 1. */
  version?: 1 | 2;
  /** Write a .hdr of a pair (magic ni1/ni2, vox_offset 0) instead of a single-file header. Default false. */
  detached?: boolean;
}

/** Reads sizeof_hdr in both byte orders; throws NOT_NIFTI unless it is 348 or 540 in one of them. */
export function sniffHeader(bytes: Uint8Array): HeaderLayout {
  if (bytes.length < 4) {
    throw new NiftiError("NOT_NIFTI", `not a NIfTI file: only ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === NIFTI1_HEADER_SIZE) return { version: 1, littleEndian, headerSize: size };
    if (size === NIFTI2_HEADER_SIZE) return { version: 2, littleEndian, headerSize: size };
  }
  throw new NiftiError(
    "NOT_NIFTI",
    `not a NIfTI file: sizeof_hdr is ${view.getInt32(0, true)}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`,
  );
}

/** True for the single-file magics ("n+1", "n+2"), whose data follows the header in the same file. */
export function isSingleFileMagic(magic: string): boolean {
  return magic === "n+1" || magic === "n+2";
}

/**
 * NOT_NIFTI unless the header of a single file (.nii) carries a NIfTI magic ("n+1", or "ni1", read
 * as header-only): nibabel reads no Analyze header, nor any other magic, from a .nii. NIfTI-2
 * headers are refused by their parser already. `bytes` must hold the fixed header.
 */
export function requireNiftiMagic(bytes: Uint8Array): void {
  const layout = sniffHeader(bytes);
  requireLength(bytes, layout.headerSize, "the header");
  if (layout.version === 2) return;
  const magic = readString(bytes, 344, 4);
  if (magic !== "n+1" && magic !== "ni1") {
    throw new NiftiError(
      "NOT_NIFTI",
      `not a NIfTI-1 file: the magic is ${JSON.stringify(magic)}, not "n+1" (an Analyze header ` +
        `belongs in a .hdr; nibabel refuses it in a .nii too)`,
    );
  }
}

/**
 * How many leading bytes of a single-file image `parseHeader` needs, as far as `bytes` can tell:
 * the fixed header and the 4-byte extender, then, when the extender flags extensions, each
 * extension of the chain in turn (its esize says how far it reaches). The padding between the chain
 * and vox_offset is not part of it, so the bytes up to a distant vox_offset are never needed. Call
 * again with more bytes while the result exceeds `bytes.length`. `bytes` must hold the fixed header.
 * Validates the fixed fields first (so a hostile vox_offset gives TOO_LARGE/BAD_HEADER, not a wait).
 * Infinity for a detached header (pair magic or Analyze): its extensions run to the end of the file.
 */
export function headerPrefixLength(bytes: Uint8Array, opts: ParseHeaderOptions = {}): number {
  const layout = sniffHeader(bytes);
  requireLength(bytes, layout.headerSize, "the header");
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const header = parseFixedFields(bytes, layout, maxBytes);
  const detached = opts.detached ?? !isSingleFileMagic(header.magic);
  if (detached) return Number.POSITIVE_INFINITY;
  const extStart = layout.headerSize + 4;
  if (bytes.length < extStart || bytes[layout.headerSize] === 0) return extStart;
  const voxOffset = singleFileDataOffset(header.voxOffset, layout);
  const chain = walkExtensions(bytes, extStart, voxOffset, layout.littleEndian, maxBytes);
  return chain.needed ?? chain.end;
}

/**
 * How many leading bytes of a detached header (.hdr) matter: the fixed header and extender, then the
 * extension chain, which runs to the end of the file. `complete` once no more bytes are wanted (no
 * extensions flagged); otherwise `needed` is where the chain's next field or extension ends, and a
 * stream that ends exactly at `end` (a chain boundary) is complete too.
 */
export function detachedHeaderExtent(
  bytes: Uint8Array,
  opts: Pick<ParseHeaderOptions, "maxBytes"> = {},
): { complete: boolean; end: number; needed: number } {
  const layout = sniffHeader(bytes);
  requireLength(bytes, layout.headerSize, "the header");
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  parseFixedFields(bytes, layout, maxBytes);
  const extStart = layout.headerSize + 4;
  if (bytes.length < extStart) return { complete: false, end: layout.headerSize, needed: extStart };
  if (bytes[layout.headerSize] === 0) return { complete: true, end: extStart, needed: extStart };
  const chain = walkExtensions(bytes, extStart, Infinity, layout.littleEndian, maxBytes);
  return { complete: false, end: chain.end, needed: chain.needed ?? chain.end + 8 };
}

/**
 * Follows the extension chain from `start` through the esize fields present in `bytes`, up to
 * `limit` (vox_offset; Infinity for a detached header). `end` is where the last whole extension
 * seen ends; `needed` the bytes wanted to go further, or null when the chain is complete (fewer than
 * 16 bytes left before `limit`, which nibabel ignores as padding).
 */
function walkExtensions(
  bytes: Uint8Array,
  start: number,
  limit: number,
  le: boolean,
  maxBytes: number,
): { end: number; needed: number | null } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let pos = start;
  while (limit - pos >= 16) {
    if (bytes.length < pos + 8) return { end: pos, needed: pos + 8 };
    const esize = view.getInt32(pos, le);
    if (esize < 16 || esize % 16 !== 0 || esize > limit - pos) {
      throw badHeader(
        `extension at offset ${pos} has esize ${esize}: it must be a multiple of 16, at least 16` +
          (limit === Infinity ? "" : ` and at most ${limit - pos}`),
      );
    }
    if (pos + esize - start > maxBytes) {
      throw new NiftiError(
        "TOO_LARGE",
        `the extensions reach ${pos + esize - start} bytes, above maxBytes ${maxBytes}`,
      );
    }
    if (bytes.length < pos + esize) return { end: pos, needed: pos + esize };
    pos += esize;
  }
  return { end: pos, needed: null };
}

/**
 * Parses and validates a header (and its extensions) from the start of `bytes`.
 * For a single file, `bytes` must reach the end of the flagged extensions (headerPrefixLength);
 * the returned `voxOffset` is the offset the data is read from.
 */
export function parseHeader(bytes: Uint8Array, opts: ParseHeaderOptions = {}): NiftiHeader {
  const layout = sniffHeader(bytes);
  requireLength(bytes, layout.headerSize, "the header");
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const header = parseFixedFields(bytes, layout, maxBytes);
  const detached = opts.detached ?? !isSingleFileMagic(header.magic);
  const extStart = layout.headerSize + 4;
  const hasExtensions = bytes.length >= extStart && bytes[layout.headerSize] !== 0;
  if (detached) {
    if (hasExtensions) {
      header.extensions = parseExtensions(bytes, extStart, bytes.length, layout.littleEndian, true);
    }
    return header;
  }
  header.voxOffset = singleFileDataOffset(header.voxOffset, layout);
  if (hasExtensions) {
    const chain = walkExtensions(bytes, extStart, header.voxOffset, layout.littleEndian, maxBytes);
    if (chain.needed !== null) requireLength(bytes, chain.needed, "the extensions");
    header.extensions = parseExtensions(bytes, extStart, chain.end, layout.littleEndian, true);
  }
  return header;
}

/** Bytes of voxel data the header declares (already checked to be a safe integer by parseHeader). */
export function dataByteLength(header: NiftiHeader): number {
  return voxelCount(header) * datatypeInfo(header.datatype).bytesPerVoxel;
}

/** Product of dim[1..dim[0]]. */
export function voxelCount(header: NiftiHeader): number {
  const ndim = header.dim[0] ?? 0;
  let count = 1;
  for (let i = 1; i <= ndim; i++) count *= header.dim[i] ?? 1;
  return count;
}

// nibabel fixes a too-small vox_offset of a single file to the minimum (352 / 544) rather than reading
// voxels out of the header; 0 ("unset") is treated the same way here.
function singleFileDataOffset(voxOffset: number, layout: HeaderLayout): number {
  return Math.max(voxOffset, layout.headerSize + 4);
}

function parseFixedFields(bytes: Uint8Array, layout: HeaderLayout, maxBytes: number): NiftiHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, layout.headerSize);
  const header =
    layout.version === 1
      ? parseNifti1(bytes, view, layout.littleEndian)
      : parseNifti2(bytes, view, layout.littleEndian);
  validateHeader(header, maxBytes, layout.headerSize);
  return header;
}

/** A valid NIfTI-1 header for a 1×1×1 uint8 image with no geometry codes; `fields` override. */
export function defaultHeader(fields: Partial<NiftiHeader> = {}): NiftiHeader {
  return {
    version: 1,
    littleEndian: true,
    magic: "n+1",
    dimInfo: 0,
    dim: [3, 1, 1, 1, 1, 1, 1, 1],
    intentP1: 0,
    intentP2: 0,
    intentP3: 0,
    intentCode: 0,
    datatype: 2,
    bitpix: 8,
    sliceStart: 0,
    pixdim: [1, 1, 1, 1, 1, 1, 1, 1],
    voxOffset: 352,
    sclSlope: 1,
    sclInter: 0,
    sliceEnd: 0,
    sliceCode: 0,
    xyztUnits: 10,
    calMax: 0,
    calMin: 0,
    sliceDuration: 0,
    toffset: 0,
    descrip: "",
    auxFile: "",
    qformCode: 0,
    sformCode: 0,
    quaternB: 0,
    quaternC: 0,
    quaternD: 0,
    qoffsetX: 0,
    qoffsetY: 0,
    qoffsetZ: 0,
    srowX: [0, 0, 0, 0],
    srowY: [0, 0, 0, 0],
    srowZ: [0, 0, 0, 0],
    intentName: "",
    extensions: [],
    ...fields,
  };
}

function parseExtensions(
  bytes: Uint8Array,
  start: number,
  end: number,
  le: boolean,
  toEnd: boolean,
): NiftiExtension[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const extensions: NiftiExtension[] = [];
  let pos = start;
  // A single file may pad less than one block before vox_offset (nibabel ignores it too); a detached
  // header must end exactly after its last extension.
  while (toEnd ? pos < end : end - pos >= 16) {
    if (end - pos < 16)
      throw badHeader(`${end - pos} stray bytes after the extensions at offset ${pos}`);
    const esize = view.getInt32(pos, le);
    const code = view.getInt32(pos + 4, le);
    if (esize < 16 || esize % 16 !== 0 || esize > end - pos) {
      throw badHeader(
        `extension at offset ${pos} has esize ${esize}: it must be a multiple of 16, at least 16 and at most ${end - pos}`,
      );
    }
    // A copy (not Buffer#slice, which is a view), so the header does not pin the file's buffer.
    extensions.push({ code, data: new Uint8Array(bytes.subarray(pos + 8, pos + esize)) });
    pos += esize;
  }
  return extensions;
}

// ---------------------------------------------------------------------------------------------------
// Serialisation

/** Bytes an extension occupies on disk: esize, ecode and data padded to a multiple of 16. */
export function extensionSize(extension: NiftiExtension): number {
  return Math.ceil((8 + extension.data.length) / 16) * 16;
}

/**
 * The header bytes of a file: the fixed header, the 4-byte extender and the extensions. For a single
 * file the result is exactly vox_offset long and the data follows it. `bitpix`, `magic` and
 * `vox_offset` are derived (from datatype, version/detached and the extensions), not copied.
 * Throws BAD_HEADER when a value does not fit the chosen format (e.g. a dim above 32767 in NIfTI-1).
 */
export function serializeHeader(
  header: NiftiHeader,
  opts: SerializeHeaderOptions = {},
): Uint8Array {
  const le = opts.littleEndian ?? true;
  const version = opts.version ?? 1;
  const detached = opts.detached ?? false;
  const headerSize = version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  let total = headerSize + 4;
  for (const extension of header.extensions) total += extensionSize(extension);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const voxOffset = detached ? 0 : total;
  const magic = `${detached ? "ni" : "n+"}${version}`;
  checkDims(header, version);
  if (version === 1) writeNifti1(bytes, view, header, le, voxOffset, magic);
  else writeNifti2(bytes, view, header, le, voxOffset, magic);

  let pos = headerSize;
  if (header.extensions.length > 0) bytes[pos] = 1;
  pos += 4;
  for (const extension of header.extensions) {
    const size = extensionSize(extension);
    view.setInt32(pos, size, le);
    view.setInt32(
      pos + 4,
      checkedInt("extension code", extension.code, -(2 ** 31), 2 ** 31 - 1),
      le,
    );
    bytes.set(extension.data, pos + 8);
    pos += size;
  }
  return bytes;
}
