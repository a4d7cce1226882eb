/**
 * Where a native kernel finds its tensors. On the wasm backend every tensor is a byte offset into
 * one heap (at most 4 GiB, never returned to the system); on the cpu backend every tensor is a
 * typed array of its own, freed when it is disposed, with no bound but the machine's memory. The
 * addon takes either (a number with the heap, or a typed array), so each kernel is written once
 * against this interface. Both backends are described structurally: neither is imported here.
 */
import { util } from "@tensorflow/tfjs-core";
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core";
import { isWasmBackendLike } from "./wasm-heap.js";

/** A tensor as the addon takes it: a byte offset into the heap, or its own typed array. */
export type TensorRef = number | Float32Array | Int32Array | Uint8Array;

export interface TensorMemory {
  readonly backend: "wasm" | "cpu";
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  dispose(t: TensorInfo): void;
  /** The wasm heap, or null on the cpu backend; fetch it after the call's last allocation. */
  heap(): ArrayBuffer | null;
  /** Throws when the tensor's data is not where a native kernel can read it. */
  ref(t: TensorInfo): TensorRef;
  /** A new reference to t's data (Identity), or null when the backend cannot share. */
  share(t: TensorInfo): TensorInfo | null;
}

/** The members of tfjs-backend-cpu's MathBackendCPU the native kernels use. */
interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: DataType, values?: unknown): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

function isCpuBackendLike(backend: unknown): backend is CpuBackendLike {
  if (typeof backend !== "object" || backend === null) return false;
  const b = backend as Partial<Record<keyof CpuBackendLike, unknown>>;
  const data = b.data as { get?: unknown } | undefined;
  return (
    typeof b.makeTensorInfo === "function" &&
    typeof b.disposeData === "function" &&
    typeof b.incRef === "function" &&
    typeof data === "object" &&
    data !== null &&
    typeof data.get === "function" &&
    // The wasm backend also has `data`; it is told apart by its heap.
    !isWasmBackendLike(backend)
  );
}

function typedArrayFor(dtype: DataType, size: number): Float32Array | Int32Array | Uint8Array {
  if (dtype === "float32") return new Float32Array(size);
  if (dtype === "int32") return new Int32Array(size);
  if (dtype === "bool") return new Uint8Array(size);
  throw new Error(`no native storage for ${dtype} tensors`);
}

function matchesDtype(values: unknown, dtype: DataType): values is TensorRef {
  if (dtype === "float32") return values instanceof Float32Array;
  if (dtype === "int32") return values instanceof Int32Array;
  if (dtype === "bool") return values instanceof Uint8Array;
  return false;
}

function cpuMemory(backend: CpuBackendLike): TensorMemory {
  return {
    backend: "cpu",
    makeOutput: (shape, dtype) =>
      backend.makeTensorInfo(shape, dtype, typedArrayFor(dtype, util.sizeFromShape(shape))),
    dispose: (t) => void backend.disposeData(t.dataId),
    heap: () => null,
    ref: (t) => {
      const values = backend.data.get(t.dataId)?.values;
      if (!matchesDtype(values, t.dtype)) {
        throw new Error(`a ${t.dtype} tensor's cpu data is not a matching typed array`);
      }
      return values;
    },
    share: (t) => {
      backend.incRef(t.dataId);
      return { dataId: t.dataId, shape: [...t.shape], dtype: t.dtype };
    },
  };
}

/** The kernels' view of `backend`, or null when it is neither the wasm nor the cpu backend. */
export function memoryOf(backend: unknown): TensorMemory | null {
  if (isWasmBackendLike(backend)) {
    const withRef = backend as typeof backend & { incRef?: (dataId: object) => void };
    return {
      backend: "wasm",
      makeOutput: (shape, dtype) => backend.makeOutput(shape, dtype),
      dispose: (t) => void backend.disposeData(t.dataId),
      heap: () => backend.wasm.HEAPU8.buffer as ArrayBuffer,
      ref: (t) => backend.getMemoryOffset(t.dataId),
      share: (t) => {
        if (typeof withRef.incRef !== "function") return null;
        withRef.incRef(t.dataId);
        return { dataId: t.dataId, shape: [...t.shape], dtype: t.dtype };
      },
    };
  }
  return isCpuBackendLike(backend) ? cpuMemory(backend) : null;
}

/**
 * Runs `compute` on outputs a kernel has just allocated; frees them if it throws, so that a
 * rejected native call leaves nothing behind before its fallback runs.
 */
export function fillOutputs<T extends TensorInfo | TensorInfo[]>(
  memory: TensorMemory,
  outs: T,
  compute: () => void,
): T {
  try {
    compute();
  } catch (error) {
    const all: TensorInfo[] = Array.isArray(outs) ? outs : [outs];
    for (const t of all) memory.dispose(t);
    throw error;
  }
  return outs;
}
