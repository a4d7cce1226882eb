/**
 * The native kernels as TF.js kernel functions on the wasm or cpu backend: each allocates its
 * output where the backend keeps tensors, hands the addon its tensors (heap offsets or typed
 * arrays, memory.ts), and returns the output; nothing is copied. A call the addon does not cover (another dtype or layout, dilations, TF.js's negative
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
import type { TensorMemory, TensorRef } from "./memory.js";
import { fillOutputs } from "./memory.js";

export type NativeKernelFunc = (
  addon: OnednnAddon,
  inputs: Record<string, TensorInfo | undefined>,
  memory: TensorMemory,
  attrs: NamedAttrMap,
) => TensorInfo | TensorInfo[] | null;

function isFloat5D(t: TensorInfo | undefined): t is TensorInfo {
  return t != null && t.dtype === "float32" && t.shape.length === 5 && t.shape.every((d) => d > 0);
}

function isPad(pad: unknown): pad is Conv3DPad {
  return pad === "same" || pad === "valid" || (typeof pad === "number" && pad >= 0);
}

/** Allocates the output, runs `compute` with the heap and the output's ref, frees on failure. */
function withOutput(
  memory: TensorMemory,
  shape: number[],
  compute: (heap: ArrayBuffer | null, out: TensorRef) => void,
): TensorInfo {
  const out = memory.makeOutput(shape, "float32");
  return fillOutputs(memory, out, () => compute(memory.heap(), memory.ref(out)));
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

export const conv3d: NativeKernelFunc = (addon, { x, filter }, memory, attrs) => {
  if (!isFloat5D(x) || !isFloat5D(filter)) return null;
  const g = convCall(attrs, x.shape, filter.shape);
  if (g === null) return null;
  return withOutput(memory, [g[0]!, g[5]!, g[6]!, g[7]!, g[8]!], (heap, out) =>
    addon.conv3dForward(heap, memory.ref(x), memory.ref(filter), out, g),
  );
};

export const conv3dBackpropInput: NativeKernelFunc = (addon, { dy, filter }, memory, attrs) => {
  const xShape = attrs.inputShape as number[];
  if (!isFloat5D(dy) || !isFloat5D(filter) || !Array.isArray(xShape)) return null;
  const g = convCall(attrs, xShape, filter.shape);
  if (g === null) return null;
  return withOutput(memory, [...xShape], (heap, out) =>
    addon.conv3dBackwardData(heap, memory.ref(dy), memory.ref(filter), out, g),
  );
};

export const conv3dBackpropFilter: NativeKernelFunc = (addon, { x, dy }, memory, attrs) => {
  const filterShape = attrs.filterShape as number[];
  if (!isFloat5D(x) || !isFloat5D(dy) || !Array.isArray(filterShape)) return null;
  const g = convCall(attrs, x.shape, filterShape);
  if (g === null) return null;
  return withOutput(memory, [...filterShape], (heap, out) =>
    addon.conv3dBackwardWeights(heap, memory.ref(x), memory.ref(dy), out, g),
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

export const maxPool3d: NativeKernelFunc = (addon, { x }, memory, attrs) => {
  if (!isFloat5D(x)) return null;
  const g = poolCall(attrs, x.shape);
  if (g === null || g.slice(5, 8).some((d) => d <= 0)) return null;
  return withOutput(memory, [g[0]!, g[5]!, g[6]!, g[7]!, g[4]!], (heap, out) =>
    addon.maxPool3dForward(heap, memory.ref(x), out, g),
  );
};

export const maxPool3dGrad: NativeKernelFunc = (addon, { dy, input }, memory, attrs) => {
  if (!isFloat5D(dy) || !isFloat5D(input)) return null;
  const g = poolCall(attrs, input.shape);
  if (g === null) return null;
  const expected = [g[0], g[5], g[6], g[7], g[4]];
  if (dy.shape.some((d, i) => d !== expected[i])) return null;
  return withOutput(memory, [...input.shape], (heap, out) =>
    addon.maxPool3dBackward(heap, memory.ref(dy), memory.ref(input), out, g),
  );
};
