/**
 * Puts the native kernels in front of a backend's registered ones (wasm: the stock kernels, or
 * @brats/unet3d's fast Conv3D when registered first; cpu: the stock kernels) and takes them out
 * again. Each replaced kernel keeps the one it displaced as its fallback for calls the addon
 * does not cover.
 */
import {
  Add,
  Concat,
  Conv3D,
  Conv3DBackpropFilterV2,
  Conv3DBackpropInputV2,
  ClipByValue,
  Equal,
  Exp,
  FusedBatchNorm,
  Greater,
  GreaterEqual,
  getKernel,
  Identity,
  Less,
  LessEqual,
  Log,
  Max,
  Maximum,
  MaxPool3D,
  MaxPool3DGrad,
  Mean,
  Multiply,
  Neg,
  RealDiv,
  registerKernel,
  Relu,
  Rsqrt,
  Sigmoid,
  Softmax,
  Sqrt,
  Square,
  SplitV,
  SquaredDifference,
  Step,
  Sub,
  Sum,
  Tile,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { OnednnError } from "./errors.js";
import type { NativeKernelFunc } from "./kernels.js";
import {
  conv3d,
  conv3dBackpropFilter,
  conv3dBackpropInput,
  maxPool3d,
  maxPool3dGrad,
} from "./kernels.js";
import {
  binaryKernel,
  concat,
  fusedBatchNorm,
  identity,
  max,
  mean,
  splitV,
  sum,
  tile,
} from "./kernels-elementwise.js";
import { softmax, unaryKernel } from "./kernels-unary.js";
import { loadAddon } from "./native.js";
import type { OnednnAddon } from "./native.js";
import { memoryOf } from "./memory.js";

const NATIVE_KERNELS: ReadonlyMap<string, NativeKernelFunc> = new Map([
  [Conv3D, conv3d],
  [Conv3DBackpropInputV2, conv3dBackpropInput],
  [Conv3DBackpropFilterV2, conv3dBackpropFilter],
  [MaxPool3D, maxPool3d],
  [MaxPool3DGrad, maxPool3dGrad],
  [Add, binaryKernel("Add")],
  [Sub, binaryKernel("Sub")],
  [Multiply, binaryKernel("Multiply")],
  [RealDiv, binaryKernel("RealDiv")],
  [Equal, binaryKernel("Equal")],
  [Maximum, binaryKernel("Maximum")],
  [SquaredDifference, binaryKernel("SquaredDifference")],
  [Tile, tile],
  [Sum, sum],
  [Mean, mean],
  [Max, max],
  [Concat, concat],
  [SplitV, splitV],
  [FusedBatchNorm, fusedBatchNorm],
  [Identity, identity],
]);

/** Kernels registered on the cpu backend only (kernels-unary.ts says why). */
const CPU_KERNELS: ReadonlyMap<string, NativeKernelFunc> = new Map<string, NativeKernelFunc>([
  [Relu, unaryKernel("Relu")],
  [Step, unaryKernel("Step")],
  [Sqrt, unaryKernel("Sqrt")],
  [Square, unaryKernel("Square")],
  [Sigmoid, unaryKernel("Sigmoid")],
  [Log, unaryKernel("Log")],
  [Exp, unaryKernel("Exp")],
  [Rsqrt, unaryKernel("Rsqrt")],
  [ClipByValue, unaryKernel("ClipByValue")],
  [Neg, unaryKernel("Neg")],
  [Softmax, softmax],
  [Greater, binaryKernel("Greater")],
  [GreaterEqual, binaryKernel("GreaterEqual")],
  [Less, binaryKernel("Less")],
  [LessEqual, binaryKernel("LessEqual")],
]);

function kernelsFor(backend: OnednnBackend): ReadonlyMap<string, NativeKernelFunc> {
  return backend === "cpu" ? new Map([...NATIVE_KERNELS, ...CPU_KERNELS]) : NATIVE_KERNELS;
}

/** The TF.js kernel names the addon serves on the wasm backend (the cpu backend has more). */
export const ONEDNN_KERNELS: readonly string[] = [...NATIVE_KERNELS.keys()];

export interface KernelStats {
  /** Calls the addon computed, and their total wall time in ms (the addon call alone). */
  native: number;
  nativeMs: number;
  /** Calls handed to the displaced kernel, and the last reason one was. */
  fallback: number;
  lastFallback: string | null;
}

export interface OnednnInfo {
  /** oneDNN's version, e.g. "2.6.3". */
  onednn: string;
  /** Threads the native kernels run on (OpenMP). */
  threads: number;
  /** The addon file that loaded. */
  path: string;
}

/** The backends the native kernels compute on (memory.ts says how each holds tensors). */
export type OnednnBackend = "wasm" | "cpu";

export interface RegisterOnednnOptions {
  /** OpenMP threads for the native kernels (default: every core OpenMP sees). */
  threads?: number;
  /**
   * The backend to register on (default "wasm"). On "cpu" every tensor has a buffer of its own,
   * so a training step is bounded by the machine's memory instead of the 4 GiB wasm heap.
   */
  backend?: OnednnBackend;
}

let stats = new Map<string, KernelStats>();
const saved = new Map<OnednnBackend, Map<string, KernelConfig>>();
let loadedPath = "";

function statsOf(name: string): KernelStats {
  let s = stats.get(name);
  if (s === undefined) {
    s = { native: 0, nativeMs: 0, fallback: 0, lastFallback: null };
    stats.set(name, s);
  }
  return s;
}

function nativeKernel(
  name: string,
  addon: OnednnAddon,
  native: NativeKernelFunc,
  displaced: KernelConfig,
): KernelFunc {
  return (args) => {
    const s = statsOf(name);
    let out: TensorInfo | TensorInfo[] | null = null;
    const memory = memoryOf(args.backend);
    if (memory !== null) {
      const t0 = performance.now();
      try {
        out = native(addon, args.inputs, memory, args.attrs ?? {});
        if (out === null) s.lastFallback = "outside what the native kernel covers";
      } catch (error) {
        s.lastFallback = error instanceof Error ? error.message : String(error);
      }
      if (out !== null) {
        s.nativeMs += performance.now() - t0;
        s.native++;
        return out;
      }
    } else {
      s.lastFallback = "not a backend the native kernels compute on";
    }
    s.fallback++;
    return displaced.kernelFunc(args);
  };
}

/** The loaded addon, or OnednnError NOT_AVAILABLE saying why not. */
export function requireAddon(): { addon: OnednnAddon; path: string } {
  const load = loadAddon();
  if (!load.ok) throw new OnednnError("NOT_AVAILABLE", load.reason);
  return load;
}

/**
 * Registers the native kernels on the wasm backend (or `opts.backend`): Conv3D and both
 * gradients, MaxPool3D and its gradient, and the element-wise, reduction and copy kernels a
 * training step spends its remaining time in (kernels-elementwise.ts). Import the backend's
 * package first; works before or after `tf.setBackend`; idempotent per backend (a second call
 * only updates `threads`). Throws OnednnError NOT_AVAILABLE (with the reason) when the addon
 * cannot load, BACKEND when the backend's kernels are not registered, BAD_CONFIG on a bad
 * thread count or backend.
 */
export function registerOnednnKernels(opts: RegisterOnednnOptions = {}): OnednnInfo {
  const backend = opts.backend ?? "wasm";
  if (backend !== "wasm" && backend !== "cpu") {
    throw new OnednnError("BAD_CONFIG", `backend must be "wasm" or "cpu", got ${String(backend)}`);
  }
  const { addon, path } = requireAddon();
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) {
      throw new OnednnError("BAD_CONFIG", `threads must be an integer >= 1, got ${opts.threads}`);
    }
    addon.setThreads(opts.threads);
  }
  if (!saved.has(backend)) {
    const kernels = kernelsFor(backend);
    const displaced = new Map<string, KernelConfig>();
    for (const name of kernels.keys()) {
      const config = getKernel(name, backend);
      if (config == null) {
        throw new OnednnError(
          "BACKEND",
          `the ${backend} backend's ${name} kernel is not registered; import "@tensorflow/tfjs-backend-${backend}" first`,
        );
      }
      displaced.set(name, config);
    }
    for (const [name, config] of displaced) {
      unregisterKernel(name, backend);
      registerKernel({
        ...config,
        kernelFunc: nativeKernel(name, addon, kernels.get(name)!, config),
      });
    }
    saved.set(backend, displaced);
    loadedPath = path;
  }
  return onednnInfo()!;
}

/** Restores the kernels registerOnednnKernels displaced, on every backend. */
export function unregisterOnednnKernels(): void {
  for (const [backend, configs] of saved) {
    for (const [name, config] of configs) {
      unregisterKernel(name, backend);
      registerKernel(config);
    }
  }
  saved.clear();
}

/** Whether the native kernels are registered on `backend`, or on any backend when omitted. */
export function isOnednnRegistered(backend?: OnednnBackend): boolean {
  return backend === undefined ? saved.size > 0 : saved.has(backend);
}

/** What loaded and how many threads it runs, or null before registerOnednnKernels. */
export function onednnInfo(): OnednnInfo | null {
  if (saved.size === 0) return null;
  const info = requireAddon().addon.info();
  return { onednn: info.onednn, threads: info.threads, path: loadedPath };
}

/** Per-kernel call counts and native time since the last reset. */
export function getOnednnStats(): Record<string, KernelStats> {
  return Object.fromEntries([...stats].map(([k, v]) => [k, { ...v }]));
}

export function resetOnednnStats(): void {
  stats = new Map();
}
