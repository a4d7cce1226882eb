// The inference round trip keeps the input's geometry: prepareForInference → (model) →
// restoreSegmentation → segmentationImage → writeNifti gives a file on exactly the input's grid,
// affine (sform and qform) and pixdim. Synthetic cases always; the real BraTS cases of
// ../shared/data/brats when present (research data: read in place, never copied).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { labelsToClasses } from "@brats/conventions";
import { createImage, readNifti, readNiftiHeader, writeNifti } from "@brats/nifti";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caseFileName, discoverCases, type CaseFiles } from "./cases.js";
import { DataError } from "./errors.js";
import { prepareCase } from "./loader-cases.js";
import { generatePhantom } from "./phantom.js";
import { prepareForInference, restoreSegmentation, segmentationImage } from "./postprocess.js";
import { preprocessCase } from "./preprocess.js";

const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
const realDir = join(repo, "..", "shared", "data", "brats");
const haveReal = existsSync(realDir);
if (!haveReal) console.warn(`skipping the real-case geometry tests: ${realDir} is absent`);
const havePython = existsSync("/usr/bin/python3");

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "brats-geometry-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
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

function countDifferent(a: Uint8Array, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Checks with nibabel that each written seg has its input's grid, affines, zooms and labels. */
function checkWithNibabel(pairs: Array<{ input: string; seg: string; truth: string | null }>) {
  const script = `
import json, sys, numpy as np, nibabel as nib
out = []
for p in json.load(sys.stdin):
    a = nib.load(p["input"]); b = nib.load(p["seg"])
    sa, ca = a.header.get_sform(coded=True); sb, cb = b.header.get_sform(coded=True)
    qa, qca = a.header.get_qform(coded=True); qb, qcb = b.header.get_qform(coded=True)
    r = {
        "shape": list(a.shape) == list(b.shape),
        "affine": bool(np.array_equal(a.affine, b.affine)),
        "sform": bool(int(ca) == int(cb) and np.array_equal(sa, sb)),
        "qform": bool(int(qca) == int(qcb) and np.allclose(qa, qb, atol=1e-6)),
        "zooms": list(map(float, a.header.get_zooms()[:3])) == list(map(float, b.header.get_zooms()[:3])),
        "dtype": str(b.get_data_dtype()),
    }
    if p["truth"] is not None:
        r["labels"] = bool(np.array_equal(np.asarray(b.dataobj), np.asarray(nib.load(p["truth"]).dataobj)))
    out.append(r)
print(json.dumps(out))`;
  const run = spawnSync("/usr/bin/python3", ["-c", script], {
    input: JSON.stringify(pairs),
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  const results = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
  for (const [i, r] of results.entries()) {
    expect({ seg: pairs[i]!.seg, ...r }).toEqual({
      seg: pairs[i]!.seg,
      shape: true,
      affine: true,
      sform: true,
      qform: true,
      zooms: true,
      dtype: "uint8",
      ...(pairs[i]!.truth === null ? {} : { labels: true }),
    });
  }
}

/** Writes a phantom as a BraTS case folder with the given affine (sform and qform). */
async function writeCase(
  id: string,
  spacing: [number, number, number],
  affine: number[][] | null,
): Promise<CaseFiles> {
  const phantom = generatePhantom({ shape: [30, 26, 22], seed: 11, spacing, id });
  const folder = join(dir, id);
  await mkdir(folder, { recursive: true });
  const geometry = { shape: phantom.shape, spacing, affine: affine ?? phantom.affine };
  const images: CaseFiles["images"] = {};
  for (const [m, modality] of phantom.modalities.entries()) {
    const path = join(folder, caseFileName(id, modality, "brats2021"));
    await writeNifti(
      createImage({ data: Int16Array.from(phantom.channels[m]!), ...geometry }),
      path,
    );
    images[modality] = path;
  }
  const seg = join(folder, caseFileName(id, "seg", "brats2021"));
  await writeNifti(createImage({ data: phantom.seg, ...geometry }), seg);
  return { id, dir: folder, images, seg, naming: "brats2021" };
}

describe("prepareForInference and the round trip (synthetic cases)", () => {
  // Voxel axes permuted and flipped (axis codes PIL): reorientation is not a no-op.
  const permuted = (s: number): number[][] => [
    [0, 0, -s, 40],
    [s, 0, 0, -20],
    [0, -s, 0, 30],
    [0, 0, 0, 1],
  ];
  const cases: Array<[string, number, number[][] | null]> = [
    ["LPS1mm", 1, null],
    ["PIL1mm", 1, permuted(1)],
    ["LPS15mm", 1.5, null],
    ["PIL15mm", 1.5, permuted(1.5)],
  ];
  const written: Array<{ input: string; seg: string; truth: string | null }> = [];

  it.each(cases)(
    "%s: prepared as training prepares, restored on the input's grid",
    async (id, s, affine) => {
      const files = await writeCase(id, [s, s, s], affine);
      const modalities = ["t2", "flair", "t1ce"] as const;
      const prepared = await prepareForInference(files, { modalities: [...modalities] });
      // Exactly what training saw (prepareCase with the run's modalities, default preprocessing).
      const training = await prepareCase(files, { load: { modalities: [...modalities] } });
      const [x, y, z] = training.shape;
      expect(prepared.shape).toEqual([z, y, x, 3]);
      expect(prepared.record.shape).toEqual(training.shape);
      expect(prepared.image.length).toBe(x * y * z * 3);
      for (let v = 0; v < x * y * z; v++) {
        for (let c = 0; c < 3; c++) {
          if (prepared.image[v * 3 + c] !== training.channels[c]![v]) {
            throw new Error(`image differs from prepareCase at voxel ${v} channel ${c}`);
          }
        }
      }
      expect(prepared.record.resampling === null).toBe(s === 1);
      // The case as read: original grid, labels as stored, the first modality's header.
      const seg = await readNifti(files.seg!);
      expect(prepared.case.shape).toEqual(seg.shape);
      expect(Array.from(prepared.case.seg!)).toEqual(Array.from(seg.data as Uint8Array));
      const first = await readNiftiHeader(files.images.t2!);
      expect(prepared.reference).toEqual(first);

      const classes = labelsToClasses(preprocessCase(prepared.case).case.seg!);
      for (const [outputs, probabilities] of [
        ["classes", oneHot(classes)],
        ["regions", regionHot(classes)],
      ] as const) {
        const restored = restoreSegmentation(probabilities, prepared.record, { outputs });
        const different = countDifferent(restored, prepared.case.seg!);
        // Without resampling the labels come back exactly; with it only borders may move
        // (measured: 4 and 8 of 17160 voxels for the two 1.5 mm phantoms).
        if (s === 1) expect(different).toBe(0);
        else expect(different / restored.length).toBeLessThan(0.002);
        const out = join(dir, `${id}-${outputs}.nii.gz`);
        await writeNifti(segmentationImage(restored, prepared.reference), out);
        const back = await readNifti(out);
        expect(back.shape).toEqual(seg.shape);
        expect(back.affine).toEqual(seg.affine);
        expect(back.spacing).toEqual(seg.spacing);
        expect(back.header.pixdim).toEqual(first.pixdim);
        expect([back.header.sformCode, back.header.qformCode]).toEqual([
          first.sformCode,
          first.qformCode,
        ]);
        expect([back.header.srowX, back.header.srowY, back.header.srowZ]).toEqual([
          first.srowX,
          first.srowY,
          first.srowZ,
        ]);
        expect(back.datatype).toBe("uint8");
        written.push({ input: files.images.t2!, seg: out, truth: s === 1 ? files.seg! : null });
      }
    },
  );

  it.skipIf(!havePython)("nibabel sees the inputs' geometry in the written segmentations", () => {
    expect(written.length).toBe(8);
    checkWithNibabel(written);
  });

  it("rejects missing modalities option and a case without a requested modality", async () => {
    const files = await writeCase("Missing", [1, 1, 1], null);
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => (e instanceof DataError ? e.code : String(e)),
      );
    expect(await codeOf(prepareForInference(files, {} as never))).toBe("BAD_OPTION");
    expect(await codeOf(prepareForInference(files, { modalities: ["dwi" as "t1"] }))).toBe(
      "BAD_OPTION",
    );
    const withoutT1 = { ...files, images: { ...files.images, t1: undefined } };
    expect(await codeOf(prepareForInference(withoutT1, { modalities: ["t1", "t2"] }))).toBe(
      "MISSING_MODALITY",
    );
    const zeros = await prepareForInference(withoutT1, {
      modalities: ["t1", "t2"],
      missing: "zeros",
      seg: false,
    });
    expect(zeros.case.seg).toBeNull();
    expect(zeros.shape[3]).toBe(2);
  });
});

describe.skipIf(!haveReal)("the round trip keeps the geometry of the real BraTS cases", () => {
  const written: Array<{ input: string; seg: string; truth: string | null }> = [];

  it("restores every real case's seg exactly and writes it on the input's grid", async () => {
    const cases = await discoverCases(realDir);
    expect(cases.length).toBe(6);
    for (const files of cases) {
      const prepared = await prepareForInference(files, {
        modalities: ["flair", "t1", "t1ce", "t2"],
      });
      const truth = prepared.case.seg!;
      const classes = labelsToClasses(preprocessCase(prepared.case).case.seg!);
      expect(prepared.record.resampling).toBeNull(); // BraTS is 1 mm already
      expect(countDifferent(restoreSegmentation(oneHot(classes), prepared.record), truth)).toBe(0);
      const restored = restoreSegmentation(regionHot(classes), prepared.record, {
        outputs: "regions",
      });
      expect(countDifferent(restored, truth)).toBe(0);
      const out = join(dir, `${files.id}_seg_restored.nii.gz`);
      await writeNifti(segmentationImage(restored, prepared.reference), out);
      const back = await readNiftiHeader(out);
      const input = await readNiftiHeader(files.images.flair!);
      expect(back.dim.slice(0, 4)).toEqual(input.dim.slice(0, 4));
      expect(back.pixdim.slice(0, 4)).toEqual(input.pixdim.slice(0, 4));
      for (const key of ["qformCode", "sformCode", "xyztUnits"] as const) {
        expect(back[key]).toBe(input[key]);
      }
      expect([back.srowX, back.srowY, back.srowZ]).toEqual([input.srowX, input.srowY, input.srowZ]);
      for (const key of [
        "quaternB",
        "quaternC",
        "quaternD",
        "qoffsetX",
        "qoffsetY",
        "qoffsetZ",
      ] as const) {
        expect(back[key]).toBeCloseTo(input[key], 6);
      }
      written.push({ input: files.images.flair!, seg: out, truth: files.seg! });
    }
  }, 120_000);

  it.skipIf(!havePython)(
    "nibabel agrees: same shape, affine, sform, qform, zooms and labels",
    () => {
      expect(written.length).toBe(6);
      checkWithNibabel(written);
    },
    60_000,
  );
});
