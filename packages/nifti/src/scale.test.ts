import { describe, expect, it } from "vitest";
import { NiftiError } from "./errors.js";
import { createImage } from "./image.js";
import { getScaledData, scaleInto, scalingOf } from "./scale.js";
import type { DatatypeName, NiftiImage, VoxelArray } from "./types.js";

function image(
  data: VoxelArray,
  sclSlope: number,
  sclInter: number,
  datatype?: DatatypeName,
): NiftiImage {
  const elements = datatype === "rgb24" ? 3 : datatype === "complex64" ? 2 : 1;
  return createImage({ data, shape: [data.length / elements], datatype, sclSlope, sclInter });
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof NiftiError ? error.code : "not a NiftiError";
  }
  return "no error";
}

describe("scalingOf (nibabel get_slope_inter)", () => {
  it.each([
    [2, 10, { slope: 2, inter: 10 }],
    [1, 0, { slope: 1, inter: 0 }],
    [-0.5, 3, { slope: -0.5, inter: 3 }],
    [0, 10, null],
    [Number.NaN, 10, null],
    [Number.POSITIVE_INFINITY, 0, null],
    [Number.NEGATIVE_INFINITY, 0, null],
    [0, Number.NaN, null],
  ])("slope %d, inter %d → %o", (slope, inter, expected) => {
    expect(scalingOf(image(new Int16Array(1), slope, inter).header)).toEqual(expected);
  });

  it("rejects a valid slope with a non-finite intercept (BAD_HEADER), as nibabel does", () => {
    expect(codeOf(() => scalingOf(image(new Int16Array(1), 2, Number.NaN).header))).toBe(
      "BAD_HEADER",
    );
    expect(
      codeOf(() => scalingOf(image(new Int16Array(1), 2, Number.POSITIVE_INFINITY).header)),
    ).toBe("BAD_HEADER");
  });
});

describe("getScaledData", () => {
  it.each<
    [string, VoxelArray, number, number, "float32" | "float64" | undefined, string, number[]]
  >([
    ["int16 × 2 + 10", new Int16Array([1, -2, 3]), 2, 10, undefined, "Float32Array", [12, 6, 16]],
    [
      "uint8 × 0.5 − 1",
      new Uint8Array([0, 1, 255]),
      0.5,
      -1,
      undefined,
      "Float32Array",
      [-1, -0.5, 126.5],
    ],
    [
      "slope 0: raw values",
      new Int16Array([1, -2, 3]),
      0,
      10,
      undefined,
      "Float32Array",
      [1, -2, 3],
    ],
    [
      "slope NaN: raw values",
      new Int16Array([1, -2, 3]),
      Number.NaN,
      10,
      undefined,
      "Float32Array",
      [1, -2, 3],
    ],
    [
      "slope 1, inter 0: raw values",
      new Uint16Array([65535, 0]),
      1,
      0,
      undefined,
      "Float32Array",
      [65535, 0],
    ],
    [
      "slope 1, inter 0.5",
      new Int8Array([-128, 127]),
      1,
      0.5,
      undefined,
      "Float32Array",
      [-127.5, 127.5],
    ],
    ["slope −1, inter 0", new Int32Array([5, -6]), -1, 0, undefined, "Float32Array", [-5, 6]],
    [
      "int16 as float64",
      new Int16Array([1, -2, 3]),
      0.25,
      0,
      "float64",
      "Float64Array",
      [0.25, -0.5, 0.75],
    ],
    [
      "float64 defaults to float64",
      new Float64Array([0.1, 0.2]),
      1,
      0,
      undefined,
      "Float64Array",
      [0.1, 0.2],
    ],
    ["float32 data × 3", new Float32Array([1.5, -2]), 3, 0, undefined, "Float32Array", [4.5, -6]],
    [
      "uint32 beyond int32",
      new Uint32Array([4294967295]),
      1,
      1,
      "float64",
      "Float64Array",
      [4294967296],
    ],
    [
      "int64 defaults to float64",
      new BigInt64Array([2n ** 40n, -5n]),
      2,
      1,
      undefined,
      "Float64Array",
      [2 ** 41 + 1, -9],
    ],
    [
      "uint64 without scaling",
      new BigUint64Array([2n ** 53n, 7n]),
      0,
      0,
      undefined,
      "Float64Array",
      [2 ** 53, 7],
    ],
    [
      "int64 asked as float32",
      new BigInt64Array([3n, -5n]),
      2,
      0.5,
      "float32",
      "Float32Array",
      [6.5, -9.5],
    ],
  ])("%s", (_name, data, slope, inter, type, arrayName, expected) => {
    const scaled = getScaledData(image(data, slope, inter), type);
    expect(scaled.constructor.name).toBe(arrayName);
    expect(Array.from(scaled)).toEqual(expected);
  });

  // s = 1 + 2^-23 and i = 3·2^-24 are exact float32s. numpy computes int16 × float32 in float32:
  // 3·s = 3 + 1.5 ulp rounds (ties to even) to 3 + 2 ulp, + i (0.75 ulp) rounds to 3 + 3 ulp, with
  // ulp = 2^-22 in [2, 4). A single rounding of the exact 3 + 2.25 ulp would give 3 + 2 ulp instead.
  const s = 1 + 2 ** -23;
  const i = 3 * 2 ** -24;

  it("rounds like numpy's float32 arithmetic for int16 data", () => {
    expect(getScaledData(image(new Int16Array([3]), s, i), "float32")[0]).toBe(3 + 3 * 2 ** -22);
  });

  it("computes int32 data in float64 and rounds once, as numpy promotes int32 × float32 to float64", () => {
    expect(getScaledData(image(new Int32Array([3]), s, i), "float32")[0]).toBe(3 + 2 * 2 ** -22);
  });

  it("computes float64 output in float64: 3·s + i exactly", () => {
    expect(getScaledData(image(new Int16Array([3]), s, i), "float64")[0]).toBe(3 + 9 * 2 ** -24);
  });

  it("returns a new array, never the raw data", () => {
    const raw = new Float32Array([1, 2]);
    const img = image(raw, 0, 0);
    const scaled = getScaledData(img);
    scaled[0] = 99;
    expect(raw[0]).toBe(1);
  });

  it.each<[DatatypeName, VoxelArray]>([
    ["rgb24", new Uint8Array(6)],
    ["rgba32", new Uint8Array(8)],
    ["complex64", new Float32Array(4)],
  ])("refuses %s (UNSUPPORTED_DATATYPE)", (datatype, data) => {
    const elements = datatype === "rgba32" ? 4 : datatype === "rgb24" ? 3 : 2;
    const img = createImage({ data, shape: [data.length / elements], datatype });
    expect(codeOf(() => getScaledData(img))).toBe("UNSUPPORTED_DATATYPE");
  });

  it("refuses a header-only image (TRUNCATED)", () => {
    const img = { ...image(new Int16Array(2), 1, 0), data: null };
    expect(codeOf(() => getScaledData(img))).toBe("TRUNCATED");
  });

  it("scales into a caller's array, with the arithmetic of its type", () => {
    const img = image(new Int16Array([3, 1]), s, i);
    const out32 = new Float32Array(2);
    expect(scaleInto(img, out32)).toBe(out32);
    expect(Array.from(out32)).toEqual(Array.from(getScaledData(img, "float32")));
    const out64 = scaleInto(img, new Float64Array(2));
    expect(out64[0]).toBe(3 + 9 * 2 ** -24);
    expect(codeOf(() => scaleInto(img, new Float32Array(3)))).toBe("BAD_HEADER");
  });
});
