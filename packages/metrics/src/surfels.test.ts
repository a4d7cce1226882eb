// The surface-distance HD95 (BraTS 2023+): surfel areas from the marching-cubes rules, hand-computed
// cases, and the values the surface-distance library's own published tests expect (facts, not code).
import { describe, expect, it } from "vitest";
import {
  areaPercentile,
  averageSurfaceDistances,
  cornerBit,
  hd95Surface,
  SURFACE_HD95_EMPTY,
  surfelAreas,
  surfelDistances,
} from "./surfels.js";
import type { Shape, Spacing } from "./types.js";

function volume(shape: Shape, fill: (x: number, y: number, z: number) => boolean): Uint8Array {
  const [nx, ny, nz] = shape;
  const out = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) out[x + nx * (y + ny * z)] = fill(x, y, z) ? 1 : 0;
  return out;
}

describe("surfelAreas", () => {
  const s: Spacing = [2, 3, 5];
  const corner = (a: number, b: number, c: number) => cornerBit(a, b, c);
  it.each<[string, number, number]>([
    ["empty", 0, 0],
    ["full", 255, 0],
    // One corner cut off: a triangle through three edge midpoints, area vector (1, 1, 1)/8.
    ["one corner", corner(1, 1, 1), Math.hypot(3 * 5, 2 * 5, 2 * 3) / 8],
    ["its complement", 255 - corner(1, 1, 1), Math.hypot(3 * 5, 2 * 5, 2 * 3) / 8],
    // Four corners of one x face: the square x = ½, area sy·sz.
    ["a face", corner(1, 0, 0) | corner(1, 0, 1) | corner(1, 1, 0) | corner(1, 1, 1), 3 * 5],
    // Two corners along z: a rectangle of normal (1, 1, 0), ½√2 × 1 in voxel units.
    ["an edge", corner(1, 1, 0) | corner(1, 1, 1), Math.hypot(3 * 5, 2 * 5) / 2],
    // Two opposite corners of a face: two separate corner triangles (classic marching cubes).
    [
      "a face diagonal",
      corner(1, 1, 0) | corner(1, 0, 1),
      (2 * Math.hypot(3 * 5, 2 * 5, 2 * 3)) / 8,
    ],
  ])("%s (code %d)", (_name, code, area) => {
    expect(surfelAreas(s)[code]).toBeCloseTo(area, 12);
  });

  it("is the same for a code and its complement, and grows with the spacing", () => {
    const a = surfelAreas([1, 1, 1]);
    for (let code = 0; code < 256; code++) expect(a[255 - code]).toBeCloseTo(a[code]!, 12);
    const b = surfelAreas([2, 2, 2]);
    for (let code = 0; code < 256; code++) expect(b[code]).toBeCloseTo(4 * a[code]!, 12);
  });
});

describe("hd95Surface: small shapes by hand", () => {
  const shape: Shape = [6, 6, 6];
  const one = volume(shape, (x, y, z) => x === 2 && y === 2 && z === 2);
  const two = volume(shape, (x, y, z) => (x === 2 || x === 3) && y === 2 && z === 2);

  it("is 0 for the same voxel, and for two empty masks", () => {
    expect(hd95Surface(one, one, shape, [1, 1, 1])).toBe(0);
    const empty = new Uint8Array(one.length);
    expect(hd95Surface(empty, empty, shape, [1, 1, 1])).toBe(0);
  });

  it("is 374 when one mask is empty", () => {
    const empty = new Uint8Array(one.length);
    expect(hd95Surface(empty, one, shape, [1, 1, 1])).toBe(SURFACE_HD95_EMPTY);
    expect(hd95Surface(one, empty, shape, [1, 1, 1])).toBe(SURFACE_HD95_EMPTY);
  });

  it("a voxel against the 2-voxel block holding it: the far face is 19 % of the area, HD95 = sx", () => {
    // gt's 8 corners all lie on pred's surface; pred's 4 corners at x = 4 are sx from gt's.
    const d = surfelDistances(two, one, shape, [1.5, 1, 1]);
    expect(d.gtToPred.every((v) => v === 0)).toBe(true);
    expect([...d.predToGt].filter((v) => v > 0)).toEqual([1.5, 1.5, 1.5, 1.5]);
    const corner = surfelAreas([1.5, 1, 1])[cornerBit(1, 1, 1)]!;
    const far = (4 * corner) / d.predAreas.reduce((a, b) => a + b, 0);
    expect(far).toBeGreaterThan(0.05); // so the 95th percentile reaches the far face
    expect(hd95Surface(two, one, shape, [1.5, 1, 1])).toBe(1.5);
  });

  it("areaPercentile takes the first distance whose cumulative area reaches the share", () => {
    const d = Float64Array.from([3, 1, 2]);
    const a = Float64Array.from([1, 8, 1]); // sorted: 1 (0.8), 2 (0.9), 3 (1.0)
    expect(areaPercentile(d, a, 80)).toBe(1);
    expect(areaPercentile(d, a, 85)).toBe(2);
    expect(areaPercentile(d, a, 95)).toBe(3);
    expect(areaPercentile(new Float64Array(0), new Float64Array(0), 95)).toBe(Infinity);
  });
});

describe("hd95Surface: the surface-distance library's published 3-D tests", () => {
  it("two voxels 2 mm apart (spacing 3, 2, 1): HD95 2, mean distances 1.5 and 1.5", () => {
    const shape: Shape = [128, 128, 128];
    const gt = volume(shape, (x, y, z) => x === 50 && y === 60 && z === 70);
    const pred = volume(shape, (x, y, z) => x === 50 && y === 60 && z === 72);
    const spacing: Spacing = [3, 2, 1];
    expect(hd95Surface(pred, gt, shape, spacing)).toBe(2);
    expect(averageSurfaceDistances(surfelDistances(pred, gt, shape, spacing))).toEqual([1.5, 1.5]);
  });

  it("two cubes shifted by one voxel (spacing 2, 1, 1): HD95 2, mean distances 0.322 and 0.339", () => {
    const shape: Shape = [100, 100, 100];
    const gt = volume(shape, (x) => x < 50);
    const pred = volume(shape, (x) => x < 51);
    const spacing: Spacing = [2, 1, 1];
    expect(hd95Surface(pred, gt, shape, spacing)).toBe(2);
    const [gtToPred, predToGt] = averageSurfaceDistances(surfelDistances(pred, gt, shape, spacing));
    expect(gtToPred).toBeCloseTo(0.322, 3);
    expect(predToGt).toBeCloseTo(0.339, 3);
  });
});
