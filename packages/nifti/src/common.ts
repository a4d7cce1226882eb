// The part of the public API that is the same code in Node and in the browser build.
export { parseNifti, type ParseNiftiOptions } from "./parse.js";
export { serializeNifti, type SerializeNiftiOptions } from "./serialize.js";
export { createImage, type CreateImageOptions } from "./image.js";
export {
  getScaledData,
  scaleBlockInto,
  scaleInto,
  scalingOf,
  type Scaling,
  type ScaledType,
} from "./scale.js";
export { NiftiError, type NiftiErrorCode } from "./errors.js";
export {
  affineToQuaternion,
  bestAffine,
  invertAffine,
  multiplyAffines,
  quaternionToAffine,
  setAffine,
  voxelSizes,
  type QformParameters,
  type SetAffineOptions,
} from "./affine.js";
// Also the browser-safe entry "@brats/nifti/orientation", for code that needs only the maths.
export {
  DROPPED_AXIS_CODE,
  applyOrientation,
  asClosestCanonical,
  axcodes,
  axcodesToOrnt,
  invOrntAffine,
  inverseOrnt,
  ioOrientation,
  orntToAxcodes,
  orntTransform,
  reorient,
  type Ornt,
} from "./orientation.js";
export type {
  Affine,
  DatatypeName,
  NiftiExtension,
  NiftiHeader,
  NiftiImage,
  VoxelArray,
} from "./types.js";
