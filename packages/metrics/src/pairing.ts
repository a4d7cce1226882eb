// Pairing prediction and ground-truth files by case ID: two files, a file and a folder, or two folders
// (flat files or BraTS case folders on the ground-truth side).
import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { DataError, discoverCases } from "@brats/data";

const NIFTI_SUFFIX = /\.nii(\.gz)?$/;
/** Inputs of a BraTS case that are not label maps, skipped when scanning ground-truth folders. */
const IMAGE_SUFFIX = /_(flair|t1|t1ce|t2)$/;

export interface CasePair {
  id: string;
  pred: string;
  gt: string;
}

export interface Pairing {
  pairs: CasePair[];
  /** Case IDs found on one side only. */
  unpaired: { pred: string[]; gt: string[] };
  /** Case IDs with more than one file on one side (e.g. X.nii.gz and X_pred.nii.gz). */
  ambiguous: { id: string; side: "pred" | "gt"; files: string[] }[];
}

function stripNifti(name: string): string | null {
  return NIFTI_SUFFIX.test(name) ? name.replace(NIFTI_SUFFIX, "") : null;
}

/** Case ID of a prediction file name: <ID>.nii.gz, <ID>_seg.nii.gz or <ID>_pred.nii.gz. */
export function predictionId(name: string): string | null {
  const stem = stripNifti(name);
  return stem === null ? null : stem.replace(/_(seg|pred)$/, "");
}

/** Case ID of a flat ground-truth file name: <ID>.nii.gz or <ID>_seg.nii.gz; null for images. */
export function groundTruthId(name: string): string | null {
  const stem = stripNifti(name);
  if (stem === null || IMAGE_SUFFIX.test(stem)) return null;
  return stem.replace(/_seg$/, "");
}

function isDirectory(path: string): boolean {
  return statSync(path).isDirectory();
}

function visible(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith("."))
    .sort();
}

type FileIndex = Map<string, string[]>;

function addTo(index: FileIndex, id: string, path: string): void {
  const files = index.get(id);
  if (files === undefined) index.set(id, [path]);
  else files.push(path);
}

function predictionFiles(dir: string): FileIndex {
  const index: FileIndex = new Map();
  for (const name of visible(dir)) {
    const id = predictionId(name);
    const path = join(dir, name);
    if (id !== null && !isDirectory(path)) addTo(index, id, path);
  }
  return index;
}

function groundTruthFiles(dir: string): FileIndex {
  const index: FileIndex = new Map();
  for (const name of visible(dir)) {
    const path = join(dir, name);
    if (isDirectory(path)) {
      // A BraTS case folder: <ID>/<ID>_seg.nii.gz (or .nii).
      for (const ext of [".nii.gz", ".nii"]) {
        const seg = join(path, `${name}_seg${ext}`);
        try {
          if (statSync(seg).isFile()) addTo(index, name, seg);
        } catch {
          // not there: try the next extension
        }
      }
    } else {
      const id = groundTruthId(name);
      if (id !== null) addTo(index, id, path);
    }
  }
  return index;
}

/**
 * Adds the segmentations of the cases @brats/data finds deeper down (e.g. `Training/HGG/<ID>/`, or
 * BraTS 2023 `<ID>/<ID>-seg.nii.gz`), as brats-infer's `--input` finds them. A file already indexed
 * by the scan above keeps its entry, so every layout that scan accepts pairs as before.
 */
async function addDiscoveredCases(dir: string, index: FileIndex): Promise<void> {
  const known = new Set([...index.values()].flat());
  let cases: Awaited<ReturnType<typeof discoverCases>>;
  try {
    cases = await discoverCases(dir);
  } catch (err) {
    // NO_CASES (flat label maps only), DUPLICATE_CASE, an unreadable subfolder: the scan above stands.
    if (err instanceof DataError) return;
    throw err;
  }
  for (const c of cases) {
    if (c.seg !== undefined && !known.has(c.seg)) addTo(index, c.id, c.seg);
  }
}

/**
 * Pairs predictions with ground truths by case ID. Two files: one pair named after the ground
 * truth. A file and a folder: the file's ID is looked up in the folder. A ground-truth folder is
 * searched for case folders as @brats/data's discoverCases does (up to 3 levels down). Paths that do not exist
 * throw (a usage error for the CLI).
 */
export async function pairCases(predPath: string, gtPath: string): Promise<Pairing> {
  const predIsDir = isDirectory(predPath);
  const gtIsDir = isDirectory(gtPath);
  if (!predIsDir && !gtIsDir) {
    const id =
      groundTruthId(basename(gtPath)) ?? predictionId(basename(predPath)) ?? basename(gtPath);
    return {
      pairs: [{ id, pred: predPath, gt: gtPath }],
      unpaired: { pred: [], gt: [] },
      ambiguous: [],
    };
  }
  const preds: FileIndex = predIsDir ? predictionFiles(predPath) : new Map<string, string[]>();
  if (!predIsDir) addTo(preds, predictionId(basename(predPath)) ?? basename(predPath), predPath);
  const gts: FileIndex = gtIsDir ? groundTruthFiles(gtPath) : new Map<string, string[]>();
  if (gtIsDir) await addDiscoveredCases(gtPath, gts);
  else addTo(gts, groundTruthId(basename(gtPath)) ?? basename(gtPath), gtPath);

  const result: Pairing = { pairs: [], unpaired: { pred: [], gt: [] }, ambiguous: [] };
  const ids = [...new Set([...preds.keys(), ...gts.keys()])].sort();
  for (const id of ids) {
    const p = preds.get(id);
    const g = gts.get(id);
    if (p !== undefined && p.length > 1) result.ambiguous.push({ id, side: "pred", files: p });
    if (g !== undefined && g.length > 1) result.ambiguous.push({ id, side: "gt", files: g });
    if (p === undefined) result.unpaired.gt.push(id);
    else if (g === undefined) result.unpaired.pred.push(id);
    else if (p.length === 1 && g.length === 1) result.pairs.push({ id, pred: p[0]!, gt: g[0]! });
  }
  return result;
}
