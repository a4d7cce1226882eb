/** What went wrong, coarse enough for callers to branch on. */
export type MetricsErrorCode =
  /** An option is invalid: unknown convention or policy, bad spacing, label map, percentile, ... */
  | "BAD_OPTION"
  /** Volumes or masks disagree in length, or do not match the declared shape. */
  | "SHAPE_MISMATCH"
  /** Prediction and ground truth are not on the same voxel grid (affines differ). */
  | "AFFINE_MISMATCH"
  /** A label value that is not an integer in 0..255 (after the label map). */
  | "BAD_LABELS"
  /** Labels the convention does not use (brats-eval fails the case unless --allow-unknown-labels). */
  | "UNKNOWN_LABELS"
  /** A file could not be read; `cause` holds the underlying error. */
  | "IO";

/** The only error type this package throws for bad input. */
export class MetricsError extends Error {
  override readonly name = "MetricsError";
  readonly code: MetricsErrorCode;

  constructor(code: MetricsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
