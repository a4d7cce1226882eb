// The phantom's four images from its tissue map: contrast per tissue and modality, texture and
// tumour heterogeneity, partial-volume blur, a smooth bias field and Rician noise, integer values.
import { MODALITIES } from "./cases.js";
import { BG, EDEMA, ENH, NEC, type Anatomy } from "./phantom-anatomy.js";
import { normalTable, ValueNoise } from "./phantom-noise.js";
import { uniform, type Rng } from "./rng.js";

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
/** The four images: tissue contrast × texture, partial-volume blur, bias field, Rician noise, integer values. */
export function imageChannels(
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
