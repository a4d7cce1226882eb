import { checkLabelConvention, ConventionsError, type LabelConvention } from "@brats/conventions";

/** What went wrong, coarse enough for callers to branch on. */
export type DataErrorCode =
  /** A case lacks a requested modality (and `missing: "zeros"` was not asked for, or no modality is present). */
  | "MISSING_MODALITY"
  /** Volumes of one case disagree in shape or affine, or a volume is not usable as a 3-D scan. */
  | "GEOMETRY_MISMATCH"
  /** A folder holds no BraTS case. */
  | "NO_CASES"
  /** Two files claim the same modality of the same case (e.g. `_t1.nii` and `_t1.nii.gz`). */
  | "DUPLICATE_CASE"
  /** A modality with no content: no finite value, or the same value in every voxel. */
  | "EMPTY_MODALITY"
  /** A label value outside the convention (e.g. 3 under brats2021), or a class outside 0..3. */
  | "BAD_LABELS"
  /** An option is invalid: unknown modality, convention or naming, bad shape, spacing, seed, ... */
  | "BAD_OPTION"
  /** A file or folder could not be read or written; `cause` holds the underlying error. */
  | "IO";

/** The only error type this package throws for bad input. */
export class DataError extends Error {
  override readonly name = "DataError";
  readonly code: DataErrorCode;

  constructor(code: DataErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Runs `fn` and rethrows a ConventionsError (a label outside the convention, an unknown convention)
 * as the DataError of the same code, so that this package throws only DataErrors.
 */
export function withDataErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ConventionsError) {
      throw new DataError(error.code, error.message, { cause: error });
    }
    throw error;
  }
}

/** `value` when it names a label convention; BAD_OPTION otherwise. */
export function checkConvention(value: unknown): LabelConvention {
  return withDataErrors(() => {
    checkLabelConvention(value);
    return value;
  });
}

/** BAD_OPTION with `message`: the error every option check throws. */
export function badOption(message: string): DataError {
  return new DataError("BAD_OPTION", message);
}
