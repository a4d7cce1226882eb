/**
 * Shapes, strides and pads of channels-last 3D convolutions and pools, as TF.js computes them (so that the
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

export function isEmpty(g: Conv3DGeometry): boolean {
  return [g.n, g.d, g.h, g.w, g.ci, g.od, g.oh, g.ow, g.co].some((v) => v <= 0);
}

/** Normalises a dilations attribute; true when every dilation is 1. */
export function dilationsAreOne(dilations: unknown): boolean {
  if (dilations == null) return true;
  if (typeof dilations === "number") return dilations === 1;
  return Array.isArray(dilations) && dilations.every((v) => v === 1);
}

/** The addon's conv geometry: [n, d, h, w, ci, od, oh, ow, co, kd, kh, kw, sd, sh, sw, pf, pt, pl]. */
export function nativeConvGeometry(g: Conv3DGeometry): number[] {
  return [
    g.n,
    g.d,
    g.h,
    g.w,
    g.ci,
    g.od,
    g.oh,
    g.ow,
    g.co,
    g.kd,
    g.kh,
    g.kw,
    g.sd,
    g.sh,
    g.sw,
    g.padFront,
    g.padTop,
    g.padLeft,
  ];
}

/**
 * The addon's pool geometry, [n, d, h, w, c, od, oh, ow, kd, kh, kw, sd, sh, sw, pf, pt, pl],
 * from TF.js's own computePool3DInfo (so 'same', 'valid' and dimRoundingMode match the stock
 * kernels), or null when the call is outside what the native kernel covers (dilations).
 */
export function nativePoolGeometry(
  xShape: readonly number[],
  filterSize: number | readonly number[],
  strides: number | readonly number[],
  pad: "same" | "valid" | number,
  dimRoundingMode?: "floor" | "round" | "ceil",
): number[] | null {
  const info = backend_util.computePool3DInfo(
    xShape as Shape5,
    filterSize as number | [number, number, number],
    strides as number | [number, number, number],
    1,
    pad,
    dimRoundingMode,
  );
  const p = info.padInfo;
  if (p.front < 0 || p.top < 0 || p.left < 0) return null;
  return [
    info.batchSize,
    info.inDepth,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outDepth,
    info.outHeight,
    info.outWidth,
    info.filterDepth,
    info.filterHeight,
    info.filterWidth,
    info.strideDepth,
    info.strideHeight,
    info.strideWidth,
    p.front,
    p.top,
    p.left,
  ];
}
