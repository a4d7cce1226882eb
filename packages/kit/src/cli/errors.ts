// Typed errors and exit statuses shared by every @brats CLI.

/** Exit statuses of every tool (130 is the shell's convention for SIGINT: 128 + 2). */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

export type CliErrorCode = "USAGE" | "NOT_FOUND";

/** An error in how the tool was called: exit status 2. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad, unknown, repeated or missing option or argument. */
export class UsageError extends CliError {
  declare readonly code: "USAGE";
  constructor(message: string, options?: ErrorOptions) {
    super("USAGE", message, options);
  }
}

/** An input path given on the command line that does not exist. */
export class InputNotFoundError extends CliError {
  declare readonly code: "NOT_FOUND";
  constructor(
    /** The option that named it, e.g. `--data` (or a positional's name, e.g. `FILE`). */
    readonly option: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super("NOT_FOUND", `${option}: no such file or directory: ${path}`, options);
  }
}
