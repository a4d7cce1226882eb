// Lesion-wise evaluation (BraTS 2023+, GLI parameters) of the four deepbrainseg predictions,
// ours against the scipy reference (scripts/lesionwise_reference.py --time) in the same run.
// Ours is the whole of evaluateCase with `lesionWise`: every legacy metric of every region and
// label too, besides the lesion-wise scores and the surface HD95 the reference computes; and,
// alternated with it, the same work as the reference: `distances: false` drops medpy's HD, HD95
// and ASSD, which the reference does not compute (the overlap scores stay).
// Run: pnpm --filter @brats/metrics bench   (after bench/metrics.bench.ts)
//
// Output, one JSON line per measurement:
//   metrics.lesionwise.case           seconds to score one case, files already decoded (ours:
//                                     median of RUNS; scipy: one pass, its own timing of scoring)
//   metrics.lesionwise.case.same_work ours without medpy's distances, as the reference (median)
//   metrics.lesionwise.case.peak_rss  MiB, peak resident memory of a fresh process that reads and
//                                     scores the case (scipy: its process, reading included)
//   metrics.lesionwise.agreement      largest |ours − scipy| over lesion-wise Dice, HD95 and the
//                                     surface HD95 of the case (counts must match exactly)
//   metrics.lesionwise.mean_real      mean over the cases, with the speed-up
// `--rss-child PRED GT` is the child mode used for peak_rss.
import { existsSync } from "node:fs";
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
import { REGION_NAMES } from "@brats/conventions";
import { readLabelVolume } from "../src/read.js";
import { deepbrainsegCases } from "./real-cases.js";
import { evaluateCase, type CaseMetrics, type EvaluateOptions } from "../src/index.js";

const RUNS = 5;
const CHALLENGE = "GLI";
const OPTIONS: EvaluateOptions = {
  convention: "brats2021",
  labelMap: { 3: 4 },
  lesionWise: { challenge: CHALLENGE },
};
/** What the reference computes: no medpy HD/HD95/ASSD (`distances: false`, brats-eval --no-distances). */
const SAME_WORK: EvaluateOptions = { ...OPTIONS, distances: false };

const benchDir = dirname(fileURLToPath(import.meta.url));
const packageDir = join(benchDir, "..");
const referenceScript = join(packageDir, "scripts", "lesionwise_reference.py");
const sharedData = join(packageDir, "../../../shared/data");

const round = (value: number, digits = 4): number =>
  Math.round(value * 10 ** digits) / 10 ** digits;

if (process.argv[2] === "--rss-child") {
  const [pred, gt] = await Promise.all([
    readLabelVolume(process.argv[3]!),
    readLabelVolume(process.argv[4]!),
  ]);
  evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, OPTIONS);
  reportResult({ peakRssMiB: peakRssMiB() });
  process.exit(0);
}

interface Reference {
  seconds: number;
  peakRssMiB: number;
  regions: Record<
    string,
    {
      lesionWise: { dice: number; hd95: number; tp: number; fp: number; fn: number };
      hd95Surface: number;
    }
  >;
}

function reference(pred: string, gt: string): Reference | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const run = runScript(referenceScript, ["--time", pred, gt, "--challenge", CHALLENGE], {
    command: PYTHON,
  });
  if (run.status !== 0) return `reference failed: ${run.stderr.trim().split("\n").at(-1)}`;
  return JSON.parse(run.stdout) as Reference;
}

/** Largest difference in the real-valued scores; Infinity when a count differs. */
function disagreement(ours: CaseMetrics, theirs: Reference): number {
  let worst = 0;
  for (const r of REGION_NAMES) {
    const got = ours.regions[r];
    const want = theirs.regions[r]!;
    const lw = got.lesionWise!;
    if (
      lw.tp !== want.lesionWise.tp ||
      lw.fp !== want.lesionWise.fp ||
      lw.fn !== want.lesionWise.fn
    )
      return Infinity;
    worst = Math.max(
      worst,
      Math.abs(lw.dice - want.lesionWise.dice),
      Math.abs(lw.hd95 - want.lesionWise.hd95),
      Math.abs(got.hd95Surface! - want.hd95Surface),
    );
  }
  return worst;
}

const { cases, predDir } = deepbrainsegCases(sharedData);
if (cases.length === 0) {
  console.error(`lesionwise.bench: skipped, ${predDir} is absent`);
  process.exit(0);
}

const ours: number[] = [];
const oursSameWork: number[] = [];
const theirs: number[] = [];
for (const c of cases) {
  const [pred, gt] = await Promise.all([readLabelVolume(c.pred), readLabelVolume(c.gt)]);
  let metrics = evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, OPTIONS); // warm-up
  // The two ways, alternated run by run, so that the machine's drift falls on both alike.
  const runs: number[] = [];
  const sameWorkRuns: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let start = performance.now();
    metrics = evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, OPTIONS);
    runs.push((performance.now() - start) / 1000);
    start = performance.now();
    evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, SAME_WORK);
    sameWorkRuns.push((performance.now() - start) / 1000);
  }
  ours.push(median(runs));
  oursSameWork.push(median(sameWorkRuns));
  emit({
    name: "metrics.lesionwise.case",
    impl: "brats",
    unit: "s",
    value: round(median(runs)),
    case: c.id,
    challenge: CHALLENGE,
    runs: runs.map((r) => round(r)),
  });
  emit({
    name: "metrics.lesionwise.case.same_work",
    impl: "brats",
    unit: "s",
    value: round(median(sameWorkRuns)),
    case: c.id,
    challenge: CHALLENGE,
    runs: sameWorkRuns.map((r) => round(r)),
  });
  try {
    const rss = childResult<{ peakRssMiB: number }>("child", fileURLToPath(import.meta.url), [
      "--rss-child",
      c.pred,
      c.gt,
    ]);
    emit({
      name: "metrics.lesionwise.case.peak_rss",
      impl: "brats",
      unit: "MiB",
      value: round(rss.peakRssMiB, 1),
      case: c.id,
    });
  } catch (error) {
    const note = (error as Error).message;
    emit({
      name: "metrics.lesionwise.case.peak_rss",
      impl: "brats",
      unit: "MiB",
      value: NaN,
      case: c.id,
      note,
    });
  }
  const ref = reference(c.pred, c.gt);
  if (typeof ref === "string") {
    emit({
      name: "metrics.lesionwise.case",
      impl: "scipy",
      unit: "s",
      value: NaN,
      case: c.id,
      note: ref,
    });
    continue;
  }
  theirs.push(ref.seconds);
  emit({
    name: "metrics.lesionwise.case",
    impl: "scipy",
    unit: "s",
    value: round(ref.seconds),
    case: c.id,
    challenge: CHALLENGE,
  });
  emit({
    name: "metrics.lesionwise.case.peak_rss",
    impl: "scipy",
    unit: "MiB",
    value: round(ref.peakRssMiB, 1),
    case: c.id,
  });
  emit({
    name: "metrics.lesionwise.agreement",
    impl: "brats",
    unit: "max abs diff",
    value: disagreement(metrics, ref),
    case: c.id,
  });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
emit({
  name: "metrics.lesionwise.mean_real",
  impl: "brats",
  unit: "s",
  value: round(mean(ours)),
  note: `${ours.length} deepbrainseg cases, ${CHALLENGE}, every metric`,
});
emit({
  name: "metrics.lesionwise.mean_real.same_work",
  impl: "brats",
  unit: "s",
  value: round(mean(oursSameWork)),
  note: `${ours.length} deepbrainseg cases, ${CHALLENGE}, the reference's metrics (distances: false)`,
});
if (theirs.length === ours.length) {
  emit({
    name: "metrics.lesionwise.mean_real",
    impl: "scipy",
    unit: "s",
    value: round(mean(theirs)),
    note: `speed-up ×${round(mean(theirs) / mean(ours), 1)} every metric, ×${round(mean(theirs) / mean(oursSameWork), 1)} the same work`,
  });
}
