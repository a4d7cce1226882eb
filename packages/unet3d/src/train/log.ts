// The run's logs: log.jsonl (one JSON line per step and per epoch, in @brats/conventions' format)
// and metrics.csv (one row per epoch). Checkpoints record their byte sizes, so a resume cuts off what later steps wrote.
import { appendFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  formatEpochLine,
  formatStepLine,
  type EpochRecord,
  type StepRecord,
} from "@brats/conventions";

export const LOG_JSONL = "log.jsonl";
export const METRICS_CSV = "metrics.csv";
const CSV_HEADER = "epoch,loss,lr,val_WT,val_TC,val_ET,val_mean,time\n";

/** Sizes of the two logs in bytes. */
export interface LogSizes {
  logBytes: number;
  csvBytes: number;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function csvRow(r: EpochRecord): string {
  const v = r.val;
  const mean = v === null ? "" : String((v.WT + v.TC + v.ET) / 3);
  const cells = [
    r.epoch,
    r.loss,
    r.lr,
    v?.WT ?? "",
    v?.TC ?? "",
    v?.ET ?? "",
    mean,
    r.time.toFixed(3),
  ];
  return cells.join(",") + "\n";
}

export class RunLog {
  readonly logPath: string;
  readonly csvPath: string;

  constructor(outDir: string) {
    this.logPath = join(outDir, LOG_JSONL);
    this.csvPath = join(outDir, METRICS_CSV);
  }

  /** Starts both logs afresh (metrics.csv with its header); returns their sizes. */
  async start(): Promise<LogSizes> {
    await writeFile(this.logPath, "");
    await writeFile(this.csvPath, CSV_HEADER);
    return { logBytes: 0, csvBytes: CSV_HEADER.length };
  }

  /** Cuts the logs back to a checkpoint's sizes: later lines belong to steps that will be redone. */
  async rewind(to: LogSizes): Promise<void> {
    if ((await fileSize(this.logPath)) > to.logBytes) await truncate(this.logPath, to.logBytes);
    if ((await fileSize(this.csvPath)) > to.csvBytes) await truncate(this.csvPath, to.csvBytes);
  }

  async sizes(): Promise<LogSizes> {
    return { logBytes: await fileSize(this.logPath), csvBytes: await fileSize(this.csvPath) };
  }

  // The line formats are @brats/conventions' (the one home of log.jsonl, which viz parses).
  async step(r: Required<StepRecord>): Promise<void> {
    await appendFile(this.logPath, formatStepLine(r));
  }

  async epoch(record: EpochRecord): Promise<void> {
    await appendFile(this.logPath, formatEpochLine(record));
    await appendFile(this.csvPath, csvRow(record));
  }
}
