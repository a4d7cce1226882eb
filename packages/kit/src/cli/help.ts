// The help text, generated from the option table, so it cannot forget an option the parser accepts.
import { allOptions, type CliSpec, type OptionSpec } from "./options.js";

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
