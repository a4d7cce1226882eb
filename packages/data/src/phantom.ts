// Seeded synthetic BraTS-like cases: a skull-stripped brain (background exactly 0) with cortex, sulci,
// deep grey matter and lateral ventricles, and a glioma whose necrotic core sits inside an enhancing rim
// inside edema, imaged as FLAIR, T1, T1CE and T2 with their typical contrasts, partial-volume blur, a
// smooth bias field and Rician noise. Anatomy is laid out in RAS millimetres around the brain centre and
// scaled to the field of view, so 64³ gives a small whole brain and 240×240×155 at 1 mm an adult-sized one.
//
// Modules: phantom-anatomy (tissue codes, healthy brain), phantom-tumour, phantom-images (contrast,
// blur, bias field, noise), phantom-noise, phantom-dataset (writing case folders).
import { classLabels, DEFAULT_LABEL_CONVENTION, type LabelConvention } from "@brats/conventions";
import { MODALITIES, type Modality } from "./cases.js";
import { checkConvention, DataError } from "./errors.js";
import { drawLayout, healthyTissue } from "./phantom-anatomy.js";
import { imageChannels } from "./phantom-images.js";
import { addTumour, segFromTissue } from "./phantom-tumour.js";
import { createRng, type Rng } from "./rng.js";

export interface PhantomOptions {
  /** Voxels along x, y, z (each at least 8). */
  shape: [number, number, number];
  /** An integer seed, or an RNG state from `deriveRngState` (as `writePhantomDataset` uses per case). */
  seed: number | readonly number[];
  /** Millimetres per voxel (default [1, 1, 1]). */
  spacing?: [number, number, number];
  /** Label values of `seg` (default brats2021: 1 necrosis, 2 edema, 4 enhancing). */
  convention?: LabelConvention;
  /** `id` of the result (default `phantom`). */
  id?: string;
}

/** A synthetic case, shaped as a `LoadedCase` plus the tissue map it was drawn from. */
export interface Phantom {
  id: string;
  /** Non-negative integer intensities (as scanners store them), 0 exactly outside the brain, x fastest. */
  channels: Float32Array[];
  /** Always flair, t1, t1ce, t2. */
  modalities: Modality[];
  /** Tumour labels in the requested convention. */
  seg: Uint8Array;
  shape: [number, number, number];
  spacing: [number, number, number];
  /** LPS voxel axes as BraTS ships them: diag(−sx, −sy, sz), y offset (Y−1)·sy. */
  affine: number[][];
  /** Tissue code per voxel (PHANTOM_TISSUES). */
  tissue: Uint8Array;
}

/** The affine BraTS files carry: voxel axes point left, posterior, superior (LPS), diag(−sx, −sy, sz), y offset (Y−1)·sy. */
export function bratsLikeAffine(
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
): number[][] {
  const [sx, sy, sz] = spacing;
  return [
    [-sx, 0, 0, 0],
    [0, -sy, 0, (shape[1] - 1) * sy],
    [0, 0, sz, 0],
    [0, 0, 0, 1],
  ];
}

/**
 * A seeded synthetic BraTS-like case. Same options, same bytes. Every label appears from about 24³ up;
 * labels nest as in BraTS (necrosis touches only necrosis and enhancing rim; the rim touches only tumour).
 */
export function generatePhantom(opts: PhantomOptions): Phantom {
  const shape = checkShape(opts.shape);
  const spacing = checkSpacing(opts.spacing ?? [1, 1, 1]);
  const convention = checkConvention(opts.convention ?? DEFAULT_LABEL_CONVENTION);
  const rng = seededRng(opts.seed);
  // The draws happen in this order (layout, healthy tissue, tumour, images): same seed, same bytes.
  const layout = drawLayout(rng, shape, spacing);
  const tissue = healthyTissue(rng, shape, spacing, layout);
  const edemaRadius = addTumour(rng, tissue, shape, spacing, layout);
  const seg = segFromTissue(tissue, classLabels(convention));
  const channels = imageChannels(tissue, shape, spacing, layout.anatomy, rng, edemaRadius);
  return {
    id: opts.id ?? "phantom",
    channels,
    modalities: [...MODALITIES],
    seg,
    shape: [shape[0], shape[1], shape[2]],
    spacing: [spacing[0], spacing[1], spacing[2]],
    affine: bratsLikeAffine(shape, spacing),
    tissue,
  };
}

function seededRng(seed: number | readonly number[]): Rng {
  if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
    throw new DataError("BAD_OPTION", `seed must be a safe integer, got ${seed}`);
  }
  return createRng(seed);
}

export function checkShape(shape: unknown): [number, number, number] {
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    shape.some((n) => !Number.isSafeInteger(n) || (n as number) < 8 || (n as number) > 1024)
  ) {
    throw new DataError(
      "BAD_OPTION",
      `phantom shape must be three integers in 8..1024, got ${JSON.stringify(shape)}`,
    );
  }
  return [shape[0] as number, shape[1] as number, shape[2] as number];
}

export function checkSpacing(spacing: unknown): [number, number, number] {
  if (
    !Array.isArray(spacing) ||
    spacing.length !== 3 ||
    spacing.some((v) => typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > 100)
  ) {
    throw new DataError(
      "BAD_OPTION",
      `phantom spacing must be three positive millimetre sizes, got ${JSON.stringify(spacing)}`,
    );
  }
  return [spacing[0] as number, spacing[1] as number, spacing[2] as number];
}
