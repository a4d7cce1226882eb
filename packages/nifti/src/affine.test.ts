import { readFileSync } from "node:fs";
import { defaultHeader } from "./header.js";
import { describe, expect, it } from "vitest";
import {
  affineToQuaternion,
  baseAffine,
  bestAffine,
  invertAffine,
  multiplyAffines,
  qformAffine,
  quaternionToAffine,
  setAffine,
  sformAffine,
  svd3,
  voxelSizes,
  type QformParameters,
} from "./affine.js";
import type { Affine, NiftiHeader } from "./types.js";

// ---------------------------------------------------------------------------------------------
// helpers

const S = Math.SQRT1_2;

function header(fields: Partial<NiftiHeader> = {}): NiftiHeader {
  return defaultHeader({ dim: [3, 2, 3, 4, 1, 1, 1, 1], datatype: 4, bitpix: 16, ...fields });
}

function q(partial: Partial<QformParameters>): QformParameters {
  return { b: 0, c: 0, d: 0, qx: 0, qy: 0, qz: 0, dx: 1, dy: 1, dz: 1, qfac: 1, ...partial };
}

function expectAffineClose(actual: Affine, expected: Affine, tol = 1e-6): void {
  expect(actual).toHaveLength(4);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const a = actual[i]![j]!;
      const e = expected[i]![j]!;
      if (Math.abs(a - e) > tol) {
        throw new Error(
          `affine[${i}][${j}] = ${a}, expected ${e} (±${tol})\n${JSON.stringify(actual)}`,
        );
      }
    }
  }
}

/** Rotation matrix of a unit quaternion (a, b, c, d), written out independently of the module. */
function rotation(a: number, b: number, c: number, d: number): number[][] {
  return [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d],
  ];
}

function affineFrom(m: number[][], t: number[]): Affine {
  return [
    [...m[0]!, t[0]!],
    [...m[1]!, t[1]!],
    [...m[2]!, t[2]!],
    [0, 0, 0, 1],
  ];
}

interface Golden {
  quaternionToAffine: Array<{
    name: string;
    input: QformParameters;
    affine?: Affine;
    error?: string;
  }>;
  affineToQuaternion: Array<{
    name: string;
    affine: Affine;
    quaternion: QformParameters;
    qformAffine: Affine;
  }>;
  baseAffine: Array<{ name: string; dim: number[]; pixdim: number[]; affine: Affine }>;
  realHeaders: Array<{
    file: string;
    header: Partial<NiftiHeader>;
    bestAffine: Affine;
    qformAffine: Affine;
    sformAffine: Affine;
    baseAffine: Affine;
  }>;
}

const golden = JSON.parse(
  readFileSync(new URL("./__golden__/geometry.json", import.meta.url), "utf8"),
) as Golden;

// ---------------------------------------------------------------------------------------------

describe("quaternionToAffine", () => {
  const cases: Array<[string, QformParameters, Affine]> = [
    [
      "identity rotation, zooms and offsets",
      q({ qx: 1, qy: 2, qz: 3, dx: 2, dy: 3, dz: 4 }),
      [
        [2, 0, 0, 1],
        [0, 3, 0, 2],
        [0, 0, 4, 3],
        [0, 0, 0, 1],
      ],
    ],
    [
      "180° about z (LPS)",
      q({ d: 1, qx: 90, qy: 126, qz: -72 }),
      [
        [-1, 0, 0, 90],
        [0, -1, 0, 126],
        [0, 0, 1, -72],
        [0, 0, 0, 1],
      ],
    ],
    [
      "180° about x",
      q({ b: 1 }),
      [
        [1, 0, 0, 0],
        [0, -1, 0, 0],
        [0, 0, -1, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "90° about z, zooms 1 2 3",
      q({ d: S, dx: 1, dy: 2, dz: 3 }),
      [
        [0, -2, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 3, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "90° about x, qfac −1 negates the z column",
      q({ b: S, dx: 1, dy: 2, dz: 3, qfac: -1 }),
      [
        [1, 0, 0, 0],
        [0, 0, 3, 0],
        [0, 2, 0, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "120° about (1,1,1): x→y, y→z, z→x",
      q({ b: 0.5, c: 0.5, d: 0.5 }),
      [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "qfac 0 counts as 1",
      q({ dz: 2, qfac: 0 }),
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 2, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "qfac −2 counts as 1 (nibabel resets anything but ±1)",
      q({ dz: 2, qfac: -2 }),
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 2, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "b²+c²+d² = 1 + 1e-7 (within float32 rounding): a = 0, rotation renormalised",
      q({ b: Math.sqrt(1 + 1e-7) }),
      [
        [1, 0, 0, 0],
        [0, -1, 0, 0],
        [0, 0, -1, 0],
        [0, 0, 0, 1],
      ],
    ],
  ];
  it.each(cases)("%s", (_name, params, expected) => {
    expectAffineClose(quaternionToAffine(params), expected, 1e-12);
  });

  it("rejects b²+c²+d² clearly above 1, as nibabel does", () => {
    expect(() => quaternionToAffine(q({ b: 0.6, c: 0.6, d: 0.6 }))).toThrow(RangeError);
    expect(() => quaternionToAffine(q({ b: Math.sqrt(1 + 1e-6) }))).toThrow(RangeError);
  });

  it("gives NaN for NaN quaternions instead of throwing (as nibabel)", () => {
    expect(quaternionToAffine(q({ b: NaN }))[0]![0]).toBeNaN();
  });

  it.each(golden.quaternionToAffine.map((c) => [c.name, c] as const))(
    "matches nibabel get_qform: %s",
    (_name, c) => {
      if (c.error !== undefined) {
        expect(() => quaternionToAffine(c.input)).toThrow(RangeError);
      } else {
        expectAffineClose(quaternionToAffine(c.input), c.affine!);
      }
    },
  );
});

describe("affineToQuaternion", () => {
  const cases: Array<[string, Affine, QformParameters]> = [
    ["identity", affineFrom(rotation(1, 0, 0, 0), [0, 0, 0]), q({})],
    [
      "LPS: 180° about z",
      affineFrom(
        [
          [-1, 0, 0],
          [0, -1, 0],
          [0, 0, 1],
        ],
        [5, 6, 7],
      ),
      q({ d: 1, qx: 5, qy: 6, qz: 7 }),
    ],
    [
      "LAS: det < 0 gives qfac −1, then diag(−1, 1, −1) is 180° about y",
      affineFrom(
        [
          [-2, 0, 0],
          [0, 2, 0],
          [0, 0, 2],
        ],
        [0, 0, 0],
      ),
      q({ c: 1, dx: 2, dy: 2, dz: 2, qfac: -1 }),
    ],
    [
      "y and z swapped: qfac −1, then 90° about x",
      affineFrom(
        [
          [1, 0, 0],
          [0, 0, 1],
          [0, 1, 0],
        ],
        [0, 0, 0],
      ),
      q({ b: S, qfac: -1 }),
    ],
    [
      "90° about z with zooms 1 2 3",
      affineFrom(
        [
          [0, -2, 0],
          [1, 0, 0],
          [0, 0, 3],
        ],
        [1, 2, 3],
      ),
      q({ d: S, qx: 1, qy: 2, qz: 3, dx: 1, dy: 2, dz: 3 }),
    ],
    [
      "zero column: unit axis, voxel size 1 (nifti_mat44_to_quatern)",
      affineFrom(
        [
          [2, 0, 0],
          [0, 0, 0],
          [0, 0, 3],
        ],
        [0, 0, 0],
      ),
      q({ dx: 2, dy: 1, dz: 3 }),
    ],
  ];
  it.each(cases)("%s", (_name, affine, expected) => {
    const got = affineToQuaternion(affine);
    for (const key of Object.keys(expected) as Array<keyof QformParameters>) {
      expect(got[key], key).toBeCloseTo(expected[key], 12);
    }
  });

  it("strips a shear to the closest rotation (hand-checked polar factor)", () => {
    // [[1, t], [0, 1]] normalised has columns (1, 0) and (t, 1)/n, n = √(1+t²). The closest
    // rotation to a 2×2 matrix [[p, q], [r, s]] turns by atan2(r − q, p + s): here atan2(−t, n + 1).
    const t = 0.5;
    const n = Math.hypot(1, t);
    const got = affineToQuaternion(
      affineFrom(
        [
          [1, t, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        [0, 0, 0],
      ),
    );
    const r = quaternionToAffine(got);
    // columns of the recovered affine are zooms × that rotation about z
    const angle = Math.atan2(-t, n + 1);
    expect(got.dx).toBeCloseTo(1, 14);
    expect(got.dy).toBeCloseTo(n, 14);
    expect(r[0]![0]).toBeCloseTo(Math.cos(angle), 14);
    expect(r[1]![0]).toBeCloseTo(Math.sin(angle), 14);
    expect(r[0]![1]).toBeCloseTo(-Math.sin(angle) * n, 14);
    expect(got.b).toBe(0);
    expect(got.c).toBe(0);
    expect(got.d).toBeCloseTo(Math.sin(angle / 2), 14);
  });

  it("rejects non-finite affines", () => {
    const bad = affineFrom(rotation(1, 0, 0, 0), [NaN, 0, 0]);
    expect(() => affineToQuaternion(bad)).toThrow(RangeError);
    expect(() => affineToQuaternion([[1, 0, 0, 0]])).toThrow(RangeError);
  });

  // Shear-free affines round-trip through the quaternion.
  const quats: Array<[number, number, number, number]> = [
    [1, 0, 0, 0],
    [0, 0, 0, 1],
    [S, 0, 0, S],
    [0.5, 0.5, 0.5, 0.5],
    // an oblique rotation: (0.9, 0.1, −0.3, 0.2) / √0.95
    [0.9 / Math.sqrt(0.95), 0.1 / Math.sqrt(0.95), -0.3 / Math.sqrt(0.95), 0.2 / Math.sqrt(0.95)],
  ];
  const roundTrips = quats.flatMap(([a, b, c, d]) =>
    [1, -1].map((qfac) => {
      const zooms = [1.5, 0.75, 3];
      const r = rotation(a, b, c, d);
      const m = r.map((row) => row.map((v, j) => v * zooms[j]! * (j === 2 ? qfac : 1)));
      return [
        `q=(${a.toFixed(3)}, ${b.toFixed(3)}, ${c.toFixed(3)}, ${d.toFixed(3)}) qfac ${qfac}`,
        affineFrom(m, [-10, 20.5, 33]),
      ] as const;
    }),
  );
  it.each(roundTrips)("round trip %s", (_name, affine) => {
    const params = affineToQuaternion(affine);
    expect(params.qfac === 1 || params.qfac === -1).toBe(true);
    expectAffineClose(quaternionToAffine(params), affine, 1e-13);
  });

  it.each(golden.affineToQuaternion.map((c) => [c.name, c] as const))(
    "matches nibabel set_qform: %s",
    (_name, c) => {
      const got = affineToQuaternion(c.affine);
      const want = c.quaternion;
      for (const key of ["qx", "qy", "qz", "dx", "dy", "dz", "qfac"] as const) {
        expect(got[key], key).toBeCloseTo(want[key], 6);
      }
      // a = 0 (180° rotations) leaves the sign of (b, c, d) to rounding, in nibabel too
      const a = Math.sqrt(Math.max(0, 1 - want.b ** 2 - want.c ** 2 - want.d ** 2));
      const sign = a < 1e-6 && got.b * want.b + got.c * want.c + got.d * want.d < 0 ? -1 : 1;
      expect(sign * got.b).toBeCloseTo(want.b, 6);
      expect(sign * got.c).toBeCloseTo(want.c, 6);
      expect(sign * got.d).toBeCloseTo(want.d, 6);
      expectAffineClose(quaternionToAffine(got), c.qformAffine);
    },
  );
});

describe("header affines", () => {
  it("qformAffine reads quatern/qoffset/pixdim, qfac from pixdim[0]", () => {
    const h = header({
      quaternD: 1,
      qoffsetX: 10,
      qoffsetY: 20,
      qoffsetZ: 30,
      pixdim: [-1, 2, 3, 4, 1, 1, 1, 1],
    });
    expect(qformAffine(h)).toEqual([
      [-2, 0, 0, 10],
      [0, -3, 0, 20],
      [0, 0, -4, 30],
      [0, 0, 0, 1],
    ]);
  });

  it("qformAffine applies nibabel's load-time pixdim fixes (abs, 0 → 1)", () => {
    const h = header({ pixdim: [1, -2, 0, 3, 1, 1, 1, 1] });
    expect(qformAffine(h)).toEqual([
      [2, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ]);
  });

  it("sformAffine reads the srow rows", () => {
    const h = header({ srowX: [1, 2, 3, 4], srowY: [5, 6, 7, 8], srowZ: [9, 10, 11, 12] });
    expect(sformAffine(h)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
      [0, 0, 0, 1],
    ]);
  });

  const baseCases: Array<[string, Partial<NiftiHeader>, Affine]> = [
    [
      "3D, nibabel docstring: shape (3, 5, 7), zooms (3, 2, 1)",
      { dim: [3, 3, 5, 7, 1, 1, 1, 1], pixdim: [1, 3, 2, 1, 1, 1, 1, 1] },
      [
        [-3, 0, 0, 3],
        [0, 2, 0, -4],
        [0, 0, 1, -3],
        [0, 0, 0, 1],
      ],
    ],
    [
      "2D: shape (64, 48), zooms (2.5, 3.5); z is 1 voxel of size 1 whatever pixdim[3] says",
      { dim: [2, 64, 48, 1, 1, 1, 1, 1], pixdim: [1, 2.5, 3.5, 9, 1, 1, 1, 1] },
      [
        [-2.5, 0, 0, 78.75],
        [0, 3.5, 0, -82.25],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "4D uses the first three axes",
      { dim: [4, 11, 21, 31, 7, 1, 1, 1], pixdim: [1, 1, 2, 3, 2.5, 1, 1, 1] },
      [
        [-1, 0, 0, 5],
        [0, 2, 0, -20],
        [0, 0, 3, -45],
        [0, 0, 0, 1],
      ],
    ],
  ];
  it.each(baseCases)("baseAffine %s", (_name, fields, expected) => {
    expect(baseAffine(header(fields))).toEqual(expected);
  });

  it.each(golden.baseAffine.map((c) => [c.name, c] as const))(
    "baseAffine matches nibabel: %s",
    (_name, c) => {
      expectAffineClose(baseAffine(header({ dim: c.dim, pixdim: c.pixdim })), c.affine, 1e-12);
    },
  );

  const sform = { srowX: [1, 0, 0, -5], srowY: [0, 1, 0, -6], srowZ: [0, 0, 1, -7] };
  const qform = { quaternD: 1, qoffsetX: 8, pixdim: [1, 1, 1, 1, 1, 1, 1, 1] };
  const selection: Array<[string, Partial<NiftiHeader>, Affine]> = [
    [
      "sform when sform_code ≠ 0 (even with a qform)",
      { ...sform, ...qform, sformCode: 4, qformCode: 1 },
      [
        [1, 0, 0, -5],
        [0, 1, 0, -6],
        [0, 0, 1, -7],
        [0, 0, 0, 1],
      ],
    ],
    [
      "qform when only qform_code ≠ 0",
      { ...sform, ...qform, sformCode: 0, qformCode: 2 },
      [
        [-1, 0, 0, 8],
        [0, -1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
    ],
    [
      "base affine when both codes are 0",
      { ...sform, ...qform, dim: [3, 3, 5, 7, 1, 1, 1, 1], sformCode: 0, qformCode: 0 },
      [
        [-1, 0, 0, 1],
        [0, 1, 0, -2],
        [0, 0, 1, -3],
        [0, 0, 0, 1],
      ],
    ],
  ];
  it.each(selection)("bestAffine: %s", (_name, fields, expected) => {
    expect(bestAffine(header(fields))).toEqual(expected);
  });

  it.each(golden.realHeaders.map((c) => [c.file, c] as const))(
    "real header %s: best, qform, sform and base affines match nibabel",
    (_file, c) => {
      const h = header(c.header);
      expectAffineClose(bestAffine(h), c.bestAffine);
      expectAffineClose(qformAffine(h), c.qformAffine);
      expectAffineClose(sformAffine(h), c.sformAffine);
      expectAffineClose(baseAffine(h), c.baseAffine);
    },
  );
});

describe("setAffine", () => {
  const oblique = (() => {
    // rotation() is quadratic in q, so dividing by |q|² = 0.95 makes (0.9, 0.1, −0.3, 0.2) a rotation
    const r = rotation(0.9, 0.1, -0.3, 0.2).map((row) => row.map((v) => v / 0.95));
    return affineFrom(
      r.map((row) => row.map((v, j) => v * [1.2, 0.9, -2][j]!)),
      [-90, 126, -72],
    );
  })();

  it("writes srow rows, quaternion, offsets, qfac and zooms consistently", () => {
    const h = setAffine(header({ sformCode: 2, qformCode: 1 }), oblique);
    expect([h.srowX, h.srowY, h.srowZ]).toEqual(oblique.slice(0, 3));
    const p = affineToQuaternion(oblique);
    expect([h.quaternB, h.quaternC, h.quaternD]).toEqual([p.b, p.c, p.d]);
    expect([h.qoffsetX, h.qoffsetY, h.qoffsetZ]).toEqual([-90, 126, -72]);
    expect(h.pixdim.slice(0, 4)).toEqual([p.qfac, p.dx, p.dy, p.dz]);
    expect(p.qfac).toBe(-1);
    expect(h.pixdim[1]).toBeCloseTo(1.2, 14);
    expect(h.pixdim[2]).toBeCloseTo(0.9, 14);
    expect(h.pixdim[3]).toBeCloseTo(2, 14);
    expect([h.sformCode, h.qformCode]).toEqual([2, 1]);
    expect(bestAffine(h)).toEqual(oblique);
    expectAffineClose(qformAffine(h), oblique, 1e-13);
  });

  const codeCases: Array<
    [string, Partial<NiftiHeader>, { sformCode?: number; qformCode?: number }, [number, number]]
  > = [
    ["codes 0 default to 1 (scanner)", {}, {}, [1, 1]],
    ["existing codes are kept", { sformCode: 4, qformCode: 3 }, {}, [4, 3]],
    ["explicit codes win", { sformCode: 4, qformCode: 3 }, { sformCode: 2, qformCode: 0 }, [2, 0]],
  ];
  it.each(codeCases)("%s", (_name, fields, opts, [sformCode, qformCode]) => {
    const h = setAffine(header(fields), oblique, opts);
    expect([h.sformCode, h.qformCode]).toEqual([sformCode, qformCode]);
  });

  it("does not modify its input and keeps unrelated fields", () => {
    const before = header({
      descrip: "kept",
      dim: [4, 2, 3, 4, 5, 1, 1, 1],
      pixdim: [1, 1, 1, 1, 2.5, 1, 1, 1],
    });
    const snapshot = structuredClone(before);
    const h = setAffine(before, oblique);
    expect(before).toEqual(snapshot);
    expect(h.descrip).toBe("kept");
    expect(h.dim).toEqual([4, 2, 3, 4, 5, 1, 1, 1]);
    expect(h.pixdim[4]).toBe(2.5);
    expect(h.pixdim).not.toBe(before.pixdim);
  });

  it("keeps a sheared affine exactly in the sform and its closest rotation in the qform (nibabel)", () => {
    for (const c of golden.affineToQuaternion.filter((g) => g.name.startsWith("random sheared"))) {
      const h = setAffine(header(), c.affine);
      expect(bestAffine(h)).toEqual(c.affine);
      expectAffineClose(qformAffine(h), c.qformAffine);
    }
  });
});

describe("matrix helpers", () => {
  it("voxelSizes are column norms", () => {
    expect(
      voxelSizes([
        [3, 0, 0, 9],
        [4, 0, -2, 9],
        [0, 1, 0, 9],
        [0, 0, 0, 1],
      ]),
    ).toEqual([5, 1, 2]);
  });

  it("multiplyAffines composes (a after b) and invertAffine inverts", () => {
    const a: Affine = [
      [0, -2, 0, 1],
      [1, 0, 0, 2],
      [0, 0, 4, 3],
      [0, 0, 0, 1],
    ];
    const b: Affine = [
      [1, 0, 0, 10],
      [0, 1, 0, 20],
      [0, 0, 1, 30],
      [0, 0, 0, 1],
    ];
    expect(multiplyAffines(a, b)).toEqual([
      [0, -2, 0, -39],
      [1, 0, 0, 12],
      [0, 0, 4, 123],
      [0, 0, 0, 1],
    ]);
    expect(invertAffine(a)).toEqual([
      [0, 1, 0, -2],
      [-0.5, 0, 0, 0.5],
      [0, 0, 0.25, -0.75],
      [0, 0, 0, 1],
    ]);
    expectAffineClose(
      multiplyAffines(a, invertAffine(a)),
      multiplyAffines(b, invertAffine(b)),
      1e-15,
    );
    expect(() =>
      invertAffine([
        [1, 1, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ]),
    ).toThrow(RangeError);
  });

  const matrices: Array<[string, number[][], number]> = [
    [
      "diagonal",
      [
        [3, 0, 0],
        [0, -1, 0],
        [0, 0, 2],
      ],
      3,
    ],
    [
      "general",
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 10],
      ],
      3,
    ],
    [
      "rank 2",
      [
        [1, 2, 3],
        [2, 4, 6],
        [1, 0, 1],
      ],
      2,
    ],
    [
      "rank 1",
      [
        [1, 2, 3],
        [2, 4, 6],
        [-1, -2, -3],
      ],
      1,
    ],
    [
      "zero",
      [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      0,
    ],
  ];
  it.each(matrices)("svd3 reconstructs a %s matrix with orthonormal V", (_name, m, rank) => {
    const { u, s, v } = svd3(m);
    expect(s.every((x, i) => i === 0 || x <= s[i - 1]!)).toBe(true);
    expect(s.filter((x) => x > 1e-12).length).toBe(rank);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let rec = 0;
        let vtv = 0;
        for (let k = 0; k < 3; k++) {
          rec += u[i]![k]! * s[k]! * v[j]![k]!;
          vtv += v[k]![i]! * v[k]![j]!;
        }
        expect(rec).toBeCloseTo(m[i]![j]!, 12);
        expect(vtv).toBeCloseTo(i === j ? 1 : 0, 14);
      }
    }
  });
});
