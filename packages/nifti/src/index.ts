// Public API of @brats/nifti (Node). Everything not exported here is internal.
export {
  readNifti,
  readNiftiHeader,
  scanNifti,
  type NiftiScan,
  type ReadNiftiOptions,
} from "./read.js";
export { writeNifti, type WriteNiftiOptions } from "./write.js";
export * from "./common.js";
