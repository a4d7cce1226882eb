/**
 * @brats/unet3d benchmarks, every implementation side by side in one run:
 *   conv3d.fwdbwd.64        GFLOP/s  forward + backward of one 3×3×3 16→16 conv at 64³ (bench/conv3d.bench.ts)
 *   unet3d.trainstep.64     s        one training step of the reference U-Net (createUNet3D()
 *                                    defaults, 3 inputs, 4 classes), batch 1, 64³, Dice + CE, Adam
 *   unet3d.trainstep.128    s        the same at 128³
 *   <name>.peak_rss         MiB      peak resident memory of the process that ran it
 *   <name>.vs_pytorch       ×        brats / PyTorch, same run: step time (target: at most 1.2)
 *                                    and peak RSS (.peak_rss.vs_pytorch, target: at most 2)
 * for impl "brats" (what brats-train picks by default: setupTfjs on auto, told the step's size, so
 * wasm + the native oneDNN kernels where they load, and cpu + them for a step too big for the wasm
 * heap, as at 128³), "brats-wasm" (setupTfjs with native: false: the wasm fast kernels),
 * "brats-cpu" (the cpu backend with the native kernels: no 4 GiB heap, so 128³ fits; --impls),
 * "tfjs-wasm" and "tfjs-cpu" (stock TF.js kernels, same model code; only with --impls), and
 * "pytorch" (../shared/peers/pytorch_unet3d.py, when /usr/bin/python3 has torch). Each impl runs
 * in its own child process, so its peak RSS is its own; each brats line's note quotes
 * setupTfjs's report, the engine that actually loaded.
 *
 * and, from bench/fullvolume.bench.ts, unet3d.infer.fullvolume{.onnx,.tfjs-wasm} (impl "brats")
 * and unet3d.infer.fullvolume (impl "pytorch"): a whole 240×240×155 volume in 128³ windows.
 *
 * Run: pnpm --filter @brats/unet3d bench   (= node --import tsx bench/unet3d.bench.ts)
 * Options: --only conv3d|trainstep|fullvolume, --impls brats,brats-wasm,pytorch,..., --sizes 64,128
 * (trainstep cube sizes, default both), --steps N (timed brats steps, default 3; 1 at 128³),
 * --stock-steps N (timed steps of the stock impls, default 1, no warm-up),
 * --fv-impls onnx,pytorch,tfjs-wasm, --fv-reps N (whole-volume runs per engine, default 1).
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  argValue,
  emit,
  loadAverage,
  loadNote,
  median,
  peakRssMiB,
  PYTHON,
  pythonHas,
  reportResult,
  runScript,
} from "@brats/kit/bench";
import { benchConv3d } from "./conv3d.bench.js";
import { benchFullVolume, FULL_VOLUME_IMPLS, type FullVolumeImpl } from "./fullvolume.bench.js";

type Impl = "brats" | "brats-wasm" | "brats-cpu" | "tfjs-wasm" | "tfjs-cpu" | "pytorch";
type TfImpl = Exclude<Impl, "pytorch">;

const nameOf = (size: number) => `unet3d.trainstep.${size}`;
const THIS_FILE = fileURLToPath(import.meta.url);
const PEER_SCRIPT = resolve(dirname(THIS_FILE), "../../../../shared/peers/pytorch_unet3d.py");
const ALL_IMPLS: Impl[] = ["brats", "brats-wasm", "brats-cpu", "tfjs-wasm", "tfjs-cpu", "pytorch"];
const DEFAULT_IMPLS: Impl[] = ["brats", "brats-wasm", "pytorch"];
const isOurs = (impl: Impl): boolean =>
  impl === "brats" || impl === "brats-wasm" || impl === "brats-cpu";

interface ChildResult {
  seconds: number[];
  warmupSeconds: number | null;
  losses: number[];
  peakRssMiB: number;
  /** setupTfjs's report line (brats impls), else null. */
  engine: string | null;
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// Child: one impl's training steps.

async function runChild(impl: TfImpl, size: number, warmup: boolean, steps: number): Promise<void> {
  const { selectBackend } = await import("../src/backend.js");
  const { registerBratsLayers } = await import("../src/register.js");
  const { referenceStep } = await import("./reference-step.js");
  let engine: string | null = null;
  if (isOurs(impl)) {
    const { setupTfjs } = await import("../src/setup.js");
    engine = (
      await setupTfjs(
        impl === "brats"
          ? // What brats-train does: auto, told the step's size (a step too big for the wasm
            // heap runs on cpu + onednn).
            { trainStep: { patch: size, batch: 1, baseFilters: 16 } }
          : { backend: impl === "brats-cpu" ? "cpu" : "wasm", native: impl !== "brats-wasm" },
      )
    ).line;
  } else {
    // Stock kernels: the model's layers and the Conv3DBackpropInputV2 gradient only.
    await selectBackend(impl === "tfjs-cpu" ? "cpu" : "wasm");
    registerBratsLayers();
  }
  const run = await referenceStep(size);
  const losses: number[] = [];
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    // Reading the loss waits for the step; the weight updates were issued before it.
    losses.push(await run());
    return (performance.now() - t0) / 1000;
  };
  const warmupSeconds = warmup ? await step() : null;
  const seconds: number[] = [];
  for (let i = 0; i < steps; i++) seconds.push(await step());
  const result: ChildResult = {
    seconds,
    warmupSeconds,
    losses,
    peakRssMiB: peakRssMiB(),
    engine,
  };
  reportResult(result);
}

/** One impl's steps in a child process; on failure, the child's whole stderr (for the reason). */
function spawnChild(
  impl: TfImpl,
  size: number,
  warmup: boolean,
  steps: number,
): ChildResult | { failed: string } {
  const run = runScript(
    THIS_FILE,
    ["--child", impl, String(size), warmup ? "1" : "0", String(steps)],
    {
      timeoutMs: 60 * 60 * 1000,
    },
  );
  const line = run.lines.find((l) => l.startsWith("RESULT "));
  if (run.status !== 0 || line === undefined) return { failed: run.stderr };
  return JSON.parse(line.slice("RESULT ".length)) as ChildResult;
}

interface TorchTrain {
  median_s?: number;
  times_s?: number[];
  warmup_s?: number;
  peak_rss_mib?: number;
  skipped?: boolean;
}

function torchAvailable(): boolean {
  return existsSync(PEER_SCRIPT) && pythonHas("torch");
}

// ---------------------------------------------------------------------------------------------
// Parent.

/** The last meaningful line of a failed child's error, for an "n/a" note. */
function failureReason(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && l.length < 400 && !l.startsWith("at "));
  const oom = lines.find((l) =>
    /out of memory|Array buffer allocation|Aborted|memory access out of bounds|Cannot enlarge memory/i.test(
      l,
    ),
  );
  return (oom ?? lines[lines.length - 1] ?? "child failed").slice(0, 300);
}

function benchTorchStep(
  size: number,
): { seconds: number; rss: number | null; load: string } | null {
  const name = nameOf(size);
  if (!torchAvailable()) {
    emit({
      name,
      impl: "pytorch",
      unit: "s",
      value: null,
      note: `skipped: no ${PEER_SCRIPT} or no torch in ${PYTHON}`,
    });
    return null;
  }
  const startLoad = loadAverage();
  const before = loadNote();
  // Not childResult: the note below quotes the peer's RESULT line as printed.
  const proc = runScript(PEER_SCRIPT, ["train", String(size)], {
    command: PYTHON,
    timeoutMs: 30 * 60 * 1000,
  });
  const line = proc.lines.find((l) => l.startsWith("RESULT "));
  if (proc.status !== 0 || line === undefined) {
    throw new Error(`pytorch train failed (status ${proc.status}): ${proc.stderr.slice(-800)}`);
  }
  const r = JSON.parse(line.slice(7)) as TorchTrain;
  if (r.skipped === true || r.median_s === undefined) {
    emit({
      name,
      impl: "pytorch",
      unit: "s",
      value: null,
      note: `the peer skipped the step: ${line}`,
    });
    return null;
  }
  emit({
    name,
    impl: "pytorch",
    unit: "s",
    value: r.median_s,
    note: `torch 1 warm-up (${r.warmup_s} s) + median of ${r.times_s?.length} (${r.times_s?.join(", ")} s), 2 threads; ${before}`,
  });
  emit({
    name: `${name}.peak_rss`,
    impl: "pytorch",
    unit: "MiB",
    value: r.peak_rss_mib ?? null,
    note: "python process (peer script)",
  });
  return {
    seconds: r.median_s,
    rss: r.peak_rss_mib ?? null,
    load: `${startLoad}→${loadAverage()}`,
  };
}

/** Peak RSS (MiB) of each impl's step at each size measured so far in this run. */
const peakBySize = new Map<string, number>();

function benchTrainStep(impls: Impl[], size: number, steps: number, stockSteps: number): void {
  const name = nameOf(size);
  let brats: { seconds: number; rss: number; load: string } | null = null;
  let torch: { seconds: number; rss: number | null; load: string } | null = null;
  for (const impl of impls) {
    if (impl === "pytorch") {
      torch = benchTorchStep(size);
      continue;
    }
    const warmup = isOurs(impl);
    const n = warmup ? steps : stockSteps;
    const startLoad = loadAverage();
    const before = loadNote();
    const r = spawnChild(impl, size, warmup, n);
    if ("failed" in r) {
      // A step that does not fit (the wasm heap is 4 GiB at most) is reported, not fatal.
      const seen = [...peakBySize]
        .filter(([k]) => k.startsWith(`${impl}@`))
        .map(([k, v]) => `its ${k.split("@")[1]}³ step peaked at ${round(v, 0)} MiB`);
      const note = /Aborted\(\)|Cannot enlarge memory|out of memory/i.test(r.failed)
        ? `out of wasm heap (tfjs-backend-wasm's heap is at most 4 GiB and every tensor of the step lives in it${seen.length > 0 ? `; ${seen.join(", ")}` : ""})`
        : failureReason(r.failed);
      emit({ name, impl, unit: "s", value: null, note: `n/a at ${size}³: ${note}` });
      continue;
    }
    const value = median(r.seconds);
    peakBySize.set(`${impl}@${size}`, r.peakRssMiB);
    if (impl === "brats")
      brats = { seconds: value, rss: r.peakRssMiB, load: `${startLoad}→${loadAverage()}` };
    const finite = r.losses.every(Number.isFinite);
    const parts = [
      r.engine,
      warmup
        ? `1 warm-up (${round(r.warmupSeconds!, 2)} s) + median of ${n} (${r.seconds.map((s) => round(s, 2)).join(", ")} s)`
        : `${n} step${n > 1 ? "s" : ""}, no warm-up: stock kernels are slow (${r.seconds.map((s) => round(s, 1)).join(", ")} s)`,
      `losses ${r.losses.map((l) => round(l, 4)).join(", ")}${finite ? "" : " (not finite)"}`,
      impl === "tfjs-wasm"
        ? "stock wasm Conv3DBackpropInputV2 returns wrong values in tfjs 4.22, so this step's gradients are wrong (time is still the stock kernels')"
        : null,
      before,
    ];
    emit({
      name,
      impl,
      unit: "s",
      value: round(value),
      note: parts.filter((p) => p !== null).join("; "),
    });
    emit({
      name: `${name}.peak_rss`,
      impl,
      unit: "MiB",
      value: round(r.peakRssMiB, 1),
      note: "child process (Node + tfjs + model + step), VmHWM",
    });
  }
  if (brats !== null && torch !== null) {
    emit({
      name: `${name}.vs_pytorch`,
      impl: "brats",
      unit: "x",
      value: round(brats.seconds / torch.seconds, 2),
      note: `brats step time / pytorch step time, same run (target: at most 1.2); load average during brats ${brats.load}, during pytorch ${torch.load}`,
    });
    if (torch.rss !== null) {
      emit({
        name: `${name}.peak_rss.vs_pytorch`,
        impl: "brats",
        unit: "x",
        value: round(brats.rss / torch.rss, 2),
        note: "brats peak RSS / pytorch peak RSS, same run (target: at most 2)",
      });
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  await runChild(args[1] as TfImpl, Number(args[2]), args[3] === "1", Number(args[4]));
} else {
  const only = argValue(args, "--only");
  const impls = (argValue(args, "--impls")?.split(",") as Impl[] | undefined) ?? DEFAULT_IMPLS;
  for (const impl of impls) {
    if (!ALL_IMPLS.includes(impl))
      throw new Error(`unknown impl ${impl}; expected ${ALL_IMPLS.join(",")}`);
  }
  const steps = argValue(args, "--steps");
  const sizes = (argValue(args, "--sizes") ?? "64,128").split(",").map(Number);
  const stockSteps = Number(argValue(args, "--stock-steps") ?? 1);
  if (only === undefined || only === "conv3d") {
    // brats-cpu runs the same native Conv3D as brats; the conv bench has no separate line for it.
    benchConv3d({
      impls: impls.filter((i): i is Exclude<Impl, "brats-cpu"> => i !== "brats-cpu"),
      onLine: emit,
    });
  }
  if (only === undefined || only === "trainstep") {
    // Three timed steps at 64³; at 128³ one (each takes about 10 s even for PyTorch).
    for (const size of sizes) {
      benchTrainStep(impls, size, Number(steps ?? (size > 64 ? 1 : 3)), stockSteps);
    }
  }
  if (only === undefined || only === "fullvolume") {
    const fvImpls = argValue(args, "--fv-impls")?.split(",") as FullVolumeImpl[] | undefined;
    for (const impl of fvImpls ?? []) {
      if (!FULL_VOLUME_IMPLS.includes(impl))
        throw new Error(`unknown --fv-impls ${impl}; expected ${FULL_VOLUME_IMPLS.join(",")}`);
    }
    await benchFullVolume({
      impls: fvImpls,
      reps: Number(argValue(args, "--fv-reps") ?? 1),
      onLine: emit,
    });
  }
}
