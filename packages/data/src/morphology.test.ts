// dilate against scipy.ndimage.binary_dilation (counts computed with scipy 1.10 for these masks);
// connected components are tested in postprocess.test.ts, beside their first user.
import { describe, expect, it } from "vitest";
import { DataError } from "./errors.js";
import { dilate, type Connectivity } from "./morphology.js";

const count = (m: Uint8Array) => m.reduce((n, v) => n + v, 0);

describe("dilate", () => {
  // A voxel in the middle of 9³, dilated by generate_binary_structure(3, 1 | 2 | 3).
  it.each<[Connectivity, number, number]>([
    [6, 1, 7],
    [6, 2, 25],
    [6, 3, 63],
    [18, 1, 19],
    [18, 2, 93],
    [18, 3, 263],
    [26, 1, 27],
    [26, 2, 125],
    [26, 3, 343],
  ])("connectivity %d, %d iteration(s): %d voxels (scipy)", (connectivity, iterations, voxels) => {
    const mask = new Uint8Array(9 ** 3);
    mask[4 + 9 * (4 + 9 * 4)] = 1;
    expect(count(dilate(mask, [9, 9, 9], connectivity, iterations))).toBe(voxels);
  });

  it("stops at the array's border, as scipy does (a corner voxel of 4×3×3, 18, twice: 23)", () => {
    const mask = new Uint8Array(36);
    mask[0] = 1;
    expect(count(dilate(mask, [4, 3, 3], 18, 2))).toBe(23);
  });

  it("copies for 0 iterations, leaves its input alone and refuses bad options", () => {
    const mask = Uint8Array.from([0, 3, 0, 0]);
    expect([...dilate(mask, [4, 1, 1], 6, 0)]).toEqual([0, 1, 0, 0]);
    expect([...dilate(mask, [4, 1, 1], 6, 1)]).toEqual([1, 1, 1, 0]);
    expect([...mask]).toEqual([0, 3, 0, 0]);
    for (const bad of [
      () => dilate(mask, [4, 1, 1], 8 as Connectivity, 1),
      () => dilate(mask, [4, 1, 1], 6, -1),
    ]) {
      expect(bad).toThrow(DataError);
    }
  });
});
