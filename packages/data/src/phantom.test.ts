import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { axcodes, readNifti } from "@brats/nifti";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverCases, loadCase } from "./cases.js";
import { DataError } from "./errors.js";
import { bratsLikeAffine, generatePhantom, type Phantom, type PhantomOptions } from "./phantom.js";
import { PHANTOM_TISSUES } from "./phantom-anatomy.js";
import { writePhantomDataset } from "./phantom-dataset.js";
import { deriveRngState } from "./rng.js";

const T = PHANTOM_TISSUES;

function bytesOf(p: Phantom): Buffer {
  return Buffer.concat([
    ...p.channels.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)),
    Buffer.from(p.seg),
    Buffer.from(p.tissue),
  ]);
}

/**
 * Mean of a channel over the interior voxels of one tissue (all six neighbours the same tissue), so
 * the partial-volume blur at tissue borders does not dilute thin structures on a small grid.
 */
function tissueMean(p: Phantom, modality: number, tissue: number): number {
  const [nx, ny] = p.shape;
  const steps = [1, nx, nx * ny];
  const channel = p.channels[modality]!;
  let sum = 0;
  let count = 0;
  for (let i = nx * ny; i < channel.length - nx * ny; i++) {
    if (p.tissue[i] !== tissue) continue;
    if (steps.some((s) => p.tissue[i - s] !== tissue || p.tissue[i + s] !== tissue)) continue;
    sum += channel[i]!;
    count++;
  }
  if (count < 10) throw new Error(`only ${count} interior voxels of tissue ${tissue}`);
  return sum / count;
}

/** Set of 6-neighbour labels of voxels holding `label` (out-of-volume neighbours count as -1). */
function neighbourLabels(seg: Uint8Array, shape: readonly number[], label: number): Set<number> {
  const [nx, ny, nz] = shape as [number, number, number];
  const seen = new Set<number>();
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const index = i + nx * (j + ny * k);
        if (seg[index] !== label) continue;
        seen.add(i > 0 ? seg[index - 1]! : -1);
        seen.add(i < nx - 1 ? seg[index + 1]! : -1);
        seen.add(j > 0 ? seg[index - nx]! : -1);
        seen.add(j < ny - 1 ? seg[index + nx]! : -1);
        seen.add(k > 0 ? seg[index - nx * ny]! : -1);
        seen.add(k < nz - 1 ? seg[index + nx * ny]! : -1);
      }
    }
  }
  return seen;
}

const sorted = (values: Iterable<number>): number[] => [...values].sort((a, b) => a - b);

describe("generatePhantom", () => {
  it("is seeded: the same seed gives the same bytes, another seed different ones", () => {
    const opts: PhantomOptions = { shape: [32, 28, 24], seed: 11 };
    const a = bytesOf(generatePhantom(opts));
    const b = bytesOf(generatePhantom(opts));
    const c = bytesOf(generatePhantom({ ...opts, seed: 12 }));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    // Not a shifted copy either: most voxels differ.
    const pa = generatePhantom(opts);
    const pc = generatePhantom({ ...opts, seed: 12 });
    let differ = 0;
    for (let i = 0; i < pa.seg.length; i++) if (pa.channels[0]![i] !== pc.channels[0]![i]) differ++;
    expect(differ / pa.seg.length).toBeGreaterThan(0.2);
  });

  // Several seeds and shapes, one anisotropic: labels {0,1,2,4}, nested as BraTS annotations are.
  const shapes: Array<[[number, number, number], [number, number, number] | undefined]> = [
    [[16, 16, 16], undefined],
    [[32, 32, 32], undefined],
    [
      [40, 36, 24],
      [1, 1.2, 1.5],
    ],
    [[48, 48, 48], undefined],
  ];
  for (const [shape, spacing] of shapes) {
    it(`labels {0,1,2,4} nest: necrosis ⊂ enhancing rim ⊂ edema (${shape.join("×")}${spacing ? ` @ ${spacing.join("×")} mm` : ""})`, () => {
      for (let seed = 0; seed < 4; seed++) {
        const p = generatePhantom({ shape, spacing, seed });
        expect(sorted(new Set(p.seg))).toEqual([0, 1, 2, 4]);
        // Necrosis touches only core; the enhancing rim touches only tumour (never healthy tissue).
        expect(sorted(neighbourLabels(p.seg, shape, 1))).toEqual([1, 4]);
        expect(
          sorted(neighbourLabels(p.seg, shape, 4)).every((l) => l === 1 || l === 2 || l === 4),
        ).toBe(true);
        // Labels follow the tissue map one to one.
        const expected = new Map<number, number>([
          [T.necrosis, 1],
          [T.edema, 2],
          [T.enhancing, 4],
        ]);
        for (let i = 0; i < p.seg.length; i++) {
          if (p.seg[i] !== (expected.get(p.tissue[i]!) ?? 0))
            throw new Error(`seg/tissue disagree at ${i}`);
        }
      }
    });
  }

  it("labels follow the convention: brats2023 writes enhancing tumour as 3", () => {
    const a = generatePhantom({ shape: [24, 24, 24], seed: 5 });
    const b = generatePhantom({ shape: [24, 24, 24], seed: 5, convention: "brats2023" });
    expect(sorted(new Set(b.seg))).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < a.seg.length; i++) {
      if (b.seg[i] !== (a.seg[i] === 4 ? 3 : a.seg[i])) throw new Error(`voxel ${i}`);
    }
  });

  it("background is exactly 0 in every modality, the brain is positive integers, the border is empty", () => {
    const shape: [number, number, number] = [40, 44, 36];
    const p = generatePhantom({ shape, seed: 3 });
    let brain = 0;
    for (let i = 0; i < p.tissue.length; i++) {
      const inBrain = p.tissue[i] !== T.background;
      if (inBrain) brain++;
      for (const channel of p.channels) {
        const v = channel[i]!;
        if (inBrain ? !(v >= 1 && Number.isInteger(v)) : v !== 0)
          throw new Error(`voxel ${i}: ${v}`);
      }
    }
    // The brain is a brain-sized share of the field of view, and skull-stripped: no voxel on a face.
    // (BraTS: about 1.4 l of brain in a 240×240×155 mm field of view, 16 %.)
    expect(brain / p.tissue.length).toBeGreaterThan(0.12);
    expect(brain / p.tissue.length).toBeLessThan(0.4);
    const [nx, ny, nz] = shape;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const onFace =
            i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1;
          if (onFace && p.tissue[i + nx * (j + ny * k)] !== T.background)
            throw new Error("brain on a face");
        }
      }
    }
  });

  it("has the modality contrasts of BraTS scans", () => {
    const p = generatePhantom({ shape: [64, 64, 64], seed: 2 });
    expect(p.modalities).toEqual(["flair", "t1", "t1ce", "t2"]);
    const [FLAIR, T1, T1CE, T2] = [0, 1, 2, 3];
    const mean = (m: number, t: number): number => tissueMean(p, m, t);
    // FLAIR: edema brightest, fluid suppressed (CSF dark), grey above white.
    expect(mean(FLAIR, T.edema)).toBeGreaterThan(1.5 * mean(FLAIR, T.whiteMatter));
    expect(mean(FLAIR, T.edema)).toBeGreaterThan(mean(FLAIR, T.greyMatter));
    expect(mean(FLAIR, T.csf)).toBeLessThan(0.5 * mean(FLAIR, T.whiteMatter));
    expect(mean(FLAIR, T.greyMatter)).toBeGreaterThan(mean(FLAIR, T.whiteMatter));
    // T1: white > grey > CSF; the tumour is hypointense.
    expect(mean(T1, T.whiteMatter)).toBeGreaterThan(mean(T1, T.greyMatter));
    expect(mean(T1, T.greyMatter)).toBeGreaterThan(1.5 * mean(T1, T.csf));
    expect(mean(T1, T.edema)).toBeLessThan(mean(T1, T.whiteMatter));
    // T1CE: the enhancing rim is the brightest tissue, and brighter than on T1 relative to white matter;
    // necrosis stays dark.
    for (const t of [T.whiteMatter, T.greyMatter, T.deepGrey, T.csf, T.edema, T.necrosis]) {
      expect(mean(T1CE, T.enhancing)).toBeGreaterThan(1.2 * mean(T1CE, t));
    }
    expect(mean(T1CE, T.enhancing) / mean(T1CE, T.whiteMatter)).toBeGreaterThan(
      1.5 * (mean(T1, T.enhancing) / mean(T1, T.whiteMatter)),
    );
    expect(mean(T1CE, T.necrosis)).toBeLessThan(0.5 * mean(T1CE, T.enhancing));
    // T2: CSF brightest, edema and necrosis bright, white matter darkest.
    expect(mean(T2, T.csf)).toBeGreaterThan(mean(T2, T.edema));
    expect(mean(T2, T.edema)).toBeGreaterThan(1.5 * mean(T2, T.whiteMatter));
    expect(mean(T2, T.necrosis)).toBeGreaterThan(mean(T2, T.enhancing));
    expect(mean(T2, T.greyMatter)).toBeGreaterThan(mean(T2, T.whiteMatter));
  });

  it("has ventricles: CSF voxels near the brain centre, dark on T1 and FLAIR, bright on T2", () => {
    const shape: [number, number, number] = [64, 64, 64];
    const p = generatePhantom({ shape, seed: 4 });
    // The central 16³ block holds the ventricles (sulci are at the surface, far from it).
    let csf = 0;
    const sums = [0, 0, 0, 0];
    let whiteCount = 0;
    const whiteSums = [0, 0, 0, 0];
    for (let k = 24; k < 40; k++) {
      for (let j = 24; j < 40; j++) {
        for (let i = 24; i < 40; i++) {
          const index = i + 64 * (j + 64 * k);
          const t = p.tissue[index];
          if (t !== T.csf && t !== T.whiteMatter) continue;
          const target = t === T.csf ? sums : whiteSums;
          for (let m = 0; m < 4; m++) target[m]! += p.channels[m]![index]!;
          if (t === T.csf) csf++;
          else whiteCount++;
        }
      }
    }
    expect(csf).toBeGreaterThan(40);
    const ratio = (m: number): number => sums[m]! / csf / (whiteSums[m]! / whiteCount);
    expect(ratio(0)).toBeLessThan(0.6); // flair
    expect(ratio(1)).toBeLessThan(0.6); // t1
    expect(ratio(3)).toBeGreaterThan(1.8); // t2
  });

  it("carries the BraTS LPS affine", () => {
    const p = generatePhantom({ shape: [20, 24, 16], spacing: [1, 1.5, 2], seed: 1 });
    expect(p.affine).toEqual([
      [-1, 0, 0, 0],
      [0, -1.5, 0, 34.5],
      [0, 0, 2, 0],
      [0, 0, 0, 1],
    ]);
    expect(axcodes(p.affine)).toBe("LPS");
    expect(bratsLikeAffine([240, 240, 155], [1, 1, 1])[1]).toEqual([0, -1, 0, 239]);
  });

  it("generates 64³ in well under a second", () => {
    generatePhantom({ shape: [64, 64, 64], seed: 0 }); // warm-up (JIT)
    const times: number[] = [];
    for (let seed = 1; seed <= 3; seed++) {
      const start = performance.now();
      generatePhantom({ shape: [64, 64, 64], seed });
      times.push(performance.now() - start);
    }
    const median = sorted(times)[1]!;
    console.log(`generatePhantom 64³: median ${median.toFixed(1)} ms of 3`);
    expect(median).toBeLessThan(500);
  });

  it.each<[string, Partial<PhantomOptions>]>([
    ["a 2-D shape", { shape: [32, 32] as unknown as [number, number, number] }],
    ["a tiny shape", { shape: [4, 32, 32] }],
    ["a fractional size", { shape: [32.5, 32, 32] }],
    ["a zero spacing", { spacing: [1, 0, 1] }],
    ["a NaN spacing", { spacing: [1, Number.NaN, 1] }],
    ["a fractional seed", { seed: 1.5 }],
    ["an unknown convention", { convention: "brats2000" as "brats2021" }],
  ])("BAD_OPTION for %s", (_what, opts) => {
    try {
      generatePhantom({ shape: [16, 16, 16], seed: 1, ...opts });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).code).toBe("BAD_OPTION");
    }
  });
});

describe("writePhantomDataset", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "brats-data-phantom-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const naming of ["brats2021", "brats2023"] as const) {
    it(`writes ${naming} case folders that are discovered and load back exactly`, async () => {
      const dir = join(root, naming);
      const shape: [number, number, number] = [24, 28, 20];
      const spacing: [number, number, number] = [1, 1, 1.25];
      const folders = await writePhantomDataset(dir, { cases: 3, shape, spacing, seed: 9, naming });
      const ids =
        naming === "brats2021"
          ? ["Phantom_00000", "Phantom_00001", "Phantom_00002"]
          : ["Phantom-00000-000", "Phantom-00001-000", "Phantom-00002-000"];
      expect(folders).toEqual(ids.map((id) => join(dir, id)));
      const suffixes =
        naming === "brats2021"
          ? ["flair", "seg", "t1", "t1ce", "t2"]
          : ["seg", "t1c", "t1n", "t2f", "t2w"];
      const separator = naming === "brats2021" ? "_" : "-";
      expect((await readdir(folders[1]!)).sort()).toEqual(
        suffixes.map((s) => `${ids[1]}${separator}${s}.nii.gz`).sort(),
      );

      const cases = await discoverCases(dir);
      expect(cases.map((c) => c.id)).toEqual(ids);
      const loaded = await loadCase(cases[2]!);
      expect(loaded.shape).toEqual(shape);
      expect(loaded.spacing).toEqual(spacing);
      expect(axcodes(loaded.affine)).toBe("LPS");
      expect(loaded.affine).toEqual(bratsLikeAffine(shape, spacing));
      // The files hold the generator's output bit for bit (integer intensities fit int16).
      const expected = generatePhantom({
        shape,
        spacing,
        seed: deriveRngState(9, 2),
        convention: naming === "brats2023" ? "brats2023" : "brats2021",
      });
      for (let m = 0; m < 4; m++) expect(loaded.channels[m]).toEqual(expected.channels[m]);
      expect(loaded.seg).toEqual(expected.seg);
      expect(sorted(new Set(loaded.seg))).toEqual(
        naming === "brats2021" ? [0, 1, 2, 4] : [0, 1, 2, 3],
      );
      // Cases differ from each other.
      const first = await loadCase(cases[0]!);
      expect(first.channels[0]).not.toEqual(loaded.channels[0]);
      // Stored as scanners do: int16 images, uint8 labels, sform and qform set.
      const t1 = await readNifti(cases[0]!.images.t1!);
      expect([t1.datatype, t1.header.sformCode, t1.header.qformCode]).toEqual(["int16", 1, 1]);
      expect((await readNifti(cases[0]!.seg!)).datatype).toBe("uint8");
    });
  }

  it.each<[string, Record<string, unknown>]>([
    ["zero cases", { cases: 0 }],
    ["an unknown naming", { naming: "brats2019" }],
    ["a bad prefix", { prefix: "a/b" }],
    ["a fractional seed", { seed: 0.5 }],
    ["a bad shape", { shape: [3, 3, 3] }],
  ])("BAD_OPTION for %s, before writing anything", async (_what, opts) => {
    const dir = join(root, "bad");
    try {
      await writePhantomDataset(dir, { cases: 1, shape: [16, 16, 16], seed: 1, ...opts });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).code).toBe("BAD_OPTION");
    }
    await expect(readdir(dir)).rejects.toThrow();
  });

  it("IO when the folder cannot be created", async () => {
    const file = join(root, "a-file");
    await writeFile(file, "x");
    try {
      await writePhantomDataset(join(file, "inside-a-file"), {
        cases: 1,
        shape: [16, 16, 16],
        seed: 1,
      });
      expect.unreachable();
    } catch (error) {
      expect((error as DataError).code).toBe("IO");
    }
  });
});
