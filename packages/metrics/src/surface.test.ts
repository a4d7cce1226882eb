import { describe, expect, it } from "vitest";
import { extractSurfaces, nearestDistances, VoxelList } from "./surface.js";
import { box, bruteNearest, bruteSurface, rng, volume } from "./test-utils.js";
import type { Voxel } from "./test-utils.js";
import type { Shape, Spacing } from "./types.js";

const ONE = (() => {
  const bits = new Uint8Array(256).fill(1);
  bits[0] = 0;
  return bits;
})();

function listOf(voxels: readonly Voxel[]): VoxelList {
  const list = new VoxelList(1);
  for (const [x, y, z] of voxels) list.push(x, y, z);
  return list;
}

function voxelsOf(list: VoxelList): Voxel[] {
  return Array.from(
    { length: list.length },
    (_, i) => [list.x[i]!, list.y[i]!, list.z[i]!] as const,
  );
}

function surfaceOf(mask: Uint8Array, shape: Shape): Voxel[] {
  const list = new VoxelList();
  extractSurfaces(mask, ONE, shape, [list]);
  return voxelsOf(list);
}

describe("extractSurfaces", () => {
  it.each<[string, Shape, Voxel[], number]>([
    ["a single voxel", [3, 3, 3], [[1, 1, 1]], 1],
    ["a line", [7, 3, 3], box([1, 1, 1], [5, 1, 1]), 5],
    // A 3×3×3 cube: every voxel but the centre has a neighbour outside.
    ["a 3×3×3 cube", [5, 5, 5], box([1, 1, 1], [3, 3, 3]), 26],
    // 4×4×4: the 2×2×2 core is interior.
    ["a 4×4×4 cube", [6, 6, 6], box([1, 1, 1], [4, 4, 4]), 64 - 8],
    // The whole 3×3×3 image: voxels beyond the image count as outside, so only the centre is interior.
    ["the whole image", [3, 3, 3], box([0, 0, 0], [2, 2, 2]), 26],
    // A one-voxel-thick image: every voxel touches the border.
    ["a whole 4×4×1 image", [4, 4, 1], box([0, 0, 0], [3, 3, 0]), 16],
  ])("%s has %d surface voxels, the brute-force ones, in scan order", (_, shape, voxels, count) => {
    const mask = volume(shape, voxels);
    const surface = surfaceOf(mask, shape);
    expect(surface.length).toBe(count);
    expect(surface).toEqual(bruteSurface(mask, shape));
  });

  it("treats the image border as outside (scipy binary_erosion border_value=0)", () => {
    // Slab x = 0..1 filling y and z of a 4×3×3 image: (0,1,1) has all in-image neighbours in the
    // mask, but x = -1 is beyond the image, so it is surface.
    const shape: Shape = [4, 3, 3];
    const surface = surfaceOf(volume(shape, box([0, 0, 0], [1, 2, 2])), shape);
    expect(surface).toContainEqual([0, 1, 1]);
    expect(surface.length).toBe(18);
  });

  it("matches brute force on random masks", () => {
    const random = rng(11);
    for (let trial = 0; trial < 30; trial++) {
      const shape: Shape = [
        2 + Math.floor(random() * 8),
        2 + Math.floor(random() * 8),
        1 + Math.floor(random() * 8),
      ];
      const mask = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () =>
        random() < 0.6 ? 1 : 0,
      );
      expect(surfaceOf(mask, shape)).toEqual(bruteSurface(mask, shape));
    }
  });

  it("extracts several label sets in one scan and honours occupied-row flags", () => {
    // Codes 1 and 2; mask 0 = {1, 2}, mask 1 = {2}. bits[code] says which masks a code belongs to.
    const shape: Shape = [5, 4, 4];
    const codes = volume(shape, box([1, 1, 1], [3, 2, 2]), 1);
    codes[2 + 5 * (1 + 4 * 1)] = 2;
    const bits = new Uint8Array(256);
    bits[1] = 0b01;
    bits[2] = 0b11;
    const both = new VoxelList();
    const two = new VoxelList();
    extractSurfaces(codes, bits, shape, [both, two]);
    expect(voxelsOf(both)).toEqual(bruteSurface(codes, shape));
    expect(voxelsOf(two)).toEqual([[2, 1, 1]]);
    // Rows (y, z) = (1, 1) and (2, 1) are marked empty: their voxels are skipped.
    const rows = new Uint8Array(4 * 4).fill(1);
    rows[1 + 4 * 1] = 0;
    rows[2 + 4 * 1] = 0;
    const skipped = new VoxelList();
    extractSurfaces(codes, bits, shape, [skipped, null], rows);
    expect(voxelsOf(skipped).filter(([, , z]) => z === 1)).toEqual([]);
    expect(voxelsOf(skipped).length).toBe(voxelsOf(both).filter(([, , z]) => z !== 1).length);
  });
});

function distances(features: Voxel[], queries: Voxel[], spacing: Spacing): number[] {
  const out = new Float64Array(queries.length);
  nearestDistances(listOf(features), listOf(queries), spacing, out);
  return Array.from(out);
}

describe("nearestDistances (FH transform)", () => {
  it.each<[string, Voxel[], Voxel[], Spacing, number[]]>([
    ["same voxel", [[2, 2, 2]], [[2, 2, 2]], [1, 1, 1], [0]],
    ["3 voxels along x", [[0, 0, 0]], [[3, 0, 0]], [1, 1, 1], [3]],
    ["3 voxels along x at 2 mm", [[0, 0, 0]], [[3, 0, 0]], [2, 1, 1], [6]],
    // √(1² + 2² + 2²) = 3
    ["a 1-2-2 diagonal", [[1, 0, 4]], [[0, 2, 2]], [1, 1, 1], [3]],
    // √((1·1)² + (2·2)² + (2·3)²) = √53
    ["a 1-2-2 diagonal at [1, 2, 3] mm", [[1, 0, 4]], [[0, 2, 2]], [1, 2, 3], [Math.sqrt(53)]],
    // Features at +3 along x and +2 along z. At 1 mm the z one (2) is nearer; at [1, 2, 3] mm the
    // x one (3 mm) beats the z one (6 mm); at [3, 1, 1] mm the z one (2 mm) beats x (9 mm).
    [
      "nearest along z at 1 mm",
      [
        [5, 2, 2],
        [2, 2, 4],
      ],
      [[2, 2, 2]],
      [1, 1, 1],
      [2],
    ],
    [
      "nearest along x at [1, 2, 3] mm",
      [
        [5, 2, 2],
        [2, 2, 4],
      ],
      [[2, 2, 2]],
      [1, 2, 3],
      [3],
    ],
    [
      "nearest along z at [3, 1, 1] mm",
      [
        [5, 2, 2],
        [2, 2, 4],
      ],
      [[2, 2, 2]],
      [3, 1, 1],
      [2],
    ],
    [
      "no features",
      [],
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
      [1, 1, 1],
      [Infinity, Infinity],
    ],
    ["no queries", [[1, 1, 1]], [], [1, 1, 1], []],
  ])("%s", (_, features, queries, spacing, expected) => {
    expect(distances(features, queries, spacing)).toEqual(expected);
  });

  it("equals brute force on random volumes with anisotropic spacing", () => {
    const random = rng(2024);
    for (let trial = 0; trial < 60; trial++) {
      const shape: Shape = [
        1 + Math.floor(random() * 12),
        1 + Math.floor(random() * 12),
        1 + Math.floor(random() * 12),
      ];
      const spacing: Spacing = [0.3 + random() * 3, 0.3 + random() * 3, 0.3 + random() * 3];
      const featureDensity = random() * 0.2;
      const features: Voxel[] = [];
      const queries: Voxel[] = [];
      // Every voxel is a query half the time, so some runs query the whole volume.
      const allQueries = random() < 0.5;
      for (const v of box([0, 0, 0], [shape[0] - 1, shape[1] - 1, shape[2] - 1])) {
        if (random() < featureDensity) features.push(v);
        if (allQueries || random() < 0.3) queries.push(v);
      }
      if (features.length === 0) features.push([0, 0, 0]);
      const got = distances(features, queries, spacing);
      const want = bruteNearest(queries, features, spacing);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 12);
    }
  });

  it.each<[string, (v: Voxel) => boolean]>([
    // The z search must walk past many empty or far slices before it may stop.
    ["features in one far slice", ([, , z]) => z === 13],
    ["features in the first and last slices only", ([, , z]) => z === 0 || z === 13],
    // Equal distances above and below: ties between the two search directions.
    ["features in slices 3 and 9", ([x, , z]) => (z === 3 || z === 9) && x % 3 === 0],
    ["a single feature row", ([, y, z]) => y === 4 && z === 6],
  ])("equals brute force with %s", (_, isFeature) => {
    const random = rng(8);
    for (const spacing of [
      [1, 1, 1],
      [0.4, 1.7, 2.9],
      [3, 0.5, 0.25],
    ] as Spacing[]) {
      const all = box([0, 0, 0], [9, 8, 13]);
      const features = all.filter((v) => isFeature(v) && random() < 0.4);
      if (features.length === 0) features.push(all.find(isFeature)!);
      const queries = all.filter(() => random() < 0.25);
      const got = distances(features, queries, spacing);
      const want = bruteNearest(queries, features, spacing);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 12);
    }
  });

  it("is exact (bit for bit) for integer squared distances", () => {
    const random = rng(5);
    const features: Voxel[] = [];
    const queries: Voxel[] = [];
    for (const v of box([0, 0, 0], [15, 13, 11])) {
      if (random() < 0.02) features.push(v);
      if (random() < 0.5) queries.push(v);
    }
    expect(distances(features, queries, [1, 1, 1])).toEqual(
      bruteNearest(queries, features, [1, 1, 1]),
    );
  });
});
