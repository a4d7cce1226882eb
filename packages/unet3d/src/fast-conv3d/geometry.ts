/**
 * Shape helpers of the fast Conv3D kernels over the convolution geometry, which lives in
 * @brats/tfjs-onednn (conv3dGeometry: shapes, strides and pads as TF.js computes them).
 */
import type { Conv3DGeometry, Shape5 } from "@brats/tfjs-onednn";

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
