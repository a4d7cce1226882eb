// The 30 real BraTS volumes the nifti benchmarks read (../shared, never redistributed).
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BRATS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../shared/data/brats",
);

/** Every .nii/.nii.gz of every case folder, sorted; null (with a warning for `bench`) when absent. */
export function bratsVolumes(bench: string): string[] | null {
  if (!existsSync(BRATS_DIR)) {
    console.warn(
      `${bench}: skipped, ${BRATS_DIR} is absent (the BraTS volumes are not redistributed)`,
    );
    return null;
  }
  return readdirSync(BRATS_DIR)
    .sort()
    .flatMap((id) =>
      readdirSync(join(BRATS_DIR, id))
        .filter((name) => /\.nii(\.gz)?$/.test(name))
        .sort()
        .map((name) => join(BRATS_DIR, id, name)),
    );
}
