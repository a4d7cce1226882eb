/**
 * @brats/unet3d benchmarks, every implementation side by side in one run:
 *   conv3d.fwdbwd.64        GFLOP/s  forward + backward of one 3×3×3 16→16 conv at 64³ (bench/conv3d.bench.ts)
 *   unet3d.trainstep.64     s        one training step of the reference U-Net (createUNet3D()
 *                                    defaults, 3 inputs, 4 classes), batch 1, 64³, Dice + CE, Adam
 *   <name>.peak_rss         MiB      peak resident memory of the process that ran it
 *   unet3d.trainstep.64.vs_pytorch  ×  brats step time / PyTorch step time (target: at most 8)
 * for impl "brats" (wasm backend + registerFastConv3D), "tfjs-wasm" and "tfjs-cpu" (stock TF.js
 * kernels, same model code), and "pytorch" (../shared/peers/pytorch_unet3d.py, when
 * /usr/bin/python3 has torch). Each impl runs in its own child process, so its peak RSS is its own.
 *
 * and, from bench/fullvolume.bench.ts, unet3d.infer.fullvolume{.onnx,.tfjs-wasm} (impl "brats")
 * and unet3d.infer.fullvolume (impl "pytorch"): a whole 240×240×155 volume in 128³ windows.
 *
 * Run: pnpm --filter @brats/unet3d bench   (= node --import tsx bench/unet3d.bench.ts)
 * Options: --only conv3d|trainstep|fullvolume, --impls brats,pytorch,..., --steps N (timed brats
 * steps, default 3), --stock-steps N (timed steps of the stock impls, default 1, no warm-up),
 * --fv-impls onnx,pytorch,tfjs-wasm, --fv-reps N (whole-volume runs per engine, default 1).
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  argValue,
  childResult,
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
import type { Tensor, Variable } from "@tensorflow/tfjs-core";
import { benchConv3d } from "./conv3d.bench.js";
import { benchFullVolume, FULL_VOLUME_IMPLS, type FullVolumeImpl } from "./fullvolume.bench.js";

type Impl = "brats" | "tfjs-wasm" | "tfjs-cpu" | "pytorch";
type TfImpl = Exclude<Impl, "pytorch">;

const NAME = "unet3d.trainstep.64";
const SIZE = 64;
const THIS_FILE = fileURLToPath(import.meta.url);
const PEER_SCRIPT = resolve(dirname(THIS_FILE), "../../../../shared/peers/pytorch_unet3d.py");
const ALL_IMPLS: Impl[] = ["brats", "tfjs-wasm", "tfjs-cpu", "pytorch"];

interface ChildResult {
  seconds: number[];
  warmupSeconds: number | null;
  losses: number[];
  peakRssMiB: number;
  fastConvCalls: number | null;
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

// ---------------------------------------------------------------------------------------------
// Child: one impl's training steps.

async function runChild(impl: TfImpl, warmup: boolean, steps: number): Promise<void> {
  const tf = await import("@tensorflow/tfjs-core");
  const { selectBackend } = await import("../src/backend.js");
  const { registerBratsLayers } = await import("../src/register.js");
  const { createUNet3D } = await import("../src/model.js");
  const { diceCELoss } = await import("../src/losses.js");
  await selectBackend(impl === "tfjs-cpu" ? "cpu" : "wasm");
  // The model's layers and the Conv3DBackpropInputV2 gradient are needed by every impl; only
  // "brats" swaps in the fast Conv3D kernels.
  registerBratsLayers();
  let stats: (() => number) | null = null;
  if (impl === "brats") {
    const fast = await import("../src/fast-conv3d/index.js");
    fast.registerFastConv3D();
    stats = () => {
      const s = fast.getFastConv3DStats();
      return Object.values(s.fast).reduce((a, b) => a + b, 0);
    };
  }

  const model = createUNet3D({ seed: 0 });
  const x = tf.randomNormal([1, SIZE, SIZE, SIZE, 3], 0, 1, "float32", 1);
  // Random labels 0..3 as one-hot, like the peer's torch.randint target.
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.cast(tf.floor(tf.randomUniform([1, SIZE, SIZE, SIZE], 0, 4, "float32", 2)), "int32"),
      4,
    ),
  );
  const optimizer = tf.train.adam(1e-4);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const losses: number[] = [];
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    const loss = optimizer.minimize(
      () => diceCELoss(y, model.apply(x, { training: true }) as Tensor),
      true,
      variables,
    )!;
    // Reading the loss waits for the step; the weight updates were issued before it.
    losses.push((await loss.data())[0]!);
    loss.dispose();
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
    fastConvCalls: stats?.() ?? null,
  };
  reportResult(result);
}

function spawnChild(impl: TfImpl, warmup: boolean, steps: number): ChildResult {
  return childResult<ChildResult>(
    `${impl} child`,
    THIS_FILE,
    ["--child", impl, warmup ? "1" : "0", String(steps)],
    { timeoutMs: 60 * 60 * 1000 },
  );
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

function benchTrainStep(impls: Impl[], steps: number, stockSteps: number): number | null {
  let bratsSeconds: number | null = null;
  let torchSeconds: number | null = null;
  // The load during each measurement, for the ratio's note: the machine is shared.
  let bratsLoad = "";
  let torchLoad = "";
  for (const impl of impls) {
    if (impl === "pytorch") {
      if (!torchAvailable()) {
        emit({
          name: NAME,
          impl,
          unit: "s",
          value: null,
          note: `skipped: no ${PEER_SCRIPT} or no torch in ${PYTHON}`,
        });
        continue;
      }
      const torchStartLoad = loadAverage();
      const before = loadNote();
      // Not childResult: the note below quotes the peer's RESULT line as printed.
      const proc = runScript(PEER_SCRIPT, ["train", String(SIZE)], {
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
          name: NAME,
          impl,
          unit: "s",
          value: null,
          note: `the peer skipped the step: ${line}`,
        });
        continue;
      }
      torchSeconds = r.median_s;
      torchLoad = `${torchStartLoad}→${loadAverage()}`;
      emit({
        name: NAME,
        impl,
        unit: "s",
        value: r.median_s,
        note: `torch 1 warm-up (${r.warmup_s} s) + median of ${r.times_s?.length} (${r.times_s?.join(", ")} s), 2 threads; ${before}`,
      });
      emit({
        name: `${NAME}.peak_rss`,
        impl,
        unit: "MiB",
        value: r.peak_rss_mib ?? null,
        note: "python process (peer script)",
      });
      continue;
    }
    const stock = impl !== "brats";
    const warmup = !stock;
    const n = stock ? stockSteps : steps;
    const startLoad = loadAverage();
    const before = loadNote();
    const r = spawnChild(impl, warmup, n);
    const value = median(r.seconds);
    if (impl === "brats") {
      bratsSeconds = value;
      bratsLoad = `${startLoad}→${loadAverage()}`;
    }
    const finite = r.losses.every(Number.isFinite);
    const parts = [
      warmup
        ? `1 warm-up (${round(r.warmupSeconds!, 2)} s) + median of ${n} (${r.seconds.map((s) => round(s, 2)).join(", ")} s)`
        : `${n} step${n > 1 ? "s" : ""}, no warm-up: stock kernels are slow (${r.seconds.map((s) => round(s, 1)).join(", ")} s)`,
      `losses ${r.losses.map((l) => round(l, 4)).join(", ")}${finite ? "" : " (not finite)"}`,
      r.fastConvCalls === null ? null : `${r.fastConvCalls} fast Conv3D kernel calls`,
      impl === "tfjs-wasm"
        ? "stock wasm Conv3DBackpropInputV2 returns wrong values in tfjs 4.22, so this step's gradients are wrong (time is still the stock kernels')"
        : null,
      before,
    ];
    emit({
      name: NAME,
      impl,
      unit: "s",
      value: round(value),
      note: parts.filter((p) => p !== null).join("; "),
    });
    emit({
      name: `${NAME}.peak_rss`,
      impl,
      unit: "MiB",
      value: round(r.peakRssMiB, 1),
      note: "child process (Node + tfjs + model + step)",
    });
  }
  if (bratsSeconds !== null && torchSeconds !== null) {
    emit({
      name: `${NAME}.vs_pytorch`,
      impl: "brats",
      unit: "x",
      value: round(bratsSeconds / torchSeconds, 2),
      note: `brats step time / pytorch step time, same run (target: at most 8); load average during brats ${bratsLoad}, during pytorch ${torchLoad}`,
    });
  }
  return bratsSeconds;
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  await runChild(args[1] as TfImpl, args[2] === "1", Number(args[3]));
} else {
  const only = argValue(args, "--only");
  const impls = (argValue(args, "--impls")?.split(",") as Impl[] | undefined) ?? ALL_IMPLS;
  for (const impl of impls) {
    if (!ALL_IMPLS.includes(impl))
      throw new Error(`unknown impl ${impl}; expected ${ALL_IMPLS.join(",")}`);
  }
  const steps = Number(argValue(args, "--steps") ?? 3);
  const stockSteps = Number(argValue(args, "--stock-steps") ?? 1);
  if (only === undefined || only === "conv3d") {
    benchConv3d({ impls, onLine: emit });
  }
  if (only === undefined || only === "trainstep") {
    benchTrainStep(impls, steps, stockSteps);
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
