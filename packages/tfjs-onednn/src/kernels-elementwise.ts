/**
 * Element-wise, reduction and copy kernels of a training step: the broadcasting
 * binary ops, Tile (the batch-norm gradient tiles per-channel values over every voxel, which
 * the stock wasm kernel does one element at a time), Sum/Mean/Max over a contiguous block of
 * axes, Concat/SplitV, FusedBatchNorm, and Identity without a copy. Tensors under
 * MIN_NATIVE_ELEMENTS elements stay on the stock kernels: there a native call costs more than
 * it saves, and the optimizer's small updates stay exactly as they were.
 */
import { backend_util, util } from "@tensorflow/tfjs-core";
import type { DataType, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeKernelFunc } from "./kernels.js";
import { fillOutputs } from "./memory.js";

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
  Greater: 7,
  GreaterEqual: 8,
  Less: 9,
  LessEqual: 10,
} as const;
export type NativeBinaryOp = keyof typeof BINARY_OPS;

const size = (shape: readonly number[]): number => util.sizeFromShape(shape as number[]);
const bytesOf = (dtype: DataType): number | null =>
  dtype === "float32" || dtype === "int32" ? 4 : dtype === "bool" ? 1 : null;

export function binaryKernel(op: NativeBinaryOp): NativeKernelFunc {
  return (addon, { a, b }, memory) => {
    if (a == null || b == null || a.dtype !== "float32" || b.dtype !== "float32") return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (size(outShape) < MIN_NATIVE_ELEMENTS || outShape.length > 8) return null;
    const out = memory.makeOutput(
      outShape,
      BINARY_OPS[op] >= 7 || op === "Equal" ? "bool" : "float32",
    );
    return fillOutputs(memory, out, () =>
      addon.binary(
        BINARY_OPS[op],
        memory.heap(),
        memory.ref(a),
        memory.ref(b),
        memory.ref(out),
        a.shape,
        b.shape,
        outShape,
      ),
    );
  };
}

export const tile: NativeKernelFunc = (addon, { x }, memory, attrs) => {
  const reps = attrs.reps as number[];
  if (x == null || !Array.isArray(reps) || reps.length !== x.shape.length) return null;
  const bytes = bytesOf(x.dtype);
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  if (bytes === null || size(outShape) < MIN_NATIVE_ELEMENTS || x.shape.length > 8) return null;
  if (size(x.shape) === 0) return null;
  const out = memory.makeOutput(outShape, x.dtype);
  return fillOutputs(memory, out, () =>
    addon.tile(memory.heap(), memory.ref(x), memory.ref(out), x.shape, reps, bytes),
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
  return (addon, { x }, memory, attrs: NamedAttrMap) => {
    if (x == null || x.dtype !== "float32" || size(x.shape) < MIN_NATIVE_ELEMENTS) return null;
    const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    const view = reductionView(x.shape, axes);
    if (view === null) return null;
    const [keptShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const outShape =
      attrs.keepDims === true ? backend_util.expandShapeToKeepDim(keptShape, axes) : keptShape;
    const out = memory.makeOutput(outShape, "float32");
    return fillOutputs(memory, out, () =>
      addon.reduce(
        op,
        memory.heap(),
        memory.ref(x),
        memory.ref(out),
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
export const concat: NativeKernelFunc = (addon, inputs, memory, attrs) => {
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
  const out = memory.makeOutput(outShape, dtype);
  return fillOutputs(memory, out, () =>
    addon.concat(
      memory.heap(),
      parts.map((t) => memory.ref(t)),
      memory.ref(out),
      outer,
      widths,
    ),
  );
};

export const splitV: NativeKernelFunc = (addon, { x }, memory, attrs) => {
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
    return memory.makeOutput(shape, x.dtype);
  });
  return fillOutputs(memory, outs, () =>
    addon.split(
      memory.heap(),
      outs.map((t) => memory.ref(t)),
      memory.ref(x),
      outer,
      sizes.map((s) => s * inner * bytes),
    ),
  );
};

export const fusedBatchNorm: NativeKernelFunc = (addon, inputs, memory, attrs) => {
  const { x, mean: m, variance, offset: off, scale } = inputs;
  if (x == null || m == null || variance == null || x.dtype !== "float32") return null;
  const count = size(x.shape);
  const c = x.shape[x.shape.length - 1]!;
  if (count < MIN_NATIVE_ELEMENTS) return null;
  const params = [m, variance, off, scale].filter((t): t is TensorInfo => t != null);
  if (params.some((t) => t.dtype !== "float32" || size(t.shape) !== c)) return null;
  const eps = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const out = memory.makeOutput([...x.shape], "float32");
  return fillOutputs(memory, out, () =>
    addon.batchNorm(
      memory.heap(),
      memory.ref(x),
      memory.ref(m),
      memory.ref(variance),
      off == null ? -1 : memory.ref(off),
      scale == null ? -1 : memory.ref(scale),
      memory.ref(out),
      count,
      c,
      eps,
    ),
  );
};

/** Identity shares x's buffer (as Reshape does) instead of copying it. */
export const identity: NativeKernelFunc = (_addon, { x }, memory) => {
  if (x == null || x.dtype === "string") return null;
  return memory.share(x);
};
