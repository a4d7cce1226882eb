/**
 * Shapes, strides and pads of a channels-last 3D convolution, as TF.js computes them (so that the
 * fast kernels reproduce the stock ones exactly, including TF.js's unclamped 'same' pads, which
 * are negative when the kernel is smaller than the stride).
 */
import { backend_util } from "@tensorflow/tfjs-core";

export type Shape5 = [number, number, number, number, number];
export type Conv3DPad = "same" | "valid" | number;

export interface Conv3DGeometry {
  /** Input x: [n, d, h, w, ci]. */
  n: number;
  d: number;
  h: number;
  w: number;
  ci: number;
  /** Output y: [n, od, oh, ow, co]. */
  od: number;
  oh: number;
  ow: number;
  co: number;
  /** Filter: [kd, kh, kw, ci, co]. */
  kd: number;
  kh: number;
  kw: number;
  sd: number;
  sh: number;
  sw: number;
  /** Pads before/after along depth, height, width (the input index is o*s + k - padBefore). */
  padFront: number;
  padBack: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

export function conv3dGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | readonly number[],
  pad: Conv3DPad,
): Conv3DGeometry {
  const info = backend_util.computeConv3DInfo(
    xShape as Shape5,
    filterShape as Shape5,
    strides as number | [number, number, number],
    1,
    pad,
  );
  const p = info.padInfo;
  return {
    n: info.batchSize,
    d: info.inDepth,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    od: info.outDepth,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    kd: info.filterDepth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sd: info.strideDepth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    padFront: p.front,
    padBack: p.back,
    padTop: p.top,
    padBottom: p.bottom,
    padLeft: p.left,
    padRight: p.right,
  };
}

export function inShape(g: Conv3DGeometry): Shape5 {
  return [g.n, g.d, g.h, g.w, g.ci];
}

export function outShape(g: Conv3DGeometry): Shape5 {
  return [g.n, g.od, g.oh, g.ow, g.co];
}

export function filterShapeOf(g: Conv3DGeometry): Shape5 {
  return [g.kd, g.kh, g.kw, g.ci, g.co];
}

/** True when every stride equals the kernel size: the windows tile the input without overlap. */
export function isPatchwise(g: Conv3DGeometry): boolean {
  return g.kd === g.sd && g.kh === g.sh && g.kw === g.sw;
}

export function isEmpty(g: Conv3DGeometry): boolean {
  return [g.n, g.d, g.h, g.w, g.ci, g.od, g.oh, g.ow, g.co].some((v) => v <= 0);
}

/** Normalises a dilations attribute; true when every dilation is 1. */
export function dilationsAreOne(dilations: unknown): boolean {
  if (dilations == null) return true;
  if (typeof dilations === "number") return dilations === 1;
  return Array.isArray(dilations) && dilations.every((v) => v === 1);
}
