/**
 * Swaps the wasm backend's Conv3D kernels for the fast ones and back. Only the "wasm" entries of
 * TF.js's kernel registry are touched, so model code runs unchanged on every other backend.
 */
import type { Conv3DPad } from "@brats/tfjs-onednn";
import { conv3dGeometry, dilationsAreOne, isEmpty, isWasmBackendLike } from "@brats/tfjs-onednn";
import {
  Conv3D,
  Conv3DBackpropFilterV2,
  Conv3DBackpropInputV2,
  getKernel,
  registerKernel,
  Slice,
  SplitV,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { UNet3DError } from "../errors.js";
import { conv3dBackpropFilter, conv3dBackpropInput, conv3dForward } from "./kernels.js";
import { FAST_SLICE_KERNELS, fastSlice, fastSplitV } from "./slice.js";
import { WasmWorkspace } from "./wasm.js";

export interface FastConv3DOptions {
  /**
   * Upper bound, in bytes, of the im2col block the filter gradient builds at once (default
   * 4 MiB, which stays in cache between being written and being read by the matMul; measured
   * faster here than 2, 8, 16, 32 or 64 MiB).
   */
  chunkBytes?: number;
  /**
   * Upper bound, in bytes, of the depth-stacked input (kd × the input) that the forward and
   * input-gradient kernels hand to one Conv2D call (default 64 MiB); larger inputs are processed
   * in blocks of depth slices, which bounds memory on big volumes.
   */
  stackBytes?: number;
}

/** Default im2col block of the filter gradient: 4 MiB. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Default bound of the depth-stacked Conv2D input: 64 MiB. */
export const DEFAULT_STACK_BYTES = 64 * 1024 * 1024;

export type FastConv3DKernelName =
  typeof Conv3D | typeof Conv3DBackpropInputV2 | typeof Conv3DBackpropFilterV2;

/** The kernels this module replaces on the wasm backend. */
export const FAST_CONV3D_KERNELS: readonly FastConv3DKernelName[] = [
  Conv3D,
  Conv3DBackpropInputV2,
  Conv3DBackpropFilterV2,
];

/** How many calls took the fast path and how many went to the saved stock kernel. */
export interface FastConv3DStats {
  fast: Record<FastConv3DKernelName, number>;
  fallback: Record<FastConv3DKernelName, number>;
}

const zeroCounts = (): Record<FastConv3DKernelName, number> => ({
  Conv3D: 0,
  Conv3DBackpropInputV2: 0,
  Conv3DBackpropFilterV2: 0,
});

let stats: FastConv3DStats = { fast: zeroCounts(), fallback: zeroCounts() };
let chunkBytes = DEFAULT_CHUNK_BYTES;
let stackBytes = DEFAULT_STACK_BYTES;
/** The stock wasm kernels (Conv3D ones, Slice, SplitV) while ours are registered, else null. */
let saved: Map<string, KernelConfig> | null = null;

function isFloat5D(t: TensorInfo | undefined): t is TensorInfo {
  return t != null && t.dtype === "float32" && t.shape.length === 5;
}

function isPad(pad: unknown): pad is Conv3DPad {
  return pad === "same" || pad === "valid" || (typeof pad === "number" && pad >= 0);
}

/** Runs the fast kernel, or returns null when the call is outside what it supports. */
function runFast(
  name: FastConv3DKernelName,
  inputs: Record<string, TensorInfo | undefined>,
  backend: unknown,
  attrs: NamedAttrMap,
): TensorInfo | null {
  if (!isWasmBackendLike(backend)) return null;
  const strides = attrs.strides as number | number[];
  const pad = attrs.pad;
  if (!isPad(pad)) return null;
  const withWorkspace = (f: (ws: WasmWorkspace) => TensorInfo): TensorInfo => {
    const ws = new WasmWorkspace(backend);
    try {
      return f(ws);
    } finally {
      ws.dispose();
    }
  };
  switch (name) {
    case Conv3D: {
      const { x, filter } = inputs;
      const dataFormat = attrs.dataFormat as string | undefined;
      if (!isFloat5D(x) || !isFloat5D(filter)) return null;
      if (dataFormat != null && dataFormat !== "NDHWC") return null;
      if (!dilationsAreOne(attrs.dilations)) return null;
      const g = conv3dGeometry(x.shape, filter.shape, strides, pad);
      if (isEmpty(g)) return null;
      return withWorkspace((ws) => conv3dForward(ws, x, filter, g, stackBytes));
    }
    case Conv3DBackpropInputV2: {
      const { dy, filter } = inputs;
      const xShape = attrs.inputShape as number[];
      if (!isFloat5D(dy) || !isFloat5D(filter)) return null;
      const g = conv3dGeometry(xShape, filter.shape, strides, pad);
      if (isEmpty(g)) return null;
      return withWorkspace((ws) => conv3dBackpropInput(ws, dy, filter, g, stackBytes));
    }
    case Conv3DBackpropFilterV2: {
      const { x, dy } = inputs;
      const filterShape = attrs.filterShape as number[];
      if (!isFloat5D(x) || !isFloat5D(dy)) return null;
      const g = conv3dGeometry(x.shape, filterShape, strides, pad);
      if (isEmpty(g)) return null;
      return withWorkspace((ws) => conv3dBackpropFilter(ws, x, dy, g, chunkBytes));
    }
  }
}

function fastKernel(name: FastConv3DKernelName, stock: KernelConfig): KernelFunc {
  return (args) => {
    const out = runFast(name, args.inputs, args.backend, args.attrs ?? {});
    if (out === null) {
      stats.fallback[name]++;
      return stock.kernelFunc(args);
    }
    stats.fast[name]++;
    return out;
  };
}

/**
 * Replaces the wasm backend's Conv3D, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 kernels
 * with versions built on its XNNPACK Conv2D and BatchMatMul (many times faster), and its Slice
 * and SplitV with versions that merge whole axes first (slice.ts; its 5-D slices are slow).
 * Conv calls they do not cover (dilations > 1, non-float32, NCDHW) and slices with nothing to
 * merge go to the saved stock kernels. Requires
 * `@tensorflow/tfjs-backend-wasm` to have been imported; works before or after
 * `tf.setBackend("wasm")`. Calling it again only updates the options.
 */
export function registerFastConv3D(opts: FastConv3DOptions = {}): void {
  const bytes = (name: string, value: unknown): number => {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 4096) {
      throw new UNet3DError(
        "BAD_CONFIG",
        `${name} must be a finite number >= 4096, got ${String(value)}`,
      );
    }
    return Math.floor(value);
  };
  const chunk = bytes("chunkBytes", opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const stack = bytes("stackBytes", opts.stackBytes ?? DEFAULT_STACK_BYTES);
  chunkBytes = chunk;
  stackBytes = stack;
  if (saved !== null) return;

  const stock = new Map<string, KernelConfig>();
  for (const name of [...FAST_CONV3D_KERNELS, ...FAST_SLICE_KERNELS, "Conv2D", "BatchMatMul"]) {
    const config = getKernel(name, "wasm");
    if (config == null) {
      throw new UNet3DError(
        "BACKEND",
        `the wasm backend's ${name} kernel is not registered; import "@tensorflow/tfjs-backend-wasm" before registerFastConv3D()`,
      );
    }
    if (name !== "Conv2D" && name !== "BatchMatMul") stock.set(name, config);
  }
  const stockSlice = stock.get(Slice)!;
  const replacement = (name: string, config: KernelConfig): KernelFunc => {
    if (name === Slice) return fastSlice(config);
    if (name === SplitV) return fastSplitV(stockSlice, config);
    return fastKernel(name as FastConv3DKernelName, config);
  };
  for (const [name, config] of stock) {
    unregisterKernel(name, "wasm");
    // The stock setup still runs at backend initialisation, so the fallback works even when
    // the wasm backend is initialised after this call.
    const fast: KernelConfig = {
      kernelName: name,
      backendName: "wasm",
      kernelFunc: replacement(name, config),
    };
    if (config.setupFunc) fast.setupFunc = config.setupFunc;
    if (config.disposeFunc) fast.disposeFunc = config.disposeFunc;
    registerKernel(fast);
  }
  saved = stock;
}

/** Restores the stock wasm kernels saved by `registerFastConv3D()`; no-op when not registered. */
export function unregisterFastConv3D(): void {
  if (saved === null) return;
  for (const [name, config] of saved) {
    unregisterKernel(name, "wasm");
    registerKernel(config);
  }
  saved = null;
}

export function isFastConv3DRegistered(): boolean {
  return saved !== null;
}

/** Call counts since the last reset (fast path vs stock fallback), per kernel. */
export function getFastConv3DStats(): FastConv3DStats {
  return { fast: { ...stats.fast }, fallback: { ...stats.fallback } };
}

export function resetFastConv3DStats(): void {
  stats = { fast: zeroCounts(), fallback: zeroCounts() };
}
