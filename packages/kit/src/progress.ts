// One progress bar for every CLI: `[#####-------------------]  21% <text> ETA 3m05s`. On a terminal
// it is redrawn in place (\r, erase to the end of the line), at most every `redrawMs`; elsewhere (logs,
// CI) it prints an occasional plain line instead, so logs stay readable. One duration format for
// elapsed times and ETAs alike: 42s, 3m05s, 1h02m.

const ERASE_LINE = "\x1b[K";

/**
 * A duration in the one format: `7s`, `42s`, `3m05s`, `1h02m` (hours keep minutes, not seconds).
 * Rounded to whole seconds; `?` when unknown (negative, NaN or infinite).
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Seconds left at a constant rate: elapsed / fraction × (1 − fraction); NaN before any progress. */
export function etaSeconds(elapsedSeconds: number, fraction: number): number {
  if (!(fraction > 0)) return Number.NaN;
  if (fraction >= 1) return 0;
  return (elapsedSeconds / fraction) * (1 - fraction);
}

/** `[######------------------]  25%` (fraction clamped to 0..1) followed by ` text` when there is one. */
function barAndText(fraction: number, text: string, width: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  const pct = String(Math.floor(f * 100)).padStart(3);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct}%${text === "" ? "" : ` ${text}`}`;
}

/** The bar, percentage, caller's text and ETA, without any terminal control characters. */
export function progressLine(fraction: number, text: string, eta: number, width = 24): string {
  return `${barAndText(fraction, text, width)} ETA ${formatDuration(eta)}`;
}

export interface ProgressBarOptions {
  /** Where the bar goes (stderr): each call is one complete chunk of text. */
  write: (text: string) => void;
  /** Redraw in place (a terminal) or print occasional plain lines (anything else). */
  tty: boolean;
  /** Milliseconds, monotonic; default performance.now. */
  now?: () => number;
  /** Bar width in characters, default 24. */
  width?: number;
  /** Terminal: least time between redraws, default 200 ms. */
  redrawMs?: number;
  /** Elsewhere: least time between plain lines, default 30 s (forced updates always print). */
  plainMs?: number;
}

export interface ProgressUpdate {
  /** Share of the work done, 0..1. */
  fraction: number;
  /** What the bar stands for, e.g. `case 2/6 windows 40/216 BraTS2021_00006`. */
  text?: string;
  /** Seconds left when the caller knows better (e.g. from recent step times); default from the rate so far. */
  eta?: number;
}

/**
 * The progress bar. The ETA comes from the time since construction (or `restart`) unless the caller
 * passes its own. `force` draws now, ignoring the throttle: a milestone (end of an epoch, a new case).
 */
export class ProgressBar {
  private readonly now: () => number;
  private readonly width: number;
  private readonly redrawMs: number;
  private readonly plainMs: number;
  private started: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private last: ProgressUpdate | null = null;

  constructor(private readonly opts: ProgressBarOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.width = opts.width ?? 24;
    this.redrawMs = opts.redrawMs ?? 200;
    this.plainMs = opts.plainMs ?? 30_000;
    this.started = this.now();
  }

  /** Starts the clock again (e.g. after work that does not count, such as loading models). */
  restart(): void {
    this.started = this.now();
    this.lastDraw = -Infinity;
  }

  /** Seconds since construction or `restart`. */
  elapsedSeconds(): number {
    return (this.now() - this.started) / 1000;
  }

  /** The line the bar would show for `u` now. */
  line(u: ProgressUpdate): string {
    const eta = u.eta ?? etaSeconds(this.elapsedSeconds(), u.fraction);
    return progressLine(u.fraction, u.text ?? "", eta, this.width);
  }

  update(u: ProgressUpdate, force = false): void {
    this.last = u;
    const t = this.now();
    const interval = this.opts.tty ? this.redrawMs : this.plainMs;
    if (!force && t - this.lastDraw < interval) return;
    this.lastDraw = t;
    if (this.opts.tty) {
      this.drawn = true;
      this.opts.write(`\r${this.line(u)}${ERASE_LINE}`);
    } else {
      this.opts.write(`${this.line(u)}\n`);
    }
  }

  /** Prints `text` (whole lines) above the bar; on a terminal the bar is drawn again below it. */
  log(text: string): void {
    if (!this.opts.tty) {
      this.opts.write(text);
      return;
    }
    const redraw = this.drawn && this.last !== null;
    this.clear();
    this.opts.write(text);
    if (redraw) {
      this.drawn = true;
      this.opts.write(`\r${this.line(this.last!)}${ERASE_LINE}`);
    }
  }

  /** Erases the bar on a terminal (nothing to erase elsewhere). */
  clear(): void {
    if (this.drawn) this.opts.write(`\r${ERASE_LINE}`);
    this.drawn = false;
  }

  /** Ends the bar: with `text`, a last full line `[####…] 100% <text> in 3m05s`; without, it is erased. */
  finish(text?: string): void {
    this.clear();
    this.last = null;
    if (text === undefined) return;
    const elapsed = formatDuration(this.elapsedSeconds());
    this.opts.write(`${barAndText(1, text, this.width)} in ${elapsed}\n`);
  }
}
