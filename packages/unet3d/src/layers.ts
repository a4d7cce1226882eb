/**
 * Custom tfjs-layers layers of the BraTS 3D U-Net (channels-last, [N, D, H, W, C]).
 *
 * Every class has a static `className` and a `getConfig()` whose keys survive tfjs-layers'
 * camelCase ↔ snake_case conversion, so a model using them round-trips through model.json once
 * `registerBratsLayers()` (register.ts) has registered the classes. Importing this module has no
 * side effects. The classes live in layers-spatial.ts and layers-norm.ts; this module lists them.
 */
import { BatchNormalization3D, GroupNormalization, InstanceNormalization } from "./layers-norm.js";
import { SpatialAttention3D, SpatialDropout3D, UpSampling3D } from "./layers-spatial.js";

export {
  BatchNormalization3D,
  GroupNormalization,
  InstanceNormalization,
  SpatialAttention3D,
  SpatialDropout3D,
  UpSampling3D,
};

/** Every custom layer class of this package (registered by registerBratsLayers()). */
export const BRATS_LAYER_CLASSES = [
  BatchNormalization3D,
  SpatialDropout3D,
  SpatialAttention3D,
  GroupNormalization,
  InstanceNormalization,
  UpSampling3D,
] as const;
