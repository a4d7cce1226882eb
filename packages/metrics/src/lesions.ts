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
// Everything runs in one crop, the region's union bounding box grown by the dilation; the surface
// HD95s of the lesions and of the whole region come from one extraction of each mask's surfels.
import { connectedComponents, dilate } from "@brats/data";
import {
  boxDims,
  cropMask,
  isEmptyBox,
  padBox,
  shiftBox,
  unionBoundingBox,
  type Box,
} from "./crop.js";
import { MetricsError } from "./errors.js";
import { checkSpacing, checkVolumes } from "./options.js";
import {
  distancesOfSurfels,
  distancesTo,
  hd95OfDistances,
  surfelAreas,
  surfelsOf,
  surfelSubset,
  SURFACE_HD95_EMPTY,
  type SurfelDistances,
  type Surfels,
} from "./surfels.js";
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
  /** The surface HD95 of the whole region (hd95Surface of the two masks), found on the way. */
  hd95Surface: number;
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

/**
 * Lesions (numbered in order of their first ground-truth voxel) and their matches, in one pass
 * over the box: each lesion's labels, voxels and overlap with the prediction, and the components
 * touching each lesion's component of the dilated ground truth (ascending ids).
 */
function matchLesions(
  gtCrop: Uint8Array,
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
  // One pass over the box: lesion labels, sizes and overlaps, and the matched pairs. The lesion
  // labels overwrite the merged ones, each voxel's after it is read (nothing reads them later).
  const lesionLabels = mergedLabels;
  for (let i = 0; i < gtCrop.length; i++) {
    const m = mergedLabels[i]!;
    if (m === 0) continue;
    const c = componentLabels[i]!;
    if (gtCrop[i] !== 0) {
      let lesion = lesionOf[m]!;
      if (lesion === 0) {
        lesion = lesionOf[m] = ++lesions;
        lesionVoxels.push(0);
        overlap.push(0);
      }
      lesionLabels[i] = lesion;
      lesionVoxels[lesion - 1]!++;
      if (c !== 0) overlap[lesion - 1]!++;
    } else {
      lesionLabels[i] = 0;
    }
    if (c !== 0 && lastLesion[c] !== m) {
      lastLesion[c] = m;
      pairs.add(m * (nComponents + 1) + c);
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
    lesionVoxels,
    overlap,
    matchedBy: matchedBy.map((ids) => ids.sort((a, b) => a - b)),
    matchedAny,
  };
}

/**
 * The surface distances behind every lesion's HD95 and the region's, from one extraction of each
 * mask's surfels (labelled by component and lesion: see Surfels) in the region's union box `box`,
 * the grid surface-distance uses for the region. A lesion's surfels and its matches' are subsets of
 * those. With one lesion (the usual case) the region's and the lesion's distances share their
 * work: pred → gt is the same transform (the lesion is the whole ground truth), and gt → pred of
 * the region is the nearer of the matched components and the false positives.
 */
function surfaceHd95s(
  componentLabels: Int32Array,
  lesionLabels: Int32Array,
  dims: Shape,
  box: Box,
  spacing: Spacing,
  matchedBy: readonly number[][],
  nComponents: number,
): { regionHd95: number; lesionHd95: (id: number) => number } {
  const areaOfCode = surfelAreas(spacing);
  const pred = surfelsOf(componentLabels, dims, box, areaOfCode, true);
  const gt = surfelsOf(lesionLabels, dims, box, areaOfCode, true);
  const matchedSet = (id: number) => {
    const keep = new Uint8Array(nComponents + 1);
    for (const c of matchedBy[id - 1]!) keep[c] = 1;
    return keep;
  };
  const lesionHd95 = (lesion: Surfels, matches: Surfels) =>
    hd95OfDistances(distancesOfSurfels(matches, lesion, spacing));
  if (matchedBy.length === 1 && matchedBy[0]!.length > 0) {
    const keep = matchedSet(1);
    const predToGt = distancesTo(gt, pred, spacing);
    if (matchedBy[0]!.length === nComponents) {
      // Every component matches the one lesion: the lesion's masks are the region's.
      const hd95 = hd95OfDistances({
        gtToPred: distancesTo(pred, gt, spacing),
        gtAreas: gt.areas,
        predToGt,
        predAreas: pred.areas,
      });
      return { regionHd95: hd95, lesionHd95: () => hd95 };
    }
    const matched = surfelSubset(pred, keep);
    const falsePositives = surfelSubset(
      pred,
      keep.map((k) => 1 - k),
    );
    const gtToMatched = distancesTo(matched, gt, spacing);
    const gtToPred = distancesTo(falsePositives, gt, spacing);
    for (let i = 0; i < gtToPred.length; i++) {
      if (gtToMatched[i]! < gtToPred[i]!) gtToPred[i] = gtToMatched[i]!;
    }
    const region: SurfelDistances = {
      gtToPred,
      gtAreas: gt.areas,
      predToGt,
      predAreas: pred.areas,
    };
    const lesion: SurfelDistances = {
      gtToPred: gtToMatched,
      gtAreas: gt.areas,
      predToGt: predToGt.filter((_, i) => keep[pred.labels![i]!] === 1),
      predAreas: matched.areas,
    };
    const hd95 = hd95OfDistances(lesion);
    return { regionHd95: hd95OfDistances(region), lesionHd95: () => hd95 };
  }
  const regionHd95 = hd95OfDistances(distancesOfSurfels(pred, gt, spacing));
  return {
    regionHd95,
    lesionHd95: (id) => {
      const keep = new Uint8Array(matchedBy.length + 1);
      keep[id] = 1;
      return lesionHd95(surfelSubset(gt, keep), surfelSubset(pred, matchedSet(id)));
    },
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
    hd95Surface: 0,
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
  return lesionWiseOfCrop(
    cropMask(pred, shape, crop),
    cropMask(gt, shape, crop),
    boxDims(crop),
    shiftBox(union, crop),
    spacing,
    { dilation, threshold },
  );
}

/**
 * lesionWise of masks already cropped: `union` (crop coordinates, not empty) is the union box of
 * both masks, and the crop holds it grown by the dilation, clipped only where the image ends.
 */
export function lesionWiseOfCrop(
  predCrop: Uint8Array,
  gtCrop: Uint8Array,
  dims: [number, number, number],
  union: Box,
  spacing: Spacing,
  { dilation, threshold }: { dilation: number; threshold: number },
): LesionWiseResult {
  // Lesions: components of the dilated ground truth, restricted to the ground truth. A lesion
  // dilated is exactly its component of the dilated ground truth (dilation distributes over the
  // union of the ground-truth components it merged, and each of those dilates within one
  // component), so that component is what a lesion's matches must touch: no dilation per lesion.
  const merged = connectedComponents(dilate(gtCrop, dims, 18, dilation), dims, 26);
  const components = connectedComponents(predCrop, dims, 26);
  const nComponents = components.sizes.length;
  const { lesions, lesionLabels, lesionVoxels, overlap, matchedBy, matchedAny } = matchLesions(
    gtCrop,
    merged.labels,
    merged.sizes.length,
    components,
  );
  const voxelVolume = spacing[0] * spacing[1] * spacing[2];
  const surface = surfaceHd95s(
    components.labels,
    lesionLabels,
    dims,
    union,
    spacing,
    matchedBy,
    nComponents,
  );

  const details: LesionDetail[] = [];
  for (let id = 1; id <= lesions; id++) {
    const ids = matchedBy[id - 1]!;
    const voxels = lesionVoxels[id - 1]!;
    let dice = 0;
    let hd95 = SURFACE_HD95_EMPTY;
    if (ids.length > 0) {
      // Every predicted voxel inside the lesion belongs to a matched component (it touches it).
      let predVoxels = 0;
      for (const c of ids) predVoxels += components.sizes[c - 1]!;
      dice = (2 * overlap[id - 1]!) / (voxels + predVoxels);
      hd95 = surface.lesionHd95(id);
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
  const diceSum = counted.reduce((s, d) => s + d.dice, 0);
  const hdSum = counted.reduce((s, d) => s + d.hd95, 0);
  // Nothing to count (no counted lesion, no false positive): Dice 1, HD95 0.
  const none = denominator === 0;
  return {
    dice: none ? 1 : diceSum / denominator,
    hd95: none ? 0 : (hdSum + SURFACE_HD95_EMPTY * fp) / denominator,
    tp,
    fn: counted.length - tp,
    fp,
    hd95Surface: surface.regionHd95,
    lesions: details,
    falsePositives,
    components: Array.from(components.sizes),
    dilation,
    threshold,
  };
}
