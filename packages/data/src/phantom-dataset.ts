// Synthetic datasets on disk: phantoms written as BraTS case folders (2021 or 2023 file names).
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { LabelConvention } from "@brats/conventions";
import { createImage, writeNifti } from "@brats/nifti";
import { type CaseNaming, caseFileName, CASE_NAMINGS } from "./cases.js";
import { DataError } from "./errors.js";
import { checkShape, checkSpacing, generatePhantom, type Phantom } from "./phantom.js";
import { deriveRngState } from "./rng.js";

export interface PhantomDatasetOptions {
  /** Number of cases (1..10000). */
  cases: number;
  shape: [number, number, number];
  /** Case i uses the RNG state deriveRngState(seed, i): cases differ, datasets are reproducible. */
  seed: number;
  /** File naming and label values: brats2021 (`<ID>_t1ce.nii.gz`, ET = 4) or brats2023 (`<ID>-t1c.nii.gz`, ET = 3). */
  naming?: CaseNaming;
  spacing?: [number, number, number];
  /** Case id prefix (default "Phantom"): ids are `Phantom_00000` (2021) or `Phantom-00000-000` (2023). */
  prefix?: string;
}

/**
 * Writes synthetic cases as BraTS case folders (`<dir>/<ID>/<ID>_{flair,t1,t1ce,t2,seg}.nii.gz`, or the
 * 2023 names): images int16, labels uint8, the LPS affine BraTS uses (sform and qform). Returns the case
 * folders in id order. Each file is written atomically; IO names the failing path.
 */
export async function writePhantomDataset(
  dir: string,
  opts: PhantomDatasetOptions,
): Promise<string[]> {
  const naming = opts.naming ?? "brats2021";
  if (!CASE_NAMINGS.includes(naming)) {
    throw new DataError(
      "BAD_OPTION",
      `unknown naming ${JSON.stringify(naming)}; expected one of ${CASE_NAMINGS.join(", ")}`,
    );
  }
  if (!Number.isSafeInteger(opts.cases) || opts.cases < 1 || opts.cases > 10000) {
    throw new DataError("BAD_OPTION", `cases must be an integer in 1..10000, got ${opts.cases}`);
  }
  if (!Number.isSafeInteger(opts.seed)) {
    throw new DataError("BAD_OPTION", `seed must be a safe integer, got ${opts.seed}`);
  }
  const prefix = opts.prefix ?? "Phantom";
  if (!/^[A-Za-z0-9]+$/.test(prefix)) {
    throw new DataError(
      "BAD_OPTION",
      `prefix must be letters and digits, got ${JSON.stringify(prefix)}`,
    );
  }
  checkShape(opts.shape);
  if (opts.spacing !== undefined) checkSpacing(opts.spacing);
  const convention: LabelConvention = naming === "brats2023" ? "brats2023" : "brats2021";
  const folders: string[] = [];
  for (let index = 0; index < opts.cases; index++) {
    const number = String(index).padStart(5, "0");
    const id = naming === "brats2023" ? `${prefix}-${number}-000` : `${prefix}_${number}`;
    const phantom = generatePhantom({
      shape: opts.shape,
      spacing: opts.spacing,
      seed: deriveRngState(opts.seed, index),
      convention,
      id,
    });
    const folder = join(dir, id);
    await writeCase(folder, phantom, naming);
    folders.push(folder);
  }
  return folders;
}

async function writeCase(folder: string, phantom: Phantom, naming: CaseNaming): Promise<void> {
  const { shape, spacing, affine } = phantom;
  const description = "@brats/data synthetic phantom";
  const files = phantom.modalities.map((modality, m) => ({
    path: join(folder, caseFileName(phantom.id, modality, naming)),
    image: createImage({
      data: Int16Array.from(phantom.channels[m]!),
      shape,
      spacing,
      affine,
      description,
    }),
  }));
  files.push({
    path: join(folder, caseFileName(phantom.id, "seg", naming)),
    image: createImage({ data: phantom.seg, shape, spacing, affine, description }),
  });
  try {
    await mkdir(folder, { recursive: true });
    await Promise.all(files.map(({ path, image }) => writeNifti(image, path)));
  } catch (cause) {
    throw new DataError("IO", `cannot write phantom case ${folder}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
