// Time per case for every region (WT/TC/ET) and label of brats2021, ours against the scipy
// reference (scripts/reference_metrics.py --time) in the same run, on one synthetic
// 240×240×155 pair and, when <repo>/../shared is present, the four deepbrainseg predictions.
// Run: pnpm --filter @brats/metrics bench   (= node --import tsx bench/metrics.bench.ts)
//
// Output, one JSON line per measurement:
//   metrics.case            seconds to score one case, files already decoded (ours: median of RUNS)
//   metrics.case.with_read  seconds including reading and decoding both .nii.gz files
//   metrics.case.peak_rss   MiB, peak resident memory of a fresh process that reads and scores the case
//   metrics.baseline_rss    MiB, the same fresh process that reads nothing (Node + tsx + modules)
//   metrics.agreement       largest |ours - scipy| over every metric of the case (a sanity check)
// and a summary line per implementation over the real cases with the speed-up.
// `--rss-child PRED GT` is the child mode used for peak_rss.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  childResult,
  emit,
  median,
  peakRssMiB,
  PYTHON,
  reportResult,
  runScript,
} from "@brats/kit/bench";
import { createImage, writeNifti, type Affine } from "@brats/nifti";
import { readLabelVolume } from "../src/read.js";
import { deepbrainsegCases, type BenchCase } from "./real-cases.js";
import {
  evaluateCase,
  METRIC_NAMES,
  type CaseMetrics,
  type EvaluateOptions,
  type MetricSet,
} from "../src/index.js";

const RUNS = 7;
/** scipy takes seconds per case: one timed pass each (raise with BENCH_SCIPY_REPEAT). */
const SCIPY_REPEAT = Number(process.env.BENCH_SCIPY_REPEAT ?? 1);
const OPTIONS: EvaluateOptions = { convention: "brats2021", labelMap: { 3: 4 } };

const benchDir = dirname(fileURLToPath(import.meta.url));
const packageDir = join(benchDir, "..");
const referenceScript = join(packageDir, "scripts", "reference_metrics.py");
const sharedData = join(packageDir, "../../../shared/data");

function round(value: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---------------------------------------------------------------------------------------------
// Child mode: read and score one case in a fresh process, report the peak RSS.

if (process.argv[2] === "--rss-baseline") {
  // The same process with nothing read or scored: what Node, tsx and the modules cost alone.
  reportResult({ peakRssMiB: peakRssMiB() });
  process.exit(0);
}
if (process.argv[2] === "--rss-child") {
  const [pred, gt] = await Promise.all([
    readLabelVolume(process.argv[3]!),
    readLabelVolume(process.argv[4]!),
  ]);
  evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, OPTIONS);
  reportResult({ peakRssMiB: peakRssMiB() });
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The synthetic pair: a BraTS-sized tumour (oedema shell, enhancing rim, necrotic core) and a
// prediction of it that is shifted, resized and carries a false-positive blob and a few stray voxels.

const SHAPE = [240, 240, 155] as const;
const AFFINE: Affine = [
  [-1, 0, 0, 0],
  [0, -1, 0, 239],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

function paintTumour(
  v: Uint8Array,
  centre: [number, number, number],
  radii: [number, number, number],
): void {
  const [nx, ny, nz] = SHAPE;
  const [cx, cy, cz] = centre;
  for (let z = Math.max(0, Math.floor(cz - radii[2])); z <= Math.min(nz - 1, cz + radii[2]); z++) {
    for (
      let y = Math.max(0, Math.floor(cy - radii[1]));
      y <= Math.min(ny - 1, cy + radii[1]);
      y++
    ) {
      for (
        let x = Math.max(0, Math.floor(cx - radii[0]));
        x <= Math.min(nx - 1, cx + radii[0]);
        x++
      ) {
        // Slight lobes so that surfaces are not perfect ellipsoids.
        const lobes = 1 + 0.12 * Math.sin(x / 5) * Math.cos(y / 7) + 0.08 * Math.sin(z / 4);
        const r =
          Math.sqrt(
            ((x - cx) / radii[0]) ** 2 + ((y - cy) / radii[1]) ** 2 + ((z - cz) / radii[2]) ** 2,
          ) / lobes;
        if (r > 1) continue;
        const i = x + nx * (y + ny * z);
        v[i] = r < 0.35 ? 1 : r < 0.55 ? 4 : 2;
      }
    }
  }
}

function syntheticPair(): { pred: Uint8Array; gt: Uint8Array } {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const gt = new Uint8Array(n);
  const pred = new Uint8Array(n);
  paintTumour(gt, [120, 110, 78], [38, 32, 28]);
  paintTumour(pred, [122, 108, 79], [36, 34, 27]);
  paintTumour(pred, [60, 170, 40], [6, 5, 4]);
  // Deterministic stray voxels (a linear congruential sequence).
  let seed = 12345;
  for (let k = 0; k < 300; k++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    pred[seed % n] = 1 + (seed % 3 === 2 ? 3 : seed % 3);
  }
  return { pred, gt };
}

// ---------------------------------------------------------------------------------------------

/** scipy's metrics as JSON: NaN is null. */
type JsonMetrics = Record<string, Record<string, number | null>>;

interface ScipyResult {
  readSeconds: number[];
  metricSeconds: number[];
  peakRssMiB: number;
  regions: JsonMetrics;
  labels: JsonMetrics;
}

function scipy(c: BenchCase): ScipyResult | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const result = runScript(
    referenceScript,
    ["--time", c.pred, c.gt, "--label-map", "3=4", "--repeat", String(SCIPY_REPEAT)],
    { command: PYTHON },
  );
  if (result.status !== 0) return `scipy run failed: ${result.stderr.trim()}`;
  return JSON.parse(result.stdout) as ScipyResult;
}

function peakRss(c: BenchCase | null): number | string {
  const mode = c === null ? ["--rss-baseline"] : ["--rss-child", c.pred, c.gt];
  try {
    return childResult<{ peakRssMiB: number }>("child", fileURLToPath(import.meta.url), mode)
      .peakRssMiB;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Largest |ours - scipy| over every region/label metric (null = NaN on both sides counts as 0). */
function disagreement(ours: CaseMetrics, theirs: ScipyResult): number {
  let worst = 0;
  for (const kind of ["regions", "labels"] as const) {
    for (const [name, want] of Object.entries(theirs[kind])) {
      const got: MetricSet = (ours[kind] as Record<string, MetricSet>)[name]!;
      for (const metric of METRIC_NAMES) {
        const w = want[metric] ?? NaN;
        const g = got[metric];
        if (Number.isNaN(w) && Number.isNaN(g)) continue;
        worst = Math.max(worst, Math.abs(g - w));
      }
    }
  }
  return worst;
}

async function benchCase(
  c: BenchCase,
): Promise<{ ours: number; oursWithRead: number; scipy?: number; scipyWithRead?: number }> {
  const [pred, gt] = await Promise.all([readLabelVolume(c.pred), readLabelVolume(c.gt)]);
  let metrics = evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, OPTIONS); // warm-up
  const metricRuns: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    metrics = evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, OPTIONS);
    metricRuns.push((performance.now() - start) / 1000);
  }
  const withReadRuns: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const [p, g] = await Promise.all([readLabelVolume(c.pred), readLabelVolume(c.gt)]);
    evaluateCase(p.data, g.data, g.shape, g.spacing, OPTIONS);
    withReadRuns.push((performance.now() - start) / 1000);
  }
  const ours = median(metricRuns);
  const oursWithRead = median(withReadRuns);
  emit({
    name: "metrics.case",
    impl: "brats",
    unit: "s",
    value: round(ours),
    case: c.id,
    runs: metricRuns.map((r) => round(r)),
  });
  emit({
    name: "metrics.case.with_read",
    impl: "brats",
    unit: "s",
    value: round(oursWithRead),
    case: c.id,
    runs: withReadRuns.map((r) => round(r)),
  });
  const rss = peakRss(c);
  if (typeof rss === "number") {
    emit({
      name: "metrics.case.peak_rss",
      impl: "brats",
      unit: "MiB",
      value: round(rss, 1),
      case: c.id,
    });
  } else {
    emit({
      name: "metrics.case.peak_rss",
      impl: "brats",
      unit: "MiB",
      value: NaN,
      case: c.id,
      note: rss,
    });
  }

  const theirs = scipy(c);
  if (typeof theirs === "string") {
    emit({ name: "metrics.case", impl: "scipy", unit: "s", value: NaN, case: c.id, note: theirs });
    return { ours, oursWithRead };
  }
  const scipyMetrics = median(theirs.metricSeconds);
  const scipyWithRead = median(theirs.metricSeconds.map((s, i) => s + theirs.readSeconds[i]!));
  emit({
    name: "metrics.case",
    impl: "scipy",
    unit: "s",
    value: round(scipyMetrics),
    case: c.id,
    runs: theirs.metricSeconds.map((r) => round(r)),
  });
  emit({
    name: "metrics.case.with_read",
    impl: "scipy",
    unit: "s",
    value: round(scipyWithRead),
    case: c.id,
  });
  emit({
    name: "metrics.case.peak_rss",
    impl: "scipy",
    unit: "MiB",
    value: round(theirs.peakRssMiB, 1),
    case: c.id,
  });
  emit({
    name: "metrics.agreement",
    impl: "brats",
    unit: "max abs diff",
    value: disagreement(metrics, theirs),
    case: c.id,
  });
  return { ours, oursWithRead, scipy: scipyMetrics, scipyWithRead };
}

const baseline = peakRss(null);
if (typeof baseline === "number") {
  emit({
    name: "metrics.baseline_rss",
    impl: "brats",
    unit: "MiB",
    value: round(baseline, 1),
    note: "node + tsx + modules loaded, nothing read",
  });
}

const workDir = mkdtempSync(join(tmpdir(), "brats-metrics-bench-"));
try {
  const { pred, gt } = syntheticPair();
  const synthetic: BenchCase = {
    id: "synthetic-240x240x155",
    pred: join(workDir, "pred.nii.gz"),
    gt: join(workDir, "gt.nii.gz"),
  };
  const spacing = [1, 1, 1];
  await writeNifti(
    createImage({ data: pred, shape: [...SHAPE], spacing, affine: AFFINE }),
    synthetic.pred,
  );
  await writeNifti(
    createImage({ data: gt, shape: [...SHAPE], spacing, affine: AFFINE }),
    synthetic.gt,
  );
  await benchCase(synthetic);

  const { cases: real, predDir } = deepbrainsegCases(sharedData);
  if (real.length === 0) {
    console.error(`metrics.bench: real cases skipped, ${predDir} is absent`);
  } else {
    const results = [];
    for (const c of real) results.push(await benchCase(c));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ours = mean(results.map((r) => r.ours));
    emit({
      name: "metrics.case.mean_real",
      impl: "brats",
      unit: "s",
      value: round(ours),
      note: `${real.length} deepbrainseg cases`,
    });
    const scipyTimes = results.flatMap((r) => (r.scipy === undefined ? [] : [r.scipy]));
    if (scipyTimes.length === results.length) {
      const theirs = mean(scipyTimes);
      emit({
        name: "metrics.case.mean_real",
        impl: "scipy",
        unit: "s",
        value: round(theirs),
        note: `speed-up ×${round(theirs / ours, 1)}`,
      });
    }
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
