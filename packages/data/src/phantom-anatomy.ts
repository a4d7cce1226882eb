// The phantom's healthy anatomy: tissue codes, the brain's size and placement, and the painting of
// white matter, cortex, sulci, deep grey nuclei and ventricles, in RAS millimetres around the brain centre.
import { uniform, type Rng } from "./rng.js";
import { ValueNoise } from "./phantom-noise.js";

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

// Short names of the codes, for the painting loops.
export const BG = 0;
export const WM = 1;
export const GM = 2;
export const DEEP = 3;
export const CSF = 4;
export const EDEMA = 5;
export const ENH = 6;
export const NEC = 7;
export const TISSUE_COUNT = 8;

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
/** Radial jitter of the brain surface, as a share of the radius. */
export const SURFACE_JITTER = 0.06;

export interface Anatomy {
  /** Brain semi-axes (mm) and the anatomy scale relative to an adult brain. */
  a: number;
  b: number;
  c: number;
  scale: number;
  /** Lateral ventricle size factor. */
  ventricle: number;
}

/** Inside a lateral ventricle (brain frame, mm): a banana arching over the thalamus, diverging posteriorly. */
export function inVentricle(x: number, y: number, z: number, s: number, v: number): boolean {
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

export function inThirdVentricle(x: number, y: number, z: number, s: number, v: number): boolean {
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

/** Where the brain sits: its anatomy, a small yaw and, per voxel index, RAS mm around its centre. */
export interface Layout {
  anatomy: Anatomy;
  cosYaw: number;
  sinYaw: number;
  worldX: Float64Array;
  worldY: Float64Array;
  worldZ: Float64Array;
}

/** Draws the brain's size and placement in the field of view (adult proportions, shrunk to fit). */
export function drawLayout(
  rng: Rng,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
): Layout {
  const [nx, ny, nz] = shape;
  const [sx, sy, sz] = spacing;
  const extent = [nx * sx, ny * sy, nz * sz];

  // Brain size: adult proportions, shrunk to fit the field of view.
  const scale = Math.min(1, ...extent.map((e, axis) => (BRAIN_FILL * e) / BRAIN_SEMI_AXES[axis]!));
  const anatomy: Anatomy = {
    a: BRAIN_SEMI_AXES[0]! * scale * uniform(rng, 0.95, 1.03),
    b: BRAIN_SEMI_AXES[1]! * scale * uniform(rng, 0.95, 1.03),
    c: BRAIN_SEMI_AXES[2]! * scale * uniform(rng, 0.95, 1.03),
    scale,
    ventricle: uniform(rng, 0.8, 1.3),
  };
  // Brain centre (RAS, relative to the field-of-view centre) and a small yaw, as after atlas registration.
  const offset = [0.015, 0.02, 0.015].map(
    (share, axis) => uniform(rng, -share, share) * extent[axis]!,
  );
  const yaw = uniform(rng, -3, 3) * (Math.PI / 180);
  return {
    anatomy,
    cosYaw: Math.cos(yaw),
    sinYaw: Math.sin(yaw),
    // Voxel index → RAS mm around the brain centre (x and y voxel axes point left and posterior: LPS).
    worldX: Float64Array.from({ length: nx }, (_, i) => -(i - (nx - 1) / 2) * sx - offset[0]!),
    worldY: Float64Array.from({ length: ny }, (_, j) => -(j - (ny - 1) / 2) * sy - offset[1]!),
    worldZ: Float64Array.from({ length: nz }, (_, k) => (k - (nz - 1) / 2) * sz - offset[2]!),
  };
}

/**
 * Healthy tissue codes per voxel: white matter inside a jittered ellipsoid, cortex along its surface
 * and the sulci, CSF in the sulci, the interhemispheric fissure and the ventricles, deep grey nuclei.
 */
export function healthyTissue(
  rng: Rng,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  layout: Layout,
): Uint8Array {
  const [nx, ny, nz] = shape;
  const { anatomy, cosYaw, sinYaw, worldX, worldY, worldZ } = layout;
  const { a, b, c, scale: s } = anatomy;
  const surfaceNoise = new ValueNoise(rng, shape, spacing, 30 * s);
  // Two octaves at unrelated cell sizes hide the lattice of either.
  const sulcusNoise = new ValueNoise(rng, shape, spacing, 13 * s);
  const sulcusDetail = new ValueNoise(rng, shape, spacing, 7.3 * s);
  const sulcusDepthNoise = new ValueNoise(rng, shape, spacing, 25 * s);
  const cortex = 3 * s;
  const fissureHalfWidth = 1.1 * s;

  const tissue = new Uint8Array(nx * ny * nz);
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
  return tissue;
}
