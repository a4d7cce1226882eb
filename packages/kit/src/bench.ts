// Helpers shared by the benches (packages/*/bench/*.ts): one JSON line per measurement on stdout,
// medians, peak memory, and child processes that report one `RESULT <json>` line, so that each
// implementation's peak RSS is its own process's.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** The fields every bench line has; benches add their own (shape, runs, case, ...) after them. */
export interface BenchLine {
  name: string;
  impl: string;
  unit: string;
  /** null (or NaN, printed as null) when the measurement was skipped; the note says why. */
  value: number | null;
  note?: string;
}

/** Prints one measurement as one JSON line on stdout, keys in the order given. */
export function emit<T extends BenchLine>(line: T): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The median (the mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A `kB` field of /proc/self/status in MiB, or null where there is none (not Linux). */
function procStatusMiB(field: "VmHWM" | "VmRSS"): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync("/proc/self/status", "utf8"),
    );
    return m === null ? null : Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

/**
 * This process's peak resident memory in MiB: VmHWM of /proc/self/status, which starts afresh at
 * exec (getrusage's maxRSS, the fallback off Linux, carries a forked child's parent peak over).
 */
export function peakRssMiB(): number {
  return procStatusMiB("VmHWM") ?? process.resourceUsage().maxRSS / 1024;
}

/** This process's resident memory now, in MiB (VmRSS; off Linux, process.memoryUsage). */
export function rssMiB(): number {
  return procStatusMiB("VmRSS") ?? process.memoryUsage().rss / 1024 / 1024;
}

/** The 1-minute load average, e.g. `1.73`, for notes: the bench machine is shared. */
export function loadAverage(): string {
  return loadavg()[0]!.toFixed(2);
}

/** `load average 1.73 on a shared 2-core machine`, the note benches append to timings. */
export function loadNote(): string {
  return `load average ${loadAverage()} on a shared 2-core machine`;
}

/** The argument after `flag` in `args`, if any (benches take few options, all optional). */
export function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The Python with the reference tools (nibabel, scipy; torch when installed). */
export const PYTHON = "/usr/bin/python3";

/** Whether `python` can import `module` (e.g. torch for the PyTorch peers). */
export function pythonHas(module: string, python = PYTHON): boolean {
  return spawnSync(python, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;
}

const RESULT = "RESULT ";

/** In a child: prints the one `RESULT <json>` line its parent reads with childResult. */
export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`);
}

export interface RunScriptOptions {
  /**
   * The program; default this Node with its execArgv (so `--import tsx` and `--conditions` carry
   * over to a TypeScript child). Any other program gets just `[script, ...args]`.
   */
  command?: string;
  /** Node's own arguments for a Node child, instead of this process's execArgv. */
  execArgv?: readonly string[];
  cwd?: string;
  /** Default 30 minutes. */
  timeoutMs?: number;
}

export interface ScriptRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout split into lines. */
  lines: string[];
}

/** Runs `script` with `args` to completion (synchronously: benches measure one thing at a time). */
export function runScript(
  script: string,
  args: readonly string[],
  opts: RunScriptOptions = {},
): ScriptRun {
  const node = opts.command === undefined;
  const proc = spawnSync(
    opts.command ?? process.execPath,
    node ? [...(opts.execArgv ?? process.execArgv), script, ...args] : [script, ...args],
    {
      encoding: "utf8",
      maxBuffer: 1 << 24,
      timeout: opts.timeoutMs ?? 30 * 60 * 1000,
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    },
  );
  const stdout = proc.stdout ?? "";
  // A program that did not start, or was killed at the timeout, says why in proc.error.
  const stderr = proc.stderr || (proc.error === undefined ? "" : String(proc.error));
  return {
    status: proc.status,
    stdout,
    stderr,
    lines: stdout.split("\n"),
  };
}

/**
 * Runs a child and returns what it passed to reportResult; throws `<label> failed (status N):
 * <end of its stderr>` when it exits non-zero or prints no RESULT line.
 */
export function childResult<T>(
  label: string,
  script: string,
  args: readonly string[],
  opts: RunScriptOptions = {},
): T {
  const run = runScript(script, args, opts);
  const line = run.lines.find((l) => l.startsWith(RESULT));
  if (run.status !== 0 || line === undefined) {
    throw new Error(`${label} failed (status ${run.status}): ${run.stderr.slice(-800)}`);
  }
  return JSON.parse(line.slice(RESULT.length)) as T;
}

/** The JSON lines (`{...}`) of a bench's output, e.g. to read another bench's measurements. */
export function jsonLines<T = BenchLine>(stdout: string): T[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as T);
}
