// The training log of a run, log.jsonl: one JSON object per line, a "step" line per optimiser step
// and an "epoch" line per epoch. @brats/unet3d's train() writes it; plots and tools read it back.
import { REGION_NAMES, type RegionName, type RegionScores } from "./regions.js";

/** One epoch of training as the loop records it (its history, train-state.json, the epoch line). */
export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** Validation Dice per region; null when the epoch was not validated. */
  val: RegionScores | null;
  /** Seconds since the run started (resumes included). */
  time: number;
  /** Seconds the validation took, when the epoch was validated. */
  valSeconds?: number;
}

/** One optimiser step of a step line. Readers accept lines without `lr` or `time`. */
export interface StepRecord {
  epoch: number;
  /** Global step, 1-based. */
  step: number;
  loss: number;
  lr?: number;
  time?: number;
}

/**
 * An epoch line as read back: only `epoch` is sure to be there (a log may come from an older
 * writer or be cut short), and `val` holds the regions that had a finite score.
 */
export interface LoggedEpoch {
  epoch: EpochRecord["epoch"];
  loss?: EpochRecord["loss"];
  val?: Partial<RegionScores>;
  lr?: EpochRecord["lr"];
  time?: EpochRecord["time"];
}

export interface TrainingLog {
  steps: StepRecord[];
  /** One per epoch (a later line for the same epoch replaces an earlier one), ascending. */
  epochs: LoggedEpoch[];
  /** Non-blank lines that are not a valid step or epoch record (bad JSON, unknown type, missing fields). */
  skipped: number;
  /** 1-based numbers of the first (up to 20) skipped lines. */
  skippedLines: number[];
}

/**
 * The epoch line of `record`, newline included:
 * `{"type":"epoch","epoch","loss","lr","val":{"WT","TC","ET"},"time","valSeconds"}`, without "val"
 * and "valSeconds" when the epoch was not validated.
 */
export function formatEpochLine(record: EpochRecord): string {
  const { epoch, loss, lr, val, time, valSeconds } = record;
  const line =
    val === null
      ? { type: "epoch", epoch, loss, lr, time }
      : {
          type: "epoch",
          epoch,
          loss,
          lr,
          val,
          time,
          ...(valSeconds === undefined ? {} : { valSeconds }),
        };
  return JSON.stringify(line) + "\n";
}

/** The step line of `record`, newline included: `{"type":"step","epoch","step","loss","lr","time"}`. */
export function formatStepLine(record: StepRecord): string {
  const { epoch, step, loss, lr, time } = record;
  return JSON.stringify({ type: "step", epoch, step, loss, lr, time }) + "\n";
}

function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * Reads a run's log.jsonl: `{"type":"step","epoch","step","loss","lr","time"}` and
 * `{"type":"epoch","epoch","loss","val":{"WT","TC","ET"},"lr","time"}` lines. Blank lines are ignored;
 * other lines that do not parse as one of the two records are skipped and counted, never fatal
 * (a run still being written may end in half a line).
 */
export function parseTrainingLog(text: string): TrainingLog {
  if (typeof text !== "string")
    throw new TypeError("a training log is the text of a log.jsonl file");
  const steps: StepRecord[] = [];
  const epochs = new Map<number, LoggedEpoch>();
  let skipped = 0;
  const skippedLines: number[] = [];
  const skip = (line: number) => {
    skipped++;
    if (skippedLines.length < 20) skippedLines.push(line);
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skip(i + 1);
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      skip(i + 1);
      return;
    }
    const r = value as Record<string, unknown>;
    const extras = (record: { lr?: number; time?: number }) => {
      if (finite(r.lr)) record.lr = r.lr;
      if (finite(r.time)) record.time = r.time;
    };
    if (r.type === "step" && finite(r.epoch) && finite(r.step) && finite(r.loss)) {
      const record: StepRecord = { epoch: r.epoch, step: r.step, loss: r.loss };
      extras(record);
      steps.push(record);
    } else if (r.type === "epoch" && finite(r.epoch)) {
      const record: LoggedEpoch = { epoch: r.epoch };
      if (finite(r.loss)) record.loss = r.loss;
      extras(record);
      if (typeof r.val === "object" && r.val !== null) {
        const val: Partial<Record<RegionName, number>> = {};
        for (const region of REGION_NAMES) {
          const d = (r.val as Record<string, unknown>)[region];
          if (finite(d)) val[region] = d;
        }
        if (Object.keys(val).length > 0) record.val = val;
      }
      epochs.set(r.epoch, record);
    } else {
      skip(i + 1);
    }
  });
  steps.sort((a, b) => a.epoch - b.epoch || a.step - b.step);
  return {
    steps,
    epochs: [...epochs.values()].sort((a, b) => a.epoch - b.epoch),
    skipped,
    skippedLines,
  };
}
