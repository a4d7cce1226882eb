import { describe, expect, it } from "vitest";
import {
  bytesPerVoxel,
  DATATYPES,
  datatypeCode,
  datatypeInfo,
  datatypeName,
  datatypeOfArray,
} from "./datatypes.js";
import { NiftiError } from "./errors.js";
import type { DatatypeName, VoxelArray } from "./types.js";

// nifti1.h DT_* codes and sizes, written out by hand.
const TABLE: Array<[DatatypeName, number, number, string, number]> = [
  // name, code, bitpix, array type, elements per voxel
  ["uint8", 2, 8, "Uint8Array", 1],
  ["int16", 4, 16, "Int16Array", 1],
  ["int32", 8, 32, "Int32Array", 1],
  ["float32", 16, 32, "Float32Array", 1],
  ["complex64", 32, 64, "Float32Array", 2],
  ["float64", 64, 64, "Float64Array", 1],
  ["rgb24", 128, 24, "Uint8Array", 3],
  ["int8", 256, 8, "Int8Array", 1],
  ["uint16", 512, 16, "Uint16Array", 1],
  ["uint32", 768, 32, "Uint32Array", 1],
  ["int64", 1024, 64, "BigInt64Array", 1],
  ["uint64", 1280, 64, "BigUint64Array", 1],
  ["rgba32", 2304, 32, "Uint8Array", 4],
];

describe("datatypes", () => {
  it("lists exactly the 13 supported datatypes", () => {
    expect(DATATYPES.map((d) => d.name).sort()).toEqual(TABLE.map((row) => row[0]).sort());
  });

  it.each(TABLE)("%s: code %i, bitpix %i, %s × %i", (name, code, bitpix, arrayName, elements) => {
    const info = datatypeInfo(code);
    expect(info.name).toBe(name);
    expect(datatypeInfo(name)).toBe(info);
    expect(datatypeName(code)).toBe(name);
    expect(datatypeCode(name)).toBe(code);
    expect(info.bitpix).toBe(bitpix);
    expect(bytesPerVoxel(name)).toBe(bitpix / 8);
    expect(info.arrayType.name).toBe(arrayName);
    expect(info.elementsPerVoxel).toBe(elements);
  });

  it.each([
    [0, "unknown"],
    [1, "binary"],
    [1536, "float128"],
    [1792, "complex128"],
    [2048, "complex256"],
    [3, ""],
    [-4, ""],
  ])("code %i is UNSUPPORTED_DATATYPE", (code, known) => {
    const error = (() => {
      try {
        datatypeName(code);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(NiftiError);
    expect((error as NiftiError).code).toBe("UNSUPPORTED_DATATYPE");
    if (known) expect((error as NiftiError).message).toContain(known);
  });

  it.each<[VoxelArray, DatatypeName]>([
    [new Uint8Array(1), "uint8"],
    [new Int8Array(1), "int8"],
    [new Int16Array(1), "int16"],
    [new Uint16Array(1), "uint16"],
    [new Int32Array(1), "int32"],
    [new Uint32Array(1), "uint32"],
    [new BigInt64Array(1), "int64"],
    [new BigUint64Array(1), "uint64"],
    [new Float32Array(1), "float32"],
    [new Float64Array(1), "float64"],
  ])("infers %o as %s", (array, name) => {
    expect(datatypeOfArray(array)).toBe(name);
  });

  it("refuses arrays that are not voxel arrays", () => {
    expect(() => datatypeOfArray(new Uint8ClampedArray(1) as unknown as VoxelArray)).toThrow(
      NiftiError,
    );
  });
});
