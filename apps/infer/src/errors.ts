/** What went wrong, coarse enough for callers (and the CLI's exit status) to branch on. */
export type InferErrorCode =
  /** An invalid option: bad --shard, --overlap, --threads, post-processing values, engine or backend name. */
  | "BAD_OPTION"
  /** A --model, --input or --out path that does not exist or is not what it should be. */
  | "NOT_FOUND"
  /** A model that cannot be used: no checkpoint, no or invalid metadata, an engine that cannot run it. */
  | "BAD_MODEL"
  /** Ensemble members that disagree on modalities, classes/outputs or label convention. */
  | "MODEL_MISMATCH"
  /** OUT holds results made with other settings (another model, TTA, overlap, post-processing). */
  | "SETTINGS_CONFLICT"
  /** The requested engine cannot be loaded (e.g. onnxruntime-node missing). */
  | "ENGINE"
  /** The input holds no BraTS case. */
  | "NO_CASES"
  /** An output file would replace one of the input files (OUT inside the input folder). */
  | "OUTPUT_IS_INPUT";

/** The error @brats/infer-app throws for bad options, models and inputs (per-case failures are reported, not thrown). */
export class InferError extends Error {
  override readonly name = "InferError";
  readonly code: InferErrorCode;

  constructor(code: InferErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Codes caused by how the tool was called: the CLI exits with status 2 for them. */
export const USAGE_CODES: readonly InferErrorCode[] = [
  "BAD_OPTION",
  "NOT_FOUND",
  "MODEL_MISMATCH",
  "SETTINGS_CONFLICT",
  "OUTPUT_IS_INPUT",
];
