/**
 * Puts the native kernels in front of the wasm backend's registered ones (the stock kernels, or
 * @brats/unet3d's fast Conv3D when registered first) and takes them out again. Each replaced
 * kernel keeps the one it displaced as its fallback for calls the addon does not cover.
 */
import {
  Add,
  Concat,
  Conv3D,
  Conv3DBackpropFilterV2,
  Conv3DBackpropInputV2,
  Equal,
  FusedBatchNorm,
  getKernel,
  Identity,
  Max,
  Maximum,
  MaxPool3D,
  MaxPool3DGrad,
  Mean,
  Multiply,
  RealDiv,
  registerKernel,
  SplitV,
  SquaredDifference,
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
import { loadAddon } from "./native.js";
import type { OnednnAddon } from "./native.js";
import { isWasmBackendLike } from "./wasm-heap.js";

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

/** The TF.js kernel names the addon serves on the wasm backend. */
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

export interface RegisterOnednnOptions {
  /** OpenMP threads for the native kernels (default: every core OpenMP sees). */
  threads?: number;
}

let stats = new Map<string, KernelStats>();
let saved: Map<string, KernelConfig> | null = null;
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
    if (isWasmBackendLike(args.backend)) {
      const t0 = performance.now();
      try {
        out = native(addon, args.inputs, args.backend, args.attrs ?? {});
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
      s.lastFallback = "not the wasm backend";
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
 * Registers the native kernels on the wasm backend: Conv3D and both gradients, MaxPool3D and its
 * gradient, and the element-wise, reduction and copy kernels a training step spends its
 * remaining time in (kernels-elementwise.ts). Import @tensorflow/tfjs-backend-wasm first; works before or after
 * `tf.setBackend("wasm")`; idempotent (a second call only updates `threads`). Throws
 * OnednnError NOT_AVAILABLE (with the reason) when the addon cannot load, BACKEND when the wasm
 * backend's kernels are not registered, BAD_CONFIG on a bad thread count.
 */
export function registerOnednnKernels(opts: RegisterOnednnOptions = {}): OnednnInfo {
  const { addon, path } = requireAddon();
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) {
      throw new OnednnError("BAD_CONFIG", `threads must be an integer >= 1, got ${opts.threads}`);
    }
    addon.setThreads(opts.threads);
  }
  if (saved === null) {
    const displaced = new Map<string, KernelConfig>();
    for (const name of ONEDNN_KERNELS) {
      const config = getKernel(name, "wasm");
      if (config == null) {
        throw new OnednnError(
          "BACKEND",
          `the wasm backend's ${name} kernel is not registered; import "@tensorflow/tfjs-backend-wasm" first`,
        );
      }
      displaced.set(name, config);
    }
    for (const [name, config] of displaced) {
      unregisterKernel(name, "wasm");
      registerKernel({
        ...config,
        kernelFunc: nativeKernel(name, addon, NATIVE_KERNELS.get(name)!, config),
      });
    }
    saved = displaced;
    loadedPath = path;
  }
  return onednnInfo()!;
}

/** Restores the kernels registerOnednnKernels displaced. */
export function unregisterOnednnKernels(): void {
  if (saved === null) return;
  for (const [name, config] of saved) {
    unregisterKernel(name, "wasm");
    registerKernel(config);
  }
  saved = null;
}

export function isOnednnRegistered(): boolean {
  return saved !== null;
}

/** What loaded and how many threads it runs, or null before registerOnednnKernels. */
export function onednnInfo(): OnednnInfo | null {
  if (saved === null) return null;
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
