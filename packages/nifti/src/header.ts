// Parse and serialise NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers in either byte order, plus the
// extension blocks that follow them. Browser-safe: Uint8Array and DataView only.
import { datatypeInfo } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import type { NiftiExtension, NiftiHeader } from "./types.js";

export const NIFTI1_HEADER_SIZE = 348;
export const NIFTI2_HEADER_SIZE = 540;
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
 * How many leading bytes of a single-file image `parseHeader` needs: the fixed header, the 4-byte
 * extender and every extension up to the data offset. `bytes` must hold at least the fixed header.
 * Validates the fixed fields first (so a hostile vox_offset gives TOO_LARGE/BAD_HEADER, not a wait).
 */
export function headerPrefixLength(bytes: Uint8Array, opts: ParseHeaderOptions = {}): number {
  const layout = sniffHeader(bytes);
  requireLength(bytes, layout.headerSize, "the header");
  const header = parseFixedFields(bytes, layout, opts.maxBytes ?? DEFAULT_MAX_BYTES);
  const detached = opts.detached ?? !isSingleFileMagic(header.magic);
  if (detached) return Number.POSITIVE_INFINITY;
  return Math.max(layout.headerSize + 4, singleFileDataOffset(header.voxOffset, layout));
}

/**
 * Parses and validates a header (and its extensions) from the start of `bytes`.
 * For a single file, `bytes` must reach the data offset when extensions are flagged; the returned
 * `voxOffset` is the offset the data is read from.
 */
export function parseHeader(bytes: Uint8Array, opts: ParseHeaderOptions = {}): NiftiHeader {
  const layout = sniffHeader(bytes);
  requireLength(bytes, layout.headerSize, "the header");
  const header = parseFixedFields(bytes, layout, opts.maxBytes ?? DEFAULT_MAX_BYTES);
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
    requireLength(bytes, header.voxOffset, "the extensions (vox_offset)");
    header.extensions = parseExtensions(
      bytes,
      extStart,
      header.voxOffset,
      layout.littleEndian,
      false,
    );
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

function requireLength(bytes: Uint8Array, needed: number, what: string): void {
  if (bytes.length < needed) {
    throw new NiftiError(
      "TRUNCATED",
      `file ends after ${bytes.length} bytes, before the end of ${what} at ${needed}`,
    );
  }
}

function badHeader(message: string): NiftiError {
  return new NiftiError("BAD_HEADER", message);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A NIfTI-2 int64 as a Number, or null when it cannot be represented exactly. */
function int64(view: DataView, offset: number, le: boolean): number | null {
  const value = view.getBigInt64(offset, le);
  return value > MAX_SAFE || value < -MAX_SAFE ? null : Number(value);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A NUL-terminated string field: UTF-8 when valid, otherwise Latin-1. */
function readString(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && bytes[end] !== 0) end++;
  const field = bytes.subarray(offset, end);
  try {
    return utf8.decode(field);
  } catch {
    let out = "";
    for (const byte of field) out += String.fromCharCode(byte);
    return out;
  }
}

function floats(
  view: DataView,
  offset: number,
  count: number,
  le: boolean,
  width: 4 | 8,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      width === 4 ? view.getFloat32(offset + 4 * i, le) : view.getFloat64(offset + 8 * i, le),
    );
  }
  return out;
}

function parseFixedFields(bytes: Uint8Array, layout: HeaderLayout, maxBytes: number): NiftiHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, layout.headerSize);
  const header =
    layout.version === 1
      ? parseNifti1(bytes, view, layout.littleEndian)
      : parseNifti2(bytes, view, layout);
  validate(header, maxBytes, layout.headerSize);
  return header;
}

function parseNifti1(bytes: Uint8Array, view: DataView, le: boolean): NiftiHeader {
  const magicField = readString(bytes, 344, 4);
  const isNifti = magicField === "n+1" || magicField === "ni1";
  const dim: number[] = [];
  for (let i = 0; i < 8; i++) dim.push(view.getInt16(40 + 2 * i, le));
  const f32 = (offset: number): number => view.getFloat32(offset, le);
  const header: NiftiHeader = {
    version: 1,
    littleEndian: le,
    magic: isNifti ? magicField : "",
    dimInfo: view.getUint8(39),
    dim,
    intentP1: f32(56),
    intentP2: f32(60),
    intentP3: f32(64),
    intentCode: view.getInt16(68, le),
    datatype: view.getInt16(70, le),
    bitpix: view.getInt16(72, le),
    sliceStart: view.getInt16(74, le),
    pixdim: floats(view, 76, 8, le, 4),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    sliceEnd: view.getInt16(120, le),
    sliceCode: view.getUint8(122),
    xyztUnits: view.getUint8(123),
    calMax: f32(124),
    calMin: f32(128),
    sliceDuration: f32(132),
    toffset: f32(136),
    descrip: readString(bytes, 148, 80),
    auxFile: readString(bytes, 228, 24),
    qformCode: view.getInt16(252, le),
    sformCode: view.getInt16(254, le),
    quaternB: f32(256),
    quaternC: f32(260),
    quaternD: f32(264),
    qoffsetX: f32(268),
    qoffsetY: f32(272),
    qoffsetZ: f32(276),
    srowX: floats(view, 280, 4, le, 4),
    srowY: floats(view, 296, 4, le, 4),
    srowZ: floats(view, 312, 4, le, 4),
    intentName: readString(bytes, 328, 16),
    extensions: [],
  };
  if (!isNifti) clearNiftiOnlyFields(header);
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

// In an Analyze 7.5 header these bytes hold other things (vox_units, funused3, compressed, verified,
// the SPM origin, ...), so they carry no NIfTI meaning. scl_slope/scl_inter stay: SPM stores its
// scale factor (funused1) and intercept (funused2) at the same offsets.
function clearNiftiOnlyFields(header: NiftiHeader): void {
  Object.assign(header, {
    dimInfo: 0,
    intentP1: 0,
    intentP2: 0,
    intentP3: 0,
    intentCode: 0,
    sliceStart: 0,
    sliceEnd: 0,
    sliceCode: 0,
    xyztUnits: 0,
    sliceDuration: 0,
    toffset: 0,
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
  });
}

function parseNifti2(bytes: Uint8Array, view: DataView, layout: HeaderLayout): NiftiHeader {
  const le = layout.littleEndian;
  const magic = readString(bytes, 4, 4);
  if (magic !== "n+2" && magic !== "ni2") {
    throw new NiftiError(
      "NOT_NIFTI",
      `not a NIfTI-2 file: sizeof_hdr is 540 but the magic is not "n+2" or "ni2"`,
    );
  }
  const ndim = view.getBigInt64(16, le);
  const dim: number[] = [];
  for (let i = 0; i < 8; i++) {
    const value = int64(view, 16 + 8 * i, le);
    const used = i === 0 || BigInt(i) <= ndim;
    if (value === null) {
      if (used) throw badHeader(`dim[${i}] = ${view.getBigInt64(16 + 8 * i, le)} is beyond 2^53`);
      dim.push(Number(view.getBigInt64(16 + 8 * i, le)));
    } else {
      dim.push(value);
    }
  }
  const voxOffset = int64(view, 168, le);
  if (voxOffset === null) throw badHeader(`vox_offset ${view.getBigInt64(168, le)} is beyond 2^53`);
  // slice_start/slice_end are informational; an absurd value is kept approximately rather than rejected.
  const sliceStart = Number(view.getBigInt64(224, le));
  const sliceEnd = Number(view.getBigInt64(232, le));
  const f64 = (offset: number): number => view.getFloat64(offset, le);
  return {
    version: 2,
    littleEndian: le,
    magic,
    dimInfo: view.getUint8(524),
    dim,
    intentP1: f64(80),
    intentP2: f64(88),
    intentP3: f64(96),
    intentCode: view.getInt32(504, le),
    datatype: view.getInt16(12, le),
    bitpix: view.getInt16(14, le),
    sliceStart,
    pixdim: floats(view, 104, 8, le, 8),
    voxOffset,
    sclSlope: f64(176),
    sclInter: f64(184),
    sliceEnd,
    sliceCode: view.getInt32(496, le),
    xyztUnits: view.getInt32(500, le),
    calMax: f64(192),
    calMin: f64(200),
    sliceDuration: f64(208),
    toffset: f64(216),
    descrip: readString(bytes, 240, 80),
    auxFile: readString(bytes, 320, 24),
    qformCode: view.getInt32(344, le),
    sformCode: view.getInt32(348, le),
    quaternB: f64(352),
    quaternC: f64(360),
    quaternD: f64(368),
    qoffsetX: f64(376),
    qoffsetY: f64(384),
    qoffsetZ: f64(392),
    srowX: floats(view, 400, 4, le, 8),
    srowY: floats(view, 432, 4, le, 8),
    srowZ: floats(view, 464, 4, le, 8),
    intentName: readString(bytes, 508, 16),
    extensions: [],
  };
}

function validate(header: NiftiHeader, maxBytes: number, headerSize: number): void {
  const ndim = header.dim[0] ?? 0;
  if (!(ndim >= 1 && ndim <= 7))
    throw badHeader(`dim[0] = ${ndim}: the number of dimensions must be 1..7`);
  let voxels = 1;
  for (let i = 1; i <= ndim; i++) {
    const size = header.dim[i] ?? 0;
    if (size <= 0) throw badHeader(`dim[${i}] = ${size}: every used dimension must be at least 1`);
    voxels *= size;
    if (voxels > Number.MAX_SAFE_INTEGER)
      throw badHeader(`dims ${header.dim.slice(1, ndim + 1).join("×")} overflow`);
  }
  const { bytesPerVoxel, name } = datatypeInfo(header.datatype);
  const bytes = voxels * bytesPerVoxel;
  if (bytes > Number.MAX_SAFE_INTEGER)
    throw badHeader(`data size ${voxels} voxels × ${bytesPerVoxel} bytes overflows`);
  if (bytes > maxBytes) {
    throw new NiftiError(
      "TOO_LARGE",
      `declared data is ${bytes} bytes (${voxels} ${name} voxels), above maxBytes ${maxBytes}`,
    );
  }
  const offset = header.voxOffset;
  if (!Number.isFinite(offset) || offset < 0)
    throw badHeader(`vox_offset ${offset} is not a valid byte offset`);
  // Bounds what a streaming reader collects before the data: the extension area may not exceed maxBytes either.
  if (offset - headerSize - 4 > maxBytes) {
    throw new NiftiError(
      "TOO_LARGE",
      `vox_offset ${offset} leaves an extension area above maxBytes ${maxBytes}`,
    );
  }
  // nibabel truncates a fractional float vox_offset the same way.
  header.voxOffset = Math.floor(offset);
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

function checkDims(header: NiftiHeader, version: 1 | 2): void {
  const ndim = header.dim[0] ?? 0;
  if (!(Number.isInteger(ndim) && ndim >= 1 && ndim <= 7)) {
    throw badHeader(`dim[0] = ${ndim}: the number of dimensions must be 1..7`);
  }
  for (let i = 1; i <= ndim; i++) {
    const size = header.dim[i] ?? 0;
    if (!Number.isSafeInteger(size) || size < 1)
      throw badHeader(`dim[${i}] = ${size} is not a positive integer`);
    if (version === 1 && size > 32767) {
      throw badHeader(
        `dim[${i}] = ${size} does not fit NIfTI-1 (int16, at most 32767); NIfTI-1 cannot hold this image`,
      );
    }
  }
}

function checkedInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badHeader(`${name} = ${value} does not fit the header field (integer ${min}..${max})`);
  }
  return value;
}

const INT16: [number, number] = [-32768, 32767];
const UINT8: [number, number] = [0, 255];
const INT32: [number, number] = [-(2 ** 31), 2 ** 31 - 1];

/** dim[] as written: used dims as given, unused ones as given when they fit, else 1 (they mean nothing). */
function dimsToWrite(header: NiftiHeader, max: number): number[] {
  const ndim = header.dim[0] ?? 0;
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    const value = header.dim[i] ?? 1;
    out.push(i <= ndim || (Number.isInteger(value) && Math.abs(value) <= max) ? value : 1);
  }
  return out;
}

const utf8Encoder = new TextEncoder();

/** UTF-8, cut at a character boundary to fit `length` bytes (NUL-padded; no NUL when it fills the field). */
function writeString(bytes: Uint8Array, offset: number, length: number, value: string): void {
  let encoded = utf8Encoder.encode(value);
  if (encoded.length > length) {
    let cut = length;
    while (cut > 0 && ((encoded[cut] ?? 0) & 0xc0) === 0x80) cut--;
    encoded = encoded.subarray(0, cut);
  }
  const nul = encoded.indexOf(0);
  bytes.set(nul >= 0 ? encoded.subarray(0, nul) : encoded, offset);
}

function writeNifti1(
  bytes: Uint8Array,
  view: DataView,
  h: NiftiHeader,
  le: boolean,
  voxOffset: number,
  magic: string,
): void {
  const i16 = (offset: number, name: string, value: number): void =>
    view.setInt16(offset, checkedInt(name, value, ...INT16), le);
  const u8 = (offset: number, name: string, value: number): void =>
    view.setUint8(offset, checkedInt(name, value, ...UINT8));
  const f32 = (offset: number, value: number): void => view.setFloat32(offset, value, le);
  const info = datatypeInfo(h.datatype);

  view.setInt32(0, NIFTI1_HEADER_SIZE, le);
  bytes[38] = 0x72; // "regular" = 'r', as nifti1_io writes it
  u8(39, "dim_info", h.dimInfo);
  dimsToWrite(h, INT16[1]).forEach((value, i) => i16(40 + 2 * i, `dim[${i}]`, value));
  f32(56, h.intentP1);
  f32(60, h.intentP2);
  f32(64, h.intentP3);
  i16(68, "intent_code", h.intentCode);
  i16(70, "datatype", info.code);
  i16(72, "bitpix", info.bitpix);
  i16(74, "slice_start", h.sliceStart);
  for (let i = 0; i < 8; i++) f32(76 + 4 * i, h.pixdim[i] ?? 0);
  f32(108, voxOffset);
  f32(112, h.sclSlope);
  f32(116, h.sclInter);
  i16(120, "slice_end", h.sliceEnd);
  u8(122, "slice_code", h.sliceCode);
  u8(123, "xyzt_units", h.xyztUnits);
  f32(124, h.calMax);
  f32(128, h.calMin);
  f32(132, h.sliceDuration);
  f32(136, h.toffset);
  writeString(bytes, 148, 80, h.descrip);
  writeString(bytes, 228, 24, h.auxFile);
  i16(252, "qform_code", h.qformCode);
  i16(254, "sform_code", h.sformCode);
  f32(256, h.quaternB);
  f32(260, h.quaternC);
  f32(264, h.quaternD);
  f32(268, h.qoffsetX);
  f32(272, h.qoffsetY);
  f32(276, h.qoffsetZ);
  for (let i = 0; i < 4; i++) {
    f32(280 + 4 * i, h.srowX[i] ?? 0);
    f32(296 + 4 * i, h.srowY[i] ?? 0);
    f32(312 + 4 * i, h.srowZ[i] ?? 0);
  }
  writeString(bytes, 328, 16, h.intentName);
  writeString(bytes, 344, 4, magic);
}

function writeNifti2(
  bytes: Uint8Array,
  view: DataView,
  h: NiftiHeader,
  le: boolean,
  voxOffset: number,
  magic: string,
): void {
  const i64 = (offset: number, name: string, value: number): void =>
    view.setBigInt64(
      offset,
      BigInt(checkedInt(name, value, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
      le,
    );
  const i32 = (offset: number, name: string, value: number): void =>
    view.setInt32(offset, checkedInt(name, value, ...INT32), le);
  const f64 = (offset: number, value: number): void => view.setFloat64(offset, value, le);
  const info = datatypeInfo(h.datatype);

  view.setInt32(0, NIFTI2_HEADER_SIZE, le);
  writeString(bytes, 4, 4, magic);
  bytes.set([0x0d, 0x0a, 0x1a, 0x0a], 8); // eol_check: detects text-mode transfer damage
  view.setInt16(12, info.code, le);
  view.setInt16(14, info.bitpix, le);
  dimsToWrite(h, Number.MAX_SAFE_INTEGER).forEach((value, i) =>
    i64(16 + 8 * i, `dim[${i}]`, value),
  );
  f64(80, h.intentP1);
  f64(88, h.intentP2);
  f64(96, h.intentP3);
  for (let i = 0; i < 8; i++) f64(104 + 8 * i, h.pixdim[i] ?? 0);
  i64(168, "vox_offset", voxOffset);
  f64(176, h.sclSlope);
  f64(184, h.sclInter);
  f64(192, h.calMax);
  f64(200, h.calMin);
  f64(208, h.sliceDuration);
  f64(216, h.toffset);
  i64(224, "slice_start", h.sliceStart);
  i64(232, "slice_end", h.sliceEnd);
  writeString(bytes, 240, 80, h.descrip);
  writeString(bytes, 320, 24, h.auxFile);
  i32(344, "qform_code", h.qformCode);
  i32(348, "sform_code", h.sformCode);
  f64(352, h.quaternB);
  f64(360, h.quaternC);
  f64(368, h.quaternD);
  f64(376, h.qoffsetX);
  f64(384, h.qoffsetY);
  f64(392, h.qoffsetZ);
  for (let i = 0; i < 4; i++) {
    f64(400 + 8 * i, h.srowX[i] ?? 0);
    f64(432 + 8 * i, h.srowY[i] ?? 0);
    f64(464 + 8 * i, h.srowZ[i] ?? 0);
  }
  i32(496, "slice_code", h.sliceCode);
  i32(500, "xyzt_units", h.xyztUnits);
  i32(504, "intent_code", h.intentCode);
  writeString(bytes, 508, 16, h.intentName);
  view.setUint8(524, checkedInt("dim_info", h.dimInfo, ...UINT8));
}
