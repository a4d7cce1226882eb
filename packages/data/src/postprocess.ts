/**
 * From a model's output back to a BraTS segmentation on the input's grid: preparing a case for
 * inference (keeping what undoes the preprocessing), restoring probabilities to BraTS labels on
 * the original grid, a uint8 NIfTI image over the input, and optional label post-processing
 * (connected components, nnU-Net's enhancing-tumour threshold, small-component removal).
 *
 * Volumes are x-fastest (index = x + X·(y + Y·z)) as everywhere in @brats/data; channels-last
 * arrays are [z][y][x][K], i.e. [D,H,W,K] with the same voxel index times K.
 */
import { bestAffine, createImage } from "@brats/nifti";
import type { NiftiHeader, NiftiImage } from "@brats/nifti";
import { loadCase, type CaseFiles, type LoadedCase, type Modality } from "./cases.js";
import {
  classesToLabels,
  classLabels,
  DEFAULT_LABEL_CONVENTION,
  labelToClassTable,
  NO_CLASS,
  NUM_CLASSES,
  regionsToClasses,
  type LabelConvention,
} from "@brats/conventions";
import { badOption, checkConvention, DataError } from "./errors.js";
import { toChannelsLast } from "./patches.js";
import type { Vec3 } from "./grid.js";
import { preprocessCase, type PreprocessOptions, type PreprocessRecord } from "./preprocess.js";
import { undoPreprocess } from "./preprocess-undo.js";
import { checkShape, checkVolume, connectedComponents, isShape } from "./morphology.js";

// ---------------------------------------------------------------------------------------------
// label post-processing

export interface PostprocessOptions {
  /** Label convention of `labels` (default brats2021). */
  convention?: LabelConvention;
  /**
   * nnU-Net's BraTS rule: when the case's enhancing-tumour volume is above 0 but below this many
   * voxels, all of its enhancing tumour becomes necrotic core. Default 0 (off). nnU-Net picks the
   * threshold by cross-validation (0–750 voxels in steps of 10, capped at 750, in
   * MIC-DKFZ/nnUNet v1 nnunet/dataset_conversion/Task082_BraTS_2020.py); its BraTS 2020 models
   * ship with 200 (the FeTS wrapper of the isen2020 docker).
   */
  enhancingThreshold?: number;
  /**
   * Whole-tumour connected components smaller than this many voxels are removed (set to 0).
   * Default 0 (off).
   */
  minComponentSize?: number;
  /** Connectivity of those components: 6, 18 or 26 (default 26). */
  connectivity?: 6 | 18 | 26;
}

/**
 * Post-processes BraTS label values (x-fastest) and returns a new array: first whole-tumour
 * components below `minComponentSize` voxels are removed, then, when the remaining enhancing
 * tumour is smaller than `enhancingThreshold` voxels (but present), it is relabelled necrotic
 * core. With the defaults the labels come back unchanged. Labels outside the convention:
 * BAD_LABELS.
 */
export function postprocessLabels(
  labels: Uint8Array,
  shape: Vec3,
  opts: PostprocessOptions = {},
): Uint8Array {
  checkShape(shape);
  checkVolume(labels, shape, "labels");
  const convention = checkConvention(opts.convention ?? DEFAULT_LABEL_CONVENTION);
  const table = labelToClassTable(convention);
  const enhancingThreshold = opts.enhancingThreshold ?? 0;
  const minComponentSize = opts.minComponentSize ?? 0;
  if (!(Number.isFinite(enhancingThreshold) && enhancingThreshold >= 0)) {
    throw badOption(`enhancingThreshold must be a number ≥ 0, got ${enhancingThreshold}`);
  }
  if (!(Number.isFinite(minComponentSize) && minComponentSize >= 0)) {
    throw badOption(`minComponentSize must be a number ≥ 0, got ${minComponentSize}`);
  }
  const connectivity = opts.connectivity ?? 26;
  if (connectivity !== 6 && connectivity !== 18 && connectivity !== 26) {
    throw badOption(`connectivity must be 6, 18 or 26, got ${JSON.stringify(connectivity)}`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (table[labels[i]!] === NO_CLASS) {
      throw new DataError(
        "BAD_LABELS",
        `label ${labels[i]} at voxel ${i} is not a ${convention} label`,
      );
    }
  }
  const out = labels.slice();
  if (minComponentSize > 1) {
    const wt = new Uint8Array(out.length);
    for (let i = 0; i < out.length; i++) wt[i] = out[i] === 0 ? 0 : 1;
    const { labels: components, sizes } = connectedComponents(wt, shape, connectivity);
    const small = sizes.map((size) => size < minComponentSize);
    if (small.some(Boolean)) {
      for (let i = 0; i < out.length; i++) {
        const c = components[i]!;
        if (c !== 0 && small[c - 1]!) out[i] = 0;
      }
    }
  }
  if (enhancingThreshold > 0) {
    const [, ncr, , et] = classLabels(convention) as [number, number, number, number];
    let count = 0;
    for (let i = 0; i < out.length; i++) if (out[i] === et) count++;
    if (count > 0 && count < enhancingThreshold) {
      for (let i = 0; i < out.length; i++) if (out[i] === et) out[i] = ncr;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// preparing a case and restoring its segmentation

export interface PrepareForInferenceOptions {
  /** The model's input channels, in its order (the training run's modalities). */
  modalities: Modality[];
  /** preprocessCase options; default {} (what training used through prepareCase and PatchLoader). */
  preprocess?: PreprocessOptions;
  /** A missing modality: "error" (default) or a zero channel, as loadCase. */
  missing?: "error" | "zeros";
  /** Read the segmentation when the case has one (default true). */
  seg?: boolean;
}

export interface PreparedCase {
  /** The preprocessed channels, channels-last [z][y][x][C], as predictVolume wants them. */
  image: Float32Array;
  /** [D, H, W, C] = [z, y, x, C] of the preprocessed grid. */
  shape: [number, number, number, number];
  /** What undoes the preprocessing (restoreSegmentation). */
  record: PreprocessRecord;
  /** The header of the first image read: the grid and geometry the segmentation is written on. */
  reference: NiftiImage | NiftiHeader;
  /** The case as read: original grid, `seg` as stored in the file (label values) or null. */
  case: LoadedCase;
}

/**
 * Reads and preprocesses a case as training did (prepareCase with the same modalities and the
 * default preprocessing), keeping the record that undoes it and the input's header:
 * prepareForInference → predictVolume(image) → restoreSegmentation → segmentationImage →
 * writeNifti.
 */
export async function prepareForInference(
  files: CaseFiles,
  opts: PrepareForInferenceOptions,
): Promise<PreparedCase> {
  if (typeof opts !== "object" || opts === null || !Array.isArray(opts.modalities)) {
    throw badOption("prepareForInference needs the model's modalities");
  }
  const loaded = await loadCase(files, {
    modalities: opts.modalities,
    ...(opts.missing === undefined ? {} : { missing: opts.missing }),
    ...(opts.seg === undefined ? {} : { seg: opts.seg }),
  });
  const { case: prepared, record } = preprocessCase(loaded, opts.preprocess ?? {});
  const [x, y, z] = prepared.shape;
  const image = toChannelsLast(prepared.channels, prepared.shape);
  const reference =
    loaded.header ??
    // loadCase always keeps the first header; a hand-made LoadedCase might not.
    createImage({
      data: new Uint8Array(loaded.shape[0] * loaded.shape[1] * loaded.shape[2]),
      shape: [...loaded.shape],
      spacing: [...loaded.spacing],
      affine: loaded.affine,
    }).header;
  return { image, shape: [z, y, x, prepared.channels.length], record, reference, case: loaded };
}

export interface RestoreOptions {
  /**
   * "classes" (default): K = 4 class probabilities (background, NCR, ED, ET), argmax;
   * "regions": K = 3 sigmoid outputs WT, TC, ET, thresholded with the nested BraTS rule.
   */
  outputs?: "classes" | "regions";
  /** Label values written (default brats2021). */
  convention?: LabelConvention;
  /** Threshold of the region outputs (default 0.5): ET > t → ET, else TC > t → NCR, else WT > t → ED. */
  regionThreshold?: number;
}

/** Class index (0..3) per voxel of a channels-last [V][K] array (argmax or the region rule). */
function decideClasses(
  probabilities: Float32Array,
  voxels: number,
  stride: number,
  channelStride: number,
  regions: boolean,
  threshold: number,
): Uint8Array {
  if (regions) return regionsToClasses(probabilities, voxels, { stride, channelStride, threshold });
  const out = new Uint8Array(voxels);
  for (let v = 0, o = 0; v < voxels; v++, o += stride) {
    // first maximum wins, as predictVolume's labels
    let best = 0;
    let bestValue = probabilities[o]!;
    for (let c = 1; c < NUM_CLASSES; c++) {
      const value = probabilities[o + c * channelStride]!;
      if (value > bestValue) {
        bestValue = value;
        best = c;
      }
    }
    out[v] = best;
  }
  return out;
}

/**
 * BraTS label values on the original grid (x-fastest, the input file's voxel order) from model
 * outputs on the preprocessed grid: `probabilities` channels-last [z][y][x][K] over
 * `record.shape`, as predictVolume returns for prepareForInference's image. Where preprocessing
 * resampled, the probabilities are resampled back (trilinear) before the decision; otherwise the
 * decision is made on the preprocessed grid and the labels are mapped back exactly. Outside the
 * crop box: background.
 */
export function restoreSegmentation(
  probabilities: Float32Array,
  record: PreprocessRecord,
  opts: RestoreOptions = {},
): Uint8Array {
  const outputs = opts.outputs ?? "classes";
  if (outputs !== "classes" && outputs !== "regions") {
    throw badOption(`outputs must be "classes" or "regions", got ${JSON.stringify(outputs)}`);
  }
  const convention = checkConvention(opts.convention ?? DEFAULT_LABEL_CONVENTION); // before any work
  const threshold = opts.regionThreshold ?? 0.5;
  if (!(Number.isFinite(threshold) && threshold >= 0 && threshold <= 1)) {
    throw badOption(`regionThreshold must be in [0, 1], got ${threshold}`);
  }
  const shape = (record as Partial<PreprocessRecord> | null)?.shape;
  if (!isShape(shape)) throw badOption("not a valid PreprocessRecord (version 1)");
  const voxels = shape[0] * shape[1] * shape[2];
  const regions = outputs === "regions";
  const K = regions ? 3 : NUM_CLASSES;
  if (!(probabilities instanceof Float32Array) || probabilities.length !== voxels * K) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `${outputs} probabilities must be a Float32Array of ${voxels}×${K} values for the preprocessed shape [${shape.join(", ")}]`,
    );
  }
  let classes: Uint8Array;
  if (record.resampling === null) {
    // Uncrop and reorientation move voxels without mixing them: decide first, on fewer voxels.
    const decided = decideClasses(probabilities, voxels, K, 1, regions, threshold);
    classes = undoPreprocess({ data: decided }, record, "labels").data;
  } else {
    const planar = new Float32Array(voxels * K);
    for (let v = 0, o = 0; v < voxels; v++, o += K) {
      for (let c = 0; c < K; c++) planar[c * voxels + v] = probabilities[o + c]!;
    }
    // Outside the crop the model saw nothing: certain background.
    const fill = regions ? [0, 0, 0] : [1, 0, 0, 0];
    const restored = undoPreprocess({ data: planar, channels: K }, record, "probabilities", {
      fill,
    });
    const outVoxels = restored.shape[0] * restored.shape[1] * restored.shape[2];
    classes = decideClasses(restored.data, outVoxels, 1, outVoxels, regions, threshold);
  }
  return classesToLabels(classes, convention);
}

/**
 * A uint8 image of `labels` (x-fastest) on exactly the reference's grid: its dims, pixdim,
 * qform/sform codes and parameters, xyzt_units and affine are kept, so it opens over the input in
 * any viewer; scl_slope 1, scl_inter 0, cal_min 0, cal_max 4, no extensions, 3-D.
 */
export function segmentationImage(
  labels: Uint8Array,
  reference: NiftiImage | NiftiHeader,
): NiftiImage {
  const candidate: unknown =
    typeof reference === "object" && reference !== null && "header" in reference
      ? reference.header
      : reference;
  const header = candidate as NiftiHeader;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    !Array.isArray(header.dim) ||
    !Array.isArray(header.pixdim)
  ) {
    throw badOption("reference must be a NiftiImage or a NiftiHeader");
  }
  const dims = header.dim[0] ?? 0;
  const shape = [header.dim[1], header.dim[2], header.dim[3]];
  if (
    dims < 3 ||
    !shape.every((v) => typeof v === "number" && Number.isSafeInteger(v) && v > 0) ||
    header.dim.slice(4, dims + 1).some((v) => v !== 1)
  ) {
    throw new DataError(
      "GEOMETRY_MISMATCH",
      `the reference is not a 3-D volume (dim ${JSON.stringify(header.dim)})`,
    );
  }
  const grid = shape as Vec3;
  checkVolume(labels, grid, "labels");
  const dim = [3, grid[0], grid[1], grid[2], 1, 1, 1, 1];
  const pixdim = header.pixdim.slice(0, 8);
  while (pixdim.length < 8) pixdim.push(1);
  const out: NiftiHeader = {
    ...header,
    version: 1,
    littleEndian: true,
    magic: "n+1",
    dim,
    pixdim,
    datatype: 2,
    bitpix: 8,
    voxOffset: 352,
    sclSlope: 1,
    sclInter: 0,
    calMin: 0,
    calMax: 4,
    intentCode: 0,
    intentP1: 0,
    intentP2: 0,
    intentP3: 0,
    intentName: "",
    descrip: "BraTS segmentation",
    extensions: [],
  };
  return {
    header: out,
    shape: [...grid],
    datatype: "uint8",
    data: labels.slice(),
    spacing: pixdim.slice(1, 4),
    affine: bestAffine(out),
  };
}
