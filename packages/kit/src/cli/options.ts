// Option tables: one per tool, driving both the parser (parse.ts) and the help text (help.ts).

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

/** The tool's options and the built-in --help and --version, in help order. */
export function allOptions(spec: CliSpec): OptionTable {
  return { ...spec.options, ...BUILTIN };
}
