// brats-eval --lesion-wise and --lesions: the JSON fields, the summary, both CSVs, the table and
// the usage errors, against evaluateCase on the same arrays.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createImage, writeNifti } from "@brats/nifti";
import { afterAll, describe, expect, it } from "vitest";
import { run as runCli, type CliIo, type EvaluationReport } from "./cli.js";
import { evaluateCase } from "./evaluate.js";
import { LESION_CSV_COLUMNS } from "./report.js";
import { LESION_WISE_METRIC_NAMES, METRIC_NAMES } from "./summary.js";

const SHAPE = [24, 8, 8] as const;
const SPACING = [1, 1, 1] as const;
const dir = mkdtempSync(join(tmpdir(), "brats-eval-lesions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Labelled boxes [x0, x1] × [2, 5]² (brats2023 labels). */
function volume(boxes: Array<[number, number, number]>): Uint8Array {
  const v = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2]);
  for (const [x0, x1, label] of boxes)
    for (let z = 2; z <= 5; z++)
      for (let y = 2; y <= 5; y++)
        for (let x = x0; x <= x1; x++) v[x + SHAPE[0] * (y + 8 * z)] = label;
  return v;
}

// Case a: two lesions (edema with an enhancing core; necrosis) of which the prediction finds the
// first and adds a false positive; case b: predicted exactly.
const CASES = {
  a: {
    gt: volume([
      [1, 5, 2],
      [3, 4, 3],
      [14, 17, 1],
    ]),
    pred: volume([
      [1, 5, 2],
      [3, 4, 3],
      [21, 22, 3],
    ]),
  },
  b: { gt: volume([[8, 11, 2]]), pred: volume([[8, 11, 2]]) },
};

async function writeCases(): Promise<{ preds: string; gts: string }> {
  const preds = join(dir, "pred");
  const gts = join(dir, "gt");
  mkdirSync(preds);
  mkdirSync(gts);
  for (const [id, c] of Object.entries(CASES)) {
    const image = (data: Uint8Array) =>
      createImage({ data, shape: [...SHAPE], spacing: [...SPACING] });
    await writeNifti(image(c.pred), join(preds, `${id}.nii.gz`));
    await writeNifti(image(c.gt), join(gts, `${id}.nii.gz`));
  }
  return { preds, gts };
}
const written = writeCases();

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stderrIsTTY: false,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const inputs = (preds: string, gts: string) => [
  "--pred",
  preds,
  "--gt",
  gts,
  "--labels",
  "brats2023",
];

describe("brats-eval --lesion-wise", () => {
  it("adds lesionWise and hd95Surface per region, their summaries and the parameters (BraTS-GLI spelling)", async () => {
    const { preds, gts } = await written;
    const { code, stdout } = await run([
      ...inputs(preds, gts),
      "--lesion-wise",
      "BraTS-GLI",
      "--json",
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as EvaluationReport;
    expect(report.lesionWise).toEqual({ challenge: "GLI", dilation: 3, threshold: 50 });
    for (const c of report.cases) {
      const { pred, gt } = CASES[c.case as "a"];
      const want = evaluateCase(pred, gt, SHAPE, SPACING, {
        convention: "brats2023",
        lesionWise: { challenge: "GLI" },
      });
      for (const r of ["WT", "TC", "ET"] as const) {
        expect(c.regions[r].lesionWise, `${c.case} ${r}`).toEqual(want.regions[r].lesionWise);
        expect(c.regions[r].hd95Surface, `${c.case} ${r}`).toBe(want.regions[r].hd95Surface);
      }
    }
    // Case a, WT: lesion 1 found exactly (Dice 1), lesion 2 missed, one FP: (1 + 0 + 0)/3.
    const a = report.cases.find((c) => c.case === "a")!;
    expect(a.regions.WT.lesionWise).toEqual({
      dice: 1 / 3,
      hd95: (0 + 374 + 374) / 3,
      tp: 1,
      fp: 1,
      fn: 1,
    });
    expect(report.summary.WT.lesionWiseDice!.mean).toBeCloseTo((1 / 3 + 1) / 2, 12);
    expect(report.summary.WT.hd95Surface!.n).toBe(2);
  });

  it("--no-distances leaves HD, HD95 and ASSD out (null) and every other score as it was", async () => {
    const { preds, gts } = await written;
    const args = [...inputs(preds, gts), "--lesion-wise", "GLI", "--json"];
    const full = JSON.parse((await run(args)).stdout) as EvaluationReport;
    const { code, stdout } = await run([...args, "--no-distances"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as EvaluationReport;
    expect(report.distances).toBe(false);
    expect(full.distances).toBeUndefined();
    for (const [i, c] of report.cases.entries()) {
      for (const r of ["WT", "TC", "ET"] as const) {
        const { hd, hd95, assd, ...rest } = c.regions[r];
        expect([hd, hd95, assd]).toEqual([null, null, null]);
        const { hd: _hd, hd95: _hd95, assd: _assd, ...want } = full.cases[i]!.regions[r];
        expect(rest).toEqual(want);
      }
    }
    expect(report.summary.WT.hd95.n).toBe(0);
  });

  it("--lesions writes a row per lesion and false positive; --csv gains the lesion-wise columns", async () => {
    const { preds, gts } = await written;
    const out = join(dir, "out");
    mkdirSync(out);
    const lesions = join(out, "lesions.csv");
    const csv = join(out, "metrics.csv");
    const args = ["--pred", preds, "--gt", gts, "--labels", "brats2023", "--lesion-wise", "gli"];
    const { code } = await run([...args, "--lesions", lesions, "--csv", csv]);
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["lesions.csv", "metrics.csv"]);
    const rows = readFileSync(lesions, "utf8").trimEnd().split("\n");
    expect(rows[0]).toBe(LESION_CSV_COLUMNS.join(","));
    expect(rows.filter((r) => r.startsWith("a,WT,"))).toEqual([
      "a,WT,lesion,1,80,80,true,1,1,0",
      "a,WT,lesion,2,64,64,true,,0,374",
      "a,WT,false_positive,2,32,32,true,,0,374",
    ]);
    // Case b has only edema: one WT lesion, nothing in TC and ET.
    expect(rows.filter((r) => r.startsWith("b,"))).toEqual(["b,WT,lesion,1,64,64,true,1,1,0"]);
    expect(readFileSync(csv, "utf8").split("\n")[0]).toBe(
      ["case", "kind", "name", ...METRIC_NAMES, ...LESION_WISE_METRIC_NAMES].join(","),
    );
  });

  it("the tables show the lesion-wise Dice and HD95", async () => {
    const { preds, gts } = await written;
    const { code, stdout } = await run([...inputs(preds, gts), "--lesion-wise", "MET"]);
    expect(code).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(
      /HD95 ET\s+LW Dice WT\s+LW Dice TC\s+LW Dice ET\s+LW HD95 WT/,
    );
    expect(stdout).toContain("(brats2023, lesion-wise MET):");
    expect(stdout).toMatch(/\nWT\s+lesionWiseDice\s+0\.6667\s/);
  });

  it.each<[string, string[], string]>([
    ["an unknown challenge", ["--lesion-wise", "XYZ"], "unknown challenge"],
    ["--lesions without --lesion-wise", ["--lesions", "x.csv"], "--lesions needs --lesion-wise"],
  ])("%s is a usage error (exit 2)", async (_name, extra, message) => {
    const { preds, gts } = await written;
    const { code, stderr } = await run(["--pred", preds, "--gt", gts, ...extra]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
