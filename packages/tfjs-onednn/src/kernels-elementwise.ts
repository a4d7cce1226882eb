/**
 * Element-wise, reduction and copy kernels of a training step on the wasm heap: the broadcasting
 * binary ops, Tile (the batch-norm gradient tiles per-channel values over every voxel, which
 * the stock wasm kernel does one element at a time), Sum/Mean/Max over a contiguous block of
 * axes, Concat/SplitV, FusedBatchNorm, and Identity without a copy. Tensors under
 * MIN_NATIVE_ELEMENTS elements stay on the stock kernels: there a native call costs more than
 * it saves, and the optimizer's small updates stay exactly as they were.
 */
import { backend_util, util } from "@tensorflow/tfjs-core";
import type { DataType, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeKernelFunc } from "./kernels.js";
import type { WasmBackendLike } from "./wasm-heap.js";
import { fillOutputs, heapBuffer } from "./wasm-heap.js";

/** Outputs smaller than this go to the displaced kernel. */
export const MIN_NATIVE_ELEMENTS = 16384;

const BINARY_OPS = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Equal: 4,
  Maximum: 5,
  SquaredDifference: 6,
} as const;
export type NativeBinaryOp = keyof typeof BINARY_OPS;

const size = (shape: readonly number[]): number => util.sizeFromShape(shape as number[]);
const offset = (backend: WasmBackendLike, t: TensorInfo): number =>
  backend.getMemoryOffset(t.dataId);
const bytesOf = (dtype: DataType): number | null =>
  dtype === "float32" || dtype === "int32" ? 4 : dtype === "bool" ? 1 : null;

export function binaryKernel(op: NativeBinaryOp): NativeKernelFunc {
  return (addon, { a, b }, backend) => {
    if (a == null || b == null || a.dtype !== "float32" || b.dtype !== "float32") return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (size(outShape) < MIN_NATIVE_ELEMENTS || outShape.length > 8) return null;
    const out = backend.makeOutput(outShape, op === "Equal" ? "bool" : "float32");
    return fillOutputs(backend, out, () =>
      addon.binary(
        BINARY_OPS[op],
        heapBuffer(backend),
        offset(backend, a),
        offset(backend, b),
        offset(backend, out),
        a.shape,
        b.shape,
        outShape,
      ),
    );
  };
}

export const tile: NativeKernelFunc = (addon, { x }, backend, attrs) => {
  const reps = attrs.reps as number[];
  if (x == null || !Array.isArray(reps) || reps.length !== x.shape.length) return null;
  const bytes = bytesOf(x.dtype);
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  if (bytes === null || size(outShape) < MIN_NATIVE_ELEMENTS || x.shape.length > 8) return null;
  if (size(x.shape) === 0) return null;
  const out = backend.makeOutput(outShape, x.dtype);
  return fillOutputs(backend, out, () =>
    addon.tile(heapBuffer(backend), offset(backend, x), offset(backend, out), x.shape, reps, bytes),
  );
};

/**
 * [outer, mid, inner] of x when the reduced axes form one contiguous block once size-1
 * dimensions are ignored, else null.
 */
export function reductionView(
  shape: readonly number[],
  axes: readonly number[],
): { outer: number; mid: number; inner: number } | null {
  const reduced = new Set(axes);
  let outer = 1;
  let mid = 1;
  let inner = 1;
  let phase = 0; // 0: before the block, 1: in it, 2: after it
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    if (reduced.has(i)) {
      if (phase === 2) return null;
      phase = 1;
      mid *= d;
    } else if (phase === 0) {
      outer *= d;
    } else {
      phase = 2;
      inner *= d;
    }
  }
  return { outer, mid, inner };
}

/** Sum and Mean name their axes `axis`; Max names them `reductionIndices`. */
function reduceKernel(op: 0 | 1 | 2, axisAttr: "axis" | "reductionIndices"): NativeKernelFunc {
  return (addon, { x }, backend, attrs: NamedAttrMap) => {
    if (x == null || x.dtype !== "float32" || size(x.shape) < MIN_NATIVE_ELEMENTS) return null;
    const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    const view = reductionView(x.shape, axes);
    if (view === null) return null;
    const [keptShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const outShape =
      attrs.keepDims === true ? backend_util.expandShapeToKeepDim(keptShape, axes) : keptShape;
    const out = backend.makeOutput(outShape, "float32");
    return fillOutputs(backend, out, () =>
      addon.reduce(
        op,
        heapBuffer(backend),
        offset(backend, x),
        offset(backend, out),
        view.outer,
        view.mid,
        view.inner,
      ),
    );
  };
}

export const sum = reduceKernel(0, "axis");
export const mean = reduceKernel(1, "axis");
export const max = reduceKernel(2, "reductionIndices");

/** Concat's inputs arrive as an array (inputs: TensorInfo[]); registerOnednnKernels passes it. */
export const concat: NativeKernelFunc = (addon, inputs, backend, attrs) => {
  const all = Object.values(inputs).filter((t): t is TensorInfo => t != null);
  if (all.length === 0) return null;
  const dtype = all[0]!.dtype;
  const bytes = bytesOf(dtype);
  if (bytes === null || all.some((t) => t.dtype !== dtype)) return null;
  const rank = all[0]!.shape.length;
  const axis = util.parseAxisParam(attrs.axis as number, all[0]!.shape)[0]!;
  const parts = all.filter((t) => size(t.shape) > 0);
  if (parts.length < 2) return null;
  const outShape = backend_util.computeOutShape(
    parts.map((t) => t.shape),
    axis,
  );
  if (size(outShape) < MIN_NATIVE_ELEMENTS || parts.some((t) => t.shape.length !== rank))
    return null;
  const outer = size(outShape.slice(0, axis));
  const widths = parts.map((t) => size(t.shape.slice(axis)) * bytes);
  const out = backend.makeOutput(outShape, dtype);
  return fillOutputs(backend, out, () =>
    addon.concat(
      heapBuffer(backend),
      parts.map((t) => offset(backend, t)),
      offset(backend, out),
      outer,
      widths,
    ),
  );
};

export const splitV: NativeKernelFunc = (addon, { x }, backend, attrs) => {
  if (x == null) return null;
  const bytes = bytesOf(x.dtype);
  if (bytes === null || size(x.shape) < MIN_NATIVE_ELEMENTS) return null;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x, attrs.numOrSizeSplits as number | number[], axis);
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    return backend.makeOutput(shape, x.dtype);
  });
  return fillOutputs(backend, outs, () =>
    addon.split(
      heapBuffer(backend),
      outs.map((t) => offset(backend, t)),
      offset(backend, x),
      outer,
      sizes.map((s) => s * inner * bytes),
    ),
  );
};

export const fusedBatchNorm: NativeKernelFunc = (addon, inputs, backend, attrs) => {
  const { x, mean: m, variance, offset: off, scale } = inputs;
  if (x == null || m == null || variance == null || x.dtype !== "float32") return null;
  const count = size(x.shape);
  const c = x.shape[x.shape.length - 1]!;
  if (count < MIN_NATIVE_ELEMENTS) return null;
  const params = [m, variance, off, scale].filter((t): t is TensorInfo => t != null);
  if (params.some((t) => t.dtype !== "float32" || size(t.shape) !== c)) return null;
  const eps = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const out = backend.makeOutput([...x.shape], "float32");
  return fillOutputs(backend, out, () =>
    addon.batchNorm(
      heapBuffer(backend),
      offset(backend, x),
      offset(backend, m),
      offset(backend, variance),
      off == null ? -1 : offset(backend, off),
      scale == null ? -1 : offset(backend, scale),
      offset(backend, out),
      count,
      c,
      eps,
    ),
  );
};

/** Identity shares x's buffer (as Reshape does) instead of copying it. */
export const identity: NativeKernelFunc = (_addon, { x }, backend) => {
  const withRef = backend as WasmBackendLike & { incRef?: (dataId: object) => void };
  if (x == null || x.dtype === "string" || typeof withRef.incRef !== "function") return null;
  withRef.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};
