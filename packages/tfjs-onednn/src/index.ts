/**
 * @brats/tfjs-onednn: native oneDNN kernels for the TF.js wasm and cpu backends. They compute in
 * place where the backend keeps its tensors (the wasm heap, or the cpu backend's typed arrays) on
 * every core; `registerOnednnKernels()` puts them in front of a backend's kernels, and whatever
 * they do not cover falls back to those. Importing registers nothing.
 */
export { OnednnError } from "./errors.js";
export type { OnednnErrorCode } from "./errors.js";
export type { Conv3DGeometry, Conv3DPad, Shape5 } from "./geometry.js";
export { conv3dGeometry, dilationsAreOne, isEmpty } from "./geometry.js";
export { loadAddon } from "./native.js";
export type { AddonLoad } from "./native.js";
export {
  getOnednnStats,
  isOnednnRegistered,
  ONEDNN_KERNELS,
  onednnInfo,
  registerOnednnKernels,
  resetOnednnStats,
  unregisterOnednnKernels,
} from "./register.js";
export type { KernelStats, OnednnBackend, OnednnInfo, RegisterOnednnOptions } from "./register.js";
export { isWasmBackendLike } from "./wasm-heap.js";
export type { WasmBackendLike } from "./wasm-heap.js";
