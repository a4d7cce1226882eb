// The progress bar on stderr: cases done, windows of the current case, ETA. The ETA comes from the
// wall time of the work done in this run (cases skipped as already done do not count).

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${h > 0 ? String(m).padStart(2, "0") : m}:${String(s % 60).padStart(2, "0")}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

export interface ProgressState {
  /** Cases finished (done or failed) in this run, of `cases`. */
  casesDone: number;
  cases: number;
  /** Window passes of the current case done, of `windows` (0 of 0 between cases). */
  windowsDone: number;
  windows: number;
  /** Seconds since the first case started. */
  elapsed: number;
  /** The current case id. */
  id: string;
}

/**
 * One bar line, redrawn in place: `\r[#####-----] case 2/6 windows 40/216 ETA 1:23 ID`. The bar
 * and ETA count the current case's windows as a fraction of a case.
 */
export function progressLine(s: ProgressState): string {
  const width = 24;
  const caseFraction = s.windows > 0 ? Math.min(1, s.windowsDone / s.windows) : 0;
  const fraction = s.cases > 0 ? Math.min(1, (s.casesDone + caseFraction) / s.cases) : 1;
  const filled = Math.round(fraction * width);
  const eta = fraction > 0 ? duration((s.elapsed / fraction) * (1 - fraction)) : "?";
  const current = Math.min(s.cases, s.casesDone + 1);
  const windows = s.windows > 0 ? ` windows ${s.windowsDone}/${s.windows}` : "";
  return (
    `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] case ${current}/${s.cases}` +
    `${windows} ETA ${eta} ${s.id}\x1b[K`
  );
}

/** Throttled bar drawing (at most every `intervalMs`, except forced redraws). */
export class ProgressBar {
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly intervalMs = 200,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(state: ProgressState, force = false): void {
    const t = this.now();
    if (!force && t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    this.drawn = true;
    this.write(progressLine(state));
  }

  /** Erases the bar so that a message can be printed on a clean line. */
  clear(): void {
    if (this.drawn) this.write("\r\x1b[K");
    this.drawn = false;
  }
}
