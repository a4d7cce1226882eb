/** What went wrong, coarse enough for callers to branch on (the same codes as @brats/data's). */
export type ConventionsErrorCode =
  /** An unknown label convention or region name. */
  | "BAD_OPTION"
  /** A label value outside the convention (e.g. 3 under brats2021), or a class outside 0..3. */
  | "BAD_LABELS";

/** The only error type this package throws for bad input. */
export class ConventionsError extends Error {
  override readonly name = "ConventionsError";
  readonly code: ConventionsErrorCode;

  constructor(code: ConventionsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
