/**
 * The native kernels as TF.js kernel functions on the wasm backend: each allocates its output on
 * the wasm heap, hands the addon byte offsets into the heap, and returns the output; nothing is
 * copied. A call the addon does not cover (another dtype or layout, dilations, TF.js's negative
 * 'same' pads) returns null, and so does a call the addon rejects, so the caller falls back.
 */
import type { NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import type { Conv3DPad } from "./geometry.js";
import {
  conv3dGeometry,
  dilationsAreOne,
  isEmpty,
  nativeConvGeometry,
  nativePoolGeometry,
} from "./geometry.js";
import type { OnednnAddon } from "./native.js";
import type { WasmBackendLike } from "./wasm-heap.js";
import { fillOutputs, heapBuffer } from "./wasm-heap.js";

export type NativeKernelFunc = (
  addon: OnednnAddon,
  inputs: Record<string, TensorInfo | undefined>,
  backend: WasmBackendLike,
  attrs: NamedAttrMap,
) => TensorInfo | TensorInfo[] | null;

function isFloat5D(t: TensorInfo | undefined): t is TensorInfo {
  return t != null && t.dtype === "float32" && t.shape.length === 5 && t.shape.every((d) => d > 0);
}

function isPad(pad: unknown): pad is Conv3DPad {
  return pad === "same" || pad === "valid" || (typeof pad === "number" && pad >= 0);
}

/** Allocates the output, runs `compute` with the heap and the output's offset, frees on failure. */
function withOutput(
  backend: WasmBackendLike,
  shape: number[],
  compute: (heap: ArrayBuffer, out: number) => void,
): TensorInfo {
  const out = backend.makeOutput(shape, "float32");
  return fillOutputs(backend, out, () =>
    compute(heapBuffer(backend), backend.getMemoryOffset(out.dataId)),
  );
}

function convCall(
  attrs: NamedAttrMap,
  xShape: readonly number[],
  filterShape: readonly number[],
): number[] | null {
  const pad = attrs.pad;
  const dataFormat = attrs.dataFormat as string | undefined;
  if (!isPad(pad) || !dilationsAreOne(attrs.dilations)) return null;
  if (dataFormat != null && dataFormat !== "NDHWC") return null;
  if (xShape.length !== 5 || filterShape.length !== 5) return null;
  const g = conv3dGeometry(xShape, filterShape, attrs.strides as number | number[], pad);
  if (isEmpty(g) || g.padFront < 0 || g.padTop < 0 || g.padLeft < 0) return null;
  return nativeConvGeometry(g);
}

const offset = (backend: WasmBackendLike, t: TensorInfo): number =>
  backend.getMemoryOffset(t.dataId);

export const conv3d: NativeKernelFunc = (addon, { x, filter }, backend, attrs) => {
  if (!isFloat5D(x) || !isFloat5D(filter)) return null;
  const g = convCall(attrs, x.shape, filter.shape);
  if (g === null) return null;
  return withOutput(backend, [g[0]!, g[5]!, g[6]!, g[7]!, g[8]!], (heap, out) =>
    addon.conv3dForward(heap, offset(backend, x), offset(backend, filter), out, g),
  );
};

export const conv3dBackpropInput: NativeKernelFunc = (addon, { dy, filter }, backend, attrs) => {
  const xShape = attrs.inputShape as number[];
  if (!isFloat5D(dy) || !isFloat5D(filter) || !Array.isArray(xShape)) return null;
  const g = convCall(attrs, xShape, filter.shape);
  if (g === null) return null;
  return withOutput(backend, [...xShape], (heap, out) =>
    addon.conv3dBackwardData(heap, offset(backend, dy), offset(backend, filter), out, g),
  );
};

export const conv3dBackpropFilter: NativeKernelFunc = (addon, { x, dy }, backend, attrs) => {
  const filterShape = attrs.filterShape as number[];
  if (!isFloat5D(x) || !isFloat5D(dy) || !Array.isArray(filterShape)) return null;
  const g = convCall(attrs, x.shape, filterShape);
  if (g === null) return null;
  return withOutput(backend, [...filterShape], (heap, out) =>
    addon.conv3dBackwardWeights(heap, offset(backend, x), offset(backend, dy), out, g),
  );
};

function poolCall(attrs: NamedAttrMap, xShape: readonly number[]): number[] | null {
  const pad = attrs.pad;
  const dataFormat = attrs.dataFormat as string | undefined;
  if (!isPad(pad) || (dataFormat != null && dataFormat !== "NDHWC")) return null;
  if (!dilationsAreOne(attrs.dilations)) return null;
  return nativePoolGeometry(
    xShape,
    attrs.filterSize as number | number[],
    attrs.strides as number | number[],
    pad,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
}

export const maxPool3d: NativeKernelFunc = (addon, { x }, backend, attrs) => {
  if (!isFloat5D(x)) return null;
  const g = poolCall(attrs, x.shape);
  if (g === null || g.slice(5, 8).some((d) => d <= 0)) return null;
  return withOutput(backend, [g[0]!, g[5]!, g[6]!, g[7]!, g[4]!], (heap, out) =>
    addon.maxPool3dForward(heap, offset(backend, x), out, g),
  );
};

export const maxPool3dGrad: NativeKernelFunc = (addon, { dy, input }, backend, attrs) => {
  if (!isFloat5D(dy) || !isFloat5D(input)) return null;
  const g = poolCall(attrs, input.shape);
  if (g === null) return null;
  const expected = [g[0], g[5], g[6], g[7], g[4]];
  if (dy.shape.some((d, i) => d !== expected[i])) return null;
  return withOutput(backend, [...input.shape], (heap, out) =>
    addon.maxPool3dBackward(heap, offset(backend, dy), offset(backend, input), out, g),
  );
};
