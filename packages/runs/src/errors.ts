// The one error of @brats/runs: reading, exporting or describing a run folder. Tests assert the code.
export type RunsErrorCode =
  /** No run folder there: no such folder, or no readable config.json run record in it. */
  | "NOT_A_RUN"
  /** The asked checkpoint (best/ or last/) is not in the run folder, or neither is. */
  | "NO_CHECKPOINT"
  /** A checkpoint's files are unreadable or contradict the run's config.json. */
  | "BAD_RUN"
  /** A new run was asked for in a folder that already holds one (neither resume nor overwrite). */
  | "RUN_EXISTS";

export class RunsError extends Error {
  override readonly name = "RunsError";
  readonly code: RunsErrorCode;

  constructor(code: RunsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
