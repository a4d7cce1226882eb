/**
 * The gradient TF.js lacks for Conv3DBackpropInputV2 (tfjs#6323), the kernel behind
 * tf.conv3dTranspose and the Conv3DTranspose layer: without it the up-convolutions of the
 * U-Net cannot train.
 *
 * Conv3DBackpropInputV2 computes y = Jᵀ·dy, the transpose of the convolution x ↦ conv3d(x, W)
 * applied to dy. For an upstream gradient g (shaped like y):
 *   ∂⟨g, y⟩/∂dy = J·g = conv3d(g, W)                  (same strides and padding)
 *   ∂⟨g, y⟩/∂W  = ⟨J_W g, dy⟩ = conv3DBackpropFilter(x = g, dy = dy)
 * — the 3D analogue of tfjs-core's Conv2DBackpropInput gradient.
 */
import * as tf from "@tensorflow/tfjs-core";
import type {
  Conv3DBackpropFilterV2Attrs,
  Conv3DBackpropInputV2Attrs,
  GradConfig,
  NamedAttrMap,
} from "@tensorflow/tfjs-core";

const conv3DBackpropInputV2GradConfig: GradConfig = {
  kernelName: tf.Conv3DBackpropInputV2,
  inputsToSave: ["dy", "filter"],
  gradFunc: (upstream: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const g = (Array.isArray(upstream) ? upstream[0] : upstream) as tf.Tensor5D;
    const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
    const { strides, pad } = attrs as unknown as Conv3DBackpropInputV2Attrs;
    const filterAttrs: Conv3DBackpropFilterV2Attrs = { strides, pad, filterShape: filter.shape };
    return {
      dy: () => tf.conv3d(g, filter, strides, pad),
      filter: () =>
        tf
          .engine()
          .runKernel<tf.Tensor5D>(
            tf.Conv3DBackpropFilterV2,
            { x: g, dy },
            filterAttrs as unknown as NamedAttrMap,
          ),
    };
  },
};

/**
 * Registers the Conv3DBackpropInputV2 gradient unless one is already registered (a later TF.js
 * may ship its own; ours then stays out of the way). Idempotent.
 */
export function registerConv3DTransposeGradient(): void {
  if (tf.getGradient(tf.Conv3DBackpropInputV2) != null) return;
  tf.registerGradient(conv3DBackpropInputV2GradConfig);
}
