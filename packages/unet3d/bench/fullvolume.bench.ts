/**
 * unet3d.infer.fullvolume: sliding-window inference over a whole BraTS-sized volume
 * (3 channels, 240×240×155, random normal values), 128³ windows, overlap 0.5, Gaussian merge,
 * argmax labels, reference architecture (createUNet3D({ seed: 0 }): 5,648,784 parameters) with
 * random weights, batch 1. Seconds for the whole volume after one warm-up window, plus the peak
 * RSS (MiB, VmHWM) of the process that ran it:
 *   unet3d.infer.fullvolume.onnx       impl "brats"    exportOnnx → loadOnnxModel (onnxruntime-node
 *                                                       CPU, 2 threads) → predictVolume
 *   unet3d.infer.fullvolume.tfjs-wasm  impl "brats"    TF.js wasm + registerFastConv3D → predictVolume
 *   unet3d.infer.fullvolume            impl "pytorch"  ../shared/peers/pytorch_unet3d.py `sw`
 *   unet3d.infer.fullvolume.onnx.vs_pytorch  ×         onnx seconds / pytorch seconds (target ≤ 1)
 * Each engine runs in its own child process. The volume is D=240, H=240, W=155 as the peer's
 * [C, 240, 240, 155] tensor: 3 × 3 × 2 = 18 windows for both.
 *
 * Run alone: `node --import tsx bench/fullvolume.bench.ts [--impls onnx,pytorch,tfjs-wasm]
 * [--reps N] [--threads N]`, or `--profile` for onnxruntime's per-operator times of one 128³
 * window of the reference model.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "@brats/kit/random";
import {
  argValue,
  childResult,
  emit as printLine,
  loadAverage,
  median,
  peakRssMiB,
  PYTHON,
  pythonHas,
  reportResult,
  type BenchLine,
} from "@brats/kit/bench";

export type FullVolumeImpl = "onnx" | "tfjs-wasm" | "pytorch";
export const FULL_VOLUME_IMPLS: FullVolumeImpl[] = ["onnx", "pytorch", "tfjs-wasm"];

const NAME = "unet3d.infer.fullvolume";
const VOLUME: [number, number, number, number] = [240, 240, 155, 3];
const WINDOW: [number, number, number] = [128, 128, 128];
const OVERLAP = 0.5;
const THIS_FILE = fileURLToPath(import.meta.url);
const PEER_SCRIPT = resolve(dirname(THIS_FILE), "../../../../shared/peers/pytorch_unet3d.py");

interface ChildResult {
  seconds: number[];
  warmupSeconds: number;
  windows: number;
  peakRssMiB: number;
  labelCounts: number[];
  providers?: string[];
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

/** Seeded standard normal values (Box–Muller over a Mulberry32 stream). */
function randomVolume(n: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  // (0, 1]: Box–Muller takes the log.
  const uniform = (): number => (next() + 1) / 4294967297;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const phi = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(phi);
    if (i + 1 < n) out[i + 1] = r * Math.sin(phi);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Children.

async function runChild(
  impl: "onnx" | "tfjs-wasm",
  modelPath: string,
  reps: number,
  threads: number,
): Promise<void> {
  const { predictVolume } = await import("../src/inference.js");
  let predictor: Parameters<typeof predictVolume>[0];
  let providers: string[] | undefined;
  let release = async (): Promise<void> => {};
  if (impl === "onnx") {
    const { loadOnnxModel } = await import("../src/onnx/runtime.js");
    const model = await loadOnnxModel(modelPath, { threads });
    providers = model.executionProviders;
    predictor = model;
    release = () => model.dispose();
  } else {
    const { selectBackend } = await import("../src/backend.js");
    const { registerBratsLayers } = await import("../src/register.js");
    const { registerFastConv3D } = await import("../src/fast-conv3d/index.js");
    const { createUNet3D } = await import("../src/model.js");
    await selectBackend("wasm");
    registerBratsLayers();
    registerFastConv3D();
    predictor = createUNet3D({ seed: 0 });
  }
  const voxels = VOLUME[0] * VOLUME[1] * VOLUME[2];
  const volume = { data: randomVolume(voxels * VOLUME[3], 1), shape: VOLUME };
  const options = {
    windowSize: WINDOW,
    overlap: OVERLAP,
    batchSize: 1,
    mode: "gaussian" as const,
    output: "labels" as const,
  };
  // Warm-up: one window (the peer warms up with one 128³ forward too).
  const warm = {
    data: randomVolume(WINDOW[0] * WINDOW[1] * WINDOW[2] * 3, 2),
    shape: [...WINDOW, 3] as [number, number, number, number],
  };
  let t0 = performance.now();
  await predictVolume(predictor, warm, options);
  const warmupSeconds = (performance.now() - t0) / 1000;
  const seconds: number[] = [];
  let windows = 0;
  let labelCounts: number[] = [];
  for (let r = 0; r < reps; r++) {
    windows = 0;
    t0 = performance.now();
    const result = await predictVolume(predictor, volume, {
      ...options,
      onProgress: (done) => {
        windows = done;
      },
    });
    seconds.push((performance.now() - t0) / 1000);
    const counts = new Array<number>(4).fill(0);
    for (const l of result.data) counts[l] = (counts[l] ?? 0) + 1;
    labelCounts = counts;
  }
  await release();
  const result: ChildResult = {
    seconds,
    warmupSeconds,
    windows,
    peakRssMiB: peakRssMiB(),
    labelCounts,
    ...(providers === undefined ? {} : { providers }),
  };
  reportResult(result);
}

/** onnxruntime's profiler over one 128³ window of the reference model: per-operator times. */
async function runProfile(modelPath: string, threads: number): Promise<void> {
  const ort = await import("onnxruntime-node");
  const { readFileSync } = await import("node:fs");
  const prefix = join(dirname(modelPath), "ort-profile");
  const session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const shape = [1, 3, ...WINDOW];
  const x = new ort.Tensor(
    "float32",
    randomVolume(3 * WINDOW[0] * WINDOW[1] * WINDOW[2], 3),
    shape,
  );
  for (let i = 0; i < 2; i++) await session.run({ image: x });
  // The binding writes the file and returns nothing; find it by its prefix.
  session.endProfiling();
  const { readdirSync } = await import("node:fs");
  const file = readdirSync(dirname(modelPath)).find((f) => f.startsWith("ort-profile"));
  if (file === undefined) throw new Error("onnxruntime wrote no profile");
  type Event = { cat?: string; name: string; dur: number; ts: number; args?: { op_name?: string } };
  const events = JSON.parse(readFileSync(join(dirname(modelPath), file), "utf8")) as Event[];
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  const last = runs[runs.length - 1]!;
  const perOp = new Map<string, { seconds: number; nodes: number }>();
  const perNode: Array<{ node: string; op: string; seconds: number }> = [];
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    if (e.ts < last.ts || e.ts > last.ts + last.dur) continue;
    const op = e.args?.op_name ?? "?";
    const entry = perOp.get(op) ?? { seconds: 0, nodes: 0 };
    entry.seconds += e.dur / 1e6;
    entry.nodes++;
    perOp.set(op, entry);
    perNode.push({ node: e.name.replace(/_kernel_time$/, ""), op, seconds: e.dur / 1e6 });
  }
  const ops = [...perOp.entries()]
    .sort((a, b) => b[1].seconds - a[1].seconds)
    .map(([op, v]) => ({ op, seconds: round(v.seconds), nodes: v.nodes }));
  const top = perNode
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 10)
    .map((n) => ({ ...n, seconds: round(n.seconds) }));
  process.stdout.write(
    `${JSON.stringify({ window: WINDOW, threads, runSeconds: round(last.dur / 1e6), load: loadAverage(), ops, top })}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Parent.

/** Exports the reference model with seed 0 (TF.js cpu backend, in this process) to `path`. */
async function exportReference(path: string): Promise<void> {
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  const { createUNet3D } = await import("../src/model.js");
  const { saveOnnx } = await import("../src/onnx/export.js");
  const model = createUNet3D({ seed: 0 });
  await saveOnnx(model, path);
  model.dispose();
}

function spawnChild(
  impl: "onnx" | "tfjs-wasm",
  modelPath: string,
  reps: number,
  threads: number,
): ChildResult {
  return childResult<ChildResult>(
    `${impl} child`,
    THIS_FILE,
    ["--child", impl, modelPath, String(reps), String(threads)],
    { timeoutMs: 2 * 60 * 60 * 1000 },
  );
}

interface TorchSw {
  median_s?: number;
  times_s?: number[];
  windows?: number;
  peak_rss_mib?: number;
}

export interface FullVolumeOptions {
  impls?: FullVolumeImpl[];
  /** Timed whole-volume runs per engine (median reported), default 1. */
  reps?: number;
  /** onnxruntime intra-op threads, default 2 (the peer uses 2 torch threads). */
  threads?: number;
  onLine: (line: BenchLine) => void;
}

/** Runs the engines one after the other (each in its own process) and reports every line. */
export async function benchFullVolume(opts: FullVolumeOptions): Promise<void> {
  const impls = opts.impls ?? FULL_VOLUME_IMPLS;
  const reps = opts.reps ?? 1;
  const threads = opts.threads ?? 2;
  const emit = opts.onLine;
  const dir = mkdtempSync(join(tmpdir(), "brats-fullvolume-"));
  const modelPath = join(dir, "unet3d.onnx");
  let onnxSeconds: number | null = null;
  let torchSeconds: number | null = null;
  const loads: Record<string, string> = {};
  try {
    if (impls.includes("onnx")) await exportReference(modelPath);
    for (const impl of impls) {
      const before = loadAverage();
      if (impl === "pytorch") {
        const available = existsSync(PEER_SCRIPT) && pythonHas("torch");
        if (!available) {
          emit({
            name: NAME,
            impl,
            unit: "s",
            value: null,
            note: `skipped: no ${PEER_SCRIPT} or no torch in ${PYTHON}`,
          });
          continue;
        }
        const r = childResult<TorchSw>("pytorch sw", PEER_SCRIPT, ["sw", String(reps)], {
          command: PYTHON,
          timeoutMs: 2 * 60 * 60 * 1000,
        });
        torchSeconds = r.median_s ?? null;
        loads[impl] = `${before}→${loadAverage()}`;
        emit({
          name: NAME,
          impl: "pytorch",
          unit: "s",
          value: torchSeconds,
          note: `torch ${r.windows} windows, median of ${r.times_s?.length} (${r.times_s?.join(", ")} s), 2 threads, after a 128³ warm-up; load average ${loads[impl]}`,
        });
        emit({
          name: `${NAME}.peak_rss`,
          impl: "pytorch",
          unit: "MiB",
          value: r.peak_rss_mib ?? null,
          note: "python process (peer script)",
        });
        continue;
      }
      const r = spawnChild(impl, modelPath, reps, threads);
      const value = round(median(r.seconds), 2);
      if (impl === "onnx") onnxSeconds = value;
      loads[impl] = `${before}→${loadAverage()}`;
      const what =
        impl === "onnx"
          ? `onnxruntime-node ${r.providers?.join("+")}, ${threads} threads`
          : "TF.js wasm + registerFastConv3D (1 thread)";
      emit({
        name: `${NAME}.${impl}`,
        impl: "brats",
        unit: "s",
        value,
        note: `${what}; ${r.windows} windows, median of ${r.seconds.length} (${r.seconds.map((s) => round(s, 2)).join(", ")} s) after a warm-up window (${round(r.warmupSeconds, 2)} s); labels ${r.labelCounts.join("/")}; load average ${loads[impl]}`,
      });
      emit({
        name: `${NAME}.${impl}.peak_rss`,
        impl: "brats",
        unit: "MiB",
        value: round(r.peakRssMiB, 1),
        note: "child process (Node + engine + model + volume + merge buffers)",
      });
    }
    if (onnxSeconds !== null && torchSeconds !== null) {
      emit({
        name: `${NAME}.onnx.vs_pytorch`,
        impl: "brats",
        unit: "x",
        value: round(onnxSeconds / torchSeconds, 2),
        note: `onnx seconds / pytorch seconds, same run (target: at most 1); load average during onnx ${loads["onnx"]}, during pytorch ${loads["pytorch"]}`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === THIS_FILE) {
  const args = process.argv.slice(2);
  const threads = Number(argValue(args, "--threads") ?? 2);
  if (args[0] === "--child") {
    await runChild(args[1] as "onnx" | "tfjs-wasm", args[2]!, Number(args[3]), Number(args[4]));
  } else if (args.includes("--profile")) {
    const dir = mkdtempSync(join(tmpdir(), "brats-ort-profile-"));
    try {
      const modelPath = join(dir, "unet3d.onnx");
      await exportReference(modelPath);
      await runProfile(modelPath, threads);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const impls = argValue(args, "--impls")?.split(",") as FullVolumeImpl[] | undefined;
    for (const impl of impls ?? []) {
      if (!FULL_VOLUME_IMPLS.includes(impl))
        throw new Error(`unknown impl ${impl}; expected ${FULL_VOLUME_IMPLS.join(",")}`);
    }
    await benchFullVolume({
      impls,
      reps: Number(argValue(args, "--reps") ?? 1),
      threads,
      onLine: printLine,
    });
  }
}
