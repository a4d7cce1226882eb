import { asClosestCanonical, axcodes, createImage } from "@brats/nifti";
import { describe, expect, it } from "vitest";
import type { LoadedCase } from "./cases.js";
import type { Vec3 } from "./grid.js";
import { preprocessCase, type PreprocessRecord } from "./preprocess.js";
import { undoPreprocess } from "./preprocess-undo.js";

const LETTERS: Record<string, [number, number]> = {
  L: [0, -1],
  R: [0, 1],
  P: [1, -1],
  A: [1, 1],
  I: [2, -1],
  S: [2, 1],
};

/** An affine whose voxel axis i runs along world direction codes[i] with spacing[i] mm. */
function affineFor(
  codes: string,
  spacing: Vec3 = [1, 1, 1],
  origin: Vec3 = [5, -7, 3],
): number[][] {
  const affine = [
    [0, 0, 0, origin[0]],
    [0, 0, 0, origin[1]],
    [0, 0, 0, origin[2]],
    [0, 0, 0, 1],
  ];
  [...codes].forEach((letter, i) => {
    const [axis, sign] = LETTERS[letter]!;
    affine[axis]![i] = sign * spacing[i]!;
  });
  return affine;
}

function apply(affine: number[][], p: readonly number[]): Vec3 {
  return [0, 1, 2].map(
    (r) =>
      affine[r]![0]! * p[0]! + affine[r]![1]! * p[1]! + affine[r]![2]! * p[2]! + affine[r]![3]!,
  ) as Vec3;
}

function forEachVoxel(shape: Vec3, fn: (x: number, y: number, z: number, i: number) => void): void {
  let i = 0;
  for (let z = 0; z < shape[2]; z++)
    for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[0]; x++) fn(x, y, z, i++);
}

/** A smooth value of the world position, distinct for each voxel of the small test grids. */
const worldValue = (w: Vec3) => 5000 + w[0] + 31 * w[1] + 997 * w[2];

/**
 * A two-channel case whose "brain" is an axis-aligned box of voxels (one voxel in from every
 * face, so cropping has something to cut), channel values a function of world position
 * (channel 1 shifted), and labels 1, 2, 4 inside the brain.
 */
function worldCase(shape: Vec3, affine: number[][], brainAll = false): LoadedCase {
  const n = shape[0] * shape[1] * shape[2];
  const c0 = new Float32Array(n);
  const c1 = new Float32Array(n);
  const seg = new Uint8Array(n);
  forEachVoxel(shape, (x, y, z, i) => {
    const inBrain =
      brainAll ||
      (x >= 1 && x < shape[0] - 1 && y >= 2 && y < shape[1] - 1 && z >= 1 && z < shape[2] - 1);
    if (!inBrain) return;
    const v = worldValue(apply(affine, [x, y, z]));
    c0[i] = v;
    c1[i] = v + 20_000;
    seg[i] = [0, 1, 2, 4][(x + 2 * y + 3 * z) % 4]!;
  });
  return {
    id: "test",
    channels: [c0, c1],
    modalities: ["flair", "t1"],
    seg,
    shape: [...shape],
    spacing: [1, 1, 1],
    affine,
  };
}

const RAW = { normalize: false } as const;

describe("preprocessCase reorientation", () => {
  it.each([
    ["RAS", [7, 8, 6]],
    ["LPS", [7, 8, 6]],
    ["PIR", [8, 6, 7]],
    ["ASL", [5, 9, 6]],
    ["ILA", [6, 7, 8]],
  ] as Array<[string, Vec3]>)(
    "%s: voxels keep their world position and undo restores labels exactly",
    (codes, shape) => {
      const affine = affineFor(codes);
      const c = worldCase(shape, affine);
      expect(axcodes(affine)).toBe(codes);
      const { case: out, record } = preprocessCase(c, { ...RAW, margin: 0 });
      expect(axcodes(out.affine)).toBe("RAS");
      expect(record.resampling).toBeNull();
      expect(record.original.axcodes).toBe(codes);
      // the brain box is the input grid minus its border, permuted to RAS
      const brainSize: Vec3 = [shape[0] - 2, shape[1] - 3, shape[2] - 2];
      const expectedShape: Vec3 = [0, 0, 0];
      [...codes].forEach((letter, i) => (expectedShape[LETTERS[letter]![0]] = brainSize[i]!));
      expect(out.shape).toEqual(expectedShape);
      // every voxel holds the value of its world position: no voxel moved
      forEachVoxel(out.shape, (x, y, z, i) => {
        expect(out.channels[0]![i]).toBe(worldValue(apply(out.affine, [x, y, z])));
        expect(out.channels[1]![i]).toBe(worldValue(apply(out.affine, [x, y, z])) + 20_000);
      });
      // undo: labels, and both channels as probabilities, come back exactly; geometry is the original's
      const back = undoPreprocess({ data: out.seg! }, record, "labels");
      expect(back.shape).toEqual(shape);
      expect(back.affine).toEqual(affine);
      expect(back.data).toEqual(c.seg);
      const planar = new Float32Array(2 * out.channels[0]!.length);
      planar.set(out.channels[0]!);
      planar.set(out.channels[1]!, out.channels[0]!.length);
      const probs = undoPreprocess({ data: planar, channels: 2 }, record, "probabilities");
      expect(probs.data.subarray(0, c.channels[0]!.length)).toEqual(c.channels[0]);
      expect(probs.data.subarray(c.channels[0]!.length)).toEqual(c.channels[1]);
    },
  );

  it("matches @brats/nifti's asClosestCanonical voxel for voxel", () => {
    for (const codes of ["LPS", "PIR", "SAL", "RAI"]) {
      const shape: Vec3 = [5, 6, 7];
      const affine = affineFor(codes, [1, 2, 3]);
      const c = worldCase(shape, affine);
      const { case: out } = preprocessCase(c, { ...RAW, crop: false, spacing: null });
      const image = createImage({ data: c.channels[0]!, shape: [...shape], affine });
      const canonical = asClosestCanonical(image);
      expect(out.shape).toEqual(canonical.shape);
      expect(out.channels[0]).toEqual(canonical.data);
      // the image stores its affine as float32; these integer affines are exact in float32
      expect(out.affine).toEqual(canonical.affine);
    }
  });

  it("reorients an oblique scan (15° about z) to its closest canonical axes", () => {
    const t = (15 * Math.PI) / 180;
    const affine = [
      [-Math.cos(t), Math.sin(t), 0, 10],
      [-Math.sin(t), -Math.cos(t), 0, 20],
      [0, 0, 1, -5],
      [0, 0, 0, 1],
    ];
    const shape: Vec3 = [6, 7, 5];
    const c = worldCase(shape, affine);
    expect(axcodes(affine)).toBe("LPS");
    const { case: out, record } = preprocessCase(c, { ...RAW, margin: 1 });
    expect(axcodes(out.affine)).toBe("RAS");
    forEachVoxel(out.shape, (x, y, z, i) => {
      const v = out.channels[0]![i]!;
      if (v !== 0) expect(v).toBeCloseTo(worldValue(apply(out.affine, [x, y, z])), 2);
    });
    expect(undoPreprocess({ data: out.seg! }, record, "labels").data).toEqual(c.seg);
  });

  it("keeps the orientation with canonical: false", () => {
    const affine = affineFor("LPS");
    const c = worldCase([6, 6, 6], affine);
    const { case: out, record } = preprocessCase(c, { ...RAW, canonical: false, crop: false });
    expect(axcodes(out.affine)).toBe("LPS");
    expect(out.channels[0]).toEqual(c.channels[0]);
    expect(out.channels[0]).not.toBe(c.channels[0]); // a copy, not the caller's array
    expect(record.reorientation.ornt).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
  });
});

describe("preprocessCase resampling", () => {
  it("interpolates a 2³ grid of 2 mm voxels trilinearly onto 1 mm (hand-computed values)", () => {
    // f = 1 + x + 2y + 4z + 8xyz is multilinear, so trilinear interpolation reproduces it exactly
    const f = (x: number, y: number, z: number) => 1 + x + 2 * y + 4 * z + 8 * x * y * z;
    const channel = new Float32Array(8);
    forEachVoxel([2, 2, 2], (x, y, z, i) => (channel[i] = f(x, y, z)));
    expect(Array.from(channel)).toEqual([1, 2, 3, 4, 5, 6, 7, 16]);
    const seg = Uint8Array.from([0, 1, 2, 4, 1, 2, 4, 0]);
    const c: LoadedCase = {
      id: "iso2",
      channels: [channel],
      modalities: ["t1"],
      seg,
      shape: [2, 2, 2],
      spacing: [2, 2, 2],
      affine: affineFor("RAS", [2, 2, 2], [0, 0, 0]),
    };
    const { case: out, record } = preprocessCase(c, { ...RAW, crop: false });
    expect(out.shape).toEqual([4, 4, 4]);
    expect(out.spacing).toEqual([1, 1, 1]);
    // grids share their centre: new voxel i sits at old coordinate −0.25 + 0.5 i
    expect(record.resampling!.factors).toEqual([0.5, 0.5, 0.5]);
    expect(record.resampling!.offsets).toEqual([-0.25, -0.25, -0.25]);
    expect(out.affine).toEqual([
      [1, 0, 0, -0.5],
      [0, 1, 0, -0.5],
      [0, 0, 1, -0.5],
      [0, 0, 0, 1],
    ]);
    const at = (x: number, y: number, z: number) => out.channels[0]![x + 4 * (y + 4 * z)]!;
    // old coordinates (clamped to [0, 1]): (0,0,0) → 1; (1,1,1) → 16
    expect(at(0, 0, 0)).toBe(1);
    expect(at(3, 3, 3)).toBe(16);
    // (0.25, 0.75, 0.25): 1 + 0.25 + 1.5 + 1 + 8·0.046875 = 4.125
    expect(at(1, 2, 1)).toBeCloseTo(4.125, 6);
    // (0.75, 0.25, 1): 1 + 0.75 + 0.5 + 4 + 8·0.1875 = 7.75
    expect(at(2, 1, 3)).toBeCloseTo(7.75, 6);
    // (0.75, 0.75, 0.75): 1 + 0.75 + 1.5 + 3 + 8·0.421875 = 9.625
    expect(at(2, 2, 2)).toBeCloseTo(9.625, 6);
    // labels: nearest, each old voxel becomes a 2³ block; undo picks it back exactly
    forEachVoxel([4, 4, 4], (x, y, z, i) => {
      expect(out.seg![i]).toBe(seg[(x >> 1) + 2 * ((y >> 1) + 2 * (z >> 1))]);
    });
    const back = undoPreprocess({ data: out.seg! }, record, "labels");
    expect(back.data).toEqual(seg);
    expect(back.shape).toEqual([2, 2, 2]);
    expect(back.affine).toEqual(c.affine);
  });

  it("resamples 3 mm slices to 1 mm along z only (hand-computed), in an LPS scan", () => {
    const shape: Vec3 = [4, 3, 4];
    const affine = affineFor("LPS", [1, 1, 3], [0, 0, 0]);
    const channel = new Float32Array(48);
    const seg = new Uint8Array(48);
    forEachVoxel(shape, (x, y, z, i) => {
      channel[i] = 10 + 5 * z + 100 * x + 1000 * y;
      seg[i] = [1, 2, 4, 0][(x + y + z) % 4]!;
    });
    const c: LoadedCase = {
      id: "aniso",
      channels: [channel],
      modalities: ["t2"],
      seg,
      shape,
      spacing: [1, 1, 3],
      affine,
    };
    const { case: out, record } = preprocessCase(c, RAW);
    expect(out.shape).toEqual([4, 3, 12]);
    expect(out.spacing).toEqual([1, 1, 1]);
    expect(record.resampling!.factors).toEqual([1, 1, 1 / 3]);
    // z coordinate of new slice k: 1.5 + (k − 5.5)/3, clamped to [0, 3]
    const zValues = [10, 10, 35 / 3, 40 / 3, 15, 50 / 3, 55 / 3, 20, 65 / 3, 70 / 3, 25, 25];
    // RAS x runs against LPS x: canonical x = 3 − x_lps, same for y
    forEachVoxel(out.shape, (x, y, z, i) => {
      const expected = zValues[z]! + 100 * (3 - x) + 1000 * (2 - y);
      expect(out.channels[0]![i]).toBeCloseTo(expected, 3);
    });
    // world position of new voxel k along z: 3 · (1.5 + (k − 5.5)/3) = k − 1
    apply(out.affine, [0, 0, 0]).forEach((v, a) => expect(v).toBeCloseTo([-3, -2, -1][a]!, 12));
    apply(out.affine, [3, 2, 11]).forEach((v, a) => expect(v).toBeCloseTo([0, 0, 10][a]!, 12));
    // labels: each slice becomes three slices; its middle one maps back to it
    const back = undoPreprocess({ data: out.seg! }, record, "labels");
    expect(back.data).toEqual(seg);
    expect(back.affine).toEqual(affine);
    expect(back.shape).toEqual(shape);
    // probabilities: trilinear back lands exactly on the old slice centres
    const probs = undoPreprocess({ data: out.channels[0]! }, record, "probabilities");
    for (let i = 0; i < 48; i++) expect(probs.data[i]).toBeCloseTo(channel[i]!, 3);
  });

  it("maps resampled label voxels to the original voxel that contains them (PIR, [1, 2, 3] mm)", () => {
    const shape: Vec3 = [7, 5, 4];
    const affine = affineFor("PIR", [1, 2, 3]);
    const c = worldCase(shape, affine, true);
    const { case: out, record } = preprocessCase(c, { ...RAW, crop: false });
    expect(out.spacing).toEqual([1, 1, 1]);
    // canonical axes: x ← R (old axis 2, 3 mm), y ← P (old 0, 1 mm), z ← I (old 1, 2 mm)
    expect(out.shape).toEqual([12, 7, 10]);
    const inverse = invert(affine);
    forEachVoxel(out.shape, (x, y, z, i) => {
      const p = apply(inverse, apply(out.affine, [x, y, z])).map((v, a) =>
        Math.min(shape[a]! - 1, Math.max(0, Math.round(v))),
      );
      expect(out.seg![i]).toBe(c.seg![p[0]! + shape[0] * (p[1]! + shape[1] * p[2]!)]);
    });
    const back = undoPreprocess({ data: out.seg! }, record, "labels");
    expect(back.data).toEqual(c.seg);
    expect(back.affine).toEqual(affine);
  });

  it("does not resample spacings within the tolerance", () => {
    const affine = affineFor("RAS", [1.0004, 1, 0.9996]);
    const c = worldCase([5, 5, 5], affine);
    const { record } = preprocessCase(c, RAW);
    expect(record.resampling).toBeNull();
    expect(preprocessCase(c, { ...RAW, spacingTolerance: 1e-4 }).record.resampling).not.toBeNull();
  });
});

/** 4×4 inverse of an affine whose 3×3 part is a scaled permutation (test scans only). */
function invert(a: number[][]): number[][] {
  const out = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 1],
  ];
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) if (a[r]![c] !== 0) out[c]![r] = 1 / a[r]![c]!;
  for (let r = 0; r < 3; r++)
    out[r]![3] = -(out[r]![0]! * a[0]![3]! + out[r]![1]! * a[1]![3]! + out[r]![2]! * a[2]![3]!);
  return out;
}

describe("preprocessCase crop", () => {
  it("crops to the union of nonzero voxels of all channels plus the margin, clamped", () => {
    const shape: Vec3 = [10, 8, 6];
    const a = new Float32Array(480);
    const b = new Float32Array(480);
    a[3 + 10 * (2 + 8 * 1)] = 1; // (3, 2, 1)
    a[5 + 10 * (4 + 8 * 2)] = 2; // (5, 4, 2)
    b[7 + 10 * (3 + 8 * 4)] = -3; // (7, 3, 4): negative values count as brain
    const c: LoadedCase = {
      id: "box",
      channels: [a, b],
      modalities: ["t1", "t2"],
      seg: null,
      shape,
      spacing: [1, 1, 1],
      affine: affineFor("RAS", [1, 1, 1], [10, 20, 30]),
    };
    const tight = preprocessCase(c, RAW);
    expect(tight.record.crop).toEqual({ fromShape: shape, start: [3, 2, 1], end: [8, 5, 5] });
    expect(tight.case.shape).toEqual([5, 3, 4]);
    expect(tight.case.seg).toBeNull();
    expect(apply(tight.case.affine, [0, 0, 0])).toEqual([13, 22, 31]);
    expect(tight.case.channels[0]![0]).toBe(1);
    expect(tight.case.channels[1]![4 + 5 * (1 + 3 * 3)]).toBe(-3);

    const padded = preprocessCase(c, { ...RAW, margin: [2, 1, 3] });
    // x: 3−2 … 8+2; y: 2−1 … 5+1; z: max(0, 1−3) … min(6, 5+3)
    expect(padded.record.crop).toEqual({ fromShape: shape, start: [1, 1, 0], end: [10, 6, 6] });
    expect(padded.case.shape).toEqual([9, 5, 6]);
    expect(padded.case.channels[0]![2 + 9 * (1 + 5 * 1)]).toBe(1);
    const back = undoPreprocess({ data: padded.case.channels[1]! }, padded.record, "probabilities");
    expect(back.data).toEqual(b);
  });

  it("keeps the whole grid when every voxel is zero", () => {
    const c: LoadedCase = {
      id: "empty",
      channels: [new Float32Array(27)],
      modalities: ["t1"],
      seg: new Uint8Array(27),
      shape: [3, 3, 3],
      spacing: [1, 1, 1],
      affine: affineFor("RAS"),
    };
    const { case: out, record } = preprocessCase(c);
    expect(out.shape).toEqual([3, 3, 3]);
    expect(record.crop.start).toEqual([0, 0, 0]);
    expect(Array.from(out.channels[0]!).every((v) => v === 0)).toBe(true);
  });

  it("fills the cropped-away region with `fill` on undo", () => {
    const c = worldCase([6, 6, 6], affineFor("RAS"));
    const { case: out, record } = preprocessCase(c);
    const ones = new Float32Array(2 * out.channels[0]!.length).fill(1);
    const back = undoPreprocess({ data: ones, channels: 2 }, record, "probabilities", {
      fill: [0.25, 0],
    });
    forEachVoxel([6, 6, 6], (x, y, z, i) => {
      const inside = x >= 1 && x < 5 && y >= 2 && y < 5 && z >= 1 && z < 5;
      expect(back.data[i]).toBe(inside ? 1 : 0.25);
      expect(back.data[216 + i]).toBe(inside ? 1 : 0);
    });
  });
});

describe("preprocessCase z-score", () => {
  it("gives mean 0 and population std 1 over nonzero voxels; zeros stay exactly 0", () => {
    const a = new Float32Array(8);
    a.set([1, 2, 3, 4], 2); // mean 2.5, population std √1.25
    const b = Float32Array.from([0, 0, 5, 5, 5, 5, 0, 0]); // constant brain → 0
    const c: LoadedCase = {
      id: "z",
      channels: [a, b],
      modalities: ["t1", "t2"],
      seg: null,
      shape: [8, 1, 1],
      spacing: [1, 1, 1],
      affine: affineFor("RAS"),
    };
    const { case: out, record } = preprocessCase(c, { crop: false });
    const s = Math.sqrt(1.25);
    const expected = [0, 0, -1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0, 0];
    Array.from(out.channels[0]!).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(out.channels[0]![0]).toBe(0);
    expect(Array.from(out.channels[1]!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(record.normalization!.mean).toEqual([2.5, 5]);
    expect(record.normalization!.std[0]).toBeCloseTo(s, 12);
    expect(record.normalization!.std[1]).toBe(0);
  });

  it("normalises each channel of a larger case to mean 0, std 1 over its own nonzero voxels", () => {
    const c = worldCase([9, 10, 8], affineFor("LPS"));
    // give channel 1 a smaller support than channel 0
    c.channels[1]!.forEach((v, i) => {
      if (i % 3 === 0) c.channels[1]![i] = 0;
    });
    const input = c.channels.map((ch) => ch.slice());
    const { case: out } = preprocessCase(c, { margin: 2 });
    // the input is not modified
    expect(c.channels).toEqual(input);
    for (let ch = 0; ch < 2; ch++) {
      const undone = preprocessCase(c, { ...RAW, margin: 2 }).case.channels[ch]!;
      let n = 0;
      let sum = 0;
      let sumSq = 0;
      out.channels[ch]!.forEach((v, i) => {
        if (undone[i] === 0) {
          expect(v).toBe(0);
          return;
        }
        n++;
        sum += v;
        sumSq += v * v;
      });
      expect(n).toBeGreaterThan(50);
      expect(Math.abs(sum / n)).toBeLessThan(1e-6);
      expect(Math.sqrt(sumSq / n - (sum / n) ** 2)).toBeCloseTo(1, 5);
    }
  });
});

describe("PreprocessRecord", () => {
  it("survives JSON and gives the same undo", () => {
    const c = worldCase([7, 8, 6], affineFor("PIR", [1, 1, 2]));
    const { case: out, record } = preprocessCase(c, { margin: 1 });
    const json = JSON.parse(JSON.stringify(record)) as PreprocessRecord;
    expect(json).toEqual(record);
    const a = undoPreprocess({ data: out.seg! }, record, "labels");
    const b = undoPreprocess({ data: out.seg! }, json, "labels");
    expect(b.data).toEqual(a.data);
    expect(b.affine).toEqual(c.affine);
  });
});

describe("errors", () => {
  const good = () => worldCase([5, 5, 5], affineFor("RAS"));
  it.each([
    ["a negative spacing", { spacing: [1, -1, 1] }],
    ["two spacings", { spacing: [1, 1] }],
    ["a fractional margin", { margin: 1.5 }],
    ["a negative margin", { margin: [0, -1, 0] }],
    ["a NaN tolerance", { spacingTolerance: NaN }],
  ])("rejects %s with BAD_OPTION", (_name, opts) => {
    expect(() => preprocessCase(good(), opts as never)).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
  });

  it("rejects channels and segs that disagree with the shape, and degenerate affines", () => {
    const shortChannel = good();
    shortChannel.channels[1] = new Float32Array(3);
    const shortSeg = good();
    shortSeg.seg = new Uint8Array(124);
    const flat = good();
    flat.affine = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 1],
    ];
    const nan = good();
    nan.affine[0]![0] = NaN;
    for (const c of [shortChannel, shortSeg, flat, nan]) {
      expect(() => preprocessCase(c)).toThrow(
        expect.objectContaining({ code: "GEOMETRY_MISMATCH" }),
      );
    }
  });

  it("rejects volumes, records and labels undo cannot use", () => {
    const { case: out, record } = preprocessCase(good());
    expect(() => undoPreprocess({ data: new Uint8Array(3) }, record, "labels")).toThrow(
      expect.objectContaining({ code: "GEOMETRY_MISMATCH" }),
    );
    const broken = { ...record, crop: { ...record.crop, end: [99, 99, 99] } } as PreprocessRecord;
    expect(() => undoPreprocess({ data: out.seg! }, broken, "labels")).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
    expect(() => undoPreprocess({ data: out.seg! }, { version: 2 } as never, "labels")).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
    const floats = new Float32Array(out.seg!.length).fill(0.5);
    expect(() => undoPreprocess({ data: floats }, record, "labels")).toThrow(
      expect.objectContaining({ code: "BAD_LABELS" }),
    );
    expect(() => undoPreprocess({ data: out.seg! }, record, "logits" as never)).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
  });
});
