// The real cases both metrics benches score: the four deepbrainseg predictions of ../shared and their
// ground truth, those present on this machine.
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface BenchCase {
  id: string;
  pred: string;
  gt: string;
}

const IDS = [
  "Brats18_2013_3_1",
  "Brats18_CBICA_ABM_1",
  "Brats18_TCIA01_201_1",
  "Brats18_TCIA10_628_1",
];

/** The deepbrainseg cases under `sharedData` (../shared/data) whose two files exist. */
export function deepbrainsegCases(sharedData: string): { cases: BenchCase[]; predDir: string } {
  const predDir = join(sharedData, "peer-predictions", "deepbrainseg");
  const cases = IDS.map((id) => ({
    id,
    pred: join(predDir, `${id}.nii.gz`),
    gt: join(sharedData, "brats", id, `${id}_seg.nii.gz`),
  })).filter((c) => existsSync(c.pred) && existsSync(c.gt));
  return { cases, predDir };
}
