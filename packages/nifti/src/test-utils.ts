// Helpers shared by this package's tests: hand-laid header bytes (written field by field at the
// nifti1.h / nifti2.h offsets, independently of header.ts) and temp directories.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { serializeHeader } from "./header.js";
import { headerForWrite } from "./serialize.js";
import type { NiftiImage, VoxelArray } from "./types.js";

/** Fields of a hand-built header; anything omitted is 0 / "". */
export interface RawHeaderFields {
  dim: number[];
  datatype: number;
  bitpix?: number;
  pixdim?: number[];
  voxOffset?: number;
  sclSlope?: number;
  sclInter?: number;
  magic?: string;
  descrip?: string;
  qformCode?: number;
  sformCode?: number;
  quatern?: [number, number, number];
  qoffset?: [number, number, number];
  srow?: [number[], number[], number[]];
  intentCode?: number;
  intentName?: string;
  xyztUnits?: number;
  sliceCode?: number;
  dimInfo?: number;
  calMax?: number;
  calMin?: number;
  /** Bytes placed right after the fixed header: the extender and any extensions. */
  tail?: Uint8Array;
}

/** A NIfTI-1 header (348 bytes + tail) laid out byte by byte. */
export function rawNifti1(fields: RawHeaderFields, littleEndian = true): Uint8Array {
  const tail = fields.tail ?? new Uint8Array(0);
  const bytes = new Uint8Array(348 + tail.length);
  const v = new DataView(bytes.buffer);
  const le = littleEndian;
  v.setInt32(0, 348, le);
  v.setUint8(39, fields.dimInfo ?? 0);
  for (let i = 0; i < 8; i++) v.setInt16(40 + 2 * i, fields.dim[i] ?? 0, le);
  v.setInt16(68, fields.intentCode ?? 0, le);
  v.setInt16(70, fields.datatype, le);
  v.setInt16(72, fields.bitpix ?? 0, le);
  for (let i = 0; i < 8; i++) v.setFloat32(76 + 4 * i, fields.pixdim?.[i] ?? 0, le);
  v.setFloat32(108, fields.voxOffset ?? 352, le);
  v.setFloat32(112, fields.sclSlope ?? 0, le);
  v.setFloat32(116, fields.sclInter ?? 0, le);
  v.setUint8(122, fields.sliceCode ?? 0);
  v.setUint8(123, fields.xyztUnits ?? 0);
  v.setFloat32(124, fields.calMax ?? 0, le);
  v.setFloat32(128, fields.calMin ?? 0, le);
  writeAscii(bytes, 148, fields.descrip ?? "");
  v.setInt16(252, fields.qformCode ?? 0, le);
  v.setInt16(254, fields.sformCode ?? 0, le);
  (fields.quatern ?? [0, 0, 0]).forEach((x, i) => v.setFloat32(256 + 4 * i, x, le));
  (fields.qoffset ?? [0, 0, 0]).forEach((x, i) => v.setFloat32(268 + 4 * i, x, le));
  (fields.srow ?? [[], [], []]).forEach((row, r) => {
    for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, row[c] ?? 0, le);
  });
  writeAscii(bytes, 328, fields.intentName ?? "");
  writeAscii(bytes, 344, fields.magic ?? "n+1");
  bytes.set(tail, 348);
  return bytes;
}

/** A NIfTI-2 header (540 bytes + tail) laid out byte by byte. */
export function rawNifti2(fields: RawHeaderFields, littleEndian = true): Uint8Array {
  const tail = fields.tail ?? new Uint8Array(0);
  const bytes = new Uint8Array(540 + tail.length);
  const v = new DataView(bytes.buffer);
  const le = littleEndian;
  v.setInt32(0, 540, le);
  writeAscii(bytes, 4, fields.magic ?? "n+2");
  bytes.set([0x0d, 0x0a, 0x1a, 0x0a], 8);
  v.setInt16(12, fields.datatype, le);
  v.setInt16(14, fields.bitpix ?? 0, le);
  for (let i = 0; i < 8; i++) v.setBigInt64(16 + 8 * i, BigInt(fields.dim[i] ?? 0), le);
  for (let i = 0; i < 8; i++) v.setFloat64(104 + 8 * i, fields.pixdim?.[i] ?? 0, le);
  v.setBigInt64(168, BigInt(fields.voxOffset ?? 544), le);
  v.setFloat64(176, fields.sclSlope ?? 0, le);
  v.setFloat64(184, fields.sclInter ?? 0, le);
  v.setFloat64(192, fields.calMax ?? 0, le);
  v.setFloat64(200, fields.calMin ?? 0, le);
  writeAscii(bytes, 240, fields.descrip ?? "");
  v.setInt32(344, fields.qformCode ?? 0, le);
  v.setInt32(348, fields.sformCode ?? 0, le);
  (fields.quatern ?? [0, 0, 0]).forEach((x, i) => v.setFloat64(352 + 8 * i, x, le));
  (fields.qoffset ?? [0, 0, 0]).forEach((x, i) => v.setFloat64(376 + 8 * i, x, le));
  (fields.srow ?? [[], [], []]).forEach((row, r) => {
    for (let c = 0; c < 4; c++) v.setFloat64(400 + 32 * r + 8 * c, row[c] ?? 0, le);
  });
  v.setInt32(496, fields.sliceCode ?? 0, le);
  v.setInt32(500, fields.xyztUnits ?? 0, le);
  v.setInt32(504, fields.intentCode ?? 0, le);
  writeAscii(bytes, 508, fields.intentName ?? "");
  v.setUint8(524, fields.dimInfo ?? 0);
  bytes.set(tail, 540);
  return bytes;
}

function writeAscii(bytes: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
}

/**
 * Extender + extension blocks: each [esize, ecode, payload] written as given (esize not corrected).
 * A block occupies esize bytes, clamped to 8..1024 so absurd sizes stay cheap to build.
 */
export function rawExtensions(
  blocks: Array<{ esize: number; code: number; payload?: number[] }>,
  littleEndian = true,
): Uint8Array {
  const span = (esize: number): number => Math.min(1024, Math.max(8, esize));
  const total = 4 + blocks.reduce((sum, b) => sum + span(b.esize), 0);
  const bytes = new Uint8Array(total);
  const v = new DataView(bytes.buffer);
  bytes[0] = blocks.length > 0 ? 1 : 0;
  let pos = 4;
  for (const block of blocks) {
    v.setInt32(pos, block.esize, littleEndian);
    v.setInt32(pos + 4, block.code, littleEndian);
    bytes.set(block.payload ?? [], pos + 8);
    pos += span(block.esize);
  }
  return bytes;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

/** A fresh directory under os.tmpdir() and its cleanup. */
export function tempDir(prefix: string): {
  dir: string;
  path: (name: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), `brats-nifti-${prefix}-`));
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Element-wise byte swap into a new array (test-side, independent of parse.ts). */
export function swappedBytes(data: VoxelArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const size = data.BYTES_PER_ELEMENT;
  for (let start = 0; start < bytes.length; start += size)
    bytes.subarray(start, start + size).reverse();
  return bytes;
}

export interface EncodeOptions {
  littleEndian?: boolean;
  version?: 1 | 2;
}

/** A single file in any byte order / version: header from serializeHeader, data written in that order. */
export function encodeImage(image: NiftiImage, opts: EncodeOptions = {}): Uint8Array {
  const littleEndian = opts.littleEndian ?? true;
  const header = serializeHeader(headerForWrite(image), {
    littleEndian,
    version: opts.version ?? 1,
  });
  return concatBytes(header, dataBytes(image, littleEndian));
}

/** The .hdr and .img of a pair in any byte order / version. */
export function encodePair(
  image: NiftiImage,
  opts: EncodeOptions = {},
): { hdr: Uint8Array; img: Uint8Array } {
  const littleEndian = opts.littleEndian ?? true;
  const hdr = serializeHeader(headerForWrite(image), {
    littleEndian,
    version: opts.version ?? 1,
    detached: true,
  });
  return { hdr, img: dataBytes(image, littleEndian) };
}

function dataBytes(image: NiftiImage, littleEndian: boolean): Uint8Array {
  const data = image.data;
  if (data === null) return new Uint8Array(0);
  if (littleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return swappedBytes(data);
}
