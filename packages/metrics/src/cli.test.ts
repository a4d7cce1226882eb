// brats-eval in-process (main(argv, io) with buffers) on small NIfTI files written here, one spawned
// run, and the real deepbrainseg predictions against the scipy reference when ../shared is present.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createImage, writeNifti, type Affine } from "@brats/nifti";
import type { LabelConvention } from "@brats/conventions";
import { afterAll, describe, expect, it } from "vitest";
import { helpText } from "@brats/kit/cli";
import { CLI, parseLabelMap, run as runCli, type CliIo, type EvaluationReport } from "./cli.js";
import { evaluateCase, METRIC_NAMES, type MetricSet, type ScalarMetricName } from "./index.js";

const packageDir = fileURLToPath(new URL("../", import.meta.url));
const cliPath = fileURLToPath(new URL("./cli.ts", import.meta.url));
const binPath = fileURLToPath(new URL("../bin/brats-eval.js", import.meta.url));
const version = (
  JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }
).version;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], stderrIsTTY = false): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

async function runJson(
  argv: string[],
): Promise<{ code: number; report: EvaluationReport; stderr: string }> {
  const result = await run([...argv, "--json"]);
  return {
    code: result.code,
    report: JSON.parse(result.stdout) as EvaluationReport,
    stderr: result.stderr,
  };
}

const workDir = mkdtempSync(join(tmpdir(), "brats-eval-cli-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
let dirCounter = 0;
function freshDir(name: string): string {
  const dir = join(workDir, `${dirCounter++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const SHAPE = [6, 5, 4] as const;
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];
const SPACING = [1, 1.5, 2];
const AFFINE: Affine = [
  [-1, 0, 0, 10],
  [0, -1.5, 0, 20],
  [0, 0, 2, -5],
  [0, 0, 0, 1],
];

function index(x: number, y: number, z: number): number {
  return x + SHAPE[0] * (y + SHAPE[1] * z);
}

/** A small tumour: a 4×3×2 oedema block (x 1..4) holding NCR (x 2) and ET (x 3) columns of 2×2 voxels, shifted by dx along x. */
function tumour(dx: number, et = 4): Uint8Array {
  const v = new Uint8Array(N);
  for (let z = 1; z < 3; z++) {
    for (let y = 1; y < 4; y++) {
      for (let x = 1; x < 5; x++) v[index(x + dx, y, z)] = 2;
    }
  }
  for (let z = 1; z < 3; z++) {
    for (let y = 1; y < 3; y++) {
      v[index(2 + dx, y, z)] = 1;
      v[index(3 + dx, y, z)] = et;
    }
  }
  return v;
}

async function writeVolume(
  path: string,
  data: Uint8Array | Int16Array,
  opts: { shape?: readonly number[]; affine?: Affine } = {},
): Promise<string> {
  const shape = [...(opts.shape ?? SHAPE)];
  const spacing = shape.map((_, a) => SPACING[a] ?? 1);
  await writeNifti(createImage({ data, shape, spacing, affine: opts.affine ?? AFFINE }), path);
  return path;
}

/** Every metric of the CLI's output equals evaluateCase on the same arrays (JSON null = NaN). */
function expectSameMetrics(
  got: EvaluationReport["cases"][number],
  pred: Uint8Array,
  gt: Uint8Array,
  opts: { convention?: LabelConvention; labelMap?: Record<number, number> } = {},
): void {
  const want = evaluateCase(pred, gt, SHAPE, [SPACING[0]!, SPACING[1]!, SPACING[2]!], opts);
  const norm = (m: MetricSet) =>
    Object.fromEntries(METRIC_NAMES.map((k) => [k, Number.isFinite(m[k]) ? m[k] : null]));
  for (const region of ["WT", "TC", "ET"] as const) {
    expect(got.regions[region]).toEqual(norm(want.regions[region]));
  }
  expect(Object.keys(got.labels)).toEqual(Object.keys(want.labels));
  for (const label of Object.keys(want.labels)) {
    expect(got.labels[label]).toEqual(norm(want.labels[label]!));
  }
}

describe("brats-eval usage", () => {
  it.each([["--help"], ["-h"], ["--pred", "x", "--help"]])(
    "%s prints the help, exit 0",
    async (...argv) => {
      expect(await run(argv)).toEqual({ code: 0, stdout: helpText(CLI), stderr: "" });
    },
  );

  it("the help lists every option on a line of its own", () => {
    const lines = helpText(CLI).split("\n");
    expect(lines[0]).toBe("Usage: brats-eval --pred PRED --gt GT [options]");
    for (const option of [
      "pred",
      "gt",
      "labels",
      "label-map",
      "json",
      "csv",
      "progress",
      "help",
      "version",
    ]) {
      expect(lines.filter((l) => new RegExp(`^  (-\\w, )?--${option}( |$)`).test(l))).toHaveLength(
        1,
      );
    }
  });

  it("--version prints the package version", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  const dir = freshDir("usage");
  const file = join(dir, "a.nii.gz");
  writeFileSync(file, "not read: usage errors come first");
  it.each([
    { argv: [], line: "missing required options --pred and --gt" },
    { argv: ["--pred", file], line: "missing required option --gt" },
    { argv: ["--gt", file], line: "missing required option --pred" },
    { argv: ["--pred"], line: "--pred needs a value" },
    {
      argv: ["--pred", file, "--gt", file, "--jsno"],
      line: "unknown option --jsno (did you mean --json?)",
    },
    { argv: ["--pred", file, "--gt", file, "--frobnicate"], line: "unknown option --frobnicate" },
    { argv: ["--pred", file, "--gt", file, "extra"], line: 'unexpected argument "extra"' },
    {
      argv: ["--pred", file, "--gt", file, "--labels", "brats2019"],
      line: "--labels must be one of brats2021, brats2023 or brats2015, got brats2019",
    },
    {
      argv: ["--pred", file, "--gt", file, "--label-map", "3:4"],
      line: '--label-map entry "3:4" is not FROM=TO (e.g. 3=4)',
    },
    {
      argv: ["--pred", file, "--gt", file, "--label-map", "3=256"],
      line: "--label-map target 256 is not a label in 0..255",
    },
    {
      argv: ["--pred", file, "--gt", file, "--label-map", "3=4,3=1"],
      line: "--label-map maps 3 twice",
    },
    { argv: ["--pred", file, "--pred", file, "--gt", file], line: "--pred given more than once" },
  ])("$argv → one line, exit 2 ($line)", async ({ argv, line }) => {
    expect(await run(argv)).toEqual({
      code: 2,
      stdout: "",
      stderr: `brats-eval: ${line}\nsee brats-eval --help\n`,
    });
  });

  it.each([
    { option: "--pred", argv: ["--pred", join(dir, "missing.nii.gz"), "--gt", file] },
    { option: "--gt", argv: ["--pred", file, "--gt", join(dir, "missing-gt")] },
  ])("a missing $option path is NOT_FOUND, exit 2", async ({ option, argv }) => {
    const missing = argv[argv.indexOf(option) + 1]!;
    expect(await run(argv)).toEqual({
      code: 2,
      stdout: "",
      stderr: `brats-eval: ${option}: no such file or directory: ${missing}\n`,
    });
  });

  it.each([
    ["3=4", { 3: 4 }],
    ["3=4,5=0", { 3: 4, 5: 0 }],
    [" 3 = 4 , -1=0", { 3: 4, [-1]: 0 }],
  ])("parseLabelMap(%j)", (text, want) => {
    expect(parseLabelMap(text)).toEqual(want);
  });
});

describe("brats-eval pairing and scoring", () => {
  it("scores two files paired whatever their names, named after the ground truth", async () => {
    const dir = freshDir("two-files");
    const gtData = tumour(0);
    const predData = tumour(1);
    const pred = await writeVolume(join(dir, "model-output.nii.gz"), predData);
    const gt = await writeVolume(join(dir, "BraTS2021_00001_seg.nii"), gtData);
    const { code, report, stderr } = await runJson(["--pred", pred, "--gt", gt]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(report.cases.map((c) => c.case)).toEqual(["BraTS2021_00001"]);
    const c = report.cases[0]!;
    // Hand-computed: WT is a 4×3×2 block rolled by one voxel along x inside a 6-wide image: 18 of
    // its 24 voxels stay → Dice 18/24; the ET column (2×2 voxels) moves off itself entirely.
    expect(c.regions.WT.dice).toBeCloseTo(18 / 24, 12);
    expect(c.regions.ET.dice).toBe(0);
    expect(c.regions.ET.hd95).toBe(1);
    expect(c.regions.WT.volumeGtMl).toBeCloseTo((24 * 1 * 1.5 * 2) / 1000, 12);
    expectSameMetrics(c, predData, gtData);
    expect(report.unpaired).toEqual({ pred: [], gt: [] });
    expect(report.failed).toEqual([]);
    expect(report.convention).toBe("brats2021");
    expect(report.labelMap).toBeNull();
    expect(report.summary.WT.dice).toEqual({
      mean: c.regions.WT.dice,
      std: 0,
      median: c.regions.WT.dice,
      q25: c.regions.WT.dice,
      q75: c.regions.WT.dice,
      n: 1,
    });
  });

  it("pairs flat folders by <ID>, <ID>_seg and <ID>_pred and ignores image files", async () => {
    const preds = freshDir("flat-pred");
    const gts = freshDir("flat-gt");
    const volumes = {
      A: [tumour(0), tumour(0)],
      B: [tumour(1), tumour(0)],
      C: [tumour(0), tumour(1)],
    };
    await writeVolume(join(preds, "A.nii.gz"), volumes.A[0]!);
    await writeVolume(join(preds, "B_pred.nii.gz"), volumes.B[0]!);
    await writeVolume(join(preds, "C_seg.nii"), volumes.C[0]!);
    writeFileSync(join(preds, "notes.txt"), "not a volume");
    await writeVolume(join(gts, "A_seg.nii.gz"), volumes.A[1]!);
    await writeVolume(join(gts, "B.nii.gz"), volumes.B[1]!);
    await writeVolume(join(gts, "C_seg.nii.gz"), volumes.C[1]!);
    await writeVolume(join(gts, "C_flair.nii.gz"), new Uint8Array(N).fill(9));
    const { code, report, stderr } = await runJson(["--pred", preds, "--gt", gts]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(report.cases.map((c) => c.case)).toEqual(["A", "B", "C"]);
    for (const c of report.cases) {
      const [p, g] = volumes[c.case as keyof typeof volumes];
      expectSameMetrics(c, p!, g!);
    }
    expect(report.cases[0]!.regions.WT.dice).toBe(1);
    expect(report.cases[0]!.regions.WT.hd95).toBe(0);
    expect(report.summary.WT.dice.n).toBe(3);
  });

  it("pairs a prediction folder with BraTS case folders and reports unpaired cases (exit 1)", async () => {
    const preds = freshDir("case-pred");
    const gts = freshDir("case-gt");
    for (const id of ["BraTS2021_00001", "BraTS2021_00002", "BraTS2021_00003"]) {
      mkdirSync(join(gts, id));
      await writeVolume(join(gts, id, `${id}_seg.nii.gz`), tumour(0));
      await writeVolume(join(gts, id, `${id}_flair.nii.gz`), new Uint8Array(N).fill(7));
    }
    await writeVolume(join(preds, "BraTS2021_00001.nii.gz"), tumour(1));
    await writeVolume(join(preds, "BraTS2021_00002.nii.gz"), tumour(0));
    await writeVolume(join(preds, "BraTS2021_00099.nii.gz"), tumour(0));
    const { code, report, stderr } = await runJson(["--pred", preds, "--gt", gts]);
    expect(code).toBe(1);
    expect(report.cases.map((c) => c.case)).toEqual(["BraTS2021_00001", "BraTS2021_00002"]);
    expect(report.unpaired).toEqual({ pred: ["BraTS2021_00099"], gt: ["BraTS2021_00003"] });
    expect(stderr).toContain("no ground truth for predictions: BraTS2021_00099");
    expect(stderr).toContain("no prediction for ground truths: BraTS2021_00003");
    expectSameMetrics(report.cases[0]!, tumour(1), tumour(0));
  });

  it("finds nested case folders in --gt as brats-infer's --input does (BraTS 2018 and 2023 layouts)", async () => {
    const preds = freshDir("nested-pred");
    const gts = freshDir("nested-gt");
    // Training/HGG/<ID>/<ID>_seg.nii.gz (2018), a 2023 case folder <ID>/<ID>-seg.nii.gz, and a
    // top-level case folder as before.
    const cases = [
      {
        dir: join(gts, "Training", "HGG", "Brats18_A_1"),
        seg: "Brats18_A_1_seg.nii.gz",
        image: "Brats18_A_1_flair.nii.gz",
        id: "Brats18_A_1",
      },
      {
        dir: join(gts, "BraTS-GLI-00001-000"),
        seg: "BraTS-GLI-00001-000-seg.nii.gz",
        image: "BraTS-GLI-00001-000-t1c.nii.gz",
        id: "BraTS-GLI-00001-000",
      },
      {
        dir: join(gts, "BraTS2021_00001"),
        seg: "BraTS2021_00001_seg.nii.gz",
        image: "BraTS2021_00001_flair.nii.gz",
        id: "BraTS2021_00001",
      },
    ];
    for (const c of cases) {
      mkdirSync(c.dir, { recursive: true });
      await writeVolume(join(c.dir, c.seg), tumour(0));
      await writeVolume(join(c.dir, c.image), new Uint8Array(N).fill(7));
      await writeVolume(join(preds, `${c.id}.nii.gz`), tumour(1));
    }
    const { code, report, stderr } = await runJson(["--pred", preds, "--gt", gts]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(report.cases.map((c) => c.case)).toEqual([
      "BraTS-GLI-00001-000",
      "BraTS2021_00001",
      "Brats18_A_1",
    ]);
    expect(report.unpaired).toEqual({ pred: [], gt: [] });
    for (const c of report.cases) expectSameMetrics(c, tumour(1), tumour(0));
  });

  it("looks a single prediction file up in a ground-truth folder", async () => {
    const dir = freshDir("file-in-folder");
    const gts = freshDir("file-in-folder-gt");
    mkdirSync(join(gts, "X1"));
    await writeVolume(join(gts, "X1", "X1_seg.nii.gz"), tumour(0));
    const pred = await writeVolume(join(dir, "X1_pred.nii.gz"), tumour(0));
    const { code, report } = await runJson(["--pred", pred, "--gt", gts]);
    expect(code).toBe(0);
    expect(report.cases.map((c) => c.case)).toEqual(["X1"]);
  });

  it("refuses, per case and without numbers, shape and affine mismatches and unreadable files", async () => {
    const preds = freshDir("bad-pred");
    const gts = freshDir("bad-gt");
    await writeVolume(join(gts, "ok.nii.gz"), tumour(0));
    await writeVolume(join(preds, "ok.nii.gz"), tumour(0));
    await writeVolume(join(gts, "shape.nii.gz"), tumour(0));
    await writeVolume(join(preds, "shape.nii.gz"), new Uint8Array(6 * 5 * 5), { shape: [6, 5, 5] });
    await writeVolume(join(gts, "affine.nii.gz"), tumour(0));
    const moved = AFFINE.map((row) => [...row]);
    moved[0]![3] = 11; // one voxel along x: same shape, different grid
    await writeVolume(join(preds, "affine.nii.gz"), tumour(0), { affine: moved });
    await writeVolume(join(gts, "corrupt.nii.gz"), tumour(0));
    writeFileSync(join(preds, "corrupt.nii.gz"), "definitely not gzip or NIfTI".repeat(20));
    await writeVolume(join(gts, "labels.nii.gz"), tumour(0));
    const badLabels = Int16Array.from(tumour(0));
    badLabels[7] = 300;
    await writeVolume(join(preds, "labels.nii.gz"), badLabels);
    await writeVolume(join(gts, "4d.nii.gz"), tumour(0));
    await writeVolume(join(preds, "4d.nii.gz"), new Uint8Array(N * 2), { shape: [...SHAPE, 2] });

    const { code, report, stderr } = await runJson(["--pred", preds, "--gt", gts]);
    expect(code).toBe(1);
    expect(report.cases.map((c) => c.case)).toEqual(["ok"]);
    const failures = Object.fromEntries(report.failed.map((f) => [f.case, f.error.code]));
    expect(failures).toEqual({
      "4d": "SHAPE_MISMATCH",
      affine: "AFFINE_MISMATCH",
      corrupt: "IO",
      labels: "BAD_LABELS",
      shape: "SHAPE_MISMATCH",
    });
    for (const f of report.failed) {
      expect(f).not.toHaveProperty("regions");
      expect(stderr).toContain(`error: ${f.case}: ${f.error.code}`);
    }
    expect(report.failed.find((f) => f.case === "shape")!.error.message).toContain("6×5×5");
    expect(report.failed.find((f) => f.case === "affine")!.error.message).toContain(
      "affine[0][3] 11 vs 10",
    );
    expect(report.summary.WT.dice.n).toBe(1);
  });

  it("accepts affines that differ only by float32 rounding and -0", async () => {
    const dir = freshDir("affine-noise");
    const noisy = AFFINE.map((row) => row.map((v) => (v === 0 ? -0 : v + Math.abs(v) * 2e-7)));
    const pred = await writeVolume(join(dir, "p.nii.gz"), tumour(0), { affine: noisy });
    const gt = await writeVolume(join(dir, "g.nii.gz"), tumour(0));
    const { code, report } = await runJson(["--pred", pred, "--gt", gt]);
    expect(report.failed).toEqual([]);
    expect(code).toBe(0);
  });

  it("reports two prediction files of one case as AMBIGUOUS and scores the rest", async () => {
    const preds = freshDir("ambiguous-pred");
    const gts = freshDir("ambiguous-gt");
    await writeVolume(join(preds, "A.nii.gz"), tumour(0));
    await writeVolume(join(preds, "A_pred.nii.gz"), tumour(1));
    await writeVolume(join(preds, "B.nii.gz"), tumour(0));
    await writeVolume(join(gts, "A.nii.gz"), tumour(0));
    await writeVolume(join(gts, "B.nii.gz"), tumour(0));
    const { code, report } = await runJson(["--pred", preds, "--gt", gts]);
    expect(code).toBe(1);
    expect(report.cases.map((c) => c.case)).toEqual(["B"]);
    expect(report.failed.map((f) => [f.case, f.error.code])).toEqual([["A", "AMBIGUOUS"]]);
    expect(report.failed[0]!.error.message).toContain("A.nii.gz, A_pred.nii.gz");
  });

  it("finds no files in empty folders: exit 1 with a message, summaries null", async () => {
    const { code, report, stderr } = await runJson([
      "--pred",
      freshDir("empty-p"),
      "--gt",
      freshDir("empty-g"),
    ]);
    expect(code).toBe(1);
    expect(report.cases).toEqual([]);
    expect(stderr).toContain("no NIfTI files found");
    // NaN statistics of zero cases are written as null (JSON has no NaN).
    expect(report.summary.ET.hd95).toEqual({
      mean: null,
      std: null,
      median: null,
      q25: null,
      q75: null,
      n: 0,
    });
  });
});

describe("brats-eval label conventions", () => {
  it("fails a case with labels the convention does not use (UNKNOWN_LABELS), naming them and the fix", async () => {
    const dir = freshDir("label-map-fail");
    const pred = await writeVolume(join(dir, "case1_pred.nii.gz"), tumour(0, 3));
    const gt = await writeVolume(join(dir, "case1_seg.nii.gz"), tumour(0));
    const { code, report, stderr } = await runJson(["--pred", pred, "--gt", gt]);
    expect(code).toBe(1);
    expect(report.cases).toEqual([]);
    expect(report.failed.map((f) => [f.case, f.error.code])).toEqual([["case1", "UNKNOWN_LABELS"]]);
    expect(stderr).toContain(
      "brats-eval: error: case1: UNKNOWN_LABELS: prediction has labels 3 unused by brats2021; " +
        "if 3 is enhancing tumour, try --label-map 3=4",
    );
    expect(stderr).toContain("--allow-unknown-labels");
  });

  it("--allow-unknown-labels scores them nowhere with a warning and suggests --label-map; 3=4 fixes ET", async () => {
    const dir = freshDir("label-map");
    const gtData = tumour(0);
    const predData = tumour(0, 3);
    const pred = await writeVolume(join(dir, "case1_pred.nii.gz"), predData);
    const gt = await writeVolume(join(dir, "case1_seg.nii.gz"), gtData);

    const raw = await runJson(["--pred", pred, "--gt", gt, "--allow-unknown-labels"]);
    expect(raw.code).toBe(0);
    expect(raw.stderr).toContain("warning: case1: prediction has labels 3 unused by brats2021");
    expect(raw.stderr).toContain("--label-map 3=4");
    const rawCase = raw.report.cases[0]!;
    expect(rawCase.unknownLabels).toEqual({ pred: [3], gt: [] });
    expect(rawCase.regions.ET.dice).toBe(0);
    expect(rawCase.regions.ET.hd95).toBe(373.12866);
    expect(rawCase.regions.WT.dice).toBeCloseTo((2 * 20) / (20 + 24), 12);
    expectSameMetrics(rawCase, predData, gtData);

    const mapped = await runJson(["--pred", pred, "--gt", gt, "--label-map", "3=4"]);
    expect(mapped.stderr).toBe("");
    expect(mapped.report.labelMap).toEqual({ 3: 4 });
    const mappedCase = mapped.report.cases[0]!;
    expect(mappedCase.unknownLabels).toBeUndefined();
    for (const region of ["WT", "TC", "ET"] as const)
      expect(mappedCase.regions[region].dice).toBe(1);
    expectSameMetrics(mappedCase, predData, gtData, { labelMap: { 3: 4 } });
  });

  it("--labels brats2023 scores 3 as ET and keys labels 1, 2, 3", async () => {
    const dir = freshDir("brats2023");
    const gtData = tumour(0, 3);
    const predData = tumour(1, 3);
    const pred = await writeVolume(join(dir, "p.nii.gz"), predData);
    const gt = await writeVolume(join(dir, "g.nii.gz"), gtData);
    const { code, report } = await runJson(["--pred", pred, "--gt", gt, "--labels", "brats2023"]);
    expect(code).toBe(0);
    expect(report.convention).toBe("brats2023");
    expect(Object.keys(report.cases[0]!.labels)).toEqual(["1", "2", "3"]);
    expectSameMetrics(report.cases[0]!, predData, gtData, { convention: "brats2023" });
  });

  it("a ground truth with labels the convention lacks gets a --labels hint", async () => {
    const dir = freshDir("gt-hint");
    const pred = await writeVolume(join(dir, "p.nii.gz"), tumour(0, 3));
    const gt = await writeVolume(join(dir, "g.nii.gz"), tumour(0, 3));
    const result = await run(["--pred", pred, "--gt", gt]);
    expect(result.stderr).toContain("ground truth has labels 3 unused by brats2021");
    expect(result.stderr).toContain("--labels brats2023");
  });
});

describe("brats-eval outputs", () => {
  async function twoCases(): Promise<{ preds: string; gts: string }> {
    const preds = freshDir("out-pred");
    const gts = freshDir("out-gt");
    await writeVolume(join(preds, "case,one.nii.gz"), tumour(1));
    await writeVolume(join(gts, "case,one.nii.gz"), tumour(0));
    await writeVolume(join(preds, "case2.nii.gz"), tumour(0));
    await writeVolume(join(gts, "case2.nii.gz"), tumour(0));
    return { preds, gts };
  }

  it("prints a per-case table and the summary without --json", async () => {
    const { preds, gts } = await twoCases();
    const { code, stdout, stderr } = await run(["--pred", preds, "--gt", gts]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^case\s+Dice WT\s+Dice TC\s+Dice ET\s+HD95 WT\s+HD95 TC\s+HD95 ET$/);
    expect(lines[1]).toMatch(/^case,one\s+0\.7500\s/);
    expect(lines[2]).toMatch(/^case2\s+1\.0000\s+1\.0000\s+1\.0000\s+0\.00\s+0\.00\s+0\.00$/);
    expect(stdout).toContain("Summary over 2 cases (brats2021):");
    expect(stdout).toMatch(/\nWT\s+dice\s+0\.8750\s+0\.1250\s+0\.8750\s+0\.8125\s+0\.9375\s+2\n/);
  });

  it("--csv writes one row per case and region/label atomically, quoting IDs when needed", async () => {
    const { preds, gts } = await twoCases();
    const outDir = freshDir("csv");
    const csv = join(outDir, "metrics.csv");
    const { code, report } = await runJson(["--pred", preds, "--gt", gts, "--csv", csv]);
    expect(code).toBe(0);
    expect(readdirSync(outDir)).toEqual(["metrics.csv"]); // no temp file left behind
    const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(`case,kind,name,${METRIC_NAMES.join(",")}`);
    expect(lines).toHaveLength(1 + 2 * 6);
    expect(lines[1]).toBe(
      `"case,one",region,WT,${METRIC_NAMES.map((m) => String(report.cases[0]!.regions.WT[m])).join(",")}`,
    );
    expect(lines.slice(1).map((l) => l.split(",").slice(-12, -10).join(","))).toContain("label,4");
  });

  it("--csv into a missing folder fails with exit 1 and leaves nothing", async () => {
    const { preds, gts } = await twoCases();
    const csv = join(workDir, "no-such-dir", "m.csv");
    const { code, stderr } = await run(["--pred", preds, "--gt", gts, "--csv", csv]);
    expect(code).toBe(1);
    expect(stderr).toContain(`could not write ${csv}`);
    expect(existsSync(csv)).toBe(false);
  });

  it("draws a progress bar with an ETA on a terminal for many cases, or with --progress", async () => {
    const preds = freshDir("progress-pred");
    const gts = freshDir("progress-gt");
    for (const id of ["a", "b", "c"]) {
      await writeVolume(join(preds, `${id}.nii.gz`), tumour(0));
      await writeVolume(join(gts, `${id}.nii.gz`), tumour(0));
    }
    const plain = await run(["--pred", preds, "--gt", gts, "--json"], false);
    expect(plain.stderr).toBe("");
    const tty = await run(["--pred", preds, "--gt", gts, "--json"], true);
    // @brats/kit/progress's bar: redrawn in place, then a last line with the elapsed time.
    expect(tty.stderr).toMatch(/\[#{24}\] 100% 3\/3 done in \d+s\n$/);
    expect(tty.stderr).toContain("\r[------------------------]   0% 0/3 a ETA ?");
    expect(tty.stdout).toBe(plain.stdout);
    const forced = await run([
      "--pred",
      join(preds, "a.nii.gz"),
      "--gt",
      join(gts, "a.nii.gz"),
      "--progress",
    ]);
    expect(forced.stderr).toContain("100% 1/1 done in ");
  });
});

describe("brats-eval as a program", () => {
  it("the bin file starts with a node shebang and calls run from dist/cli.js", () => {
    const bin = readFileSync(binPath, "utf8");
    expect(bin.split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(bin).toContain('import { run } from "../dist/cli.js";');
  });

  // The bin needs a build; `run` from the source is what it calls.
  const runSource = (...argv: string[]) =>
    spawnSync(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { run } from ${JSON.stringify(cliPath)}; await run(${JSON.stringify(argv)});`,
      ],
      { cwd: packageDir, encoding: "utf8" },
    );

  it("runs under node --import tsx with exit codes and JSON on stdout", async () => {
    const dir = freshDir("spawn");
    const pred = await writeVolume(join(dir, "S1_pred.nii.gz"), tumour(1));
    const gt = await writeVolume(join(dir, "S1_seg.nii.gz"), tumour(0));
    const ok = runSource("--pred", pred, "--gt", gt, "--json");
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.stdout) as EvaluationReport;
    expect(report.cases[0]!.case).toBe("S1");
    expectSameMetrics(report.cases[0]!, tumour(1), tumour(0));

    const usage = runSource("--pred", pred);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("brats-eval: missing required option --gt\nsee brats-eval --help\n");
  });
});

// ---------------------------------------------------------------------------------------------
// Real predictions vs the scipy reference (research data, never committed).

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sharedData = join(repoRoot, "..", "shared", "data");
const predDir = join(sharedData, "peer-predictions", "deepbrainseg");
const bratsDir = join(sharedData, "brats");
const realPresent = existsSync(predDir) && existsSync(bratsDir);
if (!realPresent) {
  console.warn(`cli.test.ts: real-prediction run skipped, ${predDir} or ${bratsDir} is absent`);
}

interface ReferenceReal {
  case: string;
  options: { labelMap?: Record<string, number> };
  regions: Record<string, Record<string, number | null>>;
  labels: Record<string, Record<string, number | null>>;
}

describe.skipIf(!realPresent)("brats-eval on the deepbrainseg predictions", () => {
  const reference = (
    JSON.parse(readFileSync(new URL("./__golden__/reference.json", import.meta.url), "utf8")) as {
      real: ReferenceReal[];
    }
  ).real;

  it.each([
    ["raw", ["--allow-unknown-labels"]],
    ["3=4", ["--label-map", "3=4"]],
  ] as const)("%s: every number matches the scipy reference", async (which, extra) => {
    const { code, report, stderr } = await runJson(["--pred", predDir, "--gt", bratsDir, ...extra]);
    // Six BraTS cases, four predictions: the other two are unpaired ground truths.
    expect(code).toBe(1);
    expect(report.unpaired.pred).toEqual([]);
    expect(report.unpaired.gt).toHaveLength(2);
    expect(report.failed).toEqual([]);
    const wanted = reference.filter(
      (r) => (r.options.labelMap !== undefined) === (which === "3=4"),
    );
    expect(report.cases.map((c) => c.case)).toEqual(wanted.map((r) => r.case));
    if (which === "raw") expect(stderr).toContain("try --label-map 3=4");
    for (const want of wanted) {
      const got = report.cases.find((c) => c.case === want.case)!;
      for (const [kind, entries] of [
        ["regions", want.regions],
        ["labels", want.labels],
      ] as const) {
        for (const [name, metrics] of Object.entries(entries)) {
          const gotMetrics = (got[kind] as Record<string, MetricSet>)[name]!;
          for (const [metric, value] of Object.entries(metrics)) {
            const tolerance = ["hd95", "hd", "assd"].includes(metric) ? 1e-6 : 1e-9;
            const g = gotMetrics[metric as ScalarMetricName];
            expect(Math.abs(g - value!), `${want.case} ${name} ${metric}`).toBeLessThanOrEqual(
              tolerance,
            );
          }
        }
      }
    }
  });
});
