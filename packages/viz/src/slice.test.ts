import { describe, expect, it } from "vitest";
import { sliceGeometry, type Volume } from "./orient.js";
import { extractSlice, extractSliceInto } from "./slice.js";

/** A 3×2×2 volume whose voxel (i, j, k) holds 100·k + 10·j + i. */
const volume: Volume = {
  data: Float32Array.from({ length: 12 }, (_, n) => {
    const i = n % 3;
    const j = Math.floor(n / 3) % 2;
    const k = Math.floor(n / 6);
    return 100 * k + 10 * j + i;
  }),
  shape: [3, 2, 2],
};

describe("extractSlice (RAS volume, hand-derived pixel order)", () => {
  // radiological: x runs right → left (i descending); axial/coronal/sagittal y runs
  // anterior → posterior or superior → inferior (j or k descending); sagittal x runs A → P.
  const table: Array<[string, Parameters<typeof sliceGeometry>, number[]]> = [
    ["axial k=1 radiological", [volume, "axial", 1], [112, 111, 110, 102, 101, 100]],
    ["axial k=0 neurological", [volume, "axial", 0, "neurological"], [10, 11, 12, 0, 1, 2]],
    ["coronal j=0 radiological", [volume, "coronal", 0], [102, 101, 100, 2, 1, 0]],
    [
      "coronal j=1 neurological",
      [volume, "coronal", 1, "neurological"],
      [110, 111, 112, 10, 11, 12],
    ],
    ["sagittal i=2", [volume, "sagittal", 2], [112, 102, 12, 2]],
  ];
  for (const [name, args, expected] of table) {
    it(name, () => {
      expect(Array.from(extractSlice(volume, sliceGeometry(...args)))).toEqual(expected);
    });
  }

  it("into a caller's Uint8Array (labels)", () => {
    const labels: Volume = { data: Uint8Array.from([0, 1, 2, 4, 0, 0, 0, 0]), shape: [2, 2, 2] };
    const out = new Uint8Array(4);
    expect(extractSliceInto(labels, sliceGeometry(labels, "axial", 0), out)).toBe(out);
    // x = 1 − i, y = 1 − j
    expect(Array.from(out)).toEqual([4, 2, 1, 0]);
  });

  it("plain arrays as data", () => {
    const v: Volume = { data: [1, 2, 3, 4], shape: [2, 2, 1] };
    expect(Array.from(extractSlice(v, sliceGeometry(v, "axial", 0)))).toEqual([4, 3, 2, 1]);
  });

  it("rejects a geometry from a bigger volume and a short output buffer", () => {
    const big: Volume = { data: new Float32Array(60), shape: [3, 4, 5] };
    expect(() => extractSlice(volume, sliceGeometry(big, "axial", 4))).toThrow(RangeError);
    expect(() =>
      extractSliceInto(volume, sliceGeometry(volume, "axial", 0), new Float32Array(5)),
    ).toThrow(RangeError);
  });
});
