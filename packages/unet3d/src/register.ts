import * as tf from "@tensorflow/tfjs-core";
import { registerConv3DTransposeGradient } from "./gradients.js";
import { BRATS_LAYER_CLASSES } from "./layers.js";

let layersRegistered = false;

/**
 * Makes models using this package's layers loadable from model.json (registers SpatialDropout3D,
 * SpatialAttention3D, GroupNormalization, InstanceNormalization and UpSampling3D with
 * tf.serialization) and makes conv3dTranspose trainable (Conv3DBackpropInputV2 gradient).
 * Idempotent; call it once before loading or training. Importing this package registers nothing.
 */
export function registerBratsLayers(): void {
  if (!layersRegistered) {
    for (const cls of BRATS_LAYER_CLASSES) tf.serialization.registerClass(cls);
    layersRegistered = true;
  }
  registerConv3DTransposeGradient();
}
