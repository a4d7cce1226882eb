// Seeded synthetic BraTS-like cases: a skull-stripped brain (background exactly 0) with cortex, sulci,
// deep grey matter and lateral ventricles, and a glioma whose necrotic core sits inside an enhancing rim
// inside edema, imaged as FLAIR, T1, T1CE and T2 with their typical contrasts, partial-volume blur, a
// smooth bias field and Rician noise. Anatomy is laid out in RAS millimetres around the brain centre and
// scaled to the field of view, so 64³ gives a small whole brain and 240×240×155 at 1 mm an adult-sized one.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { classLabels, DEFAULT_LABEL_CONVENTION, type LabelConvention } from "@brats/conventions";
import { createImage, writeNifti } from "@brats/nifti";
import { type CaseNaming, caseFileName, CASE_NAMINGS, MODALITIES, type Modality } from "./cases.js";
import { checkConvention, DataError } from "./errors.js";
import { createRng, deriveRngState, type Rng } from "./rng.js";

/** Tissue codes of `Phantom.tissue`. */
export const PHANTOM_TISSUES = {
  background: 0,
  whiteMatter: 1,
  greyMatter: 2,
  deepGrey: 3,
  csf: 4,
  edema: 5,
  enhancing: 6,
  necrosis: 7,
} as const;
export type PhantomTissue = keyof typeof PHANTOM_TISSUES;

const BG = 0;
const WM = 1;
const GM = 2;
const DEEP = 3;
const CSF = 4;
const EDEMA = 5;
const ENH = 6;
const NEC = 7;
const TISSUE_COUNT = 8;

/**
 * Relative signal of each tissue (rows in MODALITIES order: flair, t1, t1ce, t2; columns by tissue code).
 * FLAIR: fluid suppressed (dark CSF), edema bright. T1: white matter brightest, CSF dark. T1CE: as T1 but
 * the enhancing rim brightest of all. T2: CSF brightest, edema and necrosis bright.
 */
const CONTRAST: readonly (readonly number[])[] = [
  // bg   WM    GM    deep  CSF   edema enh   nec
  [0, 0.62, 0.8, 0.74, 0.16, 1.38, 1.08, 0.7], // flair
  [0, 1.0, 0.72, 0.8, 0.26, 0.6, 0.7, 0.38], // t1
  [0, 1.0, 0.74, 0.82, 0.28, 0.62, 1.6, 0.36], // t1ce
  [0, 0.55, 0.8, 0.72, 1.6, 1.25, 0.98, 1.45], // t2
];
/** Typical raw white-matter intensity per modality (scanner units vary; z-scoring removes them). */
const BASE_SCALE = [420, 520, 760, 980];
/** Rician noise σ as a share of the white-matter signal. */
const NOISE_SHARE = 0.03;
/** Adult brain semi-axes (mm): left-right, anterior-posterior, inferior-superior. */
const BRAIN_SEMI_AXES = [70, 85, 62];
/** The brain fills at most this share of the field of view along each axis (semi-axis / extent). */
const BRAIN_FILL = 0.42;
/**
 * Sulci are thin sheets where a smooth noise crosses zero (|noise| < SULCUS: CSF), lined by cortex
 * (|noise| < SULCUS_CORTEX: about 3 mm each side for an 11 mm noise cell).
 */
const SULCUS = 0.05;
const SULCUS_CORTEX = 0.38;
/** Radial jitter of the tumour core and edema boundaries, as a share of their radii. */
const CORE_JITTER = 0.25;
const EDEMA_JITTER = 0.4;
/** Radial jitter of the brain surface, as a share of the radius. */
const SURFACE_JITTER = 0.06;

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
 * Smooth value noise in [−1, 1] on the voxel grid: random values on a lattice of `cellMm` cells,
 * blended with smoothstep weights (C¹, no creases). Per-axis cell indices and weights are tabulated, so
 * a lookup is 8 reads and 7 lerps.
 */
class ValueNoise {
  private readonly lattice: Float32Array;
  private readonly lx: number;
  private readonly lxy: number;
  private readonly cell: Int32Array[];
  private readonly weight: Float32Array[];

  constructor(rng: Rng, shape: readonly number[], spacing: readonly number[], cellMm: number) {
    this.cell = [];
    this.weight = [];
    const sizes: number[] = [];
    for (let axis = 0; axis < 3; axis++) {
      const n = shape[axis]!;
      const step = spacing[axis]! / cellMm;
      const phase = rng.next(); // lattice not aligned with voxel 0
      const cells = new Int32Array(n);
      const weights = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = phase + i * step;
        const c = Math.floor(u);
        const t = u - c;
        cells[i] = c;
        weights[i] = t * t * (3 - 2 * t);
      }
      this.cell.push(cells);
      this.weight.push(weights);
      sizes.push(Math.floor(phase + (n - 1) * step) + 2);
    }
    this.lx = sizes[0]!;
    this.lxy = sizes[0]! * sizes[1]!;
    this.lattice = new Float32Array(this.lxy * sizes[2]!);
    for (let i = 0; i < this.lattice.length; i++) this.lattice[i] = 2 * rng.next() - 1;
  }

  at(i: number, j: number, k: number): number {
    const l = this.lattice;
    const base = this.cell[0]![i]! + this.lx * this.cell[1]![j]! + this.lxy * this.cell[2]![k]!;
    const tx = this.weight[0]![i]!;
    const ty = this.weight[1]![j]!;
    const tz = this.weight[2]![k]!;
    const b1 = base + this.lx;
    const b2 = base + this.lxy;
    const b3 = b2 + this.lx;
    const x00 = l[base]! + tx * (l[base + 1]! - l[base]!);
    const x10 = l[b1]! + tx * (l[b1 + 1]! - l[b1]!);
    const x01 = l[b2]! + tx * (l[b2 + 1]! - l[b2]!);
    const x11 = l[b3]! + tx * (l[b3 + 1]! - l[b3]!);
    const y0 = x00 + ty * (x10 - x00);
    const y1 = x01 + ty * (x11 - x01);
    return y0 + tz * (y1 - y0);
  }
}

/**
 * Smooth isotropic noise in [−1, 1] from a few plane waves of random direction, wavelength and phase
 * (no lattice, so no axis-aligned blocks in the tumour outline); evaluated only near the tumour.
 */
class WaveNoise {
  private readonly waves: Float64Array;
  /** Σcos has variance count/2: scaled to σ = 0.5, then clamped so the jitter stays bounded. */
  private readonly norm: number;

  constructor(rng: Rng, count: number, minWavelength: number, maxWavelength: number) {
    this.waves = new Float64Array(4 * count);
    this.norm = 1 / Math.sqrt(2 * count);
    for (let w = 0; w < count; w++) {
      // A uniform direction on the sphere.
      const z = 2 * rng.next() - 1;
      const phi = 2 * Math.PI * rng.next();
      const planar = Math.sqrt(1 - z * z);
      const k = (2 * Math.PI) / uniform(rng, minWavelength, maxWavelength);
      this.waves.set(
        [k * planar * Math.cos(phi), k * planar * Math.sin(phi), k * z, 2 * Math.PI * rng.next()],
        4 * w,
      );
    }
  }

  at(x: number, y: number, z: number): number {
    const waves = this.waves;
    let sum = 0;
    for (let w = 0; w < waves.length; w += 4) {
      sum += Math.cos(waves[w]! * x + waves[w + 1]! * y + waves[w + 2]! * z + waves[w + 3]!);
    }
    const value = sum * this.norm;
    return value > 1 ? 1 : value < -1 ? -1 : value;
  }
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** 2¹⁶ standard normal draws; noise samples index it with one uniform each (Box–Muller per voxel is slow). */
function normalTable(rng: Rng): Float32Array {
  const table = new Float32Array(65536);
  for (let i = 0; i < table.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const theta = 2 * Math.PI * rng.next();
    table[i] = r * Math.cos(theta);
    table[i + 1] = r * Math.sin(theta);
  }
  return table;
}

interface Anatomy {
  /** Brain semi-axes (mm) and the anatomy scale relative to an adult brain. */
  a: number;
  b: number;
  c: number;
  scale: number;
  /** Lateral ventricle size factor. */
  ventricle: number;
}

/** Inside a lateral ventricle (brain frame, mm): a banana arching over the thalamus, diverging posteriorly. */
function inVentricle(x: number, y: number, z: number, s: number, v: number): boolean {
  const half = 38 * s * v;
  const t = (y - 2 * s) / half;
  if (t <= -1 || t >= 1) return false;
  const back = t < 0 ? -t : 0;
  const cx = (6 + 14 * back * back) * s;
  const cz = (8 - 10 * t * t) * s;
  const width = (5 + 3 * back) * s * v;
  const height = (8 + 2 * (1 - t * t)) * s * v;
  const ax = Math.abs(x);
  if (ax < 1 * s) return false; // septum pellucidum between the two
  const dx = (ax - cx) / width;
  const dz = (z - cz) / height;
  return dx * dx + dz * dz + t * t * t * t * t * t < 1;
}

function inThirdVentricle(x: number, y: number, z: number, s: number, v: number): boolean {
  return Math.abs(x) < 1.3 * s * v && y > -14 * s && y < 8 * s && z > -8 * s && z < 4 * s;
}

/** Inside the deep grey nuclei (brain frame, mm): a thalamus and a lentiform nucleus each side. */
function inDeepGrey(x: number, y: number, z: number, s: number): boolean {
  const ax = Math.abs(x);
  const tx = (ax - 10 * s) / (8 * s);
  const ty = (y + 14 * s) / (12 * s);
  const tz = (z - 2 * s) / (9 * s);
  if (tx * tx + ty * ty + tz * tz < 1) return true;
  const lx = (ax - 22 * s) / (6 * s);
  const ly = (y - 4 * s) / (14 * s);
  const lz = (z + 1 * s) / (10 * s);
  return lx * lx + ly * ly + lz * lz < 1;
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
  const [nx, ny, nz] = shape;
  const [sx, sy, sz] = spacing;
  const voxels = nx * ny * nz;
  const extent = [nx * sx, ny * sy, nz * sz];
  const maxSpacing = Math.max(sx, sy, sz);

  // Brain size: adult proportions, shrunk to fit the field of view.
  const scale = Math.min(1, ...extent.map((e, axis) => (BRAIN_FILL * e) / BRAIN_SEMI_AXES[axis]!));
  const anatomy: Anatomy = {
    a: BRAIN_SEMI_AXES[0]! * scale * uniform(rng, 0.95, 1.03),
    b: BRAIN_SEMI_AXES[1]! * scale * uniform(rng, 0.95, 1.03),
    c: BRAIN_SEMI_AXES[2]! * scale * uniform(rng, 0.95, 1.03),
    scale,
    ventricle: uniform(rng, 0.8, 1.3),
  };
  const { a, b, c } = anatomy;
  const s = scale;
  // Brain centre (RAS, relative to the field-of-view centre) and a small yaw, as after atlas registration.
  const offset = [0.015, 0.02, 0.015].map(
    (share, axis) => uniform(rng, -share, share) * extent[axis]!,
  );
  const yaw = uniform(rng, -3, 3) * (Math.PI / 180);
  const cosYaw = Math.cos(yaw);
  const sinYaw = Math.sin(yaw);
  // Voxel index → RAS mm around the brain centre (x and y voxel axes point left and posterior: LPS).
  const worldX = Float64Array.from({ length: nx }, (_, i) => -(i - (nx - 1) / 2) * sx - offset[0]!);
  const worldY = Float64Array.from({ length: ny }, (_, j) => -(j - (ny - 1) / 2) * sy - offset[1]!);
  const worldZ = Float64Array.from({ length: nz }, (_, k) => (k - (nz - 1) / 2) * sz - offset[2]!);

  const surfaceNoise = new ValueNoise(rng, shape, spacing, 30 * s);
  // Two octaves at unrelated cell sizes hide the lattice of either.
  const sulcusNoise = new ValueNoise(rng, shape, spacing, 13 * s);
  const sulcusDetail = new ValueNoise(rng, shape, spacing, 7.3 * s);
  const sulcusDepthNoise = new ValueNoise(rng, shape, spacing, 25 * s);
  const cortex = 3 * s;
  const fissureHalfWidth = 1.1 * s;

  // Pass 1: healthy tissue.
  const tissue = new Uint8Array(voxels);
  const reach = 1 + SURFACE_JITTER;
  for (let k = 0; k < nz; k++) {
    const z = worldZ[k]!;
    const zc = z / c;
    for (let j = 0; j < ny; j++) {
      const Y = worldY[j]!;
      let index = nx * (j + ny * k);
      for (let i = 0; i < nx; i++, index++) {
        const X = worldX[i]!;
        const x = cosYaw * X + sinYaw * Y;
        const y = -sinYaw * X + cosYaw * Y;
        const xa = x / a;
        const yb = y / b;
        const q = xa * xa + yb * yb + zc * zc;
        if (q >= reach * reach) continue;
        const rho = Math.sqrt(q);
        const surface = 1 + SURFACE_JITTER * surfaceNoise.at(i, j, k);
        if (rho >= surface) continue;
        // Depth below the surface in mm: the level-set gap over the gradient of rho.
        const gx = xa / a;
        const gy = yb / b;
        const gz = zc / c;
        const gradient = rho > 1e-9 ? Math.sqrt(gx * gx + gy * gy + gz * gz) / rho : 1 / a;
        const depth = (surface - rho) / gradient;
        let t: number = WM;
        if (
          inVentricle(x, y, z, s, anatomy.ventricle) ||
          inThirdVentricle(x, y, z, s, anatomy.ventricle)
        ) {
          t = CSF;
        } else if (inDeepGrey(x, y, z, s)) {
          t = DEEP;
        } else {
          const ax = Math.abs(x);
          // Interhemispheric fissure, above the corpus callosum in the middle, full height front and back.
          const fissure = Math.abs(y) > 40 * s || z > 22 * s;
          const sulcusDepth = (18 + 7 * sulcusDepthNoise.at(i, j, k)) * s;
          const ridge = Math.abs(sulcusNoise.at(i, j, k) + 0.45 * sulcusDetail.at(i, j, k));
          if (fissure && ax < fissureHalfWidth) t = CSF;
          else if (depth < sulcusDepth && ridge < SULCUS) t = CSF;
          else if (
            depth < cortex ||
            (fissure && ax < fissureHalfWidth + cortex) ||
            (depth < sulcusDepth + cortex && ridge < SULCUS_CORTEX)
          ) {
            t = GM;
          }
        }
        tissue[index] = t;
      }
    }
  }

  // Pass 2: the tumour, placed in one hemisphere away from the ventricles, its core well inside the brain.
  const minSemi = Math.min(a, b, c);
  let coreRadius = Math.max(uniform(rng, 0.2, 0.3) * minSemi, 2.5 * maxSpacing);
  const hemisphere = rng.next() < 0.5 ? -1 : 1;
  let centre = [0, 0, 0];
  for (let attempt = 0; attempt < 60; attempt++) {
    const uMax = Math.max(
      0,
      1 - (coreRadius * 1.3 + 2 * maxSpacing) / ((1 - SURFACE_JITTER) * minSemi),
    );
    const direction = [
      hemisphere * uniform(rng, 0.25, 1),
      uniform(rng, -1, 1),
      uniform(rng, -0.5, 1),
    ];
    const norm = Math.hypot(direction[0]!, direction[1]!, direction[2]!);
    const radius = uniform(rng, 0.35, 1) * uMax;
    centre = [
      (direction[0]! / norm) * radius * a,
      (direction[1]! / norm) * radius * b,
      (direction[2]! / norm) * radius * c,
    ];
    if (!coreNearVentricles(centre, coreRadius * 1.3 + maxSpacing, anatomy)) break;
    coreRadius = Math.max(coreRadius * 0.97, 2.5 * maxSpacing);
  }
  const edemaRadius = coreRadius * uniform(rng, 1.5, 2.1);
  const necrosisLevel = uniform(rng, 0.5, 0.68);
  const stretch = [uniform(rng, 0.85, 1.15), uniform(rng, 0.85, 1.15), uniform(rng, 0.85, 1.15)];
  const coreNoise = new WaveNoise(rng, 6, coreRadius * 0.9, coreRadius * 1.6);
  const necrosisNoise = new WaveNoise(rng, 6, coreRadius * 0.6, coreRadius * 1.2);
  const edemaNoise = new WaveNoise(rng, 8, edemaRadius * 0.6, edemaRadius * 1.3);
  // Tumour centre in brain frame → RAS (undo the yaw) → voxel box that can hold edema.
  const tumourX = cosYaw * centre[0]! - sinYaw * centre[1]!;
  const tumourY = sinYaw * centre[0]! + cosYaw * centre[1]!;
  const tumourZ = centre[2]!;
  const reachMm = edemaRadius * (1 + EDEMA_JITTER) * Math.max(...stretch) + 2 * maxSpacing;
  const box = voxelBox([tumourX, tumourY, tumourZ], reachMm, worldX, worldY, worldZ);
  for (let k = box[4]; k <= box[5]; k++) {
    const dz = (worldZ[k]! - tumourZ) / stretch[2]!;
    for (let j = box[2]; j <= box[3]; j++) {
      const dy = (worldY[j]! - tumourY) / stretch[1]!;
      let index = box[0] + nx * (j + ny * k);
      for (let i = box[0]; i <= box[1]; i++, index++) {
        const t = tissue[index]!;
        if (t === BG) continue;
        const dx = (worldX[i]! - tumourX) / stretch[0]!;
        const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
        if (r / edemaRadius >= 1 + EDEMA_JITTER) continue; // beyond any edema: skip the noise
        if (r / coreRadius < 1 + CORE_JITTER) {
          const core = r / coreRadius + CORE_JITTER * coreNoise.at(dx, dy, dz);
          if (core < 1) {
            // Its own noise makes the rim thickness vary around the necrosis.
            const necrosis = r / coreRadius + CORE_JITTER * necrosisNoise.at(dx, dy, dz);
            tissue[index] = necrosis < necrosisLevel ? NEC : ENH;
            continue;
          }
        }
        const edema = r / edemaRadius + EDEMA_JITTER * edemaNoise.at(dx, dy, dz);
        // Edema spreads through white and deep grey matter; the cortex resists it; CSF stays fluid.
        if (edema < 1 && t !== CSF && (t !== GM || edema < 0.7)) tissue[index] = EDEMA;
      }
    }
  }
  nestTumour(tissue, shape, box);

  const seg = segFromTissue(tissue, classLabels(convention));
  const channels = imageChannels(tissue, shape, spacing, anatomy, rng, edemaRadius);
  return {
    id: opts.id ?? "phantom",
    channels,
    modalities: [...MODALITIES],
    seg,
    shape: [nx, ny, nz],
    spacing: [sx, sy, sz],
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

function checkShape(shape: unknown): [number, number, number] {
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

function checkSpacing(spacing: unknown): [number, number, number] {
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

/** Whether a sphere (brain frame, mm) reaches a ventricle: checked at its centre and 26 boundary points. */
function coreNearVentricles(centre: number[], radius: number, anatomy: Anatomy): boolean {
  const { scale: s, ventricle: v } = anatomy;
  for (let dz = -1; dz <= 1; dz++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const n = Math.hypot(dx, dy, dz) || 1;
        const f = radius / n;
        const x = centre[0]! + dx * f;
        const y = centre[1]! + dy * f;
        const z = centre[2]! + dz * f;
        if (inVentricle(x, y, z, s, v) || inThirdVentricle(x, y, z, s, v)) return true;
      }
    }
  }
  return false;
}

/** Voxel index box [x0, x1, y0, y1, z0, z1] (inclusive, clamped) holding a ball of `radius` mm around `centre` (RAS). */
function voxelBox(
  centre: number[],
  radius: number,
  worldX: Float64Array,
  worldY: Float64Array,
  worldZ: Float64Array,
): [number, number, number, number, number, number] {
  const range = (world: Float64Array, c: number): [number, number] => {
    let lo = world.length;
    let hi = -1;
    for (let i = 0; i < world.length; i++) {
      if (Math.abs(world[i]! - c) <= radius) {
        lo = Math.min(lo, i);
        hi = Math.max(hi, i);
      }
    }
    return lo <= hi ? [lo, hi] : [0, -1];
  };
  return [...range(worldX, centre[0]!), ...range(worldY, centre[1]!), ...range(worldZ, centre[2]!)];
}

/**
 * Makes the tumour nest as BraTS annotations do, whatever the noise did on coarse grids: core voxels
 * touching background become edema, necrosis touching anything but core becomes enhancing, and healthy
 * tissue touching the core becomes edema (6-neighbourhoods, inside the tumour box grown by two voxels).
 */
function nestTumour(
  tissue: Uint8Array,
  shape: readonly [number, number, number],
  box: readonly number[],
): void {
  const [nx, ny, nz] = shape;
  const x0 = Math.max(0, box[0]! - 2);
  const x1 = Math.min(nx - 1, box[1]! + 2);
  const y0 = Math.max(0, box[2]! - 2);
  const y1 = Math.min(ny - 1, box[3]! + 2);
  const z0 = Math.max(0, box[4]! - 2);
  const z1 = Math.min(nz - 1, box[5]! + 2);
  const neighbours = (i: number, j: number, k: number, visit: (n: number) => boolean): boolean => {
    // An out-of-volume neighbour counts as background.
    if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) {
      if (!visit(-1)) return false;
    }
    const index = i + nx * (j + ny * k);
    const steps = [1, nx, nx * ny];
    const sizes = [nx, ny, nz];
    const coords = [i, j, k];
    for (let axis = 0; axis < 3; axis++) {
      if (coords[axis]! > 0 && !visit(index - steps[axis]!)) return false;
      if (coords[axis]! < sizes[axis]! - 1 && !visit(index + steps[axis]!)) return false;
    }
    return true;
  };
  const each = (fn: (index: number, i: number, j: number, k: number) => void): void => {
    for (let k = z0; k <= z1; k++) {
      for (let j = y0; j <= y1; j++) {
        for (let i = x0; i <= x1; i++) fn(i + nx * (j + ny * k), i, j, k);
      }
    }
  };
  const isCore = (t: number): boolean => t === NEC || t === ENH;
  // Repeated because demoting one core voxel exposes the next; each round removes a layer, so it ends.
  for (let changed = true; changed;) {
    changed = false;
    each((index, i, j, k) => {
      if (!isCore(tissue[index]!)) return;
      const inside = neighbours(i, j, k, (n) => n >= 0 && tissue[n] !== BG);
      if (!inside) {
        tissue[index] = EDEMA;
        changed = true;
      }
    });
  }
  each((index, i, j, k) => {
    if (tissue[index] !== NEC) return;
    if (!neighbours(i, j, k, (n) => n >= 0 && isCore(tissue[n]!))) tissue[index] = ENH;
  });
  each((index, i, j, k) => {
    const t = tissue[index]!;
    if (t === BG || t === EDEMA || isCore(t)) return;
    if (!neighbours(i, j, k, (n) => n < 0 || !isCore(tissue[n]!))) tissue[index] = EDEMA;
  });
}

function segFromTissue(tissue: Uint8Array, labels: number[]): Uint8Array {
  const table = new Uint8Array(TISSUE_COUNT);
  table[NEC] = labels[1]!;
  table[EDEMA] = labels[2]!;
  table[ENH] = labels[3]!;
  const seg = new Uint8Array(tissue.length);
  for (let i = 0; i < tissue.length; i++) seg[i] = table[tissue[i]!]!;
  return seg;
}

/** The four images: tissue contrast × texture, partial-volume blur, bias field, Rician noise, integer values. */
function imageChannels(
  tissue: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  anatomy: Anatomy,
  rng: Rng,
  edemaRadius: number,
): Float32Array[] {
  const [nx, ny, nz] = shape;
  const voxels = nx * ny * nz;
  const s = anatomy.scale;
  // Microstructure texture shared by the modalities, and tumour heterogeneity (stronger, coarser).
  const texture = new ValueNoise(rng, shape, spacing, 3.5 * s + 0.5 * Math.max(...spacing));
  const heterogeneity = new ValueNoise(
    rng,
    shape,
    spacing,
    Math.max(0.35 * edemaRadius, 2 * Math.max(...spacing)),
  );
  const modulation = new Float32Array(voxels);
  for (let k = 0, index = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        const t = tissue[index]!;
        if (t === BG) continue;
        const tumourous = t === EDEMA || t === ENH || t === NEC;
        modulation[index] =
          1 + 0.035 * texture.at(i, j, k) + (tumourous ? 0.12 * heterogeneity.at(i, j, k) : 0);
      }
    }
  }
  const normals = normalTable(rng);
  const channels: Float32Array[] = [];
  const scratch = new Float32Array(voxels);
  for (let m = 0; m < MODALITIES.length; m++) {
    const contrast = CONTRAST[m]!;
    const level = BASE_SCALE[m]! * uniform(rng, 0.8, 1.25);
    const sigma = NOISE_SHARE * level;
    const table = Float32Array.from(contrast, (v) => v * level);
    const image = new Float32Array(voxels);
    for (let i = 0; i < voxels; i++) image[i] = table[tissue[i]!]! * modulation[i]!;
    blur121(image, scratch, shape);
    const bias = biasField(rng, shape, spacing, anatomy);
    for (let k = 0, index = 0; k < nz; k++) {
      const bz = bias[2][k]!;
      for (let j = 0; j < ny; j++) {
        const byz = bias[1][j]! * bz;
        for (let i = 0; i < nx; i++, index++) {
          if (tissue[index] === BG) {
            image[index] = 0;
            continue;
          }
          const signal = image[index]! * bias[0][i]! * byz;
          // Rician: magnitude of a complex signal with Gaussian noise on both parts.
          const re = signal + sigma * normals[(rng.next() * 65536) | 0]!;
          const im = sigma * normals[(rng.next() * 65536) | 0]!;
          image[index] = Math.min(32767, Math.max(1, Math.round(Math.sqrt(re * re + im * im))));
        }
      }
    }
    channels.push(image);
  }
  return channels;
}

/** Separable [1, 2, 1]/4 blur along x, y and z in place (edges clamp): about 0.7 voxel of partial volume. */
function blur121(
  image: Float32Array,
  scratch: Float32Array,
  shape: readonly [number, number, number],
): void {
  const [nx, ny, nz] = shape;
  const plane = nx * ny;
  // Each pass walks memory in order; a missing neighbour at an edge is replaced by the voxel itself.
  for (let row = 0, index = 0; row < ny * nz; row++) {
    for (let i = 0; i < nx; i++, index++) {
      const prev = i > 0 ? image[index - 1]! : image[index]!;
      const next = i < nx - 1 ? image[index + 1]! : image[index]!;
      scratch[index] = 0.25 * (prev + next) + 0.5 * image[index]!;
    }
  }
  for (let k = 0, index = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        const prev = j > 0 ? scratch[index - nx]! : scratch[index]!;
        const next = j < ny - 1 ? scratch[index + nx]! : scratch[index]!;
        image[index] = 0.25 * (prev + next) + 0.5 * scratch[index]!;
      }
    }
  }
  for (let k = 0, index = 0; k < nz; k++) {
    for (let p = 0; p < plane; p++, index++) {
      const prev = k > 0 ? image[index - plane]! : image[index]!;
      const next = k < nz - 1 ? image[index + plane]! : image[index]!;
      scratch[index] = 0.25 * (prev + next) + 0.5 * image[index]!;
    }
  }
  image.set(scratch);
}

/**
 * A smooth multiplicative bias field as a product of per-axis profiles: each exp of a random sum of
 * two low-frequency cosines over the brain (about ±10 % overall), as coil sensitivity varies slowly.
 */
function biasField(
  rng: Rng,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  anatomy: Anatomy,
): [Float32Array, Float32Array, Float32Array] {
  const semi = [anatomy.a, anatomy.b, anatomy.c];
  const profile = (axis: number): Float32Array => {
    const n = shape[axis]!;
    const span = 2.4 * semi[axis]!;
    const a1 = uniform(rng, -0.06, 0.06);
    const a2 = uniform(rng, -0.03, 0.03);
    const p1 = uniform(rng, 0, 2 * Math.PI);
    const p2 = uniform(rng, 0, 2 * Math.PI);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = ((i - (n - 1) / 2) * spacing[axis]!) / span;
      out[i] = Math.exp(a1 * Math.cos(Math.PI * u + p1) + a2 * Math.cos(2 * Math.PI * u + p2));
    }
    return out;
  };
  return [profile(0), profile(1), profile(2)];
}

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
