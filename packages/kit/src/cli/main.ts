// Printing errors and running a tool's main from its tiny bin file.
import { readFileSync } from "node:fs";
import { CliError, EXIT, UsageError } from "./errors.js";

/** Where a CLI writes; swapped for buffers in tests. Each call is one complete chunk of text. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars are redrawn in place only there). */
  stderrIsTTY?: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY,
  };
}

/** `<tool>: <message>` and `see <tool> --help`: what a usage error prints, never the whole help. */
export function formatUsageError(tool: string, message: string): string {
  return `${tool}: ${message}\nsee ${tool} --help\n`;
}

export interface ErrorReportOptions {
  /** Codes of the tool's own typed errors that mean a bad call (exit 2), e.g. NOT_FOUND. */
  usageCodes?: readonly string[];
  /** Print the stack of unexpected errors (default: when BRATS_DEBUG is set). */
  debug?: boolean;
}

/**
 * Prints `error` as the tool's one-line message and returns the exit status: a CliError is a bad call
 * (2; usage errors add the `see --help` line); a typed error of a package (a string `code`, no errno)
 * prints `<tool>: <CODE>: <message>` (2 when its code is in `usageCodes`, else 1); a system error
 * its message (1); anything else is a bug: its message with a hint to report it (1).
 */
export function reportError(
  tool: string,
  error: unknown,
  io: CliIo,
  opts: ErrorReportOptions = {},
): number {
  if (error instanceof UsageError) {
    io.stderr(formatUsageError(tool, error.message));
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    io.stderr(`${tool}: ${error.message}\n`);
    return EXIT.usage;
  }
  const e = error as { code?: unknown; errno?: unknown; message?: unknown } | null;
  const message = error instanceof Error ? error.message : String(error);
  // Node's own ERR_* codes (wrong arguments to an API) are bugs, not a package's typed errors.
  const typed = typeof e?.code === "string" && !e.code.startsWith("ERR_") && e.errno === undefined;
  if (typed && error instanceof Error) {
    const code = e.code as string;
    io.stderr(`${tool}: ${code}: ${message}\n`);
    return opts.usageCodes?.includes(code) === true ? EXIT.usage : EXIT.failure;
  }
  if (typeof e?.errno === "number") {
    io.stderr(`${tool}: ${message}\n`);
    return EXIT.failure;
  }
  const debug = opts.debug ?? (process.env.BRATS_DEBUG ?? "") !== "";
  if (debug && error instanceof Error && error.stack !== undefined) {
    io.stderr(`${tool}: internal error: ${error.stack}\n`);
  } else {
    io.stderr(
      `${tool}: internal error: ${message} (a bug: please report it; BRATS_DEBUG=1 prints the stack)\n`,
    );
  }
  return EXIT.failure;
}

/** A tool's main: resolves to its exit status; may throw (reportError decides what is printed). */
export type CliMain = (argv: readonly string[], io: CliIo) => Promise<number>;

export interface RunCliOptions extends ErrorReportOptions {
  /** Default process.argv.slice(2). */
  argv?: readonly string[];
  /** Default processIo(). */
  io?: CliIo;
  /** Default: sets process.exitCode (so pending output is flushed before Node exits). */
  setExitCode?: (code: number) => void;
}

/**
 * What a tool's tiny `bin` file calls: runs `main`, sets the exit status, and turns anything thrown
 * into one line (reportError). Resolves to the exit status.
 */
export async function runCliMain(
  meta: { name: string },
  main: CliMain,
  opts: RunCliOptions = {},
): Promise<number> {
  const io = opts.io ?? processIo();
  let code: number;
  try {
    code = await main(opts.argv ?? process.argv.slice(2), io);
  } catch (error) {
    code = reportError(meta.name, error, io, opts);
  }
  if (opts.setExitCode !== undefined) opts.setExitCode(code);
  else process.exitCode = code;
  return code;
}

/** The `version` of the package.json at `url`, e.g. `new URL("../package.json", import.meta.url)`
 * (the same relative path from src/cli.ts and from dist/cli.js). */
export function readPackageVersion(url: URL): string {
  const pkg = JSON.parse(readFileSync(url, "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new Error(`${url.href} has no version`);
  return pkg.version;
}
