import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labelsToClasses } from "@brats/conventions";
import { createImage, readNifti, writeNifti, type NiftiHeader } from "@brats/nifti";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadedCase } from "./cases.js";
import { DataError } from "./errors.js";
import { generatePhantom } from "./phantom.js";
import { postprocessLabels, restoreSegmentation, segmentationImage } from "./postprocess.js";
import { connectedComponents } from "./morphology.js";
import type { Vec3 } from "./grid.js";
import { preprocessCase, type PreprocessRecord } from "./preprocess.js";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as DataError).code;
  }
  return undefined;
}

/** A mask of `shape` with the given [x, y, z] voxels set. */
function maskOf(shape: Vec3, voxels: Vec3[]): Uint8Array {
  const mask = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (const [x, y, z] of voxels) mask[x + shape[0] * (y + shape[1] * z)] = 1;
  return mask;
}

describe("connectedComponents", () => {
  // [name, shape, voxels, components for 6, 18, 26]
  const cases: Array<[string, Vec3, Vec3[], [number, number, number]]> = [
    ["empty", [3, 3, 3], [], [0, 0, 0]],
    ["one voxel", [3, 3, 3], [[1, 1, 1]], [1, 1, 1]],
    [
      "face neighbours",
      [3, 3, 3],
      [
        [0, 0, 0],
        [1, 0, 0],
        [1, 1, 0],
        [1, 1, 1],
      ],
      [1, 1, 1],
    ],
    [
      "edge neighbours (diagonal in a plane)",
      [3, 3, 3],
      [
        [0, 0, 0],
        [1, 1, 0],
      ],
      [2, 1, 1],
    ],
    [
      "edge neighbours in the yz plane",
      [3, 3, 3],
      [
        [2, 0, 1],
        [2, 1, 2],
      ],
      [2, 1, 1],
    ],
    [
      "corner neighbours",
      [3, 3, 3],
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
      [2, 2, 1],
    ],
    [
      "ends of consecutive rows are not neighbours (no wrap along x)",
      [3, 2, 1],
      [
        [2, 0, 0],
        [0, 1, 0],
      ],
      [2, 2, 2],
    ],
    [
      "last and first slice voxels are not neighbours (no wrap along y)",
      [2, 3, 2],
      [
        [0, 2, 0],
        [0, 0, 1],
      ],
      [2, 2, 2],
    ],
    [
      "a corner chain of three",
      [4, 4, 4],
      [
        [0, 0, 0],
        [1, 1, 1],
        [2, 2, 2],
        [3, 0, 3],
      ],
      [4, 4, 2],
    ],
  ];
  it.each(cases)("%s", (_, shape, voxels, expected) => {
    const mask = maskOf(shape, voxels);
    ([6, 18, 26] as const).forEach((connectivity, i) => {
      const { labels, sizes } = connectedComponents(mask, shape, connectivity);
      expect(sizes.length).toBe(expected[i]);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(voxels.length);
      for (let v = 0; v < mask.length; v++) {
        expect(labels[v]! === 0).toBe(mask[v] === 0);
      }
    });
  });

  it("numbers components in voxel order and counts their sizes", () => {
    // x-fastest [4, 1, 1]: 1 1 0 1
    const { labels, sizes } = connectedComponents(Uint8Array.from([1, 1, 0, 1]), [4, 1, 1], 6);
    expect(Array.from(labels)).toEqual([1, 1, 0, 2]);
    expect(sizes).toEqual([2, 1]);
    // Any nonzero value is foreground; the default connectivity is 26.
    const corner = maskOf(
      [2, 2, 2],
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
    );
    corner[7] = 9;
    expect(connectedComponents(corner, [2, 2, 2]).sizes).toEqual([2]);
  });

  it("is iterative: one component of a whole 64³ volume does not overflow the stack", () => {
    const { labels, sizes } = connectedComponents(new Uint8Array(64 ** 3).fill(1), [64, 64, 64], 6);
    expect(sizes).toEqual([64 ** 3]);
    expect(labels[64 ** 3 - 1]).toBe(1);
  });

  const scipy = existsSync("/usr/bin/python3");
  it.skipIf(!scipy)("labels a random mask exactly as scipy.ndimage.label does (6, 18, 26)", () => {
    const shape: Vec3 = [23, 17, 11];
    const mask = new Uint8Array(shape[0] * shape[1] * shape[2]);
    let s = 12345;
    for (let i = 0; i < mask.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      mask[i] = s >>> 16 < 0x5800 ? 1 : 0; // about 34 % foreground: many components
    }
    for (const [connectivity, rank] of [
      [6, 1],
      [18, 2],
      [26, 3],
    ] as const) {
      // x-fastest bytes are C order (z, y, x) for numpy.
      const script = `
import sys, numpy as np
from scipy import ndimage
m = np.frombuffer(sys.stdin.buffer.read(), dtype=np.uint8).reshape(${shape[2]}, ${shape[1]}, ${shape[0]})
lab, n = ndimage.label(m, structure=ndimage.generate_binary_structure(3, ${rank}))
sys.stdout.buffer.write(lab.astype('<i4').tobytes())`;
      const run = spawnSync("/usr/bin/python3", ["-c", script], { input: mask });
      expect(run.status, run.stderr.toString()).toBe(0);
      const theirs = new Int32Array(new Uint8Array(run.stdout).buffer);
      const ours = connectedComponents(mask, shape, connectivity).labels;
      // The same labels: scipy numbers components in C order of first voxel, which over numpy's
      // (z, y, x) array is our x-fastest voxel order.
      expect(Array.from(ours)).toEqual(Array.from(theirs));
      expect(Math.max(...ours)).toBeGreaterThan(connectivity === 26 ? 1 : 5);
    }
  });

  it.each([
    ["a short mask", () => connectedComponents(new Uint8Array(7), [2, 2, 2]), "GEOMETRY_MISMATCH"],
    [
      "a non-integer shape",
      () => connectedComponents(new Uint8Array(8), [2, 2, 2.5] as Vec3),
      "GEOMETRY_MISMATCH",
    ],
    [
      "a Float32Array",
      () => connectedComponents(new Float32Array(8) as unknown as Uint8Array, [2, 2, 2]),
      "GEOMETRY_MISMATCH",
    ],
    [
      "connectivity 8",
      () => connectedComponents(new Uint8Array(8), [2, 2, 2], 8 as 6),
      "BAD_OPTION",
    ],
  ])("rejects %s", (_, fn, expected) => {
    expect(code(fn)).toBe(expected);
  });
});

describe("postprocessLabels", () => {
  // x-fastest [8, 1, 1] rows: one component of 5 voxels (with 2 ET) and a lone ET voxel at x = 7.
  const row = Uint8Array.from([2, 1, 4, 4, 2, 0, 0, 4]);
  const shape: Vec3 = [8, 1, 1];
  const cases: Array<[string, Parameters<typeof postprocessLabels>[2], number[]]> = [
    ["defaults: unchanged", {}, [2, 1, 4, 4, 2, 0, 0, 4]],
    ["ET threshold 4 (3 ET voxels): ET → NCR", { enhancingThreshold: 4 }, [2, 1, 1, 1, 2, 0, 0, 1]],
    ["ET threshold 3: not below, unchanged", { enhancingThreshold: 3 }, [2, 1, 4, 4, 2, 0, 0, 4]],
    ["components below 2 voxels removed", { minComponentSize: 2 }, [2, 1, 4, 4, 2, 0, 0, 0]],
    ["components below 5 voxels removed", { minComponentSize: 5 }, [2, 1, 4, 4, 2, 0, 0, 0]],
    ["components below 6 voxels: all removed", { minComponentSize: 6 }, [0, 0, 0, 0, 0, 0, 0, 0]],
    [
      "removal first, then the ET count (2 left < 3)",
      { minComponentSize: 2, enhancingThreshold: 3 },
      [2, 1, 1, 1, 2, 0, 0, 0],
    ],
  ];
  it.each(cases)("%s", (_, opts, expected) => {
    const out = postprocessLabels(row, shape, opts);
    expect(Array.from(out)).toEqual(expected);
    expect(out).not.toBe(row);
    expect(Array.from(row)).toEqual([2, 1, 4, 4, 2, 0, 0, 4]); // input untouched
  });

  it("leaves a case without ET alone", () => {
    const labels = Uint8Array.from([0, 1, 2, 2]);
    expect(Array.from(postprocessLabels(labels, [4, 1, 1], { enhancingThreshold: 200 }))).toEqual([
      0, 1, 2, 2,
    ]);
  });

  it("uses the convention's labels (brats2023: ET 3; brats2015: 3 is core and stays)", () => {
    const labels2023 = Uint8Array.from([3, 3, 1, 2]);
    expect(
      Array.from(
        postprocessLabels(labels2023, [4, 1, 1], {
          convention: "brats2023",
          enhancingThreshold: 5,
        }),
      ),
    ).toEqual([1, 1, 1, 2]);
    const labels2015 = Uint8Array.from([3, 4, 1, 2]);
    expect(
      Array.from(
        postprocessLabels(labels2015, [4, 1, 1], {
          convention: "brats2015",
          enhancingThreshold: 5,
        }),
      ),
    ).toEqual([3, 1, 1, 2]);
  });

  it("counts components with the given connectivity", () => {
    // [2, 2, 1]: two voxels on a diagonal: two components with 6, one with 18/26.
    const labels = Uint8Array.from([2, 0, 0, 2]);
    expect(
      Array.from(postprocessLabels(labels, [2, 2, 1], { minComponentSize: 2, connectivity: 6 })),
    ).toEqual([0, 0, 0, 0]);
    expect(
      Array.from(postprocessLabels(labels, [2, 2, 1], { minComponentSize: 2, connectivity: 18 })),
    ).toEqual([2, 0, 0, 2]);
  });

  it.each([
    ["label 3 under brats2021", Uint8Array.from([0, 3]), {}, "BAD_LABELS"],
    ["label 4 under brats2023", Uint8Array.from([0, 4]), { convention: "brats2023" }, "BAD_LABELS"],
    ["an unknown convention", Uint8Array.from([0, 1]), { convention: "brats2019" }, "BAD_OPTION"],
    ["a negative threshold", Uint8Array.from([0, 1]), { enhancingThreshold: -1 }, "BAD_OPTION"],
    ["a NaN component size", Uint8Array.from([0, 1]), { minComponentSize: NaN }, "BAD_OPTION"],
    ["connectivity 4", Uint8Array.from([0, 1]), { connectivity: 4 }, "BAD_OPTION"],
    ["the wrong length", Uint8Array.from([0, 1, 2]), {}, "GEOMETRY_MISMATCH"],
  ])("rejects %s", (_, labels, opts, expected) => {
    expect(code(() => postprocessLabels(labels, [2, 1, 1], opts as never))).toBe(expected);
  });
});

/** A case with RAS 1 mm geometry whose preprocessing changes nothing but the (absent) crop. */
function identityRecord(shape: Vec3): PreprocessRecord {
  const voxels = shape[0] * shape[1] * shape[2];
  const c: LoadedCase = {
    id: "identity",
    channels: [new Float32Array(voxels).fill(1)],
    modalities: ["flair"],
    seg: null,
    shape,
    spacing: [1, 1, 1],
    affine: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ],
  };
  return preprocessCase(c, { crop: false, normalize: false }).record;
}

describe("restoreSegmentation decisions", () => {
  const record = identityRecord([6, 1, 1]);

  it("regions: ET > t → 4, else TC > t → 1, else WT > t → 2, else 0", () => {
    // channels-last [voxel][WT, TC, ET]
    const p = Float32Array.from([
      ...[0.6, 0.4, 0.7], // ET wins even over a low TC
      ...[0.2, 0.2, 0.9], // ET without WT still ET (nested rule, as nnU-Net)
      ...[0.6, 0.6, 0.2], // NCR
      ...[0.6, 0.2, 0.2], // ED
      ...[0.4, 0.2, 0.2], // background
      ...[0.5, 0.5, 0.5], // strictly greater: background
    ]);
    expect(Array.from(restoreSegmentation(p, record, { outputs: "regions" }))).toEqual([
      4, 4, 1, 2, 0, 0,
    ]);
    expect(
      Array.from(restoreSegmentation(p, record, { outputs: "regions", regionThreshold: 0.3 })),
    ).toEqual([4, 4, 1, 2, 2, 4]);
    expect(
      Array.from(restoreSegmentation(p, record, { outputs: "regions", convention: "brats2023" })),
    ).toEqual([3, 3, 1, 2, 0, 0]);
  });

  it("classes: argmax, the first maximum on ties, labels of the convention", () => {
    const p = Float32Array.from([
      ...[0.7, 0.1, 0.1, 0.1],
      ...[0.1, 0.7, 0.1, 0.1],
      ...[0.1, 0.1, 0.7, 0.1],
      ...[0.1, 0.1, 0.1, 0.7],
      ...[0.25, 0.25, 0.25, 0.25],
      ...[0, 0.4, 0, 0.4],
    ]);
    expect(Array.from(restoreSegmentation(p, record))).toEqual([0, 1, 2, 4, 0, 1]);
    expect(Array.from(restoreSegmentation(p, record, { convention: "brats2023" }))).toEqual([
      0, 1, 2, 3, 0, 1,
    ]);
  });

  it.each([
    ["3 channels for classes", new Float32Array(18), {}, "GEOMETRY_MISMATCH"],
    ["4 channels for regions", new Float32Array(24), { outputs: "regions" }, "GEOMETRY_MISMATCH"],
    ["a Float64Array", new Float64Array(24), {}, "GEOMETRY_MISMATCH"],
    ["unknown outputs", new Float32Array(24), { outputs: "logits" }, "BAD_OPTION"],
    [
      "a threshold above 1",
      new Float32Array(18),
      { outputs: "regions", regionThreshold: 2 },
      "BAD_OPTION",
    ],
    ["an unknown convention", new Float32Array(24), { convention: "brats" }, "BAD_OPTION"],
  ])("rejects %s", (_, p, opts, expected) => {
    expect(code(() => restoreSegmentation(p as Float32Array, record, opts as never))).toBe(
      expected,
    );
  });

  it("rejects something that is not a record", () => {
    const p = new Float32Array(24);
    expect(code(() => restoreSegmentation(p, {} as PreprocessRecord))).toBe("BAD_OPTION");
    expect(code(() => restoreSegmentation(p, null as unknown as PreprocessRecord))).toBe(
      "BAD_OPTION",
    );
    const broken = { ...record, crop: { ...record.crop, end: [9, 1, 1] } } as PreprocessRecord;
    expect(code(() => restoreSegmentation(p, broken))).toBe("BAD_OPTION");
  });
});

/** One-hot class probabilities, channels-last, of the classes of a preprocessed seg. */
function oneHot(classes: Uint8Array): Float32Array {
  const p = new Float32Array(classes.length * 4);
  for (let v = 0; v < classes.length; v++) p[v * 4 + classes[v]!] = 1;
  return p;
}

/** Region probabilities WT, TC, ET (0/1), channels-last, of classes 0..3. */
function regionHot(classes: Uint8Array): Float32Array {
  const p = new Float32Array(classes.length * 3);
  for (let v = 0; v < classes.length; v++) {
    const c = classes[v]!;
    p[v * 3] = c === 0 ? 0 : 1;
    p[v * 3 + 1] = c === 1 || c === 3 ? 1 : 0;
    p[v * 3 + 2] = c === 3 ? 1 : 0;
  }
  return p;
}

function dice(a: Uint8Array, b: Uint8Array, inRegion: (v: number) => boolean): number {
  let inter = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const p = inRegion(a[i]!);
    const t = inRegion(b[i]!);
    if (p && t) inter++;
    sum += Number(p) + Number(t);
  }
  return sum === 0 ? 1 : (2 * inter) / sum;
}

describe("restoreSegmentation geometry (synthetic)", () => {
  // [name, affine transform of the phantom's voxel axes, spacing]
  const permuted = (s: number): number[][] => [
    [0, 0, -s, 40],
    [s, 0, 0, -20],
    [0, -s, 0, 30],
    [0, 0, 0, 1],
  ];
  const cases: Array<[string, (s: number) => number[][] | null, number]> = [
    ["BraTS-like LPS, 1 mm", () => null, 1],
    ["axes permuted and flipped (codes PIL), 1 mm", permuted, 1],
    ["BraTS-like LPS, 1.5 mm (resampled to 1 mm)", () => null, 1.5],
    ["axes permuted and flipped, 1.5 mm", permuted, 1.5],
  ];
  it.each(cases)("%s: one-hot of the preprocessed seg comes back", (_, affineOf, s) => {
    const phantom = generatePhantom({ shape: [30, 26, 22], seed: 3, spacing: [s, s, s] });
    const c: LoadedCase = { ...phantom, affine: affineOf(s) ?? phantom.affine };
    const { case: prepared, record } = preprocessCase(c);
    expect(record.resampling === null).toBe(s === 1);
    const classes = labelsToClasses(prepared.seg!);
    for (const [outputs, probabilities] of [
      ["classes", oneHot(classes)],
      ["regions", regionHot(classes)],
    ] as const) {
      const restored = restoreSegmentation(probabilities, record, { outputs });
      expect(restored.length).toBe(phantom.seg.length);
      if (s === 1) {
        // No resampling: exactly the original labels.
        expect(Array.from(restored)).toEqual(Array.from(phantom.seg));
      } else {
        // Nearest there, trilinear back: the regions keep their place, only borders move
        // (measured for this phantom: Dice WT 0.995, TC 0.992, ET 0.991, 99.97 % of voxels equal).
        expect(dice(restored, phantom.seg, (v) => v !== 0)).toBeGreaterThan(0.98);
        expect(dice(restored, phantom.seg, (v) => v === 1 || v === 4)).toBeGreaterThan(0.98);
        expect(dice(restored, phantom.seg, (v) => v === 4)).toBeGreaterThan(0.98);
        // Far from the tumour stays background: no label outside the dilated seg bounding box.
        expect(restored.some((v, i) => v !== 0 && phantom.seg[i] === 0 && !nearTumour(i))).toBe(
          false,
        );
      }
    }
    function nearTumour(i: number): boolean {
      const [nx, ny, nz] = phantom.shape;
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / (nx * ny));
      for (let dz = -1; dz <= 1; dz++)
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const [a, b, cz] = [x + dx, y + dy, z + dz];
            if (a < 0 || b < 0 || cz < 0 || a >= nx || b >= ny || cz >= nz) continue;
            if (phantom.seg[a + nx * (b + ny * cz)] !== 0) return true;
          }
      return false;
    }
  });
});

describe("segmentationImage", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-seg-image-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** An int16 image with distinct sform and qform (codes 2 and 1), units, scaling and an extension. */
  function reference(): NiftiHeader {
    const image = createImage({
      data: new Int16Array(5 * 4 * 3),
      shape: [5, 4, 3],
      spacing: [1.5, 2, 2.5],
      affine: [
        [0, 0, -2.5, 40],
        [1.5, 0, 0, -20],
        [0, -2, 0, 30],
        [0, 0, 0, 1],
      ],
      sclSlope: 2,
      sclInter: -7,
      xyztUnits: 2,
      extensions: [{ code: 6, data: new TextEncoder().encode("comment\0") }],
      description: "flair",
    });
    return {
      ...image.header,
      sformCode: 2,
      // a qform slightly off the sform, to see that both are kept as they are
      qoffsetX: 41,
      calMax: 900,
      calMin: 3,
    };
  }

  it("keeps the reference's grid and geometry fields; uint8, no scaling, cal 0..4", async () => {
    const ref = reference();
    const labels = Uint8Array.from({ length: 60 }, (_, i) => [0, 1, 2, 4][i % 4]!);
    const image = segmentationImage(labels, ref);
    expect(image.shape).toEqual([5, 4, 3]);
    expect(image.datatype).toBe("uint8");
    expect(Array.from(image.data as Uint8Array)).toEqual(Array.from(labels));
    const path = join(dir, "seg.nii.gz");
    await writeNifti(image, path);
    const back = await readNifti(path);
    const h = back.header;
    expect(h.dim).toEqual([3, 5, 4, 3, 1, 1, 1, 1]);
    expect(h.pixdim.slice(0, 4)).toEqual(ref.pixdim.slice(0, 4));
    expect(h.datatype).toBe(2);
    expect([h.sclSlope, h.sclInter, h.calMin, h.calMax]).toEqual([1, 0, 0, 4]);
    expect(h.xyztUnits).toBe(2);
    expect([h.qformCode, h.sformCode]).toEqual([1, 2]);
    for (const key of [
      "quaternB",
      "quaternC",
      "quaternD",
      "qoffsetX",
      "qoffsetY",
      "qoffsetZ",
    ] as const) {
      expect(h[key]).toBeCloseTo(ref[key], 6);
    }
    expect([h.srowX, h.srowY, h.srowZ]).toEqual([ref.srowX, ref.srowY, ref.srowZ]);
    expect(back.affine).toEqual(image.affine);
    expect(h.extensions).toEqual([]);
    expect(Array.from(back.data as Uint8Array)).toEqual(Array.from(labels));
  });

  it("accepts a NiftiImage and a single-frame 4-D reference", () => {
    const ref = reference();
    const fromImage = segmentationImage(new Uint8Array(60), {
      header: ref,
      shape: [5, 4, 3],
      datatype: "int16",
      data: null,
      spacing: [1.5, 2, 2.5],
      affine: [],
    });
    expect(fromImage.shape).toEqual([5, 4, 3]);
    const fourD = segmentationImage(new Uint8Array(60), {
      ...ref,
      dim: [4, 5, 4, 3, 1, 1, 1, 1],
    });
    expect(fourD.header.dim).toEqual([3, 5, 4, 3, 1, 1, 1, 1]);
  });

  it.each([
    ["labels of the wrong length", new Uint8Array(59), {}, "GEOMETRY_MISMATCH"],
    [
      "a reference with 2 frames",
      new Uint8Array(60),
      { dim: [4, 5, 4, 3, 2, 1, 1, 1] },
      "GEOMETRY_MISMATCH",
    ],
    ["a 2-D reference", new Uint8Array(20), { dim: [2, 5, 4, 1, 1, 1, 1, 1] }, "GEOMETRY_MISMATCH"],
    ["not a header", new Uint8Array(60), { dim: undefined }, "BAD_OPTION"],
  ])("rejects %s", (_, labels, change, expected) => {
    const ref = { ...reference(), ...change } as NiftiHeader;
    expect(code(() => segmentationImage(labels, ref))).toBe(expected);
  });
});
