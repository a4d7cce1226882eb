import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createImage, writeNifti, type VoxelArray } from "@brats/nifti";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  caseFileName,
  discoverCases,
  loadCase,
  parseCaseFileName,
  type CaseFiles,
  type LoadCaseOptions,
} from "./cases.js";
import { DataError } from "./errors.js";

const SHAPE = [4, 3, 2];
const VOXELS = 24;
/** BraTS-like LPS affine of the tiny test grid. */
const AFFINE = [
  [-1, 0, 0, 0],
  [0, -1, 0, 2],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

interface VolumeSpec {
  data?: VoxelArray;
  shape?: number[];
  affine?: number[][];
  sclSlope?: number;
  sclInter?: number;
}

/** A tiny int16 volume whose voxel v holds base + v (so every modality is distinguishable). */
function ramp(base: number, n = VOXELS): Int16Array {
  return Int16Array.from({ length: n }, (_, v) => base + v);
}

async function writeVolume(path: string, spec: VolumeSpec = {}): Promise<void> {
  const shape = spec.shape ?? SHAPE;
  const voxels = shape.reduce((a, b) => a * b, 1);
  await writeNifti(
    createImage({
      data: spec.data ?? ramp(100, voxels),
      shape,
      affine: spec.affine ?? AFFINE,
      sclSlope: spec.sclSlope,
      sclInter: spec.sclInter,
    }),
    path,
  );
}

const SEG = Uint8Array.from({ length: VOXELS }, (_, v) => [0, 1, 2, 4][v % 4]!);
const BASES = { flair: 1000, t1: 2000, t1ce: 3000, t2: 4000 } as const;

/** A complete 2021-style case in `dir` (files named `<id>_<modality><ext>`). */
async function writeCase2021(dir: string, id: string, ext = ".nii.gz"): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [modality, base] of Object.entries(BASES)) {
    await writeVolume(join(dir, `${id}_${modality}${ext}`), { data: ramp(base) });
  }
  await writeVolume(join(dir, `${id}_seg${ext}`), { data: SEG });
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return { code: (error as DataError).code, message: (error as DataError).message };
  }
  throw new Error("expected a DataError");
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "brats-data-cases-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe("parseCaseFileName / caseFileName", () => {
  it.each([
    ["BraTS2021_00006_flair.nii.gz", { id: "BraTS2021_00006", kind: "flair", naming: "brats2021" }],
    ["BraTS2021_00006_t1.nii.gz", { id: "BraTS2021_00006", kind: "t1", naming: "brats2021" }],
    ["BraTS2021_00006_t1ce.nii.gz", { id: "BraTS2021_00006", kind: "t1ce", naming: "brats2021" }],
    ["Brats18_2013_3_1_t2.nii", { id: "Brats18_2013_3_1", kind: "t2", naming: "brats2021" }],
    ["Brats17_2013_27_1_seg.nii.gz", { id: "Brats17_2013_27_1", kind: "seg", naming: "brats2021" }],
    [
      "BraTS-GLI-00000-000-t1c.nii.gz",
      { id: "BraTS-GLI-00000-000", kind: "t1ce", naming: "brats2023" },
    ],
    [
      "BraTS-GLI-00000-000-t1n.nii.gz",
      { id: "BraTS-GLI-00000-000", kind: "t1", naming: "brats2023" },
    ],
    [
      "BraTS-GLI-00000-000-t2f.nii.gz",
      { id: "BraTS-GLI-00000-000", kind: "flair", naming: "brats2023" },
    ],
    ["BraTS-MEN-00004-000-t2w.nii", { id: "BraTS-MEN-00004-000", kind: "t2", naming: "brats2023" }],
    [
      "BraTS-GLI-00000-000-seg.nii.gz",
      { id: "BraTS-GLI-00000-000", kind: "seg", naming: "brats2023" },
    ],
  ])("%s", (name, expected) => {
    expect(parseCaseFileName(name)).toEqual(expected);
  });

  it.each([
    "README.md",
    "BraTS2021_00006_flair.nii.gz.tmp-12-abcdef",
    "BraTS2021_00006_flair_mask.nii.gz",
    "BraTS2021_00006_t1.mgz",
    "._BraTS2021_00006_t1.nii.gz",
    ".hidden_t1.nii.gz",
    "_t1.nii.gz",
    "BraTS2021_00006.nii.gz",
    "BraTS-GLI-00000-000-t1.nii.gz",
  ])("ignores %s", (name) => {
    expect(parseCaseFileName(name)).toBeNull();
  });

  it("writes both namings and round-trips through the parser", () => {
    expect(caseFileName("BraTS2021_00006", "t1ce")).toBe("BraTS2021_00006_t1ce.nii.gz");
    expect(caseFileName("BraTS-GLI-00000-000", "flair", "brats2023")).toBe(
      "BraTS-GLI-00000-000-t2f.nii.gz",
    );
    expect(caseFileName("X", "seg", "brats2021", ".nii")).toBe("X_seg.nii");
    for (const naming of ["brats2021", "brats2023"] as const) {
      for (const kind of ["flair", "t1", "t1ce", "t2", "seg"] as const) {
        expect(parseCaseFileName(caseFileName("Case_1-a", kind, naming))).toEqual({
          id: "Case_1-a",
          kind,
          naming,
        });
      }
    }
  });
});

describe("discoverCases", () => {
  it("finds 2021 case folders, .nii and .nii.gz, sorted by id, ignoring stray files", async () => {
    const dir = await freshDir("folders2021");
    await writeCase2021(join(dir, "BraTS2021_00009"), "BraTS2021_00009");
    await writeCase2021(join(dir, "BraTS2021_00002"), "BraTS2021_00002", ".nii");
    await writeFile(join(dir, "README.txt"), "not a case");
    await writeFile(join(dir, "BraTS2021_00002", "._BraTS2021_00002_t1.nii"), "resource fork");
    await writeFile(join(dir, "BraTS2021_00002", "BraTS2021_00002_t1_brainmask.nii.gz"), "x");
    await writeFile(join(dir, "survival_info.csv"), "id,age\n");
    const cases = await discoverCases(dir);
    expect(cases.map((c) => c.id)).toEqual(["BraTS2021_00002", "BraTS2021_00009"]);
    const first = cases[0]!;
    expect(first.dir).toBe(join(dir, "BraTS2021_00002"));
    expect(first.naming).toBe("brats2021");
    expect(first.images).toEqual({
      flair: join(first.dir, "BraTS2021_00002_flair.nii"),
      t1: join(first.dir, "BraTS2021_00002_t1.nii"),
      t1ce: join(first.dir, "BraTS2021_00002_t1ce.nii"),
      t2: join(first.dir, "BraTS2021_00002_t2.nii"),
    });
    expect(first.seg).toBe(join(first.dir, "BraTS2021_00002_seg.nii"));
  });

  it("maps 2023 names (t2f, t1n, t1c, t2w) onto flair, t1, t1ce, t2", async () => {
    const dir = await freshDir("folders2023");
    const id = "BraTS-GLI-00000-000";
    const caseDir = join(dir, id);
    await mkdir(caseDir);
    for (const suffix of ["t2f", "t1n", "t1c", "t2w", "seg"]) {
      await writeVolume(join(caseDir, `${id}-${suffix}.nii.gz`));
    }
    const [found, ...rest] = await discoverCases(dir);
    expect(rest).toEqual([]);
    expect(found).toEqual({
      id,
      dir: caseDir,
      naming: "brats2023",
      images: {
        flair: join(caseDir, `${id}-t2f.nii.gz`),
        t1: join(caseDir, `${id}-t1n.nii.gz`),
        t1ce: join(caseDir, `${id}-t1c.nii.gz`),
        t2: join(caseDir, `${id}-t2w.nii.gz`),
      },
      seg: join(caseDir, `${id}-seg.nii.gz`),
    });
  });

  it("groups a flat folder by id; cases without seg are kept, seg-only groups are not", async () => {
    const dir = await freshDir("flat");
    await writeCase2021(dir, "B_1");
    await writeCase2021(dir, "A_1");
    await writeVolume(join(dir, "C_1_flair.nii.gz")); // a test case: images, no labels
    await writeVolume(join(dir, "D_1_seg.nii.gz")); // a lone prediction
    const cases = await discoverCases(dir);
    expect(
      cases.map((c) => [c.id, c.dir, Object.keys(c.images).length, c.seg !== undefined]),
    ).toEqual([
      ["A_1", dir, 4, true],
      ["B_1", dir, 4, true],
      ["C_1", dir, 1, false],
    ]);
  });

  it("searches nested folders (Training/HGG/<case>) up to maxDepth", async () => {
    const dir = await freshDir("nested");
    await writeCase2021(join(dir, "HGG", "Brats18_X_1"), "Brats18_X_1");
    await writeCase2021(join(dir, "LGG", "Brats18_Y_1"), "Brats18_Y_1");
    // A lone seg with the same id elsewhere (predictions) is no conflict.
    await mkdir(join(dir, "preds"));
    await writeVolume(join(dir, "preds", "Brats18_X_1_seg.nii.gz"), { data: SEG });
    const cases = await discoverCases(dir);
    expect(cases.map((c) => c.dir)).toEqual([
      join(dir, "HGG", "Brats18_X_1"),
      join(dir, "LGG", "Brats18_Y_1"),
    ]);
    expect(cases[0]!.seg).toBe(join(dir, "HGG", "Brats18_X_1", "Brats18_X_1_seg.nii.gz"));
    expect((await codeOf(discoverCases(dir, { maxDepth: 1 }))).code).toBe("NO_CASES");
    expect((await discoverCases(dir, { maxDepth: 2 })).length).toBe(2);
  });

  it("NO_CASES for a folder without cases, IO for a missing folder, BAD_OPTION for a bad depth", async () => {
    const dir = await freshDir("empty");
    await writeFile(join(dir, "notes.txt"), "x");
    const empty = await codeOf(discoverCases(dir));
    expect(empty.code).toBe("NO_CASES");
    expect(empty.message).toContain(dir);
    expect((await codeOf(discoverCases(join(root, "does-not-exist")))).code).toBe("IO");
    expect((await codeOf(discoverCases(dir, { maxDepth: -1 }))).code).toBe("BAD_OPTION");
  });

  it("DUPLICATE_CASE for two files of one modality, or one case's images in two folders", async () => {
    const dir = await freshDir("dup-files");
    await writeCase2021(dir, "A_1");
    await writeVolume(join(dir, "A_1_t1.nii"));
    const twoFiles = await codeOf(discoverCases(dir));
    expect(twoFiles.code).toBe("DUPLICATE_CASE");
    expect(twoFiles.message).toContain("A_1");

    const dir2 = await freshDir("dup-folders");
    await writeCase2021(join(dir2, "one"), "A_1");
    await writeCase2021(join(dir2, "two"), "A_1");
    expect((await codeOf(discoverCases(dir2))).code).toBe("DUPLICATE_CASE");

    // The same modality under both namings is also two files for one modality.
    const dir3 = await freshDir("dup-namings");
    await writeVolume(join(dir3, "A_t1.nii.gz"));
    await writeVolume(join(dir3, "A-t1n.nii.gz"));
    expect((await codeOf(discoverCases(dir3))).code).toBe("DUPLICATE_CASE");
  });
});

describe("loadCase", () => {
  let dir: string;
  let full: CaseFiles;
  beforeAll(async () => {
    dir = await freshDir("load");
    await writeCase2021(join(dir, "Full_1"), "Full_1");
    full = (await discoverCases(join(dir, "Full_1")))[0]!;
  });

  it("loads the four modalities as float channels in order, the seg as labels, and the geometry", async () => {
    const c = await loadCase(full);
    expect(c.id).toBe("Full_1");
    expect(c.modalities).toEqual(["flair", "t1", "t1ce", "t2"]);
    expect(c.channels.map((ch) => [ch.constructor.name, ch[0], ch[23]])).toEqual([
      ["Float32Array", 1000, 1023],
      ["Float32Array", 2000, 2023],
      ["Float32Array", 3000, 3023],
      ["Float32Array", 4000, 4023],
    ]);
    expect([...c.seg!]).toEqual([...SEG]);
    expect(c.shape).toEqual([4, 3, 2]);
    expect(c.spacing).toEqual([1, 1, 1]);
    expect(c.affine).toEqual(AFFINE);
    expect((c.header as { dim: number[] }).dim.slice(0, 4)).toEqual([3, 4, 3, 2]);
  });

  it("loads a subset in the requested order, and can skip the seg", async () => {
    const c = await loadCase(full, { modalities: ["t2", "flair"], seg: false });
    expect(c.modalities).toEqual(["t2", "flair"]);
    expect(c.channels.map((ch) => ch[5])).toEqual([4005, 1005]);
    expect(c.seg).toBeNull();
  });

  it("applies scl_slope / scl_inter", async () => {
    const caseDir = join(dir, "Scaled_1");
    await mkdir(caseDir);
    await writeVolume(join(caseDir, "Scaled_1_t1.nii.gz"), {
      data: ramp(10),
      sclSlope: 0.5,
      sclInter: 3,
    });
    const [files] = await discoverCases(caseDir);
    const c = await loadCase(files!, { modalities: ["t1"] });
    expect([c.channels[0]![0], c.channels[0]![4]]).toEqual([8, 10]);
  });

  it("a missing modality: MISSING_MODALITY naming the case, or a zero channel with missing: 'zeros'", async () => {
    const partial: CaseFiles = {
      ...full,
      images: { flair: full.images.flair!, t1: full.images.t1! },
    };
    const error = await codeOf(loadCase(partial));
    expect(error.code).toBe("MISSING_MODALITY");
    expect(error.message).toContain("Full_1");
    expect(error.message).toContain("t1ce, t2");
    const c = await loadCase(partial, { missing: "zeros", modalities: ["t1ce", "t1"] });
    expect(c.channels[0]!.every((v) => v === 0)).toBe(true);
    expect(c.channels[0]!.length).toBe(VOXELS);
    expect(c.channels[1]![0]).toBe(2000);
    // Nothing to take the geometry from.
    const none = await codeOf(loadCase(partial, { missing: "zeros", modalities: ["t2"] }));
    expect(none.code).toBe("MISSING_MODALITY");
  });

  it.each<[string, VoxelArray, string]>([
    ["all NaN", new Float32Array(VOXELS).fill(NaN), "no finite value"],
    ["blank (all zero)", new Int16Array(VOXELS), "0 in every finite voxel"],
    ["one value and NaNs", new Float32Array(VOXELS).map((_, i) => (i % 2 ? NaN : 7)), "7 in every"],
  ])(
    "a modality with no content (%s): EMPTY_MODALITY naming the case and file",
    async (_n, data, what) => {
      const caseDir = join(root, `empty-${what.length}-${data.length}-${Number.isNaN(data[1])}`);
      await writeCase2021(caseDir, "Empty_1");
      await writeVolume(join(caseDir, "Empty_1_t1ce.nii.gz"), { data });
      const [files] = await discoverCases(caseDir);
      const error = await codeOf(loadCase(files!));
      expect(error.code).toBe("EMPTY_MODALITY");
      expect(error.message).toContain("case Empty_1: the t1ce file");
      expect(error.message).toContain(what);
      // A modality the caller does not load is not looked at.
      const c = await loadCase(files!, { modalities: ["flair", "t1"] });
      expect(c.channels).toHaveLength(2);
    },
  );

  const mismatches: Array<[string, VolumeSpec, "t2" | "seg"]> = [
    ["shape", { shape: [4, 3, 3], data: ramp(0, 36) }, "t2"],
    [
      "affine translation",
      { affine: AFFINE.map((row, r) => (r === 0 ? [-1, 0, 0, 0.5] : row)) },
      "t2",
    ],
    ["affine spacing", { affine: AFFINE.map((row, r) => (r === 2 ? [0, 0, 1.2, 0] : row)) }, "t2"],
    ["seg shape", { shape: [3, 4, 2], data: new Uint8Array(24) }, "seg"],
    [
      "seg affine",
      { affine: AFFINE.map((row, r) => (r === 1 ? [0, 1, 0, 0] : row)), data: new Uint8Array(24) },
      "seg",
    ],
  ];
  for (const [what, spec, kind] of mismatches) {
    it(`GEOMETRY_MISMATCH naming the case: ${what}`, async () => {
      const caseDir = await freshDir(`mismatch-${what.replace(/ /g, "-")}`);
      await writeCase2021(caseDir, "Odd_7");
      await writeVolume(join(caseDir, `Odd_7_${kind}.nii.gz`), spec);
      const [files] = await discoverCases(caseDir);
      const error = await codeOf(loadCase(files!));
      expect(error.code).toBe("GEOMETRY_MISMATCH");
      expect(error.message).toContain("Odd_7");
      expect(error.message).toContain(`Odd_7_${kind}.nii.gz`);
    });
  }

  it("tolerates float32 rounding of the affine and a trailing time axis of one frame", async () => {
    const caseDir = await freshDir("tolerant");
    await writeCase2021(caseDir, "Ok_1");
    await writeVolume(join(caseDir, "Ok_1_t2.nii.gz"), {
      affine: AFFINE.map((row, r) => (r === 1 ? [0, -1, 0, 2 + 3e-6] : row)),
    });
    await writeVolume(join(caseDir, "Ok_1_t1.nii.gz"), { shape: [4, 3, 2, 1], data: ramp(7) });
    const [files] = await discoverCases(caseDir);
    const c = await loadCase(files!);
    expect(c.shape).toEqual([4, 3, 2]);
    expect(c.channels[1]![1]).toBe(8);
    // A strict tolerance sees the difference.
    expect((await codeOf(loadCase(files!, { affineTolerance: 1e-7 }))).code).toBe(
      "GEOMETRY_MISMATCH",
    );
  });

  it("a 4-D file with several frames is GEOMETRY_MISMATCH", async () => {
    const caseDir = await freshDir("four-d");
    await writeVolume(join(caseDir, "T_1_flair.nii.gz"), {
      shape: [4, 3, 2, 2],
      data: ramp(0, 48),
    });
    const [files] = await discoverCases(caseDir);
    expect((await codeOf(loadCase(files!, { modalities: ["flair"] }))).code).toBe(
      "GEOMETRY_MISMATCH",
    );
  });

  it("an unreadable file is IO naming the case, with the NiftiError as cause", async () => {
    const caseDir = await freshDir("corrupt");
    await writeCase2021(caseDir, "Bad_1");
    await writeFile(join(caseDir, "Bad_1_t1ce.nii.gz"), Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2]));
    const [files] = await discoverCases(caseDir);
    try {
      await loadCase(files!);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).code).toBe("IO");
      expect((error as DataError).message).toContain("Bad_1");
      expect((error as DataError).message).toContain("t1ce");
      expect(((error as DataError).cause as { code: string }).code).toBe("TRUNCATED");
    }
  });

  it.each([
    ["a fraction", Float32Array.from({ length: VOXELS }, (_, v) => (v === 5 ? 1.5 : 0))],
    ["a negative value", Int16Array.from({ length: VOXELS }, (_, v) => (v === 5 ? -1 : 0))],
    ["a value above 255", Int16Array.from({ length: VOXELS }, (_, v) => (v === 5 ? 256 : 0))],
  ])("a seg with %s is BAD_LABELS", async (_what, data) => {
    const caseDir = await freshDir(`badseg-${data.constructor.name}-${data[5]}`);
    await writeVolume(join(caseDir, "S_1_t1.nii.gz"));
    await writeVolume(join(caseDir, "S_1_seg.nii.gz"), { data });
    const [files] = await discoverCases(caseDir);
    const error = await codeOf(loadCase(files!, { modalities: ["t1"] }));
    expect(error.code).toBe("BAD_LABELS");
    expect(error.message).toContain("S_1");
  });

  it("reads labels stored as float32 or int16", async () => {
    const caseDir = await freshDir("float-seg");
    await writeVolume(join(caseDir, "F_1_t1.nii.gz"));
    await writeVolume(join(caseDir, "F_1_seg.nii.gz"), { data: Float32Array.from(SEG) });
    const [files] = await discoverCases(caseDir);
    const c = await loadCase(files!, { modalities: ["t1"] });
    expect(c.seg).toBeInstanceOf(Uint8Array);
    expect([...c.seg!]).toEqual([...SEG]);
  });

  it.each<[string, LoadCaseOptions]>([
    ["an unknown modality", { modalities: ["t1", "dwi" as "t1"] }],
    ["no modalities", { modalities: [] }],
    ["a repeated modality", { modalities: ["t1", "t1"] }],
    ["an unknown missing policy", { missing: "skip" as "error" }],
    ["a negative tolerance", { affineTolerance: -1 }],
  ])("BAD_OPTION for %s", async (_what, opts) => {
    expect((await codeOf(loadCase(full, opts))).code).toBe("BAD_OPTION");
  });
});

// The six real BraTS cases of the shared folder (research data: read in place, never copied).
const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
const realDir = join(repo, "..", "shared", "data", "brats");
const haveReal = existsSync(realDir);
if (!haveReal) console.warn(`skipping real BraTS discovery: ${realDir} is absent`);

describe.skipIf(!haveReal)("real BraTS cases", () => {
  it("discovers the six cases with every modality and loads one", async () => {
    const cases = await discoverCases(realDir);
    expect(cases.map((c) => c.id)).toEqual([
      "BraTS2021_00006",
      "Brats17_2013_27_1",
      "Brats18_2013_3_1",
      "Brats18_CBICA_ABM_1",
      "Brats18_TCIA01_201_1",
      "Brats18_TCIA10_628_1",
    ]);
    for (const c of cases) {
      expect(Object.keys(c.images).sort()).toEqual(["flair", "t1", "t1ce", "t2"]);
      expect(c.seg).toBe(join(realDir, c.id, `${c.id}_seg.nii.gz`));
      expect(c.naming).toBe("brats2021");
    }
    const loaded = await loadCase(cases[0]!);
    expect(loaded.shape).toEqual([240, 240, 155]);
    expect(loaded.spacing).toEqual([1, 1, 1]);
    expect(loaded.affine.map((row) => row.map((v) => v + 0))).toEqual([
      [-1, 0, 0, 0],
      [0, -1, 0, 239],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
    expect(loaded.channels.length).toBe(4);
    const labels = new Set(loaded.seg);
    expect([...labels].sort()).toEqual([0, 1, 2, 4]);
    // Skull-stripped: the corner is background in every modality, the brain is not.
    for (const channel of loaded.channels) {
      expect(channel[0]).toBe(0);
      expect(channel.some((v) => v > 0)).toBe(true);
    }
  });
});
