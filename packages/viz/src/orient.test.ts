import { fileURLToPath } from "node:url";
import { asClosestCanonical, axcodes, createImage, readNifti, reorient } from "@brats/nifti";
import type { NiftiImage } from "@brats/nifti";
import { describe, expect, it } from "vitest";
import {
  axisCodes,
  planeAxis,
  sliceCount,
  sliceGeometry,
  voxelOrientation,
  voxelSpacing,
  worldAxes,
  type Convention,
  type Plane,
  type Volume,
} from "./orient.js";
import { extractSlice } from "./slice.js";

const PLANES: Plane[] = ["axial", "coronal", "sagittal"];
const CONVENTIONS: Convention[] = ["radiological", "neurological"];

/** Affine with the given 3×3 columns (voxel axis directions in world mm) and a translation. */
function affineOf(cols: number[][], t: number[] = [0, 0, 0]): number[][] {
  return [
    [cols[0]![0]!, cols[1]![0]!, cols[2]![0]!, t[0]!],
    [cols[0]![1]!, cols[1]![1]!, cols[2]![1]!, t[1]!],
    [cols[0]![2]!, cols[1]![2]!, cols[2]![2]!, t[2]!],
    [0, 0, 0, 1],
  ];
}

/** A volume of zeros with `value` at voxel (i, j, k). */
function marked(
  shape: [number, number, number],
  voxel: [number, number, number],
  affine?: number[][],
  value = 7,
): Volume {
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  data[voxel[0] + shape[0] * (voxel[1] + shape[1] * voxel[2])] = value;
  return affine === undefined ? { data, shape } : { data, shape, affine };
}

/** Screen position of the only nonzero pixel of a slice. */
function markedPixel(
  volume: Volume,
  plane: Plane,
  index: number,
  convention: Convention,
): [number, number] {
  const g = sliceGeometry(volume, plane, index, convention);
  const slice = extractSlice(volume, g);
  const hits: number[] = [];
  slice.forEach((v, i) => {
    if (v !== 0) hits.push(i);
  });
  expect(hits).toHaveLength(1);
  return [hits[0]! % g.width, Math.floor(hits[0]! / g.width)];
}

describe("markers", () => {
  // The anatomical letter of each screen edge depends only on plane and convention.
  const table: Array<[Plane, Convention, [string, string, string, string]]> = [
    ["axial", "radiological", ["R", "L", "A", "P"]],
    ["axial", "neurological", ["L", "R", "A", "P"]],
    ["coronal", "radiological", ["R", "L", "S", "I"]],
    ["coronal", "neurological", ["L", "R", "S", "I"]],
    ["sagittal", "radiological", ["A", "P", "S", "I"]],
    ["sagittal", "neurological", ["A", "P", "S", "I"]],
  ];
  const affines: Array<[string, number[][] | undefined]> = [
    ["no affine", undefined],
    [
      "RAS",
      affineOf([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]),
    ],
    [
      "LPS",
      affineOf([
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ]),
    ],
    [
      "coronal-acquired RIP",
      affineOf([
        [0.9, 0, 0],
        [0, 0, -0.9],
        [0, -3, 0],
      ]),
    ],
  ];
  for (const [plane, convention, [left, right, top, bottom]] of table) {
    for (const [name, affine] of affines) {
      it(`${plane} ${convention} (${name}): left ${left}, right ${right}, top ${top}, bottom ${bottom}`, () => {
        const g = sliceGeometry(marked([4, 5, 6], [0, 0, 0], affine), plane, undefined, convention);
        expect(g.markers).toEqual({ left, right, top, bottom });
      });
    }
  }
  it("defaults to radiological", () => {
    expect(sliceGeometry(marked([4, 5, 6], [0, 0, 0]), "axial").markers.left).toBe("R");
  });
});

describe("orientation from the affine (nibabel io_orientation)", () => {
  // axis codes hand-derived from the column directions
  const table: Array<[string, number[][] | undefined, string]> = [
    ["no affine", undefined, "RAS"],
    [
      "identity",
      affineOf([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]),
      "RAS",
    ],
    [
      "LPS diag(-1,-1,1)",
      affineOf([
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ]),
      "LPS",
    ],
    [
      "coronal-acquired",
      affineOf([
        [0.9, 0, 0],
        [0, 0, -0.9],
        [0, -3, 0],
      ]),
      "RIP",
    ],
    [
      "sagittal-acquired",
      affineOf([
        [0, 1, 0],
        [0, 0, 1],
        [-1, 0, 0],
      ]),
      "ASL",
    ],
    [
      "anisotropic scaling only",
      affineOf([
        [5, 0, 0],
        [0, 0.1, 0],
        [0, 0, 2],
      ]),
      "RAS",
    ],
    [
      "rotated 30° about z",
      affineOf([
        [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6), 0],
        [-Math.sin(Math.PI / 6), Math.cos(Math.PI / 6), 0],
        [0, 0, 1],
      ]),
      "RAS",
    ],
    [
      "rotated 60° about z",
      affineOf([
        [Math.cos(Math.PI / 3), Math.sin(Math.PI / 3), 0],
        [-Math.sin(Math.PI / 3), Math.cos(Math.PI / 3), 0],
        [0, 0, 1],
      ]),
      "ALS",
    ],
  ];
  for (const [name, affine, codes] of table) {
    it(`${name} → ${codes}`, () => {
      expect(axisCodes(affine)).toBe(codes);
    });
  }

  it("agrees with @brats/nifti axcodes (nibabel-checked) on 2000 random affines, sheared and near-singular ones included", () => {
    let seed = 12345;
    const rand = (): number => {
      // LCG (Numerical Recipes); deterministic
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let n = 0; n < 2000; n++) {
      const cols = [0, 1, 2].map(() => [0, 1, 2].map(() => (rand() - 0.5) * 4));
      if (n % 10 === 0) cols[2] = cols[0]!.map((v, i) => v + 1e-9 * cols[1]![i]!); // nearly dependent
      const affine = affineOf(cols, [rand(), rand(), rand()]);
      expect(axisCodes(affine), JSON.stringify(affine)).toBe(axcodes(affine));
    }
  });

  it("a rank-deficient affine maps the lost axis nowhere ('?'), and worldAxes still gives every plane an axis", () => {
    const affine = affineOf([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    expect(voxelOrientation(affine)).toEqual([
      [0, 1],
      [1, 1],
      [NaN, NaN],
    ]);
    expect(axisCodes(affine)).toBe("RA?");
    expect(worldAxes(affine).map((w) => w.voxelAxis)).toEqual([0, 1, 2]);
  });

  it("rejects malformed and non-finite affines with a RangeError", () => {
    expect(() => axisCodes([[1, 0, 0]])).toThrow(RangeError);
    expect(() =>
      axisCodes(
        affineOf([
          [NaN, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ]),
      ),
    ).toThrow(RangeError);
    expect(() =>
      axisCodes(
        affineOf([
          [Infinity, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ]),
      ),
    ).toThrow(RangeError);
  });
});

describe("slice geometry", () => {
  it("axial of a RAS volume: size, spacing, default middle index", () => {
    const v: Volume = { ...marked([4, 5, 6], [0, 0, 0]), spacing: [1, 2, 3] };
    const g = sliceGeometry(v, "axial");
    expect([g.width, g.height, g.index, g.pixelSpacing, g.voxelAxes]).toEqual([
      4,
      5,
      3,
      [1, 2],
      [0, 1, 2],
    ]);
    expect(sliceCount(v, "axial")).toBe(6);
    expect(sliceCount(v, "coronal")).toBe(5);
    expect(sliceCount(v, "sagittal")).toBe(4);
    const c = sliceGeometry(v, "coronal", 0);
    expect([c.width, c.height, c.pixelSpacing]).toEqual([4, 6, [1, 3]]);
    const s = sliceGeometry(v, "sagittal", 0);
    expect([s.width, s.height, s.pixelSpacing]).toEqual([5, 6, [2, 3]]);
  });

  it("voxelOf maps screen pixels to flat voxel indices (RAS, axial radiological)", () => {
    // flat index = i + 4·j + 20·k; radiological axial: x = 3 − i, y = 4 − j
    const g = sliceGeometry(marked([4, 5, 6], [0, 0, 0]), "axial", 2);
    expect(g.voxelOf(0, 0)).toBe(3 + 4 * 4 + 20 * 2);
    expect(g.voxelOf(3, 4)).toBe(0 + 0 + 40);
    expect(g.voxelOf(1, 2)).toBe(2 + 4 * 2 + 40);
    expect(() => g.voxelOf(4, 0)).toThrow(RangeError);
    expect(() => g.voxelOf(0, -1)).toThrow(RangeError);
    expect(() => g.voxelOf(0.5, 0)).toThrow(RangeError);
  });

  it("spacing comes from volume.spacing, else the affine's column lengths, else 1", () => {
    const affine = affineOf([
      [0.9, 0, 0],
      [0, 0, -0.9],
      [0, -3, 0],
    ]);
    expect(voxelSpacing({ data: [0], shape: [1, 1, 1] })).toEqual([1, 1, 1]);
    expect(voxelSpacing({ data: [0], shape: [1, 1, 1], affine })).toEqual([0.9, 0.9, 3]);
    expect(voxelSpacing({ data: [0], shape: [1, 1, 1], affine, spacing: [2, 2, 2] })).toEqual([
      2, 2, 2,
    ]);
  });

  it("rejects bad planes, conventions, indices and shapes", () => {
    const v = marked([4, 5, 6], [0, 0, 0]);
    expect(() => sliceGeometry(v, "oblique" as Plane)).toThrow(RangeError);
    expect(() => sliceGeometry(v, "axial", 0, "upside-down" as Convention)).toThrow(RangeError);
    expect(() => sliceGeometry(v, "axial", 6)).toThrow(RangeError);
    expect(() => sliceGeometry(v, "axial", -1)).toThrow(RangeError);
    expect(() => sliceGeometry(v, "axial", 1.5)).toThrow(RangeError);
    expect(() => sliceGeometry({ data: new Float32Array(10), shape: [4, 5, 6] }, "axial")).toThrow(
      RangeError,
    );
    expect(() => sliceGeometry({ data: new Float32Array(10), shape: [0, 5, 6] }, "axial")).toThrow(
      RangeError,
    );
    expect(() => sliceGeometry({ data: new Float32Array(10), shape: [] }, "axial")).toThrow(
      RangeError,
    );
  });

  it("a 2D shape is one slice deep; a 4D volume shows its first 3D volume", () => {
    const flat: Volume = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [3, 2] };
    expect(sliceCount(flat, "axial")).toBe(1);
    // RAS axial radiological: x = 2 − i, y = 1 − j
    expect(Array.from(extractSlice(flat, sliceGeometry(flat, "axial")))).toEqual([
      6, 5, 4, 3, 2, 1,
    ]);
    const fourD: Volume = {
      data: Float32Array.from({ length: 16 }, (_, i) => i),
      shape: [2, 2, 2, 2],
    };
    const g = sliceGeometry(fourD, "axial", 1);
    expect(Array.from(extractSlice(fourD, g))).toEqual([7, 6, 5, 4]);
  });
});

describe("the same anatomy in RAS and LPS voxel order lands on the same screen pixels", () => {
  // Patient's left-anterior voxel at slice k = 1. In RAS order (x → right) the left end is i = 0
  // and the anterior end j = 4; LPS order flips i and j: (3, 0).
  const shape: [number, number, number] = [4, 5, 3];
  const ras = marked(
    shape,
    [0, 4, 1],
    affineOf(
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      [-1.5, -2, -1],
    ),
  );
  const lps = marked(
    shape,
    [3, 0, 1],
    affineOf(
      [
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ],
      [1.5, 2, -1],
    ),
  );
  const noAffine = { data: ras.data, shape: ras.shape };
  // [plane, convention, slice index in RAS, slice index in LPS, expected (x, y)], hand-derived:
  // axial rad: left-anterior → top right; neuro: top left. coronal (4 wide, 3 high): superior up,
  // k = 1 of 3 → y = 1. sagittal (5 wide): anterior on the left → x = 0.
  const table: Array<[Plane, Convention, number, number, [number, number]]> = [
    ["axial", "radiological", 1, 1, [3, 0]],
    ["axial", "neurological", 1, 1, [0, 0]],
    ["coronal", "radiological", 4, 0, [3, 1]],
    ["coronal", "neurological", 4, 0, [0, 1]],
    ["sagittal", "radiological", 0, 3, [0, 1]],
    ["sagittal", "neurological", 0, 3, [0, 1]],
  ];
  for (const [plane, convention, rasIndex, lpsIndex, xy] of table) {
    it(`${plane} ${convention} → (${xy.join(", ")})`, () => {
      expect(markedPixel(ras, plane, rasIndex, convention)).toEqual(xy);
      expect(markedPixel(lps, plane, lpsIndex, convention)).toEqual(xy);
      expect(markedPixel(noAffine, plane, rasIndex, convention)).toEqual(xy);
    });
  }
});

describe("permuted axes (coronal acquisition)", () => {
  // voxel i → R (0.9 mm), j → I (0.9 mm), k → P (3 mm slices): axis codes RIP
  const affine = affineOf([
    [0.9, 0, 0],
    [0, 0, -0.9],
    [0, -3, 0],
  ]);
  const volume = marked([4, 5, 6], [1, 2, 3], affine);
  it("planes take their normal from the affine", () => {
    expect([
      planeAxis(volume, "sagittal"),
      planeAxis(volume, "coronal"),
      planeAxis(volume, "axial"),
    ]).toEqual([0, 2, 1]);
  });
  // Hand-derived: radiological x runs to the patient's left, against i (→ R): x = 3 − i = 2.
  // Axial y runs to posterior, with k (→ P): y = k = 3. Coronal/sagittal y runs inferior, with j: y = j = 2.
  // Sagittal x runs posterior, with k: x = k = 3.
  const table: Array<[Plane, number, number, number, [number, number], [number, number]]> = [
    ["axial", 2, 4, 6, [0.9, 3], [2, 3]],
    ["coronal", 3, 4, 5, [0.9, 0.9], [2, 2]],
    ["sagittal", 1, 6, 5, [3, 0.9], [3, 2]],
  ];
  for (const [plane, index, width, height, spacing, xy] of table) {
    it(`${plane}: ${width}×${height} pixels of ${spacing.join("×")} mm, voxel at (${xy.join(", ")})`, () => {
      const g = sliceGeometry(volume, plane, index);
      expect([g.width, g.height, g.pixelSpacing]).toEqual([width, height, spacing]);
      expect(markedPixel(volume, plane, index, "radiological")).toEqual(xy);
    });
  }
});

const NORMAL: Record<Plane, number> = { sagittal: 0, coronal: 1, axial: 2 };

/**
 * Every plane and convention of `a` and `b` (the same anatomy in different voxel orders) show
 * the same pixels and markers; slice k of `a` is slice k of `b`, or n − 1 − k when their normal
 * axes run in opposite world directions.
 */
function expectSameSlices(a: Volume, b: Volume): void {
  for (const plane of PLANES) {
    const n = sliceCount(a, plane);
    expect(sliceCount(b, plane)).toBe(n);
    const sameWay =
      worldAxes(a.affine)[NORMAL[plane]]!.sign === worldAxes(b.affine)[NORMAL[plane]]!.sign;
    for (const convention of CONVENTIONS) {
      for (const ka of new Set([0, Math.floor(n / 3), n - 1])) {
        const ga = sliceGeometry(a, plane, ka, convention);
        const gb = sliceGeometry(b, plane, sameWay ? ka : n - 1 - ka, convention);
        expect([gb.width, gb.height, gb.markers]).toEqual([ga.width, ga.height, ga.markers]);
        // spacing from pixdim vs from a rewritten header: equal to float32 precision
        expect(gb.pixelSpacing[0]).toBeCloseTo(ga.pixelSpacing[0], 6);
        expect(gb.pixelSpacing[1]).toBeCloseTo(ga.pixelSpacing[1], 6);
        const sa = extractSlice(a, ga);
        const sb = extractSlice(b, gb);
        expect(
          sb.every((v, i) => v === sa[i]),
          `${plane} ${convention} slice ${ka}`,
        ).toBe(true);
      }
    }
  }
}

function volumeOf(image: NiftiImage): Volume {
  return {
    data: image.data as ArrayLike<number>,
    shape: image.shape,
    spacing: image.spacing,
    affine: image.affine,
  };
}

describe("agreement with @brats/nifti reorientation", () => {
  // A patterned RAS volume reoriented to other voxel orders must look identical on screen.
  const shape = [5, 6, 7];
  const data = Float32Array.from({ length: 5 * 6 * 7 }, (_, i) => i + 1);
  const ras = createImage({
    data,
    shape,
    spacing: [1, 2, 3],
    affine: affineOf(
      [
        [1, 0, 0],
        [0, 2, 0],
        [0, 0, 3],
      ],
      [-2, -5, -9],
    ),
  });
  for (const target of ["LPS", "RAS", "LAS", "PIR", "SLA", "IRP", "ASL"]) {
    it(`RAS data reoriented to ${target} shows the same slices`, () => {
      const moved = reorient(ras, target);
      expect(axisCodes(moved.affine)).toBe(target);
      expectSameSlices(volumeOf(ras), volumeOf(moved));
    });
  }
});

const FIXTURES = fileURLToPath(new URL("../../nifti/test-fixtures/nibabel/", import.meta.url));

describe("real affines (nibabel fixtures)", () => {
  // nibabel 5: nib.aff2axcodes(img.affine) and img.shape, printed with /usr/bin/python3
  const table: Array<[string, string, number[]]> = [
    ["anatomical.nii", "LAS", [33, 41, 25]],
    ["example4d.nii.gz", "LAS", [128, 96, 24, 2]], // oblique: rotated ≈9.3° about x
    ["reoriented_anat_moved.nii", "RAS", [21, 26, 22]],
  ];
  for (const [file, codes, shape] of table) {
    it(`${file}: axis codes ${codes}, markers, and the same pictures as its closest canonical (RAS) copy`, async () => {
      const image = await readNifti(FIXTURES + file);
      expect(image.shape).toEqual(shape);
      expect(axisCodes(image.affine)).toBe(codes);
      expect(axisCodes(image.affine)).toBe(axcodes(image.affine));
      const volume = volumeOf(image);
      // L?S codes: the axial normal is the S axis, the sagittal normal the L/R axis
      expect(planeAxis(volume, "axial")).toBe(codes.search(/[SI]/));
      expect(planeAxis(volume, "coronal")).toBe(codes.search(/[AP]/));
      expect(planeAxis(volume, "sagittal")).toBe(codes.search(/[LR]/));
      expect(sliceGeometry(volume, "axial").markers).toEqual({
        left: "R",
        right: "L",
        top: "A",
        bottom: "P",
      });
      expectSameSlices(volume, volumeOf(asClosestCanonical(image)));
    });
  }
});
