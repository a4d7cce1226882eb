// The NIfTI-2 540-byte header layout: field offsets and types (int64 dims, float64 geometry), read
// and written.
import { datatypeInfo } from "./datatypes.js";
import { NiftiError } from "./errors.js";
import {
  badHeader,
  checkedInt,
  dimsToWrite,
  floats,
  int64,
  INT32,
  readString,
  UINT8,
  writeString,
} from "./header-fields.js";
import type { NiftiHeader } from "./types.js";

export const NIFTI2_HEADER_SIZE = 540;

export function parseNifti2(bytes: Uint8Array, view: DataView, le: boolean): NiftiHeader {
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

export function writeNifti2(
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
