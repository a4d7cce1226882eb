// Seeded noise for the phantoms: smooth value noise on the voxel grid (anatomy, texture), plane-wave
// noise for the tumour outline, and a table of standard normal draws for the Rician image noise.
import { uniform, type Rng } from "./rng.js";

/**
 * Smooth value noise in [−1, 1] on the voxel grid: random values on a lattice of `cellMm` cells,
 * blended with smoothstep weights (C¹, no creases). Per-axis cell indices and weights are tabulated, so
 * a lookup is 8 reads and 7 lerps.
 */
export class ValueNoise {
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
export class WaveNoise {
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

/** 2¹⁶ standard normal draws; noise samples index it with one uniform each (Box–Muller per voxel is slow). */
export function normalTable(rng: Rng): Float32Array {
  const table = new Float32Array(65536);
  for (let i = 0; i < table.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const theta = 2 * Math.PI * rng.next();
    table[i] = r * Math.cos(theta);
    table[i + 1] = r * Math.sin(theta);
  }
  return table;
}
