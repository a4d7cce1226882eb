// Whole-case BraTS evaluation. One pass over both label volumes builds a pred-label × gt-label
// joint histogram, from which every label's and region's confusion counts follow, and the
// bounding box of the labels the convention scores. Only that box (plus a one-voxel margin) is
// then copied and scanned once for the surfaces of every region and label at the same time.
import {
  confusion,
  confusionFromCounts,
  dice,
  jaccard,
  precision,
  sensitivity,
  specificity,
} from "./confusion.js";
import type { Box } from "./crop.js";
import { boxDims, emptyBox, isEmptyBox, padBox, shiftBox } from "./crop.js";
import {
  distanceMetrics,
  distancesBetween,
  emptyDistanceMetrics,
  surfaceDistances,
} from "./distance.js";
import type { DistanceMetrics } from "./distance.js";
import { MetricsError } from "./errors.js";
import { DEFAULT_LABEL_CONVENTION, REGION_NAMES, type RegionName } from "@brats/conventions";
import { conventionInfo, labelLookup } from "./labels.js";
import type { LabelLookup } from "./labels.js";
import { checkSpacing, checkVolumes, resolveMetricOptions } from "./options.js";
import type { ResolvedMetricOptions } from "./options.js";
import { lesionWiseOfCrop, resolveLesionWise } from "./lesions.js";
import { extractSurfaces, VoxelList } from "./surface.js";
import type {
  CaseMetrics,
  Confusion,
  EvaluateOptions,
  LabelVolume,
  LesionWiseOptions,
  MetricOptions,
  MetricSet,
  RegionLesions,
  Shape,
  Spacing,
} from "./types.js";

const LABELS = 256;

function metricSet(
  c: Confusion,
  d: DistanceMetrics,
  spacing: Spacing,
  opts: ResolvedMetricOptions,
): MetricSet {
  // mL = voxels × mm³ per voxel / 1000.
  const volume = spacing[0] * spacing[1] * spacing[2];
  return {
    dice: dice(c, opts),
    hd95: d.hd95,
    hd: d.hd,
    assd: d.assd,
    sensitivity: sensitivity(c, opts),
    specificity: specificity(c, opts),
    precision: precision(c, opts),
    jaccard: jaccard(c, opts),
    volumePredMl: ((c.tp + c.fp) * volume) / 1000,
    volumeGtMl: ((c.tp + c.fn) * volume) / 1000,
  };
}

/**
 * Every metric of a binary prediction (nonzero = inside, Fortran order) against a binary ground
 * truth. SHAPE_MISMATCH when the masks do not hold shape's voxels; BAD_OPTION for bad spacing or
 * options.
 */
export function computeMetrics(
  pred: Uint8Array,
  gt: Uint8Array,
  shape: Shape,
  spacing: Spacing,
  opts?: MetricOptions,
): MetricSet {
  const resolved = resolveMetricOptions(opts);
  checkVolumes(pred, gt, shape);
  checkSpacing(spacing);
  const c = confusion(pred, gt);
  const predEmpty = c.tp + c.fp === 0;
  const gtEmpty = c.tp + c.fn === 0;
  const d =
    predEmpty || gtEmpty
      ? emptyDistanceMetrics(predEmpty, gtEmpty, resolved)
      : distanceMetrics(surfaceDistances(pred, gt, shape, spacing));
  return metricSet(c, d, spacing, resolved);
}

function badLabel(which: "pred" | "gt", value: number, index: number, shape: Shape): MetricsError {
  const x = index % shape[0];
  const y = Math.floor(index / shape[0]) % shape[1];
  const z = Math.floor(index / (shape[0] * shape[1]));
  return new MetricsError(
    "BAD_LABELS",
    `${which} has value ${value} at voxel (${x}, ${y}, ${z}); labels must be integers in 0..255` +
      (which === "pred" ? " (after the label map)" : ""),
  );
}

/**
 * A 32-bit view of a typed array when every row of `rowLength` elements starts on a word, so a
 * row of zeros can be recognised a word at a time (all-zero bits are 0 in every numeric type;
 * -0.0 is not all-zero bits and just takes the slow path). Null otherwise.
 */
function wordView(
  volume: LabelVolume,
  rowLength: number,
): { words: Uint32Array; perRow: number } | null {
  if (!ArrayBuffer.isView(volume) || volume instanceof DataView) return null;
  const bytesPerElement = (volume as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const rowBytes = rowLength * bytesPerElement;
  if (volume.byteOffset % 4 !== 0 || rowBytes % 4 !== 0) return null;
  return {
    words: new Uint32Array(volume.buffer, volume.byteOffset, volume.byteLength >>> 2),
    perRow: rowBytes / 4,
  };
}

function rowIsZero(words: Uint32Array, from: number, to: number): boolean {
  for (let w = from; w < to; w++) if (words[w] !== 0) return false;
  return true;
}

interface LabelScan {
  /** hist[predLabel * 256 + gtLabel] = voxels (pred labels after the label map). */
  hist: Float64Array;
  /** Bounding box of the voxels where either volume has a label of the convention. */
  box: Box;
  /** Per image row (y + z·ny): 1 when either volume has a nonzero value in it. */
  occupiedRows: Uint8Array;
}

function scanLabels(
  pred: LabelVolume,
  gt: LabelVolume,
  shape: Shape,
  lookup: LabelLookup,
  scored: Uint8Array,
): LabelScan {
  const [nx, ny, nz] = shape;
  const hist = new Float64Array(LABELS * LABELS);
  const occupiedRows = new Uint8Array(ny * nz);
  const { table, extra } = lookup;
  const predWords = wordView(pred, nx);
  const gtWords = wordView(gt, nx);
  let x0 = nx;
  let y0 = ny;
  let z0 = nz;
  let x1 = -1;
  let y1 = -1;
  let z1 = -1;
  let background = 0;
  let row = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++, row++) {
      const start = row * nx;
      if (
        predWords !== null &&
        gtWords !== null &&
        rowIsZero(predWords.words, row * predWords.perRow, (row + 1) * predWords.perRow) &&
        rowIsZero(gtWords.words, row * gtWords.perRow, (row + 1) * gtWords.perRow)
      ) {
        background += nx;
        continue;
      }
      const backgroundBefore = background;
      for (let x = 0; x < nx; x++) {
        const i = start + x;
        const p = pred[i]!;
        const g = gt[i]!;
        if (p === 0 && g === 0) {
          background++;
          continue;
        }
        let pl: number;
        if (p >>> 0 === p && p < LABELS) {
          pl = table[p]!;
        } else {
          const mapped = extra.get(p);
          if (mapped === undefined) throw badLabel("pred", p, i, shape);
          pl = mapped;
        }
        if (!(g >>> 0 === g && g < LABELS)) throw badLabel("gt", g, i, shape);
        hist[pl * LABELS + g]!++;
        if ((scored[pl]! | scored[g]!) !== 0) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
          if (z < z0) z0 = z;
          z1 = z;
        }
      }
      if (background - backgroundBefore < nx) occupiedRows[row] = 1;
    }
  }
  hist[0]! += background;
  return { hist, box: { x0, y0, z0, x1: x1 + 1, y1: y1 + 1, z1: z1 + 1 }, occupiedRows };
}

/**
 * Copies the box out of both volumes as 8-bit codes. A Uint8Array prediction keeps its raw values
 * (rows copied whole, the label map is folded into the code → mask lookup); any other prediction
 * is stored as mapped labels. Every value was validated by the scan.
 */
function cropCodes(
  pred: LabelVolume,
  gt: LabelVolume,
  shape: Shape,
  box: Box,
  lookup: LabelLookup,
  occupiedRows: Uint8Array,
): { pred: Uint8Array; gt: Uint8Array; predIsRaw: boolean; occupiedRows: Uint8Array } {
  const [nx, ny] = shape;
  const [cx, cy, cz] = boxDims(box);
  const predCodes = new Uint8Array(cx * cy * cz);
  const gtCodes = new Uint8Array(cx * cy * cz);
  const predIsRaw = pred instanceof Uint8Array;
  const cropRows = new Uint8Array(cy * cz);
  const { table, extra } = lookup;
  let j = 0;
  for (let z = 0; z < cz; z++) {
    for (let y = 0; y < cy; y++, j += cx) {
      const row = (box.z0 + z) * ny + box.y0 + y;
      if (occupiedRows[row] === 0) continue; // zeros, as the crop already is
      cropRows[z * cy + y] = 1;
      const from = row * nx + box.x0;
      if (pred instanceof Uint8Array) {
        predCodes.set(pred.subarray(from, from + cx), j);
      } else {
        for (let x = 0; x < cx; x++) {
          const p = pred[from + x]!;
          predCodes[j + x] = p >>> 0 === p && p < LABELS ? table[p]! : extra.get(p)!;
        }
      }
      if (gt instanceof Uint8Array) {
        gtCodes.set(gt.subarray(from, from + cx), j);
      } else {
        for (let x = 0; x < cx; x++) gtCodes[j + x] = gt[from + x]!;
      }
    }
  }
  return { pred: predCodes, gt: gtCodes, predIsRaw, occupiedRows: cropRows };
}

/**
 * BraTS metrics of one case: every region (WT/TC/ET) and label of the convention, from two label
 * volumes (Fortran order, any integer-valued array). Predicted labels go through `labelMap` first.
 * Values that are not integers in 0..255: BAD_LABELS; lengths that do not match `shape`:
 * SHAPE_MISMATCH; bad options or spacing: BAD_OPTION. Labels the convention does not use are
 * listed in `unknownLabels` and scored nowhere.
 */
export function evaluateCase(
  pred: LabelVolume,
  gt: LabelVolume,
  shape: Shape,
  spacing: Spacing,
  opts?: EvaluateOptions,
): CaseMetrics {
  const resolved = resolveMetricOptions(opts);
  const info = conventionInfo(opts?.convention ?? DEFAULT_LABEL_CONVENTION);
  const lookup = labelLookup(opts?.labelMap);
  if (opts?.lesionWise !== undefined) resolveLesionWise(opts.lesionWise);
  const total = checkVolumes(pred, gt, shape);
  checkSpacing(spacing);

  const scored = new Uint8Array(LABELS);
  for (const l of info.labels) scored[l] = 1;
  const { hist, box, occupiedRows } = scanLabels(pred, gt, shape, lookup, scored);
  const predCounts = new Float64Array(LABELS);
  const gtCounts = new Float64Array(LABELS);
  for (let p = 0; p < LABELS; p++) {
    for (let g = 0; g < LABELS; g++) {
      const count = hist[p * LABELS + g]!;
      if (count === 0) continue;
      predCounts[p]! += count;
      gtCounts[g]! += count;
    }
  }
  const unknownPred: number[] = [];
  const unknownGt: number[] = [];
  for (let l = 1; l < LABELS; l++) {
    if (scored[l] === 1) continue;
    if (predCounts[l]! > 0) unknownPred.push(l);
    if (gtCounts[l]! > 0) unknownGt.push(l);
  }

  // The structures to score: regions, then labels; identical label sets (brats2021's label 4 is
  // ET) are scored once.
  const structures: { key: string; labels: number[] }[] = [];
  const structureOf = (labels: readonly number[]): number => {
    const sorted = [...labels].sort((a, b) => a - b);
    const key = sorted.join(",");
    const found = structures.findIndex((s) => s.key === key);
    if (found >= 0) return found;
    structures.push({ key, labels: sorted });
    return structures.length - 1;
  };
  const regionStructure = REGION_NAMES.map((r) => structureOf(info.regions[r]));
  const labelStructure = info.labels.map((l) => structureOf([l]));

  const confusions = structures.map(({ labels }) => {
    let tp = 0;
    let predCount = 0;
    let gtCount = 0;
    for (const p of labels) {
      predCount += predCounts[p]!;
      gtCount += gtCounts[p]!;
      for (const g of labels) tp += hist[p * LABELS + g]!;
    }
    return confusionFromCounts(tp, predCount, gtCount, total);
  });

  // Surfaces of every structure with both masks non-empty, from one scan of each volume's crop;
  // bit s of bits[label] marks structure s (at most 7: brats2015's 3 regions and 4 labels).
  const predSurfaces: (VoxelList | null)[] = [];
  const gtSurfaces: (VoxelList | null)[] = [];
  const bits = new Uint8Array(LABELS);
  const withDistances = opts?.distances ?? true;
  confusions.forEach((c, s) => {
    const both = withDistances && c.tp + c.fp > 0 && c.tp + c.fn > 0;
    predSurfaces.push(both ? new VoxelList(1024) : null);
    gtSurfaces.push(both ? new VoxelList(1024) : null);
    if (both) for (const l of structures[s]!.labels) bits[l]! |= 1 << s;
  });
  if (!isEmptyBox(box) && predSurfaces.some((l) => l !== null)) {
    const crop = padBox(box, 1, shape);
    const dims = boxDims(crop);
    const codes = cropCodes(pred, gt, shape, crop, lookup, occupiedRows);
    let predBits = bits;
    if (codes.predIsRaw) {
      predBits = new Uint8Array(LABELS);
      for (let v = 0; v < LABELS; v++) predBits[v] = bits[lookup.table[v]!]!;
    }
    extractSurfaces(codes.pred, predBits, dims, predSurfaces, codes.occupiedRows);
    extractSurfaces(codes.gt, bits, dims, gtSurfaces, codes.occupiedRows);
  }

  const results = structures.map((_, s) => {
    const c = confusions[s]!;
    const predSurface = predSurfaces[s];
    const gtSurface = gtSurfaces[s];
    const d = !withDistances
      ? { hd: NaN, hd95: NaN, assd: NaN }
      : predSurface && gtSurface
        ? distanceMetrics(distancesBetween(predSurface, gtSurface, spacing))
        : emptyDistanceMetrics(c.tp + c.fp === 0, c.tp + c.fn === 0, resolved);
    return metricSet(c, d, spacing, resolved);
  });

  const regions = {} as Record<RegionName, MetricSet>;
  REGION_NAMES.forEach((r, i) => {
    regions[r] = { ...results[regionStructure[i]!]! };
  });
  const labels: Record<string, MetricSet> = {};
  info.labels.forEach((l, i) => {
    labels[String(l)] = { ...results[labelStructure[i]!]! };
  });
  const result: CaseMetrics = { regions, labels };
  if (opts?.lesionWise !== undefined) {
    result.lesions = addLesionWise(regions, { pred, gt, shape, spacing }, box, occupiedRows, {
      lookup,
      regionLabels: info.regions,
      options: opts.lesionWise,
    });
  }
  if (unknownPred.length > 0 || unknownGt.length > 0) {
    result.unknownLabels = { pred: unknownPred, gt: unknownGt };
  }
  return result;
}

/**
 * Lesion-wise scores and the surface HD95 of every region, set on `regions`; returns each region's
 * lesions. Works on the scored labels' box grown by the dilation (clipped at the image, as the
 * dilation is), which holds everything the lesion-wise definition looks at.
 */
function addLesionWise(
  regions: Record<RegionName, MetricSet>,
  volumes: { pred: LabelVolume; gt: LabelVolume; shape: Shape; spacing: Spacing },
  box: Box,
  occupiedRows: Uint8Array,
  how: {
    lookup: LabelLookup;
    regionLabels: Record<RegionName, readonly number[]>;
    options: LesionWiseOptions;
  },
): Record<RegionName, RegionLesions> {
  const { pred, gt, shape, spacing } = volumes;
  const parameters = resolveLesionWise(how.options);
  const { dilation } = parameters;
  const voxelVolume = spacing[0] * spacing[1] * spacing[2];
  const lesions = {} as Record<RegionName, RegionLesions>;
  // A region empty in both volumes: nothing to count.
  const setEmpty = (region: RegionName) => {
    regions[region].lesionWise = { dice: 1, hd95: 0, tp: 0, fp: 0, fn: 0 };
    regions[region].hd95Surface = 0;
    lesions[region] = { lesions: [], falsePositives: [] };
  };
  if (isEmptyBox(box)) {
    for (const region of REGION_NAMES) setEmpty(region);
    return lesions;
  }
  const crop = padBox(box, Math.max(1, dilation), shape);
  const dims = boxDims(crop);
  const codes = cropCodes(pred, gt, shape, crop, how.lookup, occupiedRows);
  // Per code, the regions (bit r of REGION_NAMES) it lies in, on each side.
  const predBits = new Uint8Array(LABELS);
  const gtBits = new Uint8Array(LABELS);
  REGION_NAMES.forEach((region, r) => {
    for (const l of how.regionLabels[region]) gtBits[l]! |= 1 << r;
  });
  for (let v = 0; v < LABELS; v++)
    predBits[v] = codes.predIsRaw ? gtBits[how.lookup.table[v]!]! : gtBits[v]!;
  const regionBoxes = regionBoxesOf(codes, dims, predBits, gtBits);
  for (const [r, region] of REGION_NAMES.entries()) {
    const union = regionBoxes[r]!;
    if (isEmptyBox(union)) {
      setEmpty(region);
      continue;
    }
    // The region's masks in its own box grown by the dilation: the crop is the scored labels' box
    // grown as much, so that box is clipped only where the image ends, as lesionWise's is.
    const regionCrop = padBox(union, dilation, dims);
    const [cx, cy, cz] = boxDims(regionCrop);
    const predMask = new Uint8Array(cx * cy * cz);
    const gtMask = new Uint8Array(cx * cy * cz);
    const bit = 1 << r;
    for (let z = 0, j = 0; z < cz; z++) {
      for (let y = 0; y < cy; y++) {
        const row = (regionCrop.z0 + z) * dims[1] + regionCrop.y0 + y;
        if (codes.occupiedRows[row] === 0) {
          j += cx;
          continue;
        }
        const from = row * dims[0] + regionCrop.x0;
        for (let x = 0; x < cx; x++, j++) {
          predMask[j] = (predBits[codes.pred[from + x]!]! & bit) >> r;
          gtMask[j] = (gtBits[codes.gt[from + x]!]! & bit) >> r;
        }
      }
    }
    const lw = lesionWiseOfCrop(
      predMask,
      gtMask,
      [cx, cy, cz],
      shiftBox(union, regionCrop),
      spacing,
      parameters,
    );
    const { dice, hd95, tp, fp, fn } = lw;
    regions[region].lesionWise = { dice, hd95, tp, fp, fn };
    regions[region].hd95Surface = lw.hd95Surface;
    lesions[region] = {
      lesions: lw.lesions,
      falsePositives: lw.falsePositives.map((id) => {
        const voxels = lw.components[id - 1]!;
        return { id, voxels, volume: voxels * voxelVolume };
      }),
    };
  }
  return lesions;
}

/** The union box of each region's prediction and ground truth in the crop, in one pass. */
function regionBoxesOf(
  codes: { pred: Uint8Array; gt: Uint8Array; occupiedRows: Uint8Array },
  dims: [number, number, number],
  predBits: Uint8Array,
  gtBits: Uint8Array,
): Box[] {
  const [nx, ny, nz] = dims;
  const boxes = REGION_NAMES.map(emptyBox);
  const first = new Int32Array(REGION_NAMES.length);
  const last = new Int32Array(REGION_NAMES.length);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = z * ny + y;
      if (codes.occupiedRows[row] === 0) continue;
      first.fill(-1);
      let seen = 0;
      for (let x = 0, i = row * nx; x < nx; x++, i++) {
        let bits = predBits[codes.pred[i]!]! | gtBits[codes.gt[i]!]!;
        if (bits === 0) continue;
        seen |= bits;
        while (bits !== 0) {
          const r = 31 - Math.clz32(bits);
          if (first[r]! < 0) first[r] = x;
          last[r] = x;
          bits &= ~(1 << r);
        }
      }
      for (let r = 0; r < boxes.length; r++) {
        if ((seen & (1 << r)) === 0) continue;
        const b = boxes[r]!;
        if (first[r]! < b.x0) b.x0 = first[r]!;
        if (last[r]! + 1 > b.x1) b.x1 = last[r]! + 1;
        if (y < b.y0) b.y0 = y;
        if (y + 1 > b.y1) b.y1 = y + 1;
        if (z < b.z0) b.z0 = z;
        b.z1 = z + 1;
      }
    }
  }
  return boxes;
}
