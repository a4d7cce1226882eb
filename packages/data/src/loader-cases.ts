// The loader's cases: reading case files, checking loaded cases, sharing them with workers.
import { loadCase, type CaseFiles, type LoadCaseOptions, type LoadedCase } from "./cases.js";
import { DataError, withDataErrors } from "./errors.js";
import {
  DEFAULT_LABEL_CONVENTION,
  labelsToClasses,
  NUM_CLASSES,
  type LabelConvention,
} from "@brats/conventions";
import { preprocessCase, type PreprocessOptions } from "./preprocess.js";

/** How case files become training cases. */
export interface PrepareOptions {
  /** loadCase options (default: the four modalities, a missing one is an error). */
  load?: LoadCaseOptions;
  /** preprocessCase options (default {}), or false to keep the scans as read. */
  preprocess?: PreprocessOptions | false;
  /** Label convention of the seg files (default brats2021). */
  convention?: LabelConvention;
}

/**
 * Reads a case, preprocesses it and turns its labels into classes 0..3: what the loader does
 * with case files (the PreprocessRecord is dropped; call preprocessCase yourself to keep it).
 */
export async function prepareCase(
  files: CaseFiles,
  opts: PrepareOptions = {},
): Promise<LoadedCase> {
  const loaded = await loadCase(files, opts.load);
  const c = opts.preprocess === false ? loaded : preprocessCase(loaded, opts.preprocess ?? {}).case;
  return {
    id: c.id,
    channels: c.channels,
    modalities: c.modalities,
    seg:
      c.seg === null
        ? null
        : withDataErrors(() =>
            labelsToClasses(c.seg!, opts.convention ?? DEFAULT_LABEL_CONVENTION),
          ),
    shape: c.shape,
    spacing: c.spacing,
    affine: c.affine,
  };
}

/** Checks what sampling relies on: one grid, the same channel count as the first case, classes 0..3. */
export function checkTrainingCase(c: LoadedCase, channels: number): void {
  const voxels = c.shape[0] * c.shape[1] * c.shape[2];
  if (c.channels.length !== channels) {
    throw new DataError(
      "BAD_OPTION",
      `case ${c.id} has ${c.channels.length} channels, the first case ${channels}: every case needs the same modalities`,
    );
  }
  if (
    c.channels.some((ch) => ch.length !== voxels) ||
    (c.seg !== null && c.seg.length !== voxels)
  ) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${c.id}: channels and seg must hold ${voxels} voxels for shape [${c.shape.join(", ")}]`,
    );
  }
  if (c.seg !== null) {
    for (let i = 0; i < c.seg.length; i++) {
      if (c.seg[i]! >= NUM_CLASSES) {
        throw new DataError(
          "BAD_LABELS",
          `case ${c.id} has label ${c.seg[i]} at voxel ${i}; the loader wants classes 0..${NUM_CLASSES - 1} (labelsToClasses)`,
        );
      }
    }
  }
}

function sharedCopy<T extends Float32Array | Uint8Array>(data: T): T {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const copy = (
    data instanceof Float32Array
      ? new Float32Array(new SharedArrayBuffer(data.byteLength))
      : new Uint8Array(new SharedArrayBuffer(data.byteLength))
  ) as T;
  copy.set(data);
  return copy;
}

/** The case with its arrays in shared memory (copied once unless they already are), without header. */
export function shareCase(c: LoadedCase): LoadedCase {
  return {
    id: c.id,
    channels: c.channels.map(sharedCopy),
    modalities: [...c.modalities],
    seg: c.seg === null ? null : sharedCopy(c.seg),
    shape: [c.shape[0], c.shape[1], c.shape[2]],
    spacing: [c.spacing[0], c.spacing[1], c.spacing[2]],
    affine: c.affine.map((row) => [...row]),
  };
}
