/**
 * A thin, typed layer over the parts of tfjs-backend-wasm the fast Conv3D kernels use: tensors
 * on the wasm heap, the backend's own XNNPACK Conv2D and BatchMatMul kernels, and disposal of
 * every intermediate. The backend is described structurally (WasmBackendLike of
 * @brats/tfjs-onednn) so that @tensorflow/tfjs-backend-wasm stays an optional peer.
 */
import type { WasmBackendLike } from "@brats/tfjs-onednn";
import { getKernel } from "@tensorflow/tfjs-core";
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";

/** Padding of one spatial dimension; both sides are >= 0 (negative pads become crops). */
export interface Pad2 {
  lo: number;
  hi: number;
}

function wasmKernel(name: string): KernelFunc {
  const config = getKernel(name, "wasm");
  if (config == null) {
    throw new Error(`fast Conv3D: the wasm backend has no ${name} kernel registered`);
  }
  return config.kernelFunc;
}

/**
 * One kernel invocation's workspace: allocates float32 tensors on the wasm heap, runs the
 * backend's kernels, and frees every intermediate in `dispose()` (call it in a `finally`).
 * Heap views are fetched afresh after each allocation because a growing wasm memory detaches
 * the old ArrayBuffer.
 */
export class WasmWorkspace {
  private readonly temps = new Set<object>();
  private readonly conv2dKernel: KernelFunc;
  private readonly matMulKernel: KernelFunc;

  constructor(readonly backend: WasmBackendLike) {
    this.conv2dKernel = wasmKernel("Conv2D");
    this.matMulKernel = wasmKernel("BatchMatMul");
  }

  /** A float32 tensor on the wasm heap with uninitialised contents, freed by `dispose()`. */
  alloc(shape: number[]): TensorInfo {
    const info = this.backend.makeOutput(shape, "float32");
    this.temps.add(info.dataId);
    return info;
  }

  /** Stops tracking `info` (it becomes the kernel's output) and returns it with `shape`. */
  release(info: TensorInfo, shape: number[]): TensorInfo {
    this.temps.delete(info.dataId);
    return { dataId: info.dataId, shape, dtype: "float32" };
  }

  /** Frees `info` now (it must have come from this workspace). */
  free(info: TensorInfo): void {
    if (this.temps.delete(info.dataId)) this.backend.disposeData(info.dataId);
  }

  dispose(): void {
    for (const dataId of this.temps) this.backend.disposeData(dataId);
    this.temps.clear();
  }

  /** The whole wasm heap as float32; valid until the next allocation. */
  heap(): Float32Array {
    const bytes = this.backend.wasm.HEAPU8;
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  }

  /** Index of `info`'s first element in `heap()`. */
  offset(info: TensorInfo): number {
    return this.backend.getMemoryOffset(info.dataId) >>> 2;
  }

  /**
   * XNNPACK Conv2D (NHWC) with explicit non-negative pads. The filter is packed into an XNNPACK
   * operator cached by the filter's tensor id, so a filter must never be written after its
   * first use.
   */
  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    padH: Pad2,
    padW: Pad2,
  ): TensorInfo {
    const attrs: NamedAttrMap = {
      strides,
      pad: [
        [0, 0],
        [padH.lo, padH.hi],
        [padW.lo, padW.hi],
        [0, 0],
      ],
      dilations: [1, 1],
      dataFormat: "NHWC",
    };
    const out = this.conv2dKernel({
      inputs: { x, filter },
      backend: this.backend,
      attrs,
    }) as TensorInfo;
    this.temps.add(out.dataId);
    return out;
  }

  /**
   * a [m, k] · b [k, n] → [m, n] with the backend's BatchMatMul (XNNPACK fully-connected; the
   * transposed variants take a slow scalar path, so callers lay operands out untransposed).
   * XNNPACK packs `b` into an operator cached under b's tensor id alone (not its shape), so `b`
   * must be a tensor this workspace allocated, never written after this call and freed by it.
   */
  matMul(a: TensorInfo, b: TensorInfo, m: number, k: number, n: number): TensorInfo {
    const out = this.matMulKernel({
      inputs: {
        a: { dataId: a.dataId, shape: [1, m, k], dtype: "float32" },
        b: { dataId: b.dataId, shape: [1, k, n], dtype: "float32" },
      },
      backend: this.backend,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    this.temps.add(out.dataId);
    return out;
  }
}
