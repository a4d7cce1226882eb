// The NIfTI-1 (and Analyze 7.5) 348-byte header layout: field offsets and types, read and written.
import { datatypeInfo } from "./datatypes.js";
import {
  checkedInt,
  floats,
  INT16,
  readString,
  UINT8,
  writeString,
  dimsToWrite,
} from "./header-fields.js";
import type { NiftiHeader } from "./types.js";

export const NIFTI1_HEADER_SIZE = 348;

export function parseNifti1(bytes: Uint8Array, view: DataView, le: boolean): NiftiHeader {
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

export function writeNifti1(
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
