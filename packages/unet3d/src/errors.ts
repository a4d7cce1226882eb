/** What went wrong, coarse enough for callers to branch on. */
export type UNet3DErrorCode =
  /** An option or configuration value is invalid (unknown name, out of range, inconsistent). */
  | "BAD_CONFIG"
  /** Tensors or volumes disagree in shape, rank or channel count. */
  | "SHAPE_MISMATCH"
  /** A saved model is malformed or unsupported (bad model.json, missing topology or manifest). */
  | "BAD_MODEL"
  /** Weight bytes do not match what model.json declares (size or checksum). */
  | "WEIGHTS_MISMATCH"
  /** No requested TF.js backend could be initialised. */
  | "BACKEND"
  /** A file could not be read or written; `cause` holds the underlying error. */
  | "IO"
  /** A layer or layer option has no ONNX mapping in exportOnnx(). */
  | "ONNX_UNSUPPORTED"
  /** onnxruntime-node is not installed (or its native binding does not load). */
  | "ONNX_RUNTIME_MISSING"
  /** onnxruntime-node rejected the model or failed while running it. */
  | "ONNX_RUNTIME"
  /** The "brats" metadata of a model is missing fields, of the wrong type or not JSON. */
  | "BAD_METADATA";

/** The error type this package throws for bad input. */
export class UNet3DError extends Error {
  override readonly name = "UNet3DError";
  readonly code: UNet3DErrorCode;

  constructor(code: UNet3DErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
