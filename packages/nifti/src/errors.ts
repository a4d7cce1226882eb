/** What went wrong, coarse enough for callers to branch on. */
export type NiftiErrorCode =
  /** The bytes are not a NIfTI-1/NIfTI-2/Analyze header (bad sizeof_hdr, not gzip, ...). */
  | "NOT_NIFTI"
  /** The file (after gunzip) ends before the header, the extensions or the declared data. */
  | "TRUNCATED"
  /** A datatype this package cannot hold (binary, float128, complex128, ...) or cannot scale. */
  | "UNSUPPORTED_DATATYPE"
  /** A header field is invalid: dims, sizes, offsets, extensions, or a value the output format cannot hold. */
  | "BAD_HEADER"
  /** The declared data is larger than the caller's `maxBytes`. */
  | "TOO_LARGE"
  /** A file-system or decompression failure; `cause` holds the underlying error. */
  | "IO";

/** The only error type this package throws for bad input or failed I/O. */
export class NiftiError extends Error {
  override readonly name = "NiftiError";
  readonly code: NiftiErrorCode;

  constructor(code: NiftiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
