// Finding BraTS cases in a folder and loading one as float channels plus labels.
// File names decide everything: BraTS 2017–2021 `<ID>_{flair,t1,t1ce,t2,seg}.nii[.gz]` and BraTS 2023+
// `<ID>-{t2f,t1n,t1c,t2w,seg}.nii[.gz]` (e.g. BraTS-GLI-00000-000-t1c.nii.gz), in case folders or flat.
import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  readNifti,
  scaleInto,
  scalingOf,
  type Affine,
  type NiftiHeader,
  type NiftiImage,
} from "@brats/nifti";
import { DataError } from "./errors.js";

export type Modality = "flair" | "t1" | "t1ce" | "t2";
/** The four BraTS modalities in the usual channel order. */
export const MODALITIES: readonly Modality[] = ["flair", "t1", "t1ce", "t2"];

export type CaseNaming = "brats2021" | "brats2023";
export const CASE_NAMINGS: readonly CaseNaming[] = ["brats2021", "brats2023"];

/** The suffix each naming uses for a modality or the segmentation. */
const NAMING_SUFFIXES: Readonly<Record<CaseNaming, Readonly<Record<Modality | "seg", string>>>> = {
  brats2021: { flair: "flair", t1: "t1", t1ce: "t1ce", t2: "t2", seg: "seg" },
  brats2023: { flair: "t2f", t1: "t1n", t1ce: "t1c", t2: "t2w", seg: "seg" },
};

export interface CaseFiles {
  id: string;
  /** The folder holding the case's files (the case folder, or the flat folder). */
  dir: string;
  /** Absolute or dir-relative paths as found: `join(dir, name)`. */
  images: Partial<Record<Modality, string>>;
  seg?: string;
  /** The naming the files follow. */
  naming?: CaseNaming;
}

export interface CaseFileName {
  id: string;
  kind: Modality | "seg";
  naming: CaseNaming;
}

const PATTERN_2021 = /^(.+)_(flair|t1|t1ce|t2|seg)\.nii(?:\.gz)?$/i;
const PATTERN_2023 = /^(.+)-(t2f|t1n|t1c|t2w|seg)\.nii(?:\.gz)?$/i;
const KIND_2023: Record<string, Modality | "seg"> = {
  t2f: "flair",
  t1n: "t1",
  t1c: "t1ce",
  t2w: "t2",
  seg: "seg",
};

/**
 * What a file name says: case id, modality (or "seg") and naming; null for anything else. Hidden files
 * (macOS `._` resource forks copy the real names) are never case files.
 */
export function parseCaseFileName(name: string): CaseFileName | null {
  if (name.startsWith(".")) return null;
  const m21 = PATTERN_2021.exec(name);
  if (m21) {
    return { id: m21[1]!, kind: m21[2]!.toLowerCase() as Modality | "seg", naming: "brats2021" };
  }
  const m23 = PATTERN_2023.exec(name);
  if (m23) return { id: m23[1]!, kind: KIND_2023[m23[2]!.toLowerCase()]!, naming: "brats2023" };
  return null;
}

/** The file name of a case's modality or segmentation under a naming, e.g. `BraTS2021_00006_t1ce.nii.gz`. */
export function caseFileName(
  id: string,
  kind: Modality | "seg",
  naming: CaseNaming = "brats2021",
  extension: ".nii.gz" | ".nii" = ".nii.gz",
): string {
  const suffixes = NAMING_SUFFIXES[naming];
  if (suffixes === undefined) {
    throw new DataError(
      "BAD_OPTION",
      `unknown naming ${JSON.stringify(naming)}; expected one of ${CASE_NAMINGS.join(", ")}`,
    );
  }
  const suffix = suffixes[kind];
  if (suffix === undefined)
    throw new DataError("BAD_OPTION", `unknown modality ${JSON.stringify(kind)}`);
  return `${id}${naming === "brats2021" ? "_" : "-"}${suffix}${extension}`;
}

export interface DiscoverOptions {
  /**
   * Folder levels searched below `dir` (default 3: enough for `Training/HGG/<case>/` of BraTS 2018).
   * 0 reads `dir` only.
   */
  maxDepth?: number;
}

/**
 * Every case under `dir`, sorted by id. A case is a set of files sharing an id in one folder with at
 * least one modality (a lone `_seg` file, e.g. a prediction, is not a case). Files that do not follow a
 * BraTS naming, hidden files and folders are ignored. NO_CASES when nothing is found; DUPLICATE_CASE when
 * two files claim the same modality of a case or one id has images in two folders; IO when `dir` is unreadable.
 */
export async function discoverCases(dir: string, opts: DiscoverOptions = {}): Promise<CaseFiles[]> {
  const maxDepth = opts.maxDepth ?? 3;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) {
    throw new DataError("BAD_OPTION", `maxDepth must be a non-negative integer, got ${maxDepth}`);
  }
  const groups = new Map<string, CaseFiles>();
  await scanFolder(dir, maxDepth, groups, true);
  const byId = new Map<string, CaseFiles>();
  for (const group of groups.values()) {
    // A lone segmentation (e.g. a folder of predictions next to the data) is not a case.
    if (Object.keys(group.images).length === 0) continue;
    const other = byId.get(group.id);
    if (other !== undefined) {
      throw new DataError(
        "DUPLICATE_CASE",
        `case ${group.id} appears in two folders: ${other.dir} and ${group.dir}`,
      );
    }
    byId.set(group.id, group);
  }
  if (byId.size === 0) {
    throw new DataError(
      "NO_CASES",
      `no BraTS case under ${dir}: expected files such as <ID>_flair.nii.gz (2017–2021) or <ID>-t2f.nii.gz (2023)`,
    );
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function scanFolder(
  dir: string,
  depthLeft: number,
  groups: Map<string, CaseFiles>,
  isRoot: boolean,
): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    // Below the root an unreadable folder is someone else's business; the root must be readable.
    if (!isRoot) return;
    throw new DataError("IO", `cannot read folder ${dir}: ${(cause as Error).message}`, { cause });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  const subfolders: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    let isFile = entry.isFile();
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => null);
      isFile = target?.isFile() ?? false;
      isDir = target?.isDirectory() ?? false;
    }
    if (isDir) {
      if (depthLeft > 0 && entry.name !== "node_modules") subfolders.push(path);
      continue;
    }
    if (!isFile) continue;
    const parsed = parseCaseFileName(entry.name);
    if (parsed === null) continue;
    addFile(groups, parsed, dir, path);
  }
  for (const sub of subfolders) await scanFolder(sub, depthLeft - 1, groups, false);
}

function addFile(
  groups: Map<string, CaseFiles>,
  { id, kind, naming }: CaseFileName,
  dir: string,
  path: string,
): void {
  // Grouped per folder: the same id in two folders is only a conflict if both hold images.
  const key = JSON.stringify([dir, id]);
  let found = groups.get(key);
  if (found === undefined) {
    found = { id, dir, images: {}, naming };
    groups.set(key, found);
  }
  const previous = kind === "seg" ? found.seg : found.images[kind];
  if (previous !== undefined) {
    throw new DataError(
      "DUPLICATE_CASE",
      `case ${id} has two ${kind} files: ${previous} and ${path}`,
    );
  }
  if (kind === "seg") found.seg = path;
  else found.images[kind] = path;
}

export interface LoadedCase {
  id: string;
  /** One Float32Array a modality (scaled values, x fastest), in `modalities` order. */
  channels: Float32Array[];
  modalities: Modality[];
  /** Label values as stored in the file (not converted to classes), or null without a seg file. */
  seg: Uint8Array | null;
  shape: [number, number, number];
  /** |pixdim[1..3]| of the first file read (as nibabel's `get_zooms`). */
  spacing: [number, number, number];
  /** Voxel → world (mm), 4×4 row-major, shared by every file of the case. */
  affine: number[][];
  /** The NIfTI header of the first image read, for writing predictions on the same grid. */
  header?: NiftiHeader;
}

export interface LoadCaseOptions {
  /** Channels to load, in this order (default: all four, flair, t1, t1ce, t2). */
  modalities?: Modality[];
  /** A missing modality: "error" (default, MISSING_MODALITY) or a zero channel ("zeros"). */
  missing?: "error" | "zeros";
  /** Read the segmentation when the case has one (default true). */
  seg?: boolean;
  /** Largest affine element difference (mm) still counted as the same grid (default 1e-4). */
  affineTolerance?: number;
}

/**
 * Reads a case's modalities and segmentation. All files must share shape and affine
 * (GEOMETRY_MISMATCH naming the case and both files otherwise); a missing modality is MISSING_MODALITY
 * unless `missing: "zeros"` (a zero channel; still MISSING_MODALITY when no requested modality exists).
 * Unreadable files: IO naming the case (the NiftiError is the `cause`). Segmentation values must be
 * integers in 0..255 (BAD_LABELS).
 */
export async function loadCase(c: CaseFiles, opts: LoadCaseOptions = {}): Promise<LoadedCase> {
  const modalities = opts.modalities ?? [...MODALITIES];
  const missing = opts.missing ?? "error";
  const tolerance = opts.affineTolerance ?? 1e-4;
  if (!Array.isArray(modalities) || modalities.length === 0) {
    throw new DataError("BAD_OPTION", "modalities must be a non-empty array");
  }
  for (const m of modalities) {
    if (!MODALITIES.includes(m)) {
      throw new DataError(
        "BAD_OPTION",
        `unknown modality ${JSON.stringify(m)}; expected some of ${MODALITIES.join(", ")}`,
      );
    }
  }
  if (new Set(modalities).size !== modalities.length) {
    throw new DataError("BAD_OPTION", `modalities repeat: ${modalities.join(", ")}`);
  }
  if (missing !== "error" && missing !== "zeros") {
    throw new DataError(
      "BAD_OPTION",
      `missing must be "error" or "zeros", got ${JSON.stringify(missing)}`,
    );
  }
  if (!(tolerance >= 0))
    throw new DataError("BAD_OPTION", `affineTolerance must be ≥ 0, got ${tolerance}`);

  const absent = modalities.filter((m) => c.images[m] === undefined);
  if (absent.length === modalities.length || (absent.length > 0 && missing === "error")) {
    throw new DataError(
      "MISSING_MODALITY",
      `case ${c.id} has no ${absent.join(", ")} file${absent.length > 1 ? "s" : ""} (in ${c.dir})`,
    );
  }
  const present = modalities.filter((m) => c.images[m] !== undefined);
  const segPath = opts.seg === false ? undefined : c.seg;
  // Concurrent reads: node:zlib inflates on the thread pool, so the files gunzip in parallel.
  const [images, segImage] = await Promise.all([
    Promise.all(present.map((m) => readFile(c, m, c.images[m]!))),
    segPath === undefined ? Promise.resolve(null) : readFile(c, "seg", segPath),
  ]);
  const first = images[0]!;
  const reference = { path: c.images[present[0]!]!, shape: first.shape, affine: first.affine };
  for (let i = 1; i < images.length; i++) {
    checkSameGrid(c.id, reference, c.images[present[i]!]!, images[i]!, tolerance);
  }
  if (segImage) checkSameGrid(c.id, reference, segPath!, segImage, tolerance);

  const shape = first.shape as [number, number, number];
  const voxels = shape[0] * shape[1] * shape[2];
  const channels = modalities.map((m) => {
    const index = present.indexOf(m);
    const out = new Float32Array(voxels);
    if (index < 0) return out;
    return requireImageContent(c, m, scaled(c, m, images[index]!, out));
  });
  return {
    id: c.id,
    channels,
    modalities: [...modalities],
    seg: segImage ? segLabels(c, segPath!, segImage) : null,
    shape: [shape[0], shape[1], shape[2]],
    spacing: [0, 1, 2].map((i) => Math.abs(first.spacing[i]!)) as [number, number, number],
    affine: first.affine.map((row) => row.slice()),
    header: first.header,
  };
}

/**
 * EMPTY_MODALITY for a scan with nothing in it: no finite value, or one value everywhere (an
 * all-NaN or blank export). Such a channel normalises to nothing, and a model would call the
 * whole case background without a word; refusing it names the case and the file instead.
 */
function requireImageContent(c: CaseFiles, m: Modality, data: Float32Array): Float32Array {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    // Two different values: a real scan answers here, within its first voxels of tissue.
    if (min !== max) return data;
  }
  const what = min === max ? `${min} in every finite voxel` : "no finite value";
  throw new DataError(
    "EMPTY_MODALITY",
    `case ${c.id}: the ${m} file ${c.images[m]} has ${what}; a scan with no content cannot be ` +
      `segmented (re-export it; brats-train can also leave the modality out with --modalities)`,
  );
}

/** Reads a file as a 3-D volume (a 4-D file with one frame counts); shape normalised to 3 sizes. */
async function readFile(c: CaseFiles, kind: string, path: string): Promise<NiftiImage> {
  let image: NiftiImage;
  try {
    image = await readNifti(path);
  } catch (cause) {
    throw new DataError(
      "IO",
      `case ${c.id}: cannot read ${kind} file ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const shape = image.shape;
  if (shape.length < 3 || shape.slice(3).some((size) => size !== 1)) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${c.id}: ${kind} file ${path} has shape [${shape.join(", ")}], not a 3-D volume`,
    );
  }
  if (image.data === null) {
    throw new DataError("IO", `case ${c.id}: ${kind} file ${path} holds a header but no voxels`);
  }
  return { ...image, shape: shape.slice(0, 3) };
}

function checkSameGrid(
  id: string,
  reference: { path: string; shape: number[]; affine: Affine },
  path: string,
  image: NiftiImage,
  tolerance: number,
): void {
  const shapeA = reference.shape;
  const shapeB = image.shape;
  if (shapeA.some((size, i) => size !== shapeB[i])) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `case ${id}: ${path} has shape [${shapeB.join(", ")}] but ${reference.path} has [${shapeA.join(", ")}]`,
    );
  }
  for (let r = 0; r < 4; r++) {
    for (let col = 0; col < 4; col++) {
      const a = reference.affine[r]![col]!;
      const b = image.affine[r]![col]!;
      if (!(Math.abs(a - b) <= tolerance)) {
        throw new DataError(
          "GEOMETRY_MISMATCH",
          `case ${id}: the affine of ${path} differs from ${reference.path} at [${r}][${col}] (${b} vs ${a})`,
        );
      }
    }
  }
}

function scaled(c: CaseFiles, kind: string, image: NiftiImage, out: Float32Array): Float32Array {
  try {
    return scaleInto(image, out);
  } catch (cause) {
    throw new DataError(
      "IO",
      `case ${c.id}: cannot read ${kind} values: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/** Segmentation voxels as uint8 label values; anything but integers in 0..255 is BAD_LABELS. */
function segLabels(c: CaseFiles, path: string, image: NiftiImage): Uint8Array {
  const data = image.data!;
  const voxels = image.shape[0]! * image.shape[1]! * image.shape[2]!;
  // The common case, uint8 without scaling, needs no float detour.
  if (image.datatype === "uint8" && isIdentityScaling(image.header)) return data as Uint8Array;
  const values = scaled(c, "seg", image, new Float32Array(voxels));
  const labels = new Uint8Array(voxels);
  for (let i = 0; i < voxels; i++) {
    const v = values[i]!;
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new DataError(
        "BAD_LABELS",
        `case ${c.id}: segmentation ${path} holds ${v} at voxel ${i}; labels must be integers in 0..255`,
      );
    }
    labels[i] = v;
  }
  return labels;
}

function isIdentityScaling(header: NiftiHeader): boolean {
  try {
    const scaling = scalingOf(header);
    return scaling === null || (scaling.slope === 1 && scaling.inter === 0);
  } catch {
    return false; // a broken scaling is reported by the scaled path
  }
}
