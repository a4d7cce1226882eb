/**
 * Unary element-wise kernels (ReLU and its gradient's Step, Sqrt, Square, Sigmoid, Log, Exp,
 * Rsqrt, ClipByValue, Neg), the last-axis Softmax and the float comparisons. They are registered
 * on the cpu backend only: there TF.js runs them as single-threaded JavaScript loops that cost as
 * much as the convolutions, while the wasm backend's own are already SIMD C++.
 */
import { util } from "@tensorflow/tfjs-core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeKernelFunc } from "./kernels.js";
import { MIN_NATIVE_ELEMENTS } from "./kernels-elementwise.js";
import { fillOutputs } from "./memory.js";

const UNARY_OPS = {
  Relu: 0,
  Step: 1,
  Sqrt: 2,
  Square: 3,
  Sigmoid: 4,
  Log: 5,
  Exp: 6,
  Rsqrt: 7,
  ClipByValue: 8,
  Neg: 9,
} as const;
export type NativeUnaryOp = keyof typeof UNARY_OPS;

const isBigFloat = (x: TensorInfo | undefined): x is TensorInfo =>
  x != null && x.dtype === "float32" && util.sizeFromShape(x.shape) >= MIN_NATIVE_ELEMENTS;

export function unaryKernel(op: NativeUnaryOp): NativeKernelFunc {
  return (addon, { x }, memory, attrs) => {
    if (!isBigFloat(x)) return null;
    let a = 0;
    let b = 0;
    if (op === "Step") a = (attrs.alpha as number | undefined) ?? 0;
    if (op === "ClipByValue") {
      a = attrs.clipValueMin as number;
      b = attrs.clipValueMax as number;
      if (typeof a !== "number" || typeof b !== "number") return null;
    }
    const out = memory.makeOutput([...x.shape], "float32");
    return fillOutputs(memory, out, () =>
      addon.unary(
        UNARY_OPS[op],
        memory.heap(),
        memory.ref(x),
        memory.ref(out),
        util.sizeFromShape(x.shape),
        a,
        b,
      ),
    );
  };
}

/** Softmax over the last axis (the only one TF.js's Softmax kernel takes). */
export const softmax: NativeKernelFunc = (addon, { logits }, memory, attrs) => {
  if (!isBigFloat(logits)) return null;
  const rank = logits.shape.length;
  const dim = (attrs.dim as number | undefined) ?? -1;
  if (dim !== -1 && dim !== rank - 1) return null;
  const width = logits.shape[rank - 1]!;
  const out = memory.makeOutput([...logits.shape], "float32");
  return fillOutputs(memory, out, () =>
    addon.softmax(
      memory.heap(),
      memory.ref(logits),
      memory.ref(out),
      util.sizeFromShape(logits.shape) / width,
      width,
    ),
  );
};
