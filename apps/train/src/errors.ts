// Errors of the training app's library functions that read run folders (metadata, ONNX export,
// model card). Tests assert the code.
export type TrainAppErrorCode =
  /** No config.json in the folder, or it cannot be read as a brats-train run record. */
  | "NOT_A_RUN"
  /** The asked checkpoint (best/ or last/) is not in the run folder. */
  | "NO_CHECKPOINT"
  /** A checkpoint's files are unreadable or contradict the run's config.json. */
  | "BAD_RUN";

export class TrainAppError extends Error {
  readonly code: TrainAppErrorCode;
  constructor(code: TrainAppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TrainAppError";
    this.code = code;
  }
}
