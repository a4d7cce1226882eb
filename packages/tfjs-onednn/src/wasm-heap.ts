/**
 * The members of tfjs-backend-wasm's `BackendWasm` that kernels computing on its heap rely on,
 * described structurally so that @tensorflow/tfjs-backend-wasm stays an optional peer (nothing
 * here imports it). The fast wasm Conv3D of @brats/unet3d and the native kernels (memory.ts)
 * share it.
 */
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core";

export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  getMemoryOffset(dataId: object): number;
}

export function isWasmBackendLike(backend: unknown): backend is WasmBackendLike {
  if (typeof backend !== "object" || backend === null) return false;
  const b = backend as Partial<Record<keyof WasmBackendLike, unknown>>;
  const wasm = b.wasm as { HEAPU8?: unknown } | undefined;
  return (
    typeof b.makeOutput === "function" &&
    typeof b.disposeData === "function" &&
    typeof b.getMemoryOffset === "function" &&
    typeof wasm === "object" &&
    wasm !== null &&
    wasm.HEAPU8 instanceof Uint8Array
  );
}
