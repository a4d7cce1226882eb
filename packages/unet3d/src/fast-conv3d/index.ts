/**
 * Fast Conv3D for the TF.js wasm backend: `registerFastConv3D()` swaps the stock wasm Conv3D
 * kernels (forward, input and filter gradients) for ones built on the backend's XNNPACK Conv2D
 * and BatchMatMul; `unregisterFastConv3D()` restores them. Importing registers nothing.
 */
export {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_STACK_BYTES,
  getFastConv3DStats,
  isFastConv3DRegistered,
  registerFastConv3D,
  resetFastConv3DStats,
  unregisterFastConv3D,
} from "./register.js";
