// One real BraTS case (../shared/data/brats, research data: read in place, never copied) segmented
// with a tiny random-weight ONNX model: the output lies exactly on the input's grid (shape,
// affine, qform/sform, pixdim) and the metrics files are written.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EvaluationReport } from "@brats/metrics";
import { readNifti } from "@brats/nifti";
import { afterAll, describe, expect, it } from "vitest";
import { runInference } from "./run.js";
import { tinyOnnxModel } from "./test-utils.js";

const shared = fileURLToPath(new URL("../../../../shared/data/brats", import.meta.url));
const present = existsSync(shared);
if (!present) console.log(`real-case test skipped: ${shared} is absent`);

describe.skipIf(!present)("a real BraTS case", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("gets a segmentation on exactly its grid, with metrics", async () => {
    dir = await mkdtemp(join(tmpdir(), "brats-infer-real-"));
    const id = readdirSync(shared).sort()[0]!;
    const caseDir = join(shared, id);
    // 64³ windows without overlap (27 of them) keep the run short: this test is about geometry.
    const model = await tinyOnnxModel(join(dir, "models"), "tiny", {}, [64, 64, 64]);
    const out = join(dir, "out");
    const summary = await runInference({
      models: [model],
      input: caseDir,
      out,
      engine: "onnx",
      overlap: 0,
    });
    expect(summary.counts).toEqual({ cases: 1, done: 1, skipped: 0, failed: 0 });
    console.log(`real case ${id}: ${summary.cases[0]!.seconds!.toFixed(1)} s`);

    const flairName = readdirSync(caseDir).find((n) => /_flair\.nii(\.gz)?$/.test(n))!;
    const input = await readNifti(join(caseDir, flairName));
    const seg = await readNifti(join(out, `${id}.nii.gz`));
    expect(seg.shape).toEqual(input.shape);
    expect(seg.datatype).toBe("uint8");
    expect(seg.affine).toEqual(input.affine);
    const h = seg.header;
    const r = input.header;
    expect(h.pixdim.slice(0, 4)).toEqual(r.pixdim.slice(0, 4));
    for (const key of [
      "qformCode",
      "sformCode",
      "quaternB",
      "quaternC",
      "quaternD",
      "qoffsetX",
      "qoffsetY",
      "qoffsetZ",
      "xyztUnits",
    ] as const) {
      expect(h[key], key).toBe(r[key]);
    }
    expect([h.srowX, h.srowY, h.srowZ]).toEqual([r.srowX, r.srowY, r.srowZ]);
    const labels = new Set(seg.data as Uint8Array);
    for (const v of labels) expect([0, 1, 2, 4]).toContain(v);

    // nibabel sees the same grid (when the reference interpreter has it).
    const py = spawnSync(
      "/usr/bin/python3",
      [
        "-c",
        "import sys, json, nibabel as nib, numpy as np\n" +
          "a = nib.load(sys.argv[1]); b = nib.load(sys.argv[2])\n" +
          "print(json.dumps([list(a.shape) == list(b.shape), bool(np.allclose(a.affine, b.affine, atol=1e-6)), " +
          "bool(np.allclose(a.header.get_zooms(), b.header.get_zooms())), str(a.get_data_dtype())]))",
        join(out, `${id}.nii.gz`),
        join(caseDir, flairName),
      ],
      { encoding: "utf8" },
    );
    if (py.status === 0) expect(JSON.parse(py.stdout)).toEqual([true, true, true, "uint8"]);
    else console.log(`nibabel check skipped: ${py.stderr.split("\n").slice(-2).join(" ")}`);

    const report = JSON.parse(
      await readFile(join(out, "metrics.json"), "utf8"),
    ) as EvaluationReport;
    expect(report.cases.map((c) => c.case)).toEqual([id]);
    expect(report.cases[0]!.regions.WT.volumeGtMl).toBeGreaterThan(0);
    const csv = await readFile(join(out, "metrics.csv"), "utf8");
    expect(csv.split("\n")[1]).toMatch(new RegExp(`^${id},region,WT,`));
    expect(existsSync(join(out, "report.html"))).toBe(true);
  });
});
