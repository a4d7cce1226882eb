// Decode speed over the 30 real BraTS volumes: read from disk, gunzip, decode and scale to
// Float32Array, for @brats/nifti (sequential and batch), nifti-reader-js and nibabel, in one run.
// Run: pnpm --filter @brats/nifti bench   (= node --import tsx bench/decode.bench.ts)
//
// Each implementation gets one untimed warm-up pass, then RUNS timed passes over all 30 files;
// the reported value is the MEDIAN pass (robust to a stray slow pass on a shared 2-core machine),
// and every pass is listed in "runs". Output: one JSON line per measurement.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { emit, median, peakRssMiB, PYTHON, runScript } from "@brats/kit/bench";
import { getScaledData, readNifti } from "../src/index.js";
import { bratsVolumes } from "./brats-volumes.js";
import { decodeWithNiftiReaderJs } from "./nifti-reader-js-decode.js";

const RUNS = 5;
/** Files decoded at once in the batch mode: enough to keep zlib's thread pool and both cores busy. */
const BATCH_IN_FLIGHT = 4;

const benchDir = dirname(fileURLToPath(import.meta.url));

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Times `pass` (which returns the voxels it decoded) once untimed and RUNS times timed; Mvoxel/s per run. */
async function measure(pass: () => Promise<number>): Promise<number[]> {
  await pass();
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const voxels = await pass();
    const seconds = (performance.now() - start) / 1000;
    rates.push(voxels / 1e6 / seconds);
  }
  return rates;
}

function report(name: string, impl: string, rates: number[], note?: string): void {
  emit({
    name,
    impl,
    unit: "Mvoxel/s",
    value: round(median(rates)),
    runs: rates.map((r) => round(r)),
    ...(note ? { note } : {}),
  });
}

async function decodeOurs(path: string): Promise<number> {
  const image = await readNifti(path);
  return getScaledData(image, "float32").length;
}

async function oursSequential(files: string[]): Promise<number> {
  let voxels = 0;
  for (const file of files) {
    const decoded = await decodeOurs(file);
    voxels += decoded;
  }
  return voxels;
}

async function oursBatch(files: string[]): Promise<number> {
  let next = 0;
  let voxels = 0;
  const lane = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      // Not `voxels += await ...`: that reads `voxels` before the await and loses other lanes' counts.
      const decoded = await decodeOurs(file);
      voxels += decoded;
    }
  };
  await Promise.all(Array.from({ length: BATCH_IN_FLIGHT }, lane));
  return voxels;
}

function niftiReaderJs(files: string[]): Promise<number> {
  let voxels = 0;
  for (const file of files) {
    const { values } = decodeWithNiftiReaderJs(readFileSync(file));
    if (values === null) throw new Error(`nifti-reader-js returned no voxels for ${file}`);
    voxels += values.length;
  }
  return Promise.resolve(voxels);
}

function nibabel(files: string[]): number[] | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const result = runScript(join(benchDir, "nibabel_decode.py"), [String(RUNS), ...files], {
    command: PYTHON,
  });
  if (result.status !== 0) return `nibabel run failed: ${result.stderr.trim()}`;
  const parsed = JSON.parse(result.stdout) as { voxels: number; seconds: number[] };
  return parsed.seconds.map((s) => parsed.voxels / 1e6 / s);
}

async function main(): Promise<void> {
  const files = bratsVolumes("nifti.decode.brats");
  if (files === null) return;
  console.warn(
    `nifti.decode.brats: ${files.length} volumes, warm-up + ${RUNS} runs each, median reported`,
  );

  report("nifti.decode.brats.single", "brats", await measure(() => oursSequential(files)));
  report(
    "nifti.decode.brats.batch",
    "brats",
    await measure(() => oursBatch(files)),
    `${BATCH_IN_FLIGHT} files in flight`,
  );
  // Peak RSS so far covers only our decoder (the peers run after this line).
  emit({
    name: "nifti.decode.brats.peak_rss",
    impl: "brats",
    unit: "MiB",
    value: round(peakRssMiB()),
  });

  report("nifti.decode.brats.single", "nifti-reader-js", await measure(() => niftiReaderJs(files)));

  const nibabelRates = nibabel(files);
  if (typeof nibabelRates === "string")
    console.warn(`nifti.decode.brats nibabel: skipped, ${nibabelRates}`);
  else report("nifti.decode.brats.single", "nibabel", nibabelRates);
}

await main();
