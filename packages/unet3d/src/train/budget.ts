// The time budget of a run (train()'s `timeLimit`): whether one more step fits, the share of it
// spent (a time-driven schedule follows it), and what is held back for the work that ends a run.
// Times come from a clock the caller passes, so tests drive it without sleeping.

/** Seconds on a monotonic clock (performance.now() / 1000 by default). */
export type Clock = () => number;

export const systemClock: Clock = () => performance.now() / 1000;

/** Step times the next step's estimate is the mean of. */
const RECENT_STEPS = 10;

/**
 * A run's budget of `limit` seconds, `elapsed` of which were spent before this session (a
 * resumed run keeps counting). Before each step the loop asks `canStep()`: a step fits when the
 * time spent, the next step's estimate (mean of recent steps) and the reserve stay within the
 * limit. The reserve is what ends the run: a final validation (measured when one has run, else
 * estimated from a timed window) and a checkpoint (the last one measured).
 */
export class TimeBudget {
  readonly limit: number;
  private readonly clock: Clock;
  private readonly origin: number;
  private readonly before: number;
  private readonly steps: number[] = [];
  private validationSeconds = 0;
  private validationMeasured = false;
  private checkpointSeconds = 0;

  constructor(limit: number, opts: { clock?: Clock; elapsed?: number } = {}) {
    this.limit = limit;
    this.clock = opts.clock ?? systemClock;
    this.origin = this.clock();
    this.before = opts.elapsed ?? 0;
  }

  /** Seconds of the run so far, earlier sessions included. */
  elapsed(): number {
    return this.before + (this.clock() - this.origin);
  }

  noteStep(seconds: number): void {
    this.steps.push(seconds);
    if (this.steps.length > RECENT_STEPS) this.steps.shift();
  }

  /** The estimate of a validation before one has run (windows × a timed window). */
  estimateValidation(seconds: number): void {
    if (!this.validationMeasured) this.validationSeconds = seconds;
  }

  /** A validation that ran; the reserve holds the longest seen since. */
  noteValidation(seconds: number): void {
    this.validationSeconds = this.validationMeasured
      ? Math.max(this.validationSeconds, seconds)
      : seconds;
    this.validationMeasured = true;
  }

  noteCheckpoint(seconds: number): void {
    this.checkpointSeconds = Math.max(this.checkpointSeconds, seconds);
  }

  /** Mean of the recent steps; 0 before the first. */
  stepEstimate(): number {
    return this.steps.length === 0 ? 0 : this.steps.reduce((a, b) => a + b, 0) / this.steps.length;
  }

  /** Seconds held back for the end of the run: a validation and a checkpoint. */
  reserve(): number {
    return this.validationSeconds + this.checkpointSeconds;
  }

  /** Whether one more step, and then the end of the run, fit in the budget. */
  canStep(): boolean {
    return this.elapsed() + this.stepEstimate() + this.reserve() <= this.limit;
  }

  /**
   * Whether the next epoch can take a step once this one's checkpoint (timed like the last one)
   * is written: asked at an epoch's end, so that its validation is not skipped for a step that
   * the checkpoint then leaves no time for.
   */
  canStepAfterCheckpoint(): boolean {
    return (
      this.elapsed() + this.checkpointSeconds + this.stepEstimate() + this.reserve() <= this.limit
    );
  }

  /** Seconds left for training steps (the reserve kept out). */
  remainingForSteps(): number {
    return Math.max(0, this.limit - this.reserve() - this.elapsed());
  }

  /**
   * Share of the training time spent, in [0, 1]: elapsed over the limit less the reserve, so a
   * schedule following it reaches its end when the last step fits.
   */
  fraction(): number {
    const span = this.limit - this.reserve();
    return span <= 0 ? 1 : Math.min(1, this.elapsed() / span);
  }
}
