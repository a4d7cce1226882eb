export type OnednnErrorCode =
  /** The addon is not built, or it or libdnnl cannot be loaded here. */
  | "NOT_AVAILABLE"
  /** The wasm backend (or one of its kernels) is not registered. */
  | "BACKEND"
  /** A bad option (threads). */
  | "BAD_CONFIG";

export class OnednnError extends Error {
  override readonly name = "OnednnError";
  constructor(
    readonly code: OnednnErrorCode,
    message: string,
  ) {
    super(message);
  }
}
