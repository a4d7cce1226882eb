// The field codec shared by the NIfTI-1 and NIfTI-2 layouts: string and float fields, integer range
// checks, and the validation of a parsed header (dims, data size, vox_offset) and of one to write.
import { datatypeInfo } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import type { NiftiHeader } from "./types.js";

export function requireLength(bytes: Uint8Array, needed: number, what: string): void {
  if (bytes.length < needed) {
    throw new NiftiError(
      "TRUNCATED",
      `file ends after ${bytes.length} bytes, before the end of ${what} at ${needed}`,
    );
  }
}

export function badHeader(message: string): NiftiError {
  return new NiftiError("BAD_HEADER", message);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A NIfTI-2 int64 as a Number, or null when it cannot be represented exactly. */
export function int64(view: DataView, offset: number, le: boolean): number | null {
  const value = view.getBigInt64(offset, le);
  return value > MAX_SAFE || value < -MAX_SAFE ? null : Number(value);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A NUL-terminated string field: UTF-8 when valid, otherwise Latin-1. */
export function readString(bytes: Uint8Array, offset: number, length: number): string {
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

export function floats(
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

/** Checks a parsed header (dims, data size, vox_offset) against maxBytes; floors vox_offset. */
export function validateHeader(header: NiftiHeader, maxBytes: number, headerSize: number): void {
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

/** Checks that the dims of a header to write are valid and fit the chosen version. */
export function checkDims(header: NiftiHeader, version: 1 | 2): void {
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

export function checkedInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badHeader(`${name} = ${value} does not fit the header field (integer ${min}..${max})`);
  }
  return value;
}

export const INT16: [number, number] = [-32768, 32767];
export const UINT8: [number, number] = [0, 255];
export const INT32: [number, number] = [-(2 ** 31), 2 ** 31 - 1];

/** dim[] as written: used dims as given, unused ones as given when they fit, else 1 (they mean nothing). */
export function dimsToWrite(header: NiftiHeader, max: number): number[] {
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
export function writeString(
  bytes: Uint8Array,
  offset: number,
  length: number,
  value: string,
): void {
  let encoded = utf8Encoder.encode(value);
  if (encoded.length > length) {
    let cut = length;
    while (cut > 0 && ((encoded[cut] ?? 0) & 0xc0) === 0x80) cut--;
    encoded = encoded.subarray(0, cut);
  }
  const nul = encoded.indexOf(0);
  bytes.set(nul >= 0 ? encoded.subarray(0, nul) : encoded, offset);
}
