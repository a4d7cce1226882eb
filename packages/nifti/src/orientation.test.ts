import { readFileSync } from "node:fs";
import { defaultHeader } from "./header.js";
import { describe, expect, it } from "vitest";
import { bestAffine, qformAffine, setAffine } from "./affine.js";
import {
  applyOrientation,
  asClosestCanonical,
  axcodes,
  axcodesToOrnt,
  inverseOrnt,
  invOrntAffine,
  ioOrientation,
  orntToAxcodes,
  orntTransform,
  reorient,
  type Ornt,
} from "./orientation.js";
import type { Affine, DatatypeName, NiftiHeader, NiftiImage, VoxelArray } from "./types.js";

// ---------------------------------------------------------------------------------------------
// helpers

function header(fields: Partial<NiftiHeader> = {}): NiftiHeader {
  return defaultHeader({ dim: [3, 2, 3, 4, 1, 1, 1, 1], datatype: 4, bitpix: 16, ...fields });
}

/** An image whose header encodes `affine` in sform and qform (codes 1 unless given). */
function image(
  shape: number[],
  affine: Affine,
  data: VoxelArray | null,
  datatype: DatatypeName = "int16",
  fields: Partial<NiftiHeader> = {},
): NiftiImage {
  const dim = [shape.length, ...shape];
  while (dim.length < 8) dim.push(1);
  const h = setAffine(header({ dim, ...fields }), affine, {
    sformCode: fields.sformCode ?? 1,
    qformCode: fields.qformCode ?? 1,
  });
  return { header: h, shape, datatype, data, spacing: h.pixdim.slice(1, shape.length + 1), affine };
}

function diag(x: number, y: number, z: number, t: number[] = [0, 0, 0]): Affine {
  return [
    [x, 0, 0, t[0]!],
    [0, y, 0, t[1]!],
    [0, 0, z, t[2]!],
    [0, 0, 0, 1],
  ];
}

/** Values 0, 1, 2, … in Fortran order: voxel (x, y, z) of a 2×3×4 volume holds x + 2y + 6z. */
function ramp(n: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => i);
}

function expectAffineClose(actual: Affine, expected: Affine, tol = 1e-6): void {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const a = actual[i]![j]!;
      const e = expected[i]![j]!;
      if (Math.abs(a - e) > tol) {
        throw new Error(`affine[${i}][${j}] = ${a}, expected ${e}\n${JSON.stringify(actual)}`);
      }
    }
  }
}

/** World position of voxel index v under an affine. */
function world(affine: Affine, v: number[]): number[] {
  return [0, 1, 2].map(
    (i) =>
      affine[i]![0]! * v[0]! + affine[i]![1]! * v[1]! + affine[i]![2]! * v[2]! + affine[i]![3]!,
  );
}

interface Golden {
  orientation: Array<{
    name: string;
    affine: Affine;
    ornt: Array<[number | null, number | null]>;
    axcodes: string;
  }>;
  reorient: Array<{
    name: string;
    affine: Affine;
    shape: number[];
    target: string | null;
    transform: Ornt;
    invOrntAffine: Affine;
    outShape: number[];
    outData: number[];
    outAffine: Affine;
    outAxcodes: string;
  }>;
  realHeaders: Array<{
    file: string;
    header: Partial<NiftiHeader>;
    bestAffine: Affine;
    axcodes: string;
    canonicalShape: number[];
    canonicalAffine: Affine;
    canonicalDimInfo: number;
  }>;
}

const golden = JSON.parse(
  readFileSync(new URL("./__golden__/geometry.json", import.meta.url), "utf8"),
) as Golden;

// ---------------------------------------------------------------------------------------------

describe("axcodes and ioOrientation", () => {
  const cases: Array<[string, Affine, Ornt, string]> = [
    [
      "identity",
      diag(1, 1, 1),
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
      "RAS",
    ],
    [
      "diag(−1, −1, 1)",
      diag(-1, -1, 1),
      [
        [0, -1],
        [1, -1],
        [2, 1],
      ],
      "LPS",
    ],
    [
      "radiological diag(−2, 2, 2)",
      diag(-2, 2, 2, [90, -126, -72]),
      [
        [0, -1],
        [1, 1],
        [2, 1],
      ],
      "LAS",
    ],
    [
      "axes permuted: i→y, j→z, k→x",
      [
        [0, 0, 3, 0],
        [1, 0, 0, 0],
        [0, 2, 0, 0],
        [0, 0, 0, 1],
      ],
      [
        [1, 1],
        [2, 1],
        [0, 1],
      ],
      "ASR",
    ],
    [
      "axes permuted and flipped: i→−z, j→−x, k→−y",
      [
        [0, -1, 0, 0],
        [0, 0, -1, 0],
        [-1, 0, 0, 0],
        [0, 0, 0, 1],
      ],
      [
        [2, -1],
        [0, -1],
        [1, -1],
      ],
      "ILP",
    ],
    [
      "oblique by 30° about z: each axis still closest to its own",
      [
        [Math.cos(Math.PI / 6), -Math.sin(Math.PI / 6), 0, 0],
        [Math.sin(Math.PI / 6), Math.cos(Math.PI / 6), 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
      "RAS",
    ],
    [
      "oblique by 60° about z: i runs closer to y, j closer to −x",
      [
        [Math.cos(Math.PI / 3), -Math.sin(Math.PI / 3), 0, 0],
        [Math.sin(Math.PI / 3), Math.cos(Math.PI / 3), 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
      [
        [1, 1],
        [0, -1],
        [2, 1],
      ],
      "ALS",
    ],
  ];
  it.each(cases)("%s", (_name, affine, ornt, codes) => {
    expect(ioOrientation(affine)).toEqual(ornt);
    expect(axcodes(affine)).toBe(codes);
  });

  it("a zero column gives a dropped axis (NaN row, '?')", () => {
    const o = ioOrientation(diag(1, 0, 1));
    expect(o[1]![0]).toBeNaN();
    expect(axcodes(diag(1, 0, 1))).toBe("R?S");
  });

  it("rejects affines that are not finite 4×4", () => {
    expect(() => axcodes(diag(1, NaN, 1))).toThrow(RangeError);
    expect(() => axcodes([[1, 0, 0]])).toThrow(RangeError);
  });

  it.each(golden.orientation.map((c) => [c.name, c] as const))(
    "matches nibabel io_orientation: %s",
    (_name, c) => {
      const want = c.ornt.map(([a, f]) => [a ?? NaN, f ?? NaN]);
      expect(ioOrientation(c.affine)).toEqual(want);
      expect(axcodes(c.affine)).toBe(c.axcodes);
    },
  );
});

describe("orientation algebra", () => {
  const toOrnt: Array<[string, Ornt]> = [
    [
      "RAS",
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
    ],
    [
      "LPS",
      [
        [0, -1],
        [1, -1],
        [2, 1],
      ],
    ],
    [
      "SAL",
      [
        [2, 1],
        [1, 1],
        [0, -1],
      ],
    ],
    [
      "pil",
      [
        [1, -1],
        [2, -1],
        [0, -1],
      ],
    ],
  ];
  it.each(toOrnt)("axcodesToOrnt(%s)", (codes, ornt) => {
    expect(axcodesToOrnt(codes)).toEqual(ornt);
    expect(orntToAxcodes(ornt)).toBe(codes.toUpperCase());
  });

  it.each(["LRS", "RA", "RASS", "XYZ", "RAA", ""])("axcodesToOrnt rejects %j", (codes) => {
    expect(() => axcodesToOrnt(codes)).toThrow(RangeError);
  });

  const transforms: Array<[string, string, string, Ornt]> = [
    [
      "identity",
      "RAS",
      "RAS",
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
    ],
    [
      "LPS → RAS flips x and y",
      "LPS",
      "RAS",
      [
        [0, -1],
        [1, -1],
        [2, 1],
      ],
    ],
    [
      "RAS → SAL",
      "RAS",
      "SAL",
      [
        [2, -1],
        [1, 1],
        [0, 1],
      ],
    ],
    [
      "ASR → RAS",
      "ASR",
      "RAS",
      [
        [1, 1],
        [2, 1],
        [0, 1],
      ],
    ],
  ];
  it.each(transforms)("orntTransform %s", (_name, from, to, expected) => {
    const t = orntTransform(axcodesToOrnt(from), axcodesToOrnt(to));
    expect(t).toEqual(expected);
    // undoing it gets back
    expect(orntTransform(axcodesToOrnt(to), axcodesToOrnt(from))).toEqual(inverseOrnt(t));
  });

  it("invOrntAffine maps transformed indices back to original ones", () => {
    // RAS → SAL on shape (2, 3, 4): new (a, b, c) came from old (1 − c, b, a)
    expect(
      invOrntAffine(
        [
          [2, -1],
          [1, 1],
          [0, 1],
        ],
        [2, 3, 4],
      ),
    ).toEqual([
      [0, 0, -1, 1],
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
    ]);
    expect(() =>
      invOrntAffine(
        [
          [0, 1],
          [0, 1],
          [2, 1],
        ],
        [2, 3, 4],
      ),
    ).toThrow(RangeError);
    expect(() =>
      invOrntAffine(
        [
          [0, 1],
          [1, NaN],
          [2, 1],
        ],
        [2, 3, 4],
      ),
    ).toThrow(RangeError);
  });

  it.each(golden.reorient.map((c) => [c.name, c] as const))(
    "transform and invOrntAffine match nibabel: %s",
    (_name, c) => {
      const start = ioOrientation(c.affine);
      const t = c.target === null ? start : orntTransform(start, axcodesToOrnt(c.target));
      expect(t).toEqual(c.transform);
      expect(invOrntAffine(t, c.shape)).toEqual(c.invOrntAffine);
    },
  );
});

describe("reorient data by hand (2×3×4 volume holding x + 2y + 6z)", () => {
  it("LPS → RAS flips x and y", () => {
    const img = image([2, 3, 4], diag(-1, -1, 1, [10, 20, 30]), ramp(24));
    const out = asClosestCanonical(img);
    expect(out.shape).toEqual([2, 3, 4]);
    // new (x, y, z) = old (1 − x, 2 − y, z) = (1 − x) + 2(2 − y) + 6z
    expect(Array.from(out.data as Int16Array)).toEqual([
      5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 17, 16, 15, 14, 13, 12, 23, 22, 21, 20, 19, 18,
    ]);
    // origin moves to old voxel (1, 2, 0): world (10 − 1, 20 − 2, 30)
    expect(out.affine).toEqual(diag(1, 1, 1, [9, 18, 30]));
    expect(axcodes(out.affine)).toBe("RAS");
  });

  it("RAS → SAL permutes and flips", () => {
    const img = image([2, 3, 4], diag(1, 1, 1), ramp(24));
    const out = reorient(img, "SAL");
    expect(out.shape).toEqual([4, 3, 2]);
    // new (a, b, c) = old (x = 1 − c, y = b, z = a) = (1 − c) + 2b + 6a
    expect(Array.from(out.data as Int16Array)).toEqual([
      1, 7, 13, 19, 3, 9, 15, 21, 5, 11, 17, 23, 0, 6, 12, 18, 2, 8, 14, 20, 4, 10, 16, 22,
    ]);
    expect(out.affine).toEqual([
      [0, 0, -1, 1],
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
    ]);
    expect(axcodes(out.affine)).toBe("SAL");
  });

  it("keeps every voxel at its world position", () => {
    const affine: Affine = [
      [0, 0, -3, 7],
      [-2, 0, 0, 8],
      [0, 1.5, 0, 9],
      [0, 0, 0, 1],
    ];
    const img = image([2, 3, 4], affine, ramp(24));
    const out = asClosestCanonical(img);
    expect(axcodes(out.affine)).toBe("RAS");
    const [n0, n1, n2] = out.shape as [number, number, number];
    const data = out.data as Int16Array;
    for (let k = 0; k < n2; k++) {
      for (let j = 0; j < n1; j++) {
        for (let i = 0; i < n0; i++) {
          const v = data[i + n0 * (j + n1 * k)]!;
          const old = [v % 2, Math.floor(v / 2) % 3, Math.floor(v / 6)];
          expect(world(out.affine, [i, j, k])).toEqual(world(affine, old));
        }
      }
    }
  });

  it("RAS data comes back as the same object (cheap path)", () => {
    const img = image([2, 3, 4], diag(2, 2, 2, [1, 2, 3]), ramp(24));
    expect(asClosestCanonical(img)).toBe(img);
    expect(reorient(img, "RAS")).toBe(img);
  });

  it.each(["LPS", "SAL", "PIR", "RAS", "ILA"])(
    "round trip through %s restores data and affine exactly",
    (codes) => {
      const affine: Affine = [
        [-0.9375, 0, 0, 119.53125],
        [0, -0.9375, 0, 119.53125],
        [0, 0, 1.5, -71.25],
        [0, 0, 0, 1],
      ];
      const img = image([2, 3, 4], affine, ramp(24));
      const there = reorient(img, codes);
      expect(axcodes(there.affine)).toBe(codes);
      const back = reorient(there, axcodes(img.affine));
      expect(back.affine).toEqual(img.affine);
      expect(back.shape).toEqual(img.shape);
      expect(back.data).toEqual(img.data);
      expect(back.spacing).toEqual(img.spacing);
    },
  );
});

describe("reorient: datatypes, dimensions and header", () => {
  const lps = diag(-1, -1, 1);

  it("moves the 3 bytes of rgb24 voxels together", () => {
    // 2×1×1 volume: voxel 0 = (1, 2, 3), voxel 1 = (4, 5, 6); flipping x swaps them
    const img = image([2, 1, 1], lps, Uint8Array.from([1, 2, 3, 4, 5, 6]), "rgb24");
    const out = asClosestCanonical(img);
    expect(out.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.data as Uint8Array)).toEqual([4, 5, 6, 1, 2, 3]);
  });

  it("moves the 4 bytes of rgba32 voxels together", () => {
    const img = image([1, 2, 1], lps, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), "rgba32");
    expect(Array.from(asClosestCanonical(img).data as Uint8Array)).toEqual([
      5, 6, 7, 8, 1, 2, 3, 4,
    ]);
  });

  it("moves complex64 (re, im) pairs together", () => {
    const img = image([2, 1, 1], lps, Float32Array.from([1.5, -1, 2.5, -2]), "complex64");
    const out = asClosestCanonical(img);
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data as Float32Array)).toEqual([2.5, -2, 1.5, -1]);
  });

  it("copies 64-bit integers and NaN payloads bit for bit", () => {
    const big = BigInt64Array.from([-(2n ** 62n), 1n, 2n ** 62n + 3n, -7n]);
    const out = asClosestCanonical(image([2, 2, 1], lps, big, "int64"));
    expect(Array.from(out.data as BigInt64Array)).toEqual([-7n, 2n ** 62n + 3n, 1n, -(2n ** 62n)]);

    const floats = new Float64Array(2);
    const bits = new Uint32Array(floats.buffer);
    bits.set([0x1234, 0x7ff80abc, 0, 0x3ff00000]); // a NaN with a payload, then 1.0
    const flipped = asClosestCanonical(image([2, 1, 1], lps, floats, "float64"))
      .data as Float64Array;
    expect(Array.from(new Uint32Array(flipped.buffer))).toEqual([
      0, 0x3ff00000, 0x1234, 0x7ff80abc,
    ]);
  });

  it("carries dimensions 4 and 5 along unchanged", () => {
    // shape (2, 1, 1, 3, 2): 6 volumes of 2 voxels; flipping x swaps each pair
    const img = image([2, 1, 1, 3, 2], lps, ramp(12));
    const out = asClosestCanonical(img);
    expect(out.shape).toEqual([2, 1, 1, 3, 2]);
    expect(Array.from(out.data as Int16Array)).toEqual([1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10]);
    expect(out.header.dim).toEqual([5, 2, 1, 1, 3, 2, 1, 1]);
  });

  // Sizes above the 16-voxel tile of the permuting copy, and not multiples of it.
  const big: Array<[string, (n: number[], a: number, b: number, c: number) => number[]]> = [
    // new (a, b, c) = old (x, y, z) as read off the axis codes of a RAS image
    ["SAL", (n, a, b, c) => [n[0]! - 1 - c, b, a]],
    ["PIL", (n, a, b, c) => [n[0]! - 1 - c, n[1]! - 1 - a, n[2]! - 1 - b]],
    ["LPS", (n, a, b, c) => [n[0]! - 1 - a, n[1]! - 1 - b, c]],
    ["RSA", (_n, a, b, c) => [a, c, b]],
  ];
  it.each(big)("RAS → %s on a 37×18×21×2 int32 volume, every voxel", (codes, source) => {
    const n = [37, 18, 21];
    const voxels = 37 * 18 * 21;
    const data = Int32Array.from({ length: voxels * 2 }, (_, i) => i * 3 + 1);
    const out = reorient(image([...n, 2], diag(1, 1, 1), data, "int32"), codes);
    const [m0, m1, m2] = out.shape as [number, number, number];
    const got = out.data as Int32Array;
    let mismatches = 0;
    for (let t = 0; t < 2; t++) {
      for (let c = 0; c < m2; c++) {
        for (let b = 0; b < m1; b++) {
          for (let a = 0; a < m0; a++) {
            const [x, y, z] = source(n, a, b, c) as [number, number, number];
            const want = data[x + n[0]! * (y + n[1]! * z) + t * voxels];
            if (got[a + m0 * (b + m1 * c) + t * voxels] !== want) mismatches++;
          }
        }
      }
    }
    expect(mismatches).toBe(0);
    expect(m0 * m1 * m2).toBe(voxels);
  });

  it("treats a 2D image as 3D with one slice", () => {
    const img = image([2, 3], lps, ramp(6));
    const out = reorient(img, "SAR");
    expect(out.shape).toEqual([1, 3, 2]);
    // new (0, b, c) = old (x = 1 − c, y = 2 − b)
    expect(Array.from(out.data as Int16Array)).toEqual([5, 3, 1, 4, 2, 0]);
    expect(out.header.dim.slice(0, 4)).toEqual([3, 1, 3, 2]);
    expect(reorient(out, "LPS").data).toEqual(img.data);
  });

  it("reorients a header-only image (data null)", () => {
    const out = asClosestCanonical(image([2, 3, 4], lps, null));
    expect(out.data).toBeNull();
    expect(out.affine).toEqual(diag(1, 1, 1, [-1, -2, 0]));
  });

  it("rewrites dims, pixdim, sform and qform, keeps codes and other fields", () => {
    const affine: Affine = [
      [0, 0, -3, 7],
      [-2, 0, 0, 8],
      [0, 1.5, 0, 9],
      [0, 0, 0, 1],
    ];
    const img = image([2, 3, 4], affine, ramp(24), "int16", {
      sformCode: 4,
      qformCode: 2,
      descrip: "kept",
      sclSlope: 2,
    });
    const out = asClosestCanonical(img);
    // voxel axes i→−y (size 2), j→+z (3), k→−x (4): canonical shape (4, 2, 3)
    expect(out.shape).toEqual([4, 2, 3]);
    expect(out.affine).toEqual([
      [3, 0, 0, -2],
      [0, 2, 0, 6],
      [0, 0, 1.5, 9],
      [0, 0, 0, 1],
    ]);
    const h = out.header;
    expect(h.dim.slice(0, 4)).toEqual([3, 4, 2, 3]);
    expect(h.pixdim.slice(0, 4)).toEqual([1, 3, 2, 1.5]);
    expect(out.spacing).toEqual([3, 2, 1.5]);
    expect([h.srowX, h.srowY, h.srowZ]).toEqual(out.affine.slice(0, 3));
    expect([h.quaternB, h.quaternC, h.quaternD]).toEqual([0, 0, 0]);
    expect([h.qoffsetX, h.qoffsetY, h.qoffsetZ]).toEqual([-2, 6, 9]);
    expect([h.sformCode, h.qformCode]).toEqual([4, 2]);
    expect([h.descrip, h.sclSlope]).toEqual(["kept", 2]);
    expect(bestAffine(h)).toEqual(out.affine);
    expect(img.header.dim.slice(0, 4)).toEqual([3, 2, 3, 4]); // input untouched
  });

  it("gives a header whose best affine is the new one when only the qform is set", () => {
    const img = image([2, 3, 4], diag(-2, 3, 4, [5, 6, 7]), ramp(24), "int16", {
      sformCode: 0,
      qformCode: 1,
    });
    const out = asClosestCanonical(img);
    expect([out.header.sformCode, out.header.qformCode]).toEqual([0, 1]);
    expectAffineClose(qformAffine(out.header), out.affine, 1e-12);
  });

  it("gives sform_code 2 and qform_code 0 when the image had neither (as nibabel)", () => {
    const img = image([2, 3, 4], diag(-1, 1, 1, [0.5, -1, -1.5]), ramp(24), "int16", {
      sformCode: 0,
      qformCode: 0,
    });
    const out = asClosestCanonical(img);
    expect([out.header.sformCode, out.header.qformCode]).toEqual([2, 0]);
    expect(bestAffine(out.header)).toEqual(out.affine);
  });

  it("moves the frequency/phase/slice axes of dim_info with their axes", () => {
    // freq = axis 0 (code 1), phase = axis 1 (code 2), slice = axis 2 (code 3): 1 | 2 << 2 | 3 << 4
    const img = image([2, 3, 4], diag(1, 1, 1), ramp(24), "int16", {
      dimInfo: 1 | (2 << 2) | (3 << 4),
    });
    // SAL: axis 0 → position 2, axis 1 → 1, axis 2 → 0
    expect(reorient(img, "SAL").header.dimInfo).toBe(3 | (2 << 2) | (1 << 4));
    // unknown (0) stays unknown
    const partial = image([2, 3, 4], diag(1, 1, 1), ramp(24), "int16", { dimInfo: 3 << 4 });
    expect(reorient(partial, "SAL").header.dimInfo).toBe(1 << 4);
  });

  it("rejects bad targets, degenerate affines and mismatched data", () => {
    const img = image([2, 3, 4], lps, ramp(24));
    expect(() => reorient(img, "LRS")).toThrow(RangeError);
    expect(() => asClosestCanonical({ ...img, affine: diag(1, 0, 1) })).toThrow(RangeError);
    expect(() => asClosestCanonical({ ...img, data: ramp(23) })).toThrow(RangeError);
    expect(() =>
      applyOrientation(
        ramp(24),
        [2, 3],
        [
          [0, 1],
          [1, 1],
          [2, 1],
        ],
      ),
    ).toThrow(RangeError);
  });
});

describe("reorient matches nibabel", () => {
  it.each(golden.reorient.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const n = c.shape.reduce((p, x) => p * x, 1);
    const img = image(c.shape, c.affine, ramp(n));
    const out = c.target === null ? asClosestCanonical(img) : reorient(img, c.target);
    expect(out.shape).toEqual(c.outShape);
    expect(Array.from(out.data as Int16Array)).toEqual(c.outData);
    expectAffineClose(out.affine, c.outAffine, 1e-9);
    expect(axcodes(out.affine)).toBe(c.outAxcodes);
    // and back
    const back = reorient(out, axcodes(c.affine));
    expect(back.data).toEqual(img.data);
    expectAffineClose(back.affine, c.affine, 1e-12);
  });

  it.each(golden.realHeaders.map((c) => [c.file, c] as const))(
    "real header %s: axcodes and canonical geometry",
    (_file, c) => {
      const h = header(c.header);
      const shape = h.dim.slice(1, h.dim[0]! + 1);
      const img: NiftiImage = {
        header: h,
        shape,
        datatype: "int16",
        data: null,
        spacing: h.pixdim.slice(1, shape.length + 1),
        affine: bestAffine(h),
      };
      expectAffineClose(img.affine, c.bestAffine);
      expect(axcodes(img.affine)).toBe(c.axcodes);
      const canonical = asClosestCanonical(img);
      expect(canonical.shape).toEqual(c.canonicalShape);
      expectAffineClose(canonical.affine, c.canonicalAffine);
      expect(canonical.header.dimInfo).toBe(c.canonicalDimInfo);
      const back = reorient(canonical, c.axcodes);
      expect(back.shape).toEqual(shape);
      expectAffineClose(back.affine, img.affine, 1e-9);
    },
  );
});
