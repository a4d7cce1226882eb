// Interrupt requests during training: SIGINT (when asked for) and an AbortSignal. Either only sets
// a flag; the loop finishes the step in progress and saves `last` before returning.

export interface Interrupts {
  /** Whether an interrupt has been requested. */
  readonly requested: boolean;
  /** Removes the handlers (call once training is over). */
  dispose(): void;
}

export function watchInterrupts(opts: { sigint: boolean; signal?: AbortSignal }): Interrupts {
  let requested = false;
  const interrupt = () => {
    requested = true;
  };
  const { sigint, signal } = opts;
  if (sigint) process.on("SIGINT", interrupt);
  if (signal?.aborted === true) requested = true;
  signal?.addEventListener("abort", interrupt);
  return {
    get requested() {
      return requested;
    },
    dispose() {
      if (sigint) process.off("SIGINT", interrupt);
      signal?.removeEventListener("abort", interrupt);
    },
  };
}
