import { describe, expect, it } from "vitest";
import { assd, hausdorff, hd95, surfaceDistances } from "./distance.js";
import { MetricsError } from "./errors.js";
import { box, bruteSurfaceDistances, randomBlobs, rng, volume } from "./test-utils.js";
import type { Voxel } from "./test-utils.js";
import type { Shape, Spacing } from "./types.js";

interface DistanceCase {
  name: string;
  shape: Shape;
  spacing: Spacing;
  pred: Voxel[];
  gt: Voxel[];
  predToGt: number[];
  gtToPred: number[];
  hd: number;
  hd95: number;
  assd: number;
}

const cube = box([1, 1, 1], [3, 3, 3]);
const shiftedCube = box([2, 1, 1], [4, 3, 3]);

const cases: DistanceCase[] = [
  {
    name: "single voxels 3 apart along x",
    shape: [6, 3, 3],
    spacing: [1, 1, 1],
    pred: [[1, 1, 1]],
    gt: [[4, 1, 1]],
    predToGt: [3],
    gtToPred: [3],
    hd: 3,
    hd95: 3,
    assd: 3,
  },
  {
    name: "single voxels 3 apart along x at 2 mm",
    shape: [6, 3, 3],
    spacing: [2, 1, 1],
    pred: [[1, 1, 1]],
    gt: [[4, 1, 1]],
    predToGt: [6],
    gtToPred: [6],
    hd: 6,
    hd95: 6,
    assd: 6,
  },
  {
    // gt A = +3 along x, B = +2 along z. At [1,2,3] mm: A is 3 mm, B 6 mm. Pooled [3, 3, 6]:
    // index 2·0.95 = 1.9 → 6 - 3·0.1 = 5.7; assd = (3 + (3 + 6)/2)/2 = 3.75.
    name: "anisotropic [1, 2, 3]: the x neighbour is nearest",
    shape: [7, 5, 7],
    spacing: [1, 2, 3],
    pred: [[2, 2, 2]],
    gt: [
      [5, 2, 2],
      [2, 2, 4],
    ],
    predToGt: [3],
    gtToPred: [3, 6],
    hd: 6,
    hd95: 5.699999999999999,
    assd: 3.75,
  },
  {
    // Same voxels at 1 mm: B (2) is nearest; pooled [2, 3, 2] → sorted [2,2,3]: 3 - 1·0.1 = 2.9.
    name: "isotropic: the z neighbour is nearest",
    shape: [7, 5, 7],
    spacing: [1, 1, 1],
    pred: [[2, 2, 2]],
    gt: [
      [5, 2, 2],
      [2, 2, 4],
    ],
    predToGt: [2],
    gtToPred: [3, 2],
    hd: 3,
    hd95: 2.9,
    assd: 2.25,
  },
  {
    // pred x = 1..5, gt x = 1..3 on one line: pred → gt 0,0,0,1,2; gt → pred 0,0,0.
    // Pooled sorted [0×6, 1, 2]: index 7·0.95 = 6.65 → 2 - 1·0.35 = 1.65; assd = (0.6 + 0)/2.
    name: "lines of 5 and 3 voxels",
    shape: [7, 3, 3],
    spacing: [1, 1, 1],
    pred: box([1, 1, 1], [5, 1, 1]),
    gt: box([1, 1, 1], [3, 1, 1]),
    predToGt: [0, 0, 0, 1, 2],
    gtToPred: [0, 0, 0],
    hd: 2,
    hd95: 1.6499999999999995,
    assd: 0.3,
  },
  {
    name: "identical 3×3×3 cubes",
    shape: [5, 5, 5],
    spacing: [1, 1, 1],
    pred: cube,
    gt: cube,
    predToGt: new Array<number>(26).fill(0),
    gtToPred: new Array<number>(26).fill(0),
    hd: 0,
    hd95: 0,
    assd: 0,
  },
  {
    // Cubes x 1..3 and x 2..4: each surface has 26 voxels. pred's x = 1 face (9 voxels) is 1 from
    // gt's x = 2 face, and pred's (3,2,2) is gt's centre (interior), 1 from gt's surface: ten 1s,
    // sixteen 0s. gt mirrors it. Pooled: 32 zeros then 20 ones → hd95 1; assd 10/26.
    name: "3×3×3 cubes shifted by one voxel",
    shape: [6, 5, 5],
    spacing: [1, 1, 1],
    pred: cube,
    gt: shiftedCube,
    predToGt: cube
      .filter(([x, y, z]) => !(x === 2 && y === 2 && z === 2))
      .map(([x, y, z]) => (x === 1 || (x === 3 && y === 2 && z === 2) ? 1 : 0)),
    gtToPred: shiftedCube
      .filter(([x, y, z]) => !(x === 3 && y === 2 && z === 2))
      .map(([x, y, z]) => (x === 4 || (x === 2 && y === 2 && z === 2) ? 1 : 0)),
    hd: 1,
    hd95: 1,
    assd: 10 / 26,
  },
  {
    // Slab x = 0..1 vs layer x = 0 filling y, z of the image. Border voxels are surface, so all
    // of pred's x = 0 layer (even (0,1,1)) is surface and gt → pred is all 0; pred's x = 1 layer is 1
    // away. Pooled: 9 + 9 zeros, 9 ones → index 26·0.95 = 24.7 is a 1.
    name: "masks filling the image border",
    shape: [4, 3, 3],
    spacing: [1, 1, 1],
    pred: box([0, 0, 0], [1, 2, 2]),
    gt: box([0, 0, 0], [0, 2, 2]),
    predToGt: box([0, 0, 0], [1, 2, 2]).map(([x]) => x),
    gtToPred: new Array<number>(9).fill(0),
    hd: 1,
    hd95: 1,
    assd: 0.25,
  },
  {
    // Opposite corners of a 5×5×5 image: √(4² + 4² + 4²) at 1 mm, √(16 + 64 + 144) at [1, 2, 3].
    name: "voxels in opposite image corners",
    shape: [5, 5, 5],
    spacing: [1, 2, 3],
    pred: [[0, 0, 0]],
    gt: [[4, 4, 4]],
    predToGt: [Math.sqrt(224)],
    gtToPred: [Math.sqrt(224)],
    hd: Math.sqrt(224),
    hd95: Math.sqrt(224),
    assd: Math.sqrt(224),
  },
];

describe.each(cases)("$name", (c) => {
  const pred = volume(c.shape, c.pred);
  const gt = volume(c.shape, c.gt);

  it("surfaceDistances", () => {
    const d = surfaceDistances(pred, gt, c.shape, c.spacing);
    expect(Array.from(d.predToGt)).toEqual(c.predToGt);
    expect(Array.from(d.gtToPred)).toEqual(c.gtToPred);
  });

  it("hausdorff, hd95 and assd", () => {
    expect(hausdorff(pred, gt, c.shape, c.spacing)).toBe(c.hd);
    expect(hd95(pred, gt, c.shape, c.spacing)).toBeCloseTo(c.hd95, 12);
    expect(assd(pred, gt, c.shape, c.spacing)).toBeCloseTo(c.assd, 12);
  });

  it("agrees with brute force over the whole image", () => {
    const want = bruteSurfaceDistances(pred, gt, c.shape, c.spacing);
    const got = surfaceDistances(pred, gt, c.shape, c.spacing);
    expect(Array.from(got.predToGt)).toEqual(want.predToGt);
    expect(Array.from(got.gtToPred)).toEqual(want.gtToPred);
  });
});

describe("empty masks", () => {
  const shape: Shape = [4, 4, 4];
  const empty = new Uint8Array(64);
  const one = volume(shape, [[1, 1, 1]]);

  it.each<[string, Uint8Array, Uint8Array, number, number]>([
    // both empty → 0 (brats) / NaN; one empty → emptyDistance (default 373.12866) / NaN
    ["both empty", empty, empty, 0, NaN],
    ["pred empty", empty, one, 373.12866, NaN],
    ["gt empty", one, empty, 373.12866, NaN],
  ])("%s", (_, pred, gt, brats, nan) => {
    for (const f of [hausdorff, hd95, assd]) {
      expect(f(pred, gt, shape, [1, 1, 1])).toBe(brats);
      expect(f(pred, gt, shape, [1, 1, 1], { emptyPolicy: "nan" })).toBe(nan);
    }
    const d = surfaceDistances(pred, gt, shape, [1, 1, 1]);
    expect(d.predToGt.length + d.gtToPred.length).toBe(0);
  });

  it("uses a custom emptyDistance", () => {
    expect(hd95(empty, one, shape, [1, 1, 1], { emptyDistance: 100 })).toBe(100);
  });
});

describe("cropping never changes the result", () => {
  it("random masks in the middle of a larger image equal brute force over the whole image", () => {
    const random = rng(99);
    for (let trial = 0; trial < 40; trial++) {
      const shape: Shape = [14, 12, 10];
      const spacing: Spacing = [0.5 + random() * 2, 0.5 + random() * 2, 0.5 + random() * 2];
      const within = { lo: [3, 3, 2] as const, hi: [10, 8, 7] as const };
      const pred = randomBlobs(shape, random, 1 + Math.floor(random() * 3), within);
      const gt = randomBlobs(shape, random, 1 + Math.floor(random() * 3), within);
      const want = bruteSurfaceDistances(pred, gt, shape, spacing);
      const got = surfaceDistances(pred, gt, shape, spacing);
      expect(got.predToGt.length).toBe(want.predToGt.length);
      expect(got.gtToPred.length).toBe(want.gtToPred.length);
      want.predToGt.forEach((v, i) => expect(got.predToGt[i]).toBeCloseTo(v, 12));
      want.gtToPred.forEach((v, i) => expect(got.gtToPred[i]).toBeCloseTo(v, 12));
    }
  });

  it("random masks touching the image border equal brute force", () => {
    const random = rng(3);
    for (let trial = 0; trial < 40; trial++) {
      const shape: Shape = [
        2 + Math.floor(random() * 7),
        2 + Math.floor(random() * 7),
        1 + Math.floor(random() * 7),
      ];
      const spacing: Spacing = [1, 2, 3];
      const pred = randomBlobs(shape, random, 3);
      const gt = randomBlobs(shape, random, 3);
      const want = bruteSurfaceDistances(pred, gt, shape, spacing);
      const got = surfaceDistances(pred, gt, shape, spacing);
      want.predToGt.forEach((v, i) => expect(got.predToGt[i]).toBeCloseTo(v, 12));
      want.gtToPred.forEach((v, i) => expect(got.gtToPred[i]).toBeCloseTo(v, 12));
      expect(got.predToGt.length).toBe(want.predToGt.length);
    }
  });

  it("a 2×2×2 cube in the image corner: every voxel is surface", () => {
    const shape: Shape = [5, 5, 5];
    const corner = volume(shape, box([0, 0, 0], [1, 1, 1]));
    const d = surfaceDistances(corner, corner, shape, [1, 1, 1]);
    expect(Array.from(d.predToGt)).toEqual(new Array<number>(8).fill(0));
  });
});

describe("input checks", () => {
  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return e instanceof MetricsError ? e.code : String(e);
    }
    return undefined;
  };

  it.each<[string, () => unknown, string]>([
    [
      "masks shorter than the shape",
      () => hd95(new Uint8Array(7), new Uint8Array(7), [2, 2, 2], [1, 1, 1]),
      "SHAPE_MISMATCH",
    ],
    [
      "masks of different lengths",
      () => hd95(new Uint8Array(8), new Uint8Array(9), [2, 2, 2], [1, 1, 1]),
      "SHAPE_MISMATCH",
    ],
    [
      "a fractional shape",
      () => hd95(new Uint8Array(8), new Uint8Array(8), [2, 2.5, 2] as unknown as Shape, [1, 1, 1]),
      "SHAPE_MISMATCH",
    ],
    [
      "a zero spacing",
      () => hd95(new Uint8Array(8), new Uint8Array(8), [2, 2, 2], [1, 0, 1]),
      "BAD_OPTION",
    ],
    [
      "a NaN spacing",
      () => surfaceDistances(new Uint8Array(8), new Uint8Array(8), [2, 2, 2], [1, NaN, 1]),
      "BAD_OPTION",
    ],
    [
      "two spacings",
      () => assd(new Uint8Array(8), new Uint8Array(8), [2, 2, 2], [1, 1] as unknown as Spacing),
      "BAD_OPTION",
    ],
    [
      "a bad policy",
      () =>
        hausdorff(new Uint8Array(8), new Uint8Array(8), [2, 2, 2], [1, 1, 1], {
          emptyPolicy: "x" as "nan",
        }),
      "BAD_OPTION",
    ],
  ])("%s", (_, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});
