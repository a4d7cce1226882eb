import { describe, expect, it } from "vitest";
import { NiftiError } from "./errors.js";
import { createImage, type CreateImageOptions } from "./image.js";

describe("createImage", () => {
  it("builds a valid NIfTI-1 header from the array alone", () => {
    const image = createImage({ data: new Int16Array(24), shape: [4, 3, 2] });
    expect(image.datatype).toBe("int16");
    expect(image.shape).toEqual([4, 3, 2]);
    expect(image.spacing).toEqual([1, 1, 1]);
    const h = image.header;
    expect([h.version, h.magic, h.littleEndian, h.datatype, h.bitpix, h.voxOffset]).toEqual([
      1,
      "n+1",
      true,
      4,
      16,
      352,
    ]);
    expect(h.dim).toEqual([3, 4, 3, 2, 1, 1, 1, 1]);
    expect(h.pixdim).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect([h.qformCode, h.sformCode, h.sclSlope, h.sclInter, h.xyztUnits]).toEqual([
      0, 0, 1, 0, 10,
    ]);
    // No affine given: nibabel's base affine (x flipped, volume centred).
    expect(image.affine).toEqual([
      [-1, 0, 0, 1.5],
      [0, 1, 0, -1],
      [0, 0, 1, -0.5],
      [0, 0, 0, 1],
    ]);
  });

  it("stores a given affine in sform and qform (codes 1) and reports it back exactly", () => {
    const affine = [
      [0, -2, 0, 10],
      [3, 0, 0, -20],
      [0, 0, 1.5, 30],
      [0, 0, 0, 1],
    ];
    const image = createImage({
      data: new Float32Array(8),
      shape: [2, 2, 2],
      affine,
      spacing: [9, 9, 9],
    });
    expect(image.affine).toEqual(affine);
    expect([image.header.qformCode, image.header.sformCode]).toEqual([1, 1]);
    // pixdim[1..3] follow the affine's voxel sizes.
    expect(image.spacing).toEqual([3, 2, 1.5]);
    expect(image.header.srowY).toEqual([3, 0, 0, -20]);
  });

  it("keeps spacing beyond the third dimension", () => {
    const image = createImage({
      data: new Uint8Array(4),
      shape: [1, 1, 2, 2],
      spacing: [1, 1, 1, 2.5],
    });
    expect(image.spacing).toEqual([1, 1, 1, 2.5]);
  });

  it.each([
    ["rgb24", new Uint8Array(6), [2], 128],
    ["rgba32", new Uint8Array(8), [2], 2304],
    ["complex64", new Float32Array(4), [2], 32],
    ["uint8", new Uint8Array(2), [2], 2],
  ] as const)("takes an explicit %s datatype", (datatype, data, shape, code) => {
    expect(createImage({ data, shape: [...shape], datatype }).header.datatype).toBe(code);
  });

  it.each<[string, Partial<CreateImageOptions>]>([
    ["a data length that does not match the shape", { shape: [5] }],
    ["an array type that does not match the datatype", { datatype: "int16" }],
    ["rgb24 data without 3 bytes per voxel", { datatype: "rgb24" }],
    ["no dimensions", { shape: [] }],
    ["8 dimensions", { shape: [1, 1, 1, 1, 1, 1, 1, 4] }],
    ["a zero dimension", { shape: [4, 0] }],
    ["a fractional dimension", { shape: [2.5] }],
    ["spacing of the wrong length", { spacing: [1, 1] }],
    ["non-finite spacing", { spacing: [Number.NaN] }],
    [
      "a malformed affine",
      {
        affine: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      },
    ],
  ])("refuses %s (BAD_HEADER)", (_name, patch) => {
    let code = "no error";
    try {
      createImage({ data: new Uint8Array(4), shape: [4], ...patch });
    } catch (error) {
      code = error instanceof NiftiError ? error.code : "not a NiftiError";
    }
    expect(code).toBe("BAD_HEADER");
  });
});
