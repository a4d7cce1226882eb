// Parsing with node:util parseArgs (strict), with one short line for every kind of mistake.
import { parseArgs } from "node:util";
import { UsageError } from "./errors.js";
import { helpText } from "./help.js";
import {
  allOptions,
  type CliSpec,
  type OptionTable,
  type OptionValues,
  type ParsedCli,
} from "./options.js";

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
