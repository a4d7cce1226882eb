// Checks of option values (strings) and input paths, each failing with a typed, one-line error.
import { statSync } from "node:fs";
import { InputNotFoundError, UsageError } from "./errors.js";

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

const DURATION_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/**
 * A duration in seconds: `90s`, `30m`, `2h`, `1h30m`, `1.5h`, `2h 15m 10s` (units h, m, s, each
 * at most once, largest first); a bare number is minutes. Must be more than zero. Else a
 * UsageError (`--time-limit must be a duration like 90s, 30m, 2h or 1h30m, got x`).
 */
export function parseDuration(name: string, value: string): number {
  const text = value.trim().toLowerCase();
  const bad = () =>
    new UsageError(
      `${name} must be a duration like 90s, 30m, 2h or 1h30m (a bare number is minutes), got ${value}`,
    );
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    seconds = Number(text) * 60;
  } else {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*([hms])\s*/gy)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw bad();
    const units = parts.map((p) => p[2]!);
    const order = units.map((u) => "hms".indexOf(u));
    if (order.some((o, i) => i > 0 && o <= order[i - 1]!)) throw bad();
    seconds = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
  }
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw bad();
  return seconds;
}
