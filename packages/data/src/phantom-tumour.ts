// The phantom's glioma: placed in one hemisphere away from the ventricles, painted as a necrotic core
// inside an enhancing rim inside edema (noisy boundaries), nested as BraTS labels nest, and its labels.
import {
  BG,
  CSF,
  EDEMA,
  ENH,
  GM,
  inThirdVentricle,
  inVentricle,
  NEC,
  SURFACE_JITTER,
  TISSUE_COUNT,
  type Anatomy,
  type Layout,
} from "./phantom-anatomy.js";
import { WaveNoise } from "./phantom-noise.js";
import { uniform, type Rng } from "./rng.js";

/** Radial jitter of the tumour core and edema boundaries, as a share of their radii. */
const CORE_JITTER = 0.25;
const EDEMA_JITTER = 0.4;

/**
 * The tumour core's radius (mm) and centre (brain frame, mm): in one hemisphere away from the
 * ventricles, well inside the brain; shrunk a little after each placement that reached a ventricle.
 */
function placeCore(
  rng: Rng,
  anatomy: Anatomy,
  maxSpacing: number,
): { centre: number[]; coreRadius: number } {
  const { a, b, c } = anatomy;
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
  return { centre, coreRadius };
}

/**
 * Paints the tumour over healthy tissue: a necrotic core inside an enhancing rim inside edema, with
 * noisy boundaries, then nested as BraTS annotations are. Returns the edema radius (mm).
 */
export function addTumour(
  rng: Rng,
  tissue: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  layout: Layout,
): number {
  const [nx, ny] = shape;
  const maxSpacing = Math.max(spacing[0], spacing[1], spacing[2]);
  const { anatomy, cosYaw, sinYaw, worldX, worldY, worldZ } = layout;
  const { centre, coreRadius } = placeCore(rng, anatomy, maxSpacing);
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
  return edemaRadius;
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

export function segFromTissue(tissue: Uint8Array, labels: number[]): Uint8Array {
  const table = new Uint8Array(TISSUE_COUNT);
  table[NEC] = labels[1]!;
  table[EDEMA] = labels[2]!;
  table[ENH] = labels[3]!;
  const seg = new Uint8Array(tissue.length);
  for (let i = 0; i < tissue.length; i++) seg[i] = table[tissue[i]!]!;
  return seg;
}
