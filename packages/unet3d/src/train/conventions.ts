// BraTS regions and the log.jsonl epoch record, as train/ uses them. These move to
// @brats/conventions (issue 12); this file is their one home inside train/, so that at the merge it
// becomes a re-export of that package and nothing else changes.

export type Region = "WT" | "TC" | "ET";
export type RegionScores = Record<Region, number>;

/** One epoch of log.jsonl / metrics.csv / TrainState.history. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  lr: number;
  val: RegionScores | null;
  time: number;
}

/** Class maps (0 bg, 1 necrotic core, 2 edema, 3 enhancing) to the nested BraTS regions. */
export function inRegion(cls: number, region: Region): boolean {
  if (region === "WT") return cls !== 0;
  if (region === "TC") return cls === 1 || cls === 3;
  return cls === 3;
}
