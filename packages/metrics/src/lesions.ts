// Lesion-wise Dice and HD95, the BraTS 2023+ ranking metrics, written from the challenges' published
// description (not from the unlicensed scorer). For one region of one case:
//   - ground-truth lesions: the 26-connected components of the ground truth dilated `dilation` times
//     (18-connectivity element), each keeping only the original ground-truth voxels, so lesions
//     closer than the dilation are one;
//   - predicted components: the 26-connected components of the prediction;
//   - a lesion's matches: the predicted components touching the lesion dilated `dilation` times;
//     its Dice and surface HD95 are against the union of its matches (none: Dice 0, HD95 374);
//   - false positives: predicted components that match no lesion;
//   - lesions of at most `threshold` mm³ count neither in the sums nor as TP or FN;
//   - Dice = Σ lesion Dice / (lesions + FP), HD95 = (Σ lesion HD95 + 374·FP) / (lesions + FP);
//     nothing to count: Dice 1, HD95 0.
// Everything runs in crops: the region's union bounding box (grown by the dilation) for the
// components, each lesion's box for its dilation, each lesion-and-matches box for its HD95.
import { connectedComponents, dilate } from "@brats/data";
import {
  boxDims,
  cropMask,
  emptyBox,
  isEmptyBox,
  padBox,
  unionBoundingBox,
  type Box,
} from "./crop.js";
import { MetricsError } from "./errors.js";
import { checkSpacing, checkVolumes } from "./options.js";
import { hd95Surface, SURFACE_HD95_EMPTY } from "./surfels.js";
import type {
  Challenge,
  LesionDetail,
  LesionWiseOptions,
  LesionWiseScores,
  Shape,
  Spacing,
} from "./types.js";

/** The BraTS 2023+ challenges and their lesion-wise parameters. */
export const CHALLENGES: Readonly<Record<Challenge, { dilation: number; threshold: number }>> = {
  GLI: { dilation: 3, threshold: 50 },
  SSA: { dilation: 3, threshold: 50 },
  PED: { dilation: 3, threshold: 50 },
  MEN: { dilation: 1, threshold: 50 },
  MET: { dilation: 1, threshold: 2 },
};

/** "GLI", "gli", "BraTS-GLI", "BraTS2023-GLI", ... → "GLI"; BAD_OPTION for anything else. */
export function parseChallenge(name: string): Challenge {
  const m = /^(?:brats(?:20\d\d)?[-_ ]?)?([a-z]+)$/i.exec(name.trim());
  const key = m?.[1]?.toUpperCase();
  if (key !== undefined && Object.hasOwn(CHALLENGES, key)) return key as Challenge;
  throw new MetricsError(
    "BAD_OPTION",
    `unknown challenge ${JSON.stringify(name)}; expected one of ${Object.keys(CHALLENGES).join(", ")} (BraTS-GLI spellings work too)`,
  );
}

/** Lesion-wise scores of one region, with what the per-lesion report needs. */
export interface LesionWiseResult extends LesionWiseScores {
  lesions: LesionDetail[];
  /** Ids of the predicted components that match no lesion. */
  falsePositives: number[];
  /** Voxels of each predicted component: components[id − 1]. */
  components: number[];
  dilation: number;
  threshold: number;
}

/** The dilation and threshold of lesion-wise options; BAD_OPTION when they are missing or bad. */
export function resolveLesionWise(opts: LesionWiseOptions): {
  dilation: number;
  threshold: number;
} {
  const base = opts.challenge === undefined ? null : CHALLENGES[opts.challenge];
  if (opts.challenge !== undefined && base === undefined) parseChallenge(opts.challenge);
  const dilation = opts.dilation ?? base?.dilation;
  const threshold = opts.threshold ?? base?.threshold;
  if (dilation === undefined || threshold === undefined) {
    throw new MetricsError(
      "BAD_OPTION",
      "lesion-wise scores need a challenge, or dilation and threshold",
    );
  }
  if (!(Number.isSafeInteger(dilation) && dilation >= 0)) {
    throw new MetricsError("BAD_OPTION", `dilation must be an integer ≥ 0, got ${dilation}`);
  }
  if (!(threshold >= 0)) {
    throw new MetricsError("BAD_OPTION", `threshold must be a number ≥ 0, got ${threshold}`);
  }
  return { dilation, threshold };
}

/** Grows `b` (half-open) to hold voxel (x, y, z). */
function growBox(b: Box, x: number, y: number, z: number): void {
  if (x < b.x0) b.x0 = x;
  if (x + 1 > b.x1) b.x1 = x + 1;
  if (y < b.y0) b.y0 = y;
  if (y + 1 > b.y1) b.y1 = y + 1;
  if (z < b.z0) b.z0 = z;
  if (z + 1 > b.z1) b.z1 = z + 1;
}

function unionBox(a: Box, b: Box): Box {
  return {
    x0: Math.min(a.x0, b.x0),
    y0: Math.min(a.y0, b.y0),
    z0: Math.min(a.z0, b.z0),
    x1: Math.max(a.x1, b.x1),
    y1: Math.max(a.y1, b.y1),
    z1: Math.max(a.z1, b.z1),
  };
}

/**
 * Lesions (numbered in order of their first ground-truth voxel) and their matches, in one pass
 * over the box: each lesion's labels, voxels, overlap with the prediction and box, each predicted
 * component's box, and the components touching each lesion's component of the dilated ground truth.
 */
function matchLesions(
  gtCrop: Uint8Array,
  dims: Shape,
  mergedLabels: Int32Array,
  mergedCount: number,
  components: { labels: Int32Array; sizes: number[] },
) {
  const nComponents = components.sizes.length;
  // Lesions are numbered in order of their first ground-truth voxel.
  const lesionOf = new Int32Array(mergedCount + 1);
  let lesions = 0;
  const lesionVoxels: number[] = [];
  const overlap: number[] = [];
  // Matched (lesion, component) pairs; lastLesion[c] skips repeats of the commonest case.
  const pairs = new Set<number>();
  const lastLesion = new Int32Array(nComponents + 1);
  const componentLabels = components.labels;
  // One pass over the box: lesion labels, sizes, overlaps and boxes, component boxes and the
  // matched pairs.
  const lesionLabels = new Int32Array(gtCrop.length);
  const lesionBoxes: Box[] = [];
  const componentBoxes: Box[] = Array.from({ length: nComponents }, emptyBox);
  const [nx, ny, nz] = dims;
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        const c = componentLabels[i]!;
        if (c !== 0) growBox(componentBoxes[c - 1]!, x, y, z);
        const m = mergedLabels[i]!;
        if (m === 0) continue;
        if (gtCrop[i] !== 0) {
          let lesion = lesionOf[m]!;
          if (lesion === 0) {
            lesion = lesionOf[m] = ++lesions;
            lesionVoxels.push(0);
            overlap.push(0);
            lesionBoxes.push(emptyBox());
          }
          lesionLabels[i] = lesion;
          lesionVoxels[lesion - 1]!++;
          if (c !== 0) overlap[lesion - 1]!++;
          growBox(lesionBoxes[lesion - 1]!, x, y, z);
        }
        if (c !== 0 && lastLesion[c] !== m) {
          lastLesion[c] = m;
          pairs.add(m * (nComponents + 1) + c);
        }
      }
    }
  }
  // Each merged component holds ground truth, so every one has its lesion now.
  const matchedBy: number[][] = Array.from({ length: lesions }, () => []);
  const matchedAny = new Uint8Array(nComponents + 1);
  for (const key of pairs) {
    const c = key % (nComponents + 1);
    const lesion = lesionOf[(key - c) / (nComponents + 1)]!;
    matchedBy[lesion - 1]!.push(c);
    matchedAny[c] = 1;
  }
  return {
    lesions,
    lesionLabels,
    lesionBoxes,
    lesionVoxels,
    overlap,
    componentBoxes,
    matchedBy,
    matchedAny,
  };
}

/**
 * Lesion-wise Dice and surface HD95 of one region (binary masks, nonzero = inside, Fortran order
 * over `shape`, `spacing` in mm), with the challenge's or the given dilation and threshold.
 */
export function lesionWise(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
  opts: LesionWiseOptions,
): LesionWiseResult {
  checkVolumes(pred, gt, shape);
  checkSpacing(spacing);
  const { dilation, threshold } = resolveLesionWise(opts);
  const empty: LesionWiseResult = {
    dice: 1,
    hd95: 0,
    tp: 0,
    fn: 0,
    fp: 0,
    lesions: [],
    falsePositives: [],
    components: [],
    dilation,
    threshold,
  };
  const union = unionBoundingBox(pred, gt, shape);
  if (isEmptyBox(union)) return empty;
  // The dilation reaches `dilation` voxels out (clipped at the image's border, as scipy's is).
  const crop = padBox(union, dilation, shape);
  const dims = boxDims(crop);
  const gtCrop = cropMask(gt, shape, crop);
  const predCrop = cropMask(pred, shape, crop);

  // Lesions: components of the dilated ground truth, restricted to the ground truth. A lesion
  // dilated is exactly its component of the dilated ground truth (dilation distributes over the
  // union of the ground-truth components it merged, and each of those dilates within one
  // component), so that component is what a lesion's matches must touch: no dilation per lesion.
  const merged = connectedComponents(dilate(gtCrop, dims, 18, dilation), dims, 26);
  const components = connectedComponents(predCrop, dims, 26);
  const nComponents = components.sizes.length;
  const {
    lesions,
    lesionLabels,
    lesionBoxes,
    lesionVoxels,
    overlap,
    componentBoxes,
    matchedBy,
    matchedAny,
  } = matchLesions(gtCrop, dims, merged.labels, merged.sizes.length, components);
  const componentLabels = components.labels;
  const voxelVolume = spacing[0] * spacing[1] * spacing[2];

  const details: LesionDetail[] = [];
  for (let id = 1; id <= lesions; id++) {
    const ids = matchedBy[id - 1]!.sort((a, b) => a - b);
    const voxels = lesionVoxels[id - 1]!;
    let dice = 0;
    let hd95 = SURFACE_HD95_EMPTY;
    if (ids.length > 0) {
      // Every predicted voxel inside the lesion belongs to a matched component (it touches it).
      let predVoxels = 0;
      for (const c of ids) predVoxels += components.sizes[c - 1]!;
      dice = (2 * overlap[id - 1]!) / (voxels + predVoxels);
      let both = lesionBoxes[id - 1]!;
      for (const c of ids) both = unionBox(both, componentBoxes[c - 1]!);
      const matched = new Uint8Array(nComponents + 1);
      for (const c of ids) matched[c] = 1;
      hd95 = hd95Surface(
        cropMask(componentLabels, dims, both, (c) => matched[c] === 1),
        cropMask(lesionLabels, dims, both, (l) => l === id),
        boxDims(both),
        spacing,
      );
    }
    const volume = voxels * voxelVolume;
    details.push({ id, voxels, volume, matched: ids, dice, hd95, counted: volume > threshold });
  }

  const falsePositives: number[] = [];
  for (let c = 1; c <= nComponents; c++) if (matchedAny[c] === 0) falsePositives.push(c);
  const counted = details.filter((d) => d.counted);
  const tp = counted.filter((d) => d.matched.length > 0).length;
  const fp = falsePositives.length;
  const denominator = counted.length + fp;
  const componentVoxels = Array.from(components.sizes);
  if (denominator === 0) return { ...empty, lesions: details, components: componentVoxels };
  const diceSum = counted.reduce((s, d) => s + d.dice, 0);
  const hdSum = counted.reduce((s, d) => s + d.hd95, 0);
  return {
    dice: diceSum / denominator,
    hd95: (hdSum + SURFACE_HD95_EMPTY * fp) / denominator,
    tp,
    fn: counted.length - tp,
    fp,
    lesions: details,
    falsePositives,
    components: componentVoxels,
    dilation,
    threshold,
  };
}
