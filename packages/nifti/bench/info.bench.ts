// `brats-nifti info --json` over the 30 real BraTS volumes, as a user runs it (one process, every
// file on the command line: streaming statistics, several files at once), against nibabel doing
// the same work (load, get_fdata(float32), min/max/mean of the finite values), in one run.
// Run: pnpm --filter @brats/nifti bench (after `pnpm build`: the command is bin/brats-nifti.js).
// Each side gets one untimed warm-up, then RUNS timed passes; the median is reported, every pass
// listed in "runs", with the peak RSS of our process.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { emit, median, PYTHON, runScript } from "@brats/kit/bench";
import { bratsVolumes } from "./brats-volumes.js";

const RUNS = 5;
const benchDir = dirname(fileURLToPath(import.meta.url));
const bin = join(benchDir, "../bin/brats-nifti.js");
const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/** One `info --json` process over `files`: its wall time. */
function infoOnce(files: string[]): { seconds: number } {
  const start = performance.now();
  const run = runScript(bin, ["info", "--json", ...files], { execArgv: [] });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`brats-nifti info failed: ${run.stderr.slice(0, 500)}`);
  if (run.lines.filter((l) => l.startsWith("{")).length !== files.length) {
    throw new Error("brats-nifti info printed fewer lines than files");
  }
  return { seconds };
}

function peakRssOfInfo(files: string[]): number | null {
  // The child reports its own peak: node's resourceUsage at exit, through --import of a tiny hook.
  const hook =
    "data:text/javascript,process.on('exit',()=>process.stderr.write('MAXRSS '+process.resourceUsage().maxRSS+'\\n'))";
  const run = runScript(bin, ["info", "--json", ...files], { execArgv: ["--import", hook] });
  const match = /MAXRSS (\d+)/.exec(run.stderr);
  return match === null ? null : Number(match[1]) / 1024;
}

function main(): void {
  const files = bratsVolumes("nifti.info.brats");
  if (files === null) return;
  if (!existsSync(join(benchDir, "../dist/cli.js"))) {
    console.warn(
      "nifti.info.brats: skipped, run `pnpm build` first (the bench runs bin/brats-nifti.js)",
    );
    return;
  }
  console.warn(
    `nifti.info.brats: ${files.length} volumes, warm-up + ${RUNS} runs each, median reported`,
  );
  infoOnce(files);
  const ours = Array.from({ length: RUNS }, () => infoOnce(files).seconds);
  emit({
    name: "nifti.info.brats",
    impl: "brats",
    unit: "s",
    value: round(median(ours)),
    runs: ours.map((s) => round(s)),
  });
  const peak = peakRssOfInfo(files);
  if (peak !== null)
    emit({ name: "nifti.info.brats.peak_rss", impl: "brats", unit: "MiB", value: round(peak, 1) });

  if (!existsSync(PYTHON)) {
    console.warn(`nifti.info.brats nibabel: skipped, ${PYTHON} not found`);
    return;
  }
  const py = runScript(join(benchDir, "nibabel_info.py"), [String(RUNS), ...files], {
    command: PYTHON,
  });
  if (py.status !== 0) {
    console.warn(`nifti.info.brats nibabel: failed: ${py.stderr.trim()}`);
    return;
  }
  const theirs = (JSON.parse(py.stdout) as { seconds: number[] }).seconds;
  emit({
    name: "nifti.info.brats",
    impl: "nibabel",
    unit: "s",
    value: round(median(theirs)),
    runs: theirs.map((s) => round(s)),
  });
}

main();
