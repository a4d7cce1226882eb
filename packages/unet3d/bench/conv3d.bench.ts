/**
 * conv3d.fwdbwd.64: forward + backward (input and filter gradients) of a [1,64,64,64,16] → 16
 * channels 3×3×3 'same' convolution, in GFLOP/s with FLOPs = 3 × 2 × outVoxels × Cin × Cout × 27,
 * plus the peak RSS (MiB) of the process that ran it.
 *
 * Impls: "brats" (what brats-train picks by default: setupTfjs on wasm, so the native oneDNN
 * kernels where they load), "brats-wasm" (setupTfjs with native: false: the wasm fast Conv3D
 * kernels), "tfjs-wasm" and "tfjs-cpu" (stock TF.js kernels), "pytorch"
 * (../shared/peers/pytorch_unet3d.py conv, when /usr/bin/python3 has torch). Each brats line's
 * note quotes setupTfjs's report, i.e. the engine that actually loaded.
 * Each impl runs in its own child process so that its peak RSS is its own.
 *
 * Run alone: `node --import tsx bench/conv3d.bench.ts [--stock-size N] [--iterations N]`
 * (prints JSON lines), or call `benchConv3d()` (synchronous: it waits for child processes) from
 * another bench.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  argValue,
  childResult,
  emit,
  loadNote,
  median,
  peakRssMiB,
  PYTHON,
  pythonHas,
  reportResult,
  runScript,
  type BenchLine,
} from "@brats/kit/bench";
import type { Tensor, Tensor5D } from "@tensorflow/tfjs-core";

export type Conv3dImpl = "brats" | "brats-wasm" | "tfjs-wasm" | "tfjs-cpu" | "pytorch";
type ChildImpl = Exclude<Conv3dImpl, "pytorch">;
const isOurs = (impl: Conv3dImpl): boolean => impl === "brats" || impl === "brats-wasm";

export interface Conv3dBenchOptions {
  /** Impls to run, default brats, brats-wasm, pytorch. */
  impls?: Conv3dImpl[];
  /** Timed iterations for "brats" and "brats-wasm" after one warm-up (median), default 5. */
  iterations?: number;
  /**
   * Cube size for the stock TF.js impls, default 64 (a single iteration without warm-up, about
   * 15–40 s each here). A smaller size is reported in the line's note.
   */
  stockSize?: number;
  /** Called with each line as soon as it is known. */
  onLine?: (line: BenchLine) => void;
}

const NAME = "conv3d.fwdbwd.64";
const SIZE = 64;
const CHANNELS = 16;
const THIS_FILE = fileURLToPath(import.meta.url);
const PEER_SCRIPT = resolve(dirname(THIS_FILE), "../../../../shared/peers/pytorch_unet3d.py");

const WHAT: Record<"tfjs-wasm" | "tfjs-cpu", string> = {
  "tfjs-wasm": "stock wasm kernels (1 thread)",
  "tfjs-cpu": "stock cpu kernels (plain JS, 1 thread)",
};

const fwdFlop = (size: number) => 2 * size ** 3 * CHANNELS * CHANNELS * 27;

interface ChildResult {
  seconds: number[];
  peakRssMiB: number;
  size: number;
  /** setupTfjs's report line (brats impls), else null. */
  engine: string | null;
}

/** In the child process: times forward + input gradient + filter gradient on one backend. */
async function runChild(impl: ChildImpl, size: number, iterations: number) {
  const tf = await import("@tensorflow/tfjs-core");
  let engine: string | null = null;
  if (impl === "tfjs-cpu") {
    await import("@tensorflow/tfjs-backend-cpu");
    if (!(await tf.setBackend("cpu"))) throw new Error("cpu backend failed to initialise");
  } else if (impl === "tfjs-wasm") {
    await import("@tensorflow/tfjs-backend-wasm");
    if (!(await tf.setBackend("wasm"))) throw new Error("wasm backend failed to initialise");
  } else {
    const { setupTfjs } = await import("../src/setup.js");
    engine = (await setupTfjs({ backend: "wasm", native: impl === "brats" })).line;
  }
  const shape: [number, number, number, number, number] = [1, size, size, size, CHANNELS];
  const filterShape: [number, number, number, number, number] = [3, 3, 3, CHANNELS, CHANNELS];
  const x: Tensor5D = tf.randomNormal(shape, 0, 1, "float32", 1);
  const w: Tensor5D = tf.randomNormal(filterShape, 0, 0.05, "float32", 2);
  const dy = tf.randomNormal(shape, 0, 1, "float32", 3);
  const step = () => {
    const t0 = performance.now();
    const y = tf.conv3d(x, w, 1, "same");
    const dx = tf
      .engine()
      .runKernel<Tensor>(
        tf.Conv3DBackpropInputV2,
        { dy, filter: w },
        { strides: 1, pad: "same", inputShape: shape },
      );
    const dw = tf
      .engine()
      .runKernel<Tensor>(
        tf.Conv3DBackpropFilterV2,
        { x, dy },
        { strides: 1, pad: "same", filterShape },
      );
    // The wasm and cpu backends run kernels synchronously: each result is complete when its
    // kernel returns, so the timer stops here. (Reading them back out, as dataSync does, would
    // time a 16 MiB copy per output that PyTorch's measurement does not make.)
    const seconds = (performance.now() - t0) / 1000;
    tf.dispose([y, dx, dw]);
    return seconds;
  };
  if (iterations > 1) step(); // warm-up (XNNPACK operator creation, heap growth)
  const seconds: number[] = [];
  for (let i = 0; i < iterations; i++) seconds.push(step());
  const result: ChildResult = {
    seconds,
    peakRssMiB: peakRssMiB(),
    size,
    engine,
  };
  reportResult(result);
}

function spawnChild(impl: Conv3dImpl, size: number, iterations: number): ChildResult {
  return childResult<ChildResult>(
    `${impl} child`,
    THIS_FILE,
    ["--child", impl, String(size), String(iterations)],
    { timeoutMs: 30 * 60 * 1000 },
  );
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

interface TorchConv {
  fwd_bwd_gflops: number;
  fwd_bwd_ms: number;
}

/** Runs the peer script's `conv` part and returns its result and the python process's peak RSS. */
function runTorch(): { result: Record<string, unknown>; peakRssMiB: number } {
  // runpy runs the script as __main__ with argv "conv"; the peak RSS is read in the same process.
  const code = [
    "import resource, runpy, sys",
    `sys.argv = [${JSON.stringify(PEER_SCRIPT)}, "conv"]`,
    `runpy.run_path(${JSON.stringify(PEER_SCRIPT)}, run_name="__main__")`,
    // VmHWM, like the Node children (getrusage's maxrss would include the parent's peak).
    'hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]',
    'print("RSS %f" % (int(hwm[0].split()[1]) / 1024.0 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))',
  ].join("\n");
  const proc = runScript("-c", [code], { command: PYTHON, timeoutMs: 10 * 60 * 1000 });
  const lines = proc.lines;
  const res = lines.find((l) => l.startsWith("RESULT "));
  const rss = lines.find((l) => l.startsWith("RSS "));
  if (proc.status !== 0 || res === undefined || rss === undefined) {
    throw new Error(`pytorch conv failed (status ${proc.status}): ${proc.stderr.slice(-600)}`);
  }
  return {
    result: JSON.parse(res.slice(7)) as Record<string, unknown>,
    peakRssMiB: Number(rss.slice(4)),
  };
}

export function benchConv3d(options: Conv3dBenchOptions = {}): BenchLine[] {
  const impls = options.impls ?? ["brats", "brats-wasm", "pytorch"];
  const iterations = options.iterations ?? 5;
  const stockSize = options.stockSize ?? SIZE;
  const lines: BenchLine[] = [];
  const report = (line: BenchLine) => {
    lines.push(line);
    options.onLine?.(line);
  };

  for (const impl of impls) {
    if (impl === "pytorch") {
      if (!existsSync(PEER_SCRIPT) || !pythonHas("torch")) {
        report({
          name: NAME,
          impl,
          unit: "GFLOP/s",
          value: null,
          note: `skipped: no ${PEER_SCRIPT} or no torch in ${PYTHON}`,
        });
        continue;
      }
      const before = loadNote();
      const { result, peakRssMiB } = runTorch();
      const on = result.mkldnn_on as TorchConv;
      const off = result.mkldnn_off as TorchConv;
      const note =
        `torch F.conv3d [1,16,64,64,64] 3x3x3 pad 1, forward + backward (input and weight grads), ` +
        `median of 10, ${String(result.backend)}, mkldnn on; mkldnn off: ${off.fwd_bwd_gflops} GFLOP/s; ${before}`;
      report({ name: NAME, impl, unit: "GFLOP/s", value: on.fwd_bwd_gflops, note });
      report({
        name: `${NAME}.peak_rss`,
        impl,
        unit: "MiB",
        value: round(peakRssMiB, 1),
        note: "python process running the conv part",
      });
      continue;
    }
    const size = isOurs(impl) ? SIZE : stockSize;
    const iters = isOurs(impl) ? iterations : 1;
    const before = loadNote();
    const r = spawnChild(impl, size, iters);
    const sec = median(r.seconds);
    const sizeNote = size === SIZE ? "" : `measured at ${size}^3 instead of 64^3; `;
    const iterNote =
      iters > 1
        ? `median of ${iters} after 1 warm-up (${round(Math.min(...r.seconds), 3)}–${round(Math.max(...r.seconds), 3)} s)`
        : `1 iteration, no warm-up (${round(sec, 2)} s)`;
    const wrong =
      impl === "tfjs-wasm"
        ? "; stock wasm Conv3DBackpropInputV2/FilterV2 return wrong values in tfjs 4.22 (see fast-conv3d.test.ts)"
        : "";
    report({
      name: NAME,
      impl,
      unit: "GFLOP/s",
      value: round((3 * fwdFlop(size)) / sec / 1e9),
      note: `${r.engine ?? WHAT[impl as keyof typeof WHAT]}; ${sizeNote}${iterNote}; ${before}${wrong}`,
    });
    report({
      name: `${NAME}.peak_rss`,
      impl,
      unit: "MiB",
      value: round(r.peakRssMiB, 1),
      note: `${sizeNote}child process`,
    });
  }
  return lines;
}

const args = process.argv.slice(2);
const numberArg = (flag: string): number | undefined => {
  const v = argValue(args, flag);
  return v === undefined ? undefined : Number(v);
};
if (process.argv[1] !== undefined && resolve(process.argv[1]) === THIS_FILE) {
  if (args[0] === "--child") {
    await runChild(args[1] as ChildImpl, Number(args[2]), Number(args[3]));
  } else {
    const impls = args.includes("--impls")
      ? (args[args.indexOf("--impls") + 1]!.split(",") as Conv3dImpl[])
      : undefined;
    benchConv3d({
      impls,
      iterations: numberArg("--iterations"),
      stockSize: numberArg("--stock-size"),
      onLine: emit,
    });
  }
}
