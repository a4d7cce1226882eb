/**
 * Slice and SplitV for the wasm backend that collapse dimensions before calling the stock Slice
 * kernel. tfjs-backend-wasm 4.22 copies rank-2..4 slices row by row but runs rank-5 slices
 * element by element in plain JavaScript (the decoder's concat gradient, a SplitV over the channel
 * axis of [N,D,H,W,C], took seconds at 64³). Adjacent axes taken whole merge into the axis
 * outside them, so that split becomes a slice of [N·D·H·W, C] and any single-axis slice is at
 * most 3-D. Only copies happen, so results are bit-identical to the stock kernels.
 */
import { backend_util, Slice, slice_util, SplitV, util } from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";

export type FastSliceKernelName = typeof Slice | typeof SplitV;

/** The kernels this module replaces on the wasm backend. */
export const FAST_SLICE_KERNELS: readonly FastSliceKernelName[] = [Slice, SplitV];

/** A slice of `shape` at `begin` with extent `size` (all explicit, non-negative). */
export interface SliceSpec {
  shape: number[];
  begin: number[];
  size: number[];
}

/**
 * The same slice on a view with fewer axes: every axis taken whole (begin 0, full size) is
 * merged into the axis outside it, which stays contiguous in row-major order. Returns null when
 * no axis can be merged (the stock kernel then sees the call unchanged).
 */
export function collapseSlice(spec: SliceSpec): SliceSpec | null {
  const { shape, begin, size } = spec;
  const rank = shape.length;
  if (rank < 2) return null;
  const out: SliceSpec = { shape: [shape[0]!], begin: [begin[0]!], size: [size[0]!] };
  for (let i = 1; i < rank; i++) {
    const dim = shape[i]!;
    const last = out.shape.length - 1;
    if (begin[i] === 0 && size[i] === dim) {
      out.shape[last] = out.shape[last]! * dim;
      out.begin[last] = out.begin[last]! * dim;
      out.size[last] = out.size[last]! * dim;
    } else {
      out.shape.push(dim);
      out.begin.push(begin[i]!);
      out.size.push(size[i]!);
    }
  }
  return out.shape.length < rank ? out : null;
}

/** How many calls took the collapsed path and how many went to the stock kernel unchanged. */
export interface FastSliceStats {
  fast: Record<FastSliceKernelName, number>;
  fallback: Record<FastSliceKernelName, number>;
}

let stats: FastSliceStats = { fast: { Slice: 0, SplitV: 0 }, fallback: { Slice: 0, SplitV: 0 } };

export function getFastSliceStats(): FastSliceStats {
  return { fast: { ...stats.fast }, fallback: { ...stats.fallback } };
}

export function resetFastSliceStats(): void {
  stats = { fast: { Slice: 0, SplitV: 0 }, fallback: { Slice: 0, SplitV: 0 } };
}

/**
 * Runs the stock Slice on a view of x's data with the collapsed shape, then gives the fresh
 * output its full shape (a view shares data, so nothing else is allocated or needs disposing).
 */
function sliceView(
  stockSlice: KernelFunc,
  x: TensorInfo,
  view: SliceSpec,
  outShape: number[],
  backend: unknown,
): TensorInfo {
  const out = stockSlice({
    inputs: { x: { dataId: x.dataId, shape: view.shape, dtype: x.dtype } },
    attrs: { begin: view.begin, size: view.size },
    backend: backend as Parameters<KernelFunc>[0]["backend"],
  }) as TensorInfo;
  return { dataId: out.dataId, shape: outShape, dtype: x.dtype };
}

/** String tensors keep their bytes outside the heap; empty slices need no speed. */
const collapsible = (x: TensorInfo | undefined, size: number[]): x is TensorInfo =>
  x != null && x.dtype !== "string" && size.every((s) => s > 0);

/** The Slice kernel built on the stock one. */
export function fastSlice(stock: KernelConfig): KernelFunc {
  return (args) => {
    const x = args.inputs.x;
    const attrs = args.attrs ?? {};
    if (x != null) {
      const [begin, size] = slice_util.parseSliceParams(
        x,
        attrs.begin as number | number[],
        attrs.size as number | number[] | undefined,
      );
      if (begin != null && size != null && collapsible(x, size)) {
        const view = collapseSlice({ shape: x.shape, begin, size });
        if (view !== null) {
          stats.fast.Slice++;
          return sliceView(stock.kernelFunc, x, view, size, args.backend);
        }
      }
    }
    stats.fallback.Slice++;
    return stock.kernelFunc(args);
  };
}

/**
 * The SplitV kernel: each piece is a slice of the 2-D view [outer, dim·inner] of x (outer = the
 * product of the axes before `axis`, inner = after it), done by the stock Slice.
 */
export function fastSplitV(stockSlice: KernelConfig, stock: KernelConfig): KernelFunc {
  return (args) => {
    const x = args.inputs.x;
    const attrs = args.attrs ?? {};
    if (x != null && x.shape.length >= 1) {
      const axis = util.parseAxisParam(attrs.axis as number | number[], x.shape)[0]!;
      const sizes = backend_util.prepareSplitSize(
        x,
        attrs.numOrSizeSplits as number | number[],
        axis,
      );
      if (collapsible(x, [...x.shape, ...sizes])) {
        stats.fast.SplitV++;
        const outer = util.sizeFromShape(x.shape.slice(0, axis));
        const inner = util.sizeFromShape(x.shape.slice(axis + 1));
        const viewShape = [outer, x.shape[axis]! * inner];
        let offset = 0;
        return sizes.map((s) => {
          const outShape = x.shape.slice();
          outShape[axis] = s;
          const view = { shape: viewShape, begin: [0, offset * inner], size: [outer, s * inner] };
          offset += s;
          return sliceView(stockSlice.kernelFunc, x, view, outShape, args.backend);
        });
      }
    }
    stats.fallback.SplitV++;
    return stock.kernelFunc(args);
  };
}
