// Command-line plumbing shared by every @brats CLI. One option table per tool drives both the parser
// (node:util parseArgs, strict) and the help text, so the help cannot forget an option the parser
// accepts. Errors are typed (UsageError, InputNotFoundError) and printed as one line; a usage error
// adds "see <tool> --help", never the whole help.
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";

/** Exit statuses of every tool (130 is the shell's convention for SIGINT: 128 + 2). */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

// ---------------------------------------------------------------------------------------------
// Errors

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

// ---------------------------------------------------------------------------------------------
// Option tables

interface OptionBase {
  /** One letter for `-x`. */
  short?: string;
  /** One line of help (wrapped when long); the default and "required" are added from the fields below. */
  description: string;
}

export interface StringOption extends OptionBase {
  type: "string";
  /** Help placeholder for the value, e.g. `DIR`; default `VALUE`. */
  placeholder?: string;
  /** May be given several times (the value is then a list, in order). */
  multiple?: boolean;
  /** Must be given (at least once when `multiple`). */
  required?: boolean;
  /** Filled in when the option is absent, and shown in the help. */
  default?: string;
  /** Shown in the help as the default when it is not a fixed value (e.g. "the physical cores"). */
  defaultText?: string;
}

export interface BooleanOption extends OptionBase {
  type: "boolean";
}

export type OptionSpec = StringOption | BooleanOption;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** What parseCli returns for each option of the table. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends { type: "boolean" }
    ? boolean
    : T[K] extends { multiple: true }
      ? string[]
      : T[K] extends { required: true } | { default: string }
        ? string
        : string | undefined;
};

export interface PositionalSpec {
  /** As the help and errors name them, e.g. `FILE...`. */
  name: string;
  /** Fewest and most positionals accepted; default 0 and unlimited. */
  min?: number;
  max?: number;
}

export interface CliSpec<T extends OptionTable = OptionTable> {
  /** The command, e.g. `brats-train`. */
  name: string;
  version: string;
  /** What follows `Usage: `; default: the name, the required options, `[options]`, the positionals. */
  usage?: string;
  /** Paragraphs between the usage line and the options. */
  summary?: string;
  options: T;
  /** Without it, any positional argument is a usage error. */
  positionals?: PositionalSpec;
  /** Paragraphs after the options (exit statuses, notes). */
  epilogue?: string;
}

export type ParsedCli<T extends OptionTable> =
  | { kind: "help"; text: string }
  | { kind: "version"; text: string }
  | { kind: "run"; values: OptionValues<T>; positionals: string[] };

/** Added to every table: every tool answers them the same way. */
const BUILTIN: OptionTable = {
  help: { type: "boolean", short: "h", description: "show this help" },
  version: { type: "boolean", description: "show the version" },
};

/** Keeps the literal types of a spec written inline, so parseCli knows each option's value type. */
export function defineCli<const T extends OptionTable>(spec: CliSpec<T>): CliSpec<T> {
  for (const name of Object.keys(spec.options)) {
    if (name in BUILTIN) throw new Error(`--${name} is built in; do not list it in the options`);
  }
  return spec;
}

function allOptions(spec: CliSpec): OptionTable {
  return { ...spec.options, ...BUILTIN };
}

type NodeOptions = NonNullable<Parameters<typeof parseArgs>[0]>["options"];
/** parseArgs's tokens, spelled out: @types/node narrows them per table, which a generic table defeats. */
type OptionToken = {
  kind: "option";
  name: string;
  rawName: string;
  index: number;
  value?: string;
  inlineValue?: boolean;
};
type Token =
  | OptionToken
  | { kind: "positional"; index: number; value: string }
  | { kind: "option-terminator"; index: number };

function nodeOptions(options: OptionTable): NodeOptions {
  const out: NodeOptions = {};
  for (const [name, o] of Object.entries(options)) {
    out[name] = {
      type: o.type,
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.type === "string" && o.multiple === true ? { multiple: true } : {}),
    };
  }
  return out;
}

function looseParse(args: string[], options: NodeOptions): Token[] {
  return parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true }).tokens;
}

function strictParse(args: string[], options: NodeOptions, allowPositionals: boolean) {
  const r = parseArgs({ args, options, strict: true, allowPositionals, tokens: true });
  return {
    values: r.values as Record<string, string | boolean | string[] | undefined>,
    positionals: r.positionals,
    tokens: r.tokens as Token[],
  };
}

// ---------------------------------------------------------------------------------------------
// Did you mean

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function levenshtein(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[t.length]!;
}

/**
 * The known name closest to `typed`, or null when none is close: a name that starts with what was
 * typed (2 characters at least; `--epo` for `--epochs`), else one within a few edits (1 for names up
 * to 3 characters, 2 up to 6, 3 beyond). Ties go to the fewest edits, then to table order.
 */
export function closestName(typed: string, names: readonly string[]): string | null {
  const t = typed.toLowerCase();
  if (t.length >= 2) {
    const prefixed = names.filter((n) => n.toLowerCase().startsWith(t));
    if (prefixed.length > 0) return prefixed.reduce((a, b) => (b.length < a.length ? b : a));
  }
  const limit = t.length <= 3 ? 1 : t.length <= 6 ? 2 : 3;
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const n of names) {
    const d = levenshtein(t, n);
    if (d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Parsing

function unknownOptionMessage(token: OptionToken, args: readonly string[], longNames: string[]) {
  const raw = args[token.index] ?? token.rawName;
  // `-data` parses as the short options -d -a -t -a; the user meant --data.
  const singleDashWord = /^-[^-]{2,}/.test(raw) ? raw.slice(1).split("=")[0]! : null;
  if (singleDashWord !== null) {
    const guess = closestName(singleDashWord, longNames);
    return `unknown option -${singleDashWord}${guess === null ? "" : ` (did you mean --${guess}?)`}`;
  }
  if (token.rawName.startsWith("--")) {
    const guess = closestName(token.name, longNames);
    return `unknown option ${token.rawName}${guess === null ? "" : ` (did you mean --${guess}?)`}`;
  }
  return `unknown option ${token.rawName}`;
}

/** `--out` or `-o`/`--out` for messages: the long name, which the help lists. */
const flag = (name: string) => `--${name}`;

/** One short line for what node's strict parser rejected, found again in the loose tokens. */
function diagnose(
  error: unknown,
  tokens: readonly Token[],
  args: readonly string[],
  spec: CliSpec,
): string {
  const options = allOptions(spec);
  const longNames = Object.keys(options);
  const code = (error as { code?: unknown }).code;
  for (const token of tokens) {
    if (token.kind === "positional" && code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      return `unexpected argument ${JSON.stringify(token.value)}`;
    }
    if (token.kind !== "option") continue;
    const o = options[token.name];
    if (o === undefined) return unknownOptionMessage(token, args, longNames);
    if (o.type === "boolean" && token.value !== undefined) {
      return `${flag(token.name)} takes no value`;
    }
    if (o.type === "string" && token.value === undefined)
      return `${flag(token.name)} needs a value`;
    if (o.type === "string" && !token.inlineValue && token.value!.startsWith("-")) {
      return `${flag(token.name)} needs a value (for one that starts with "-", write ${flag(token.name)}=${token.value})`;
    }
  }
  // Not foreseen above: node's own first sentence.
  const message = error instanceof Error ? error.message : String(error);
  return message.split(/[.\n]/)[0]!;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/**
 * Parses `argv` (without node and the script) against the table: `--help`/`-h` and `--version` win
 * over everything else; an unknown option, a missing value, a repeated non-`multiple` option, a
 * missing required option and too few or too many positionals are a UsageError with one short line.
 * `--name=value` and `--name value` both work; `--` ends the options.
 */
export function parseCli<const T extends OptionTable>(
  spec: CliSpec<T>,
  argv: readonly string[],
): ParsedCli<T> {
  const options = allOptions(spec);
  const args = [...argv];
  const table = nodeOptions(options);
  const loose = looseParse(args, table);
  const asked = new Set(loose.flatMap((t) => (t.kind === "option" ? [t.name] : [])));
  if (asked.has("help")) return { kind: "help", text: helpText(spec) };
  if (asked.has("version")) return { kind: "version", text: `${spec.version}\n` };

  let strict: ReturnType<typeof strictParse>;
  try {
    strict = strictParse(args, table, spec.positionals !== undefined);
  } catch (error) {
    throw new UsageError(diagnose(error, loose, argv, spec), { cause: error });
  }

  const seen = new Map<string, number>();
  for (const token of strict.tokens) {
    if (token.kind !== "option") continue;
    const count = (seen.get(token.name) ?? 0) + 1;
    seen.set(token.name, count);
    const o = options[token.name]!;
    if (count === 2 && !(o.type === "string" && o.multiple === true)) {
      throw new UsageError(`${flag(token.name)} given more than once`);
    }
    if (o.type === "string" && token.value === "") {
      throw new UsageError(`${flag(token.name)} needs a value`);
    }
  }

  const missing = Object.entries(spec.options)
    .filter(([name, o]) => o.type === "string" && o.required === true && !seen.has(name))
    .map(([name]) => name);
  if (missing.length > 0) throw missingOptionError(...missing);

  const positionals = strict.positionals;
  const p = spec.positionals;
  if (p !== undefined) {
    if (positionals.length < (p.min ?? 0)) {
      throw new UsageError(
        p.min === 1
          ? `missing ${p.name}`
          : `expected at least ${p.min} ${p.name}, got ${positionals.length}`,
      );
    }
    if (p.max !== undefined && positionals.length > p.max) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[p.max])}`);
    }
  }

  const values: Record<string, unknown> = {};
  const raw = strict.values;
  for (const [name, o] of Object.entries(spec.options)) {
    const v = raw[name];
    if (o.type === "boolean") values[name] = v === true;
    else if (o.multiple === true) values[name] = v ?? [];
    else values[name] = v ?? o.default;
  }
  return { kind: "run", values: values as OptionValues<T>, positionals };
}

/** A UsageError naming options that are required but only known to be missing after parsing
 * (e.g. when a config file may provide them): `missing required option --data`. */
export function missingOptionError(...names: string[]): UsageError {
  const list = names.map(flag);
  const text = list.length === 1 ? list[0]! : `${list.slice(0, -1).join(", ")} and ${list.at(-1)!}`;
  return new UsageError(`missing required ${plural(names.length, "option")} ${text}`);
}

// ---------------------------------------------------------------------------------------------
// Value checks (for option values, which are strings)

export interface IntegerRange {
  min?: number;
  max?: number;
}

function describeInteger({ min, max }: IntegerRange): string {
  if (min !== undefined && max !== undefined) return `an integer in ${min}..${max}`;
  if (min === 1) return "a positive integer";
  if (min === 0) return "a non-negative integer";
  if (min !== undefined) return `an integer >= ${min}`;
  if (max !== undefined) return `an integer <= ${max}`;
  return "an integer";
}

/** `value` as an integer (decimal digits, optional minus sign) within `range`, else a UsageError. */
export function parseInteger(name: string, value: string, range: IntegerRange = {}): number {
  const n = Number(value);
  const ok =
    /^-?\d+$/.test(value) &&
    Number.isSafeInteger(n) &&
    (range.min === undefined || n >= range.min) &&
    (range.max === undefined || n <= range.max);
  if (!ok) throw new UsageError(`${name} must be ${describeInteger(range)}, got ${value}`);
  return n;
}

export interface NumberRange {
  /** Inclusive bounds; `below` is an exclusive upper bound, `above` an exclusive lower one. */
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

function describeNumber(r: NumberRange): string {
  const low = r.min !== undefined ? `[${r.min}` : r.above !== undefined ? `(${r.above}` : null;
  const high = r.max !== undefined ? `${r.max}]` : r.below !== undefined ? `${r.below})` : null;
  if (low !== null && high !== null) return `a number in ${low}, ${high}`;
  if (r.above === 0 && high === null) return "a positive number";
  if (low !== null) return `a number ${r.min !== undefined ? ">=" : ">"} ${r.min ?? r.above}`;
  if (high !== null) return `a number ${r.max !== undefined ? "<=" : "<"} ${r.max ?? r.below}`;
  return "a number";
}

/** `value` as a finite number within `range`, else a UsageError (`--lr must be a positive number, got x`). */
export function parseNumber(name: string, value: string, range: NumberRange = {}): number {
  const n = Number(value);
  const ok =
    value.trim() !== "" &&
    Number.isFinite(n) &&
    (range.min === undefined || n >= range.min) &&
    (range.max === undefined || n <= range.max) &&
    (range.above === undefined || n > range.above) &&
    (range.below === undefined || n < range.below);
  if (!ok) throw new UsageError(`${name} must be ${describeNumber(range)}, got ${value}`);
  return n;
}

/** `value` if it is one of `choices`, else a UsageError (`--engine must be onnx or tfjs, got x`). */
export function parseChoice<const C extends string>(
  name: string,
  value: string,
  choices: readonly C[],
): C {
  if ((choices as readonly string[]).includes(value)) return value as C;
  const list =
    choices.length <= 1
      ? choices.join("")
      : `${choices.length > 2 ? "one of " : ""}${choices.slice(0, -1).join(", ")} or ${choices.at(-1)!}`;
  throw new UsageError(`${name} must be ${list}, got ${value}`);
}

/**
 * Checks that an input path named on the command line exists: an InputNotFoundError
 * (`--data: no such file or directory: X`, exit 2 in every tool) when it does not; a UsageError
 * when it is not the `kind` asked for. Returns what it is.
 */
export function requireInputPath(
  path: string,
  option: string,
  kind: "file" | "directory" | "any" = "any",
): "file" | "directory" {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === "ENOENT" ||
      (error as NodeJS.ErrnoException).code === "ENOTDIR"
    ) {
      throw new InputNotFoundError(option, path, { cause: error });
    }
    throw error;
  }
  const is = isDirectory ? "directory" : "file";
  if (kind !== "any" && is !== kind) throw new UsageError(`${option}: not a ${kind}: ${path}`);
  return is;
}

// ---------------------------------------------------------------------------------------------
// Help

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.length === 0 ? [""] : lines;
}

function optionLabel(name: string, o: OptionSpec): string {
  const short = o.short === undefined ? "" : `-${o.short}, `;
  const value = o.type === "string" ? ` ${o.placeholder ?? "VALUE"}` : "";
  return `${short}--${name}${value}`;
}

function optionNotes(o: OptionSpec): string {
  if (o.type === "boolean") return "";
  const notes: string[] = [];
  if (o.required === true) notes.push("required");
  if (o.multiple === true) notes.push("repeatable");
  const shown = o.default ?? o.defaultText;
  if (shown !== undefined) notes.push(`default ${shown}`);
  return notes.length === 0 ? "" : ` (${notes.join("; ")})`;
}

/** The usage line generated from the table: name, required options, `[options]`, positionals. */
function defaultUsage(spec: CliSpec): string {
  const required = Object.entries(spec.options)
    .filter(([, o]) => o.type === "string" && o.required === true)
    .map(([name, o]) => {
      const one = optionLabel(name, { ...o, short: undefined });
      return o.type === "string" && o.multiple === true ? `${one} [${one} ...]` : one;
    });
  const positional = spec.positionals === undefined ? [] : [spec.positionals.name];
  return [spec.name, ...required, "[options]", ...positional].join(" ");
}

const HELP_WIDTH = 100;
const MAX_LABEL_COLUMN = 28;

/**
 * The help text, generated from the table: usage, summary, then every option (the built-in --help
 * and --version included) on a line of its own with its placeholder, description, and whether it
 * is required, repeatable or defaulted; long descriptions wrap under their column.
 */
export function helpText(spec: CliSpec): string {
  const entries = Object.entries(allOptions(spec)).map(([name, o]) => ({
    label: optionLabel(name, o),
    text: o.description + optionNotes(o),
  }));
  const column = Math.min(MAX_LABEL_COLUMN, Math.max(...entries.map((e) => e.label.length)) + 4);
  const lines: string[] = [];
  for (const { label, text } of entries) {
    const body = wrap(text, HELP_WIDTH - column);
    const head = `  ${label}`;
    if (head.length + 2 <= column) lines.push(head.padEnd(column) + body[0]!);
    else lines.push(head, " ".repeat(column) + body[0]!);
    for (const more of body.slice(1)) lines.push(" ".repeat(column) + more);
  }
  const parts = [`Usage: ${spec.usage ?? defaultUsage(spec)}`];
  if (spec.summary !== undefined) parts.push(spec.summary.trim());
  parts.push(`Options:\n${lines.join("\n")}`);
  if (spec.epilogue !== undefined) parts.push(spec.epilogue.trim());
  return parts.join("\n\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Output and the entry point

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
