// Public API of @brats/nifti (Node). Everything not exported here is internal.
export { readNifti, readNiftiHeader, type ReadNiftiOptions } from "./read.js";
export { writeNifti, type WriteNiftiOptions } from "./write.js";
export * from "./common.js";
