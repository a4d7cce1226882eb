// Phantom generation speed: generatePhantom at 64³ and 240×240×155 (1 mm, the BraTS grid), and
// writePhantomDataset for one full-size case (four int16 .nii.gz images and a uint8 seg).
// Run: node --import tsx bench/phantom.bench.ts   (from packages/data)
//
// Output, one JSON line per measurement:
//   data.phantom.generate   ms per case, median of RUNS after one warm-up
//   data.phantom.write      ms to generate and write one case (gzip through node:zlib)
//   data.phantom.peak_rss   MiB, peak resident memory of this process at the end
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { emit, median, peakRssMiB } from "@brats/kit/bench";
import { generatePhantom, writePhantomDataset } from "../src/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const round = (ms: number): number => Math.round(ms * 10) / 10;

const shapes: Array<[number, number, number]> = [
  [64, 64, 64],
  [240, 240, 155],
];
for (const shape of shapes) {
  generatePhantom({ shape, seed: 0 }); // warm-up: JIT and first-touch page faults
  const runs: number[] = [];
  for (let seed = 1; seed <= RUNS; seed++) {
    const start = performance.now();
    generatePhantom({ shape, seed });
    runs.push(round(performance.now() - start));
  }
  emit({
    name: "data.phantom.generate",
    impl: "brats",
    unit: "ms",
    value: median(runs),
    shape,
    runs,
  });
}

const dir = mkdtempSync(join(tmpdir(), "brats-phantom-bench-"));
try {
  const runs: number[] = [];
  for (let seed = 1; seed <= Math.min(RUNS, 3); seed++) {
    const start = performance.now();
    await writePhantomDataset(join(dir, String(seed)), { cases: 1, shape: [240, 240, 155], seed });
    runs.push(round(performance.now() - start));
  }
  emit({
    name: "data.phantom.write",
    impl: "brats",
    unit: "ms",
    value: median(runs),
    shape: [240, 240, 155],
    runs,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
emit({
  name: "data.phantom.peak_rss",
  impl: "brats",
  unit: "MiB",
  value: Math.round(peakRssMiB()),
});
