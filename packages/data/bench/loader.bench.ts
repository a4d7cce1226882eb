/**
 * @brats/data loader throughput: augmented training patches per second delivered by PatchLoader
 * for 64³ and 128³ patches with 0 (in-process), 1 and 2 workers, and the peak memory of the
 * process that ran it.
 *
 * Cases: three synthetic BraTS-like phantoms of 240×240×155 (generatePhantom), preprocessed as for
 * training (RAS, 1 mm, cropped to the brain, z-scored) once by the parent and handed to every
 * configuration as raw arrays, read into shared memory (as `shareCase` makes them, so the loader
 * does not copy them); each configuration runs in a fresh child process.
 *
 * Output, one JSON line per measurement:
 *   data.loader.patches        patches/s  (fields patch, workers, augment) batches of 2 taken as fast
 *                                         as possible after the first one (worker start-up excluded)
 *   data.loader.peak_rss       MiB        VmHWM of that child (cases + loader + workers)
 *   data.loader.rss_cases      MiB        its VmRSS with the cases in memory, before the loader
 *   data.loader.vs_trainstep   x          patches the loader delivers in the time of one training
 *                                         step (unet3d.trainstep.64, batch 1): above 1, the step never
 *                                         waits; only when packages/unet3d/bench/unet3d.bench.ts exists
 *
 * Run: pnpm --filter @brats/data bench   (= node --import tsx bench/loader.bench.ts)
 * Options: --seconds S (timed seconds per configuration, default 4), --no-trainstep,
 *          --sizes 64,128, --workers 0,1,2, --augments default,spatial.
 */
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { labelsToClasses } from "@brats/conventions";
import {
  argValue,
  childResult,
  emit,
  jsonLines,
  loadNote,
  peakRssMiB,
  reportResult,
  rssMiB,
  runScript,
} from "@brats/kit/bench";
import type { AugmentOptions } from "../src/augment.js";
import type { LoadedCase } from "../src/cases.js";
import { PatchLoader } from "../src/loader.js";
import { generatePhantom } from "../src/phantom.js";
import { preprocessCase } from "../src/preprocess.js";

const THIS_FILE = fileURLToPath(import.meta.url);
const UNET3D_BENCH = resolve(dirname(THIS_FILE), "../../unet3d/bench/unet3d.bench.ts");
const CASES = 3;
const SHAPE: [number, number, number] = [240, 240, 155];
const BATCH = 2;

/** nnU-Net's default spatial augmentation adds rotations and scaling with probability 0.2 each. */
const AUGMENTS: Record<string, AugmentOptions> = {
  default: {},
  spatial: { rotation: { probability: 0.2 }, scaling: { probability: 0.2 } },
};

const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// Cases on disk for the children: meta JSON plus raw little-endian arrays.

interface CaseMeta {
  id: string;
  shape: [number, number, number];
  spacing: [number, number, number];
  affine: number[][];
  channels: number;
}

function writeCases(dir: string): CaseMeta[] {
  const metas: CaseMeta[] = [];
  for (let k = 0; k < CASES; k++) {
    const phantom = generatePhantom({ shape: SHAPE, seed: 100 + k, id: `Phantom_${k}` });
    const c = preprocessCase(phantom).case;
    c.channels.forEach((ch, i) => writeFileSync(join(dir, `${k}-${i}.f32`), ch));
    writeFileSync(join(dir, `${k}-seg.u8`), labelsToClasses(c.seg!));
    metas.push({
      id: c.id,
      shape: c.shape,
      spacing: c.spacing,
      affine: c.affine,
      channels: c.channels.length,
    });
  }
  writeFileSync(join(dir, "cases.json"), JSON.stringify(metas));
  return metas;
}

/**
 * Reads the cases straight into shared memory (what `shareCase` makes), so the loader hands
 * them to its workers without a copy and every configuration starts from the same memory.
 */
function readCases(dir: string): LoadedCase[] {
  const readShared = (path: string): SharedArrayBuffer => {
    const sab = new SharedArrayBuffer(statSync(path).size);
    const fd = openSync(path, "r");
    try {
      const view = new Uint8Array(sab);
      for (let done = 0; done < view.length;)
        done += readSync(fd, view, done, view.length - done, done);
    } finally {
      closeSync(fd);
    }
    return sab;
  };
  const metas = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")) as CaseMeta[];
  return metas.map((m, k) => ({
    id: m.id,
    channels: Array.from(
      { length: m.channels },
      (_, i) => new Float32Array(readShared(join(dir, `${k}-${i}.f32`))),
    ),
    modalities: ["flair", "t1", "t1ce", "t2"],
    seg: new Uint8Array(readShared(join(dir, `${k}-seg.u8`))),
    shape: m.shape,
    spacing: m.spacing,
    affine: m.affine,
  }));
}

// ---------------------------------------------------------------------------------------------
// Child: one configuration.

interface ChildResult {
  patchesPerSecond: number;
  batches: number;
  seconds: number;
  firstBatchSeconds: number;
  rssCasesMiB: number;
  peakRssMiB: number;
}

async function runChild(
  dir: string,
  patch: number,
  workers: number,
  augment: string,
  seconds: number,
): Promise<void> {
  const cases = readCases(dir);
  const rssCasesMiB = rssMiB();
  const loader = new PatchLoader({
    cases,
    patchSize: patch,
    batchSize: BATCH,
    seed: 1,
    workers,
    augment: AUGMENTS[augment]!,
    patchesPerEpoch: 1_000_000,
  });
  try {
    let t0 = performance.now();
    await loader.next();
    const firstBatchSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    let batches = 0;
    let elapsed = 0;
    while (elapsed < seconds || batches < 3) {
      await loader.next();
      batches++;
      elapsed = (performance.now() - t0) / 1000;
    }
    const result: ChildResult = {
      patchesPerSecond: (batches * BATCH) / elapsed,
      batches,
      seconds: elapsed,
      firstBatchSeconds,
      rssCasesMiB,
      peakRssMiB: peakRssMiB(),
    };
    reportResult(result);
  } finally {
    await loader.close();
  }
}

function spawnChild(
  dir: string,
  patch: number,
  workers: number,
  augment: string,
  seconds: number,
): ChildResult {
  return childResult<ChildResult>(
    `child ${patch}/${workers}/${augment}`,
    THIS_FILE,
    ["--child", dir, String(patch), String(workers), augment, String(seconds)],
    { timeoutMs: 20 * 60 * 1000 },
  );
}

// ---------------------------------------------------------------------------------------------
// The training step to compare with, from @brats/unet3d's own bench.

function trainStepSeconds(): { seconds: number; note: string } | null {
  if (!existsSync(UNET3D_BENCH)) return null;
  const proc = runScript(
    UNET3D_BENCH,
    ["--only", "trainstep", "--impls", "brats", "--steps", "1"],
    { timeoutMs: 30 * 60 * 1000, cwd: dirname(dirname(UNET3D_BENCH)) },
  );
  const lines = jsonLines(proc.stdout);
  const step = lines.find((l) => l.name === "unet3d.trainstep.64" && l.impl === "brats");
  if (proc.status !== 0 || step?.value == null) {
    throw new Error(
      `unet3d trainstep bench failed (status ${proc.status}): ${proc.stderr.slice(-800)}`,
    );
  }
  return { seconds: step.value, note: step.note ?? "" };
}

// ---------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
if (args[0] === "--child") {
  await runChild(args[1]!, Number(args[2]), Number(args[3]), args[4]!, Number(args[5]));
} else {
  const seconds = Number(argValue(args, "--seconds") ?? 4);
  const sizes = (argValue(args, "--sizes") ?? "64,128").split(",").map(Number);
  const workerCounts = (argValue(args, "--workers") ?? "0,1,2").split(",").map(Number);
  const augments = (argValue(args, "--augments") ?? "default,spatial").split(",");
  for (const a of augments) if (!(a in AUGMENTS)) throw new Error(`unknown augment ${a}`);

  const dir = mkdtempSync(join(tmpdir(), "brats-loader-bench-"));
  try {
    const t0 = performance.now();
    const metas = writeCases(dir);
    process.stderr.write(
      `${CASES} phantoms ${SHAPE.join("×")} preprocessed to ${metas.map((m) => m.shape.join("×")).join(", ")} in ${round((performance.now() - t0) / 1000, 1)} s\n`,
    );
    const best = new Map<number, number>();
    for (const augment of augments) {
      for (const patch of sizes) {
        for (const workers of workerCounts) {
          const before = loadNote();
          const r = spawnChild(dir, patch, workers, augment, seconds);
          if (augment === "default")
            best.set(patch, Math.max(best.get(patch) ?? 0, r.patchesPerSecond));
          const common = { impl: "brats", patch, workers, augment };
          emit({
            name: "data.loader.patches",
            ...common,
            unit: "patches/s",
            value: round(r.patchesPerSecond),
            note: `${r.batches} batches of ${BATCH} in ${round(r.seconds)} s after the first (${round(r.firstBatchSeconds)} s with worker start-up); ${before}`,
          });
          emit({
            name: "data.loader.peak_rss",
            ...common,
            unit: "MiB",
            value: round(r.peakRssMiB, 0),
            note: "VmHWM of the child",
          });
          emit({
            name: "data.loader.rss_cases",
            ...common,
            unit: "MiB",
            value: round(r.rssCasesMiB, 0),
            note: "child VmRSS with the cases read, before the loader",
          });
        }
      }
    }
    if (!args.includes("--no-trainstep") && best.has(64)) {
      const step = trainStepSeconds();
      if (step === null) {
        process.stderr.write(`no ${UNET3D_BENCH}: no training-step comparison\n`);
      } else {
        emit({
          name: "data.loader.vs_trainstep",
          impl: "brats",
          unit: "x",
          value: round(best.get(64)! * step.seconds),
          patch: 64,
          note: `best 64³ loader rate (default augmentation) × unet3d.trainstep.64 (${step.seconds} s for a batch of 1, measured now, separately: they share 2 cores when training); ${step.note}`,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
