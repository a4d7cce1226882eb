import { describe, expect, it } from "vitest";
import { gammaTable, powUnit } from "./augment-intensity.js";
import { spatialInverse } from "./augment-spatial.js";
import {
  augmentationOfStrength,
  applyAugmentation,
  augmentPatch,
  drawAugmentation,
  type AugmentParams,
} from "./augment.js";
import type { Patch } from "./patches.js";
import type { Vec3 } from "./grid.js";
import { createRng } from "./rng.js";

/** A patch from per-voxel functions of (x, y, z): one per channel, and the labels. */
function makePatch(
  shape: Vec3,
  channelFns: Array<(x: number, y: number, z: number) => number>,
  labelFn: (x: number, y: number, z: number) => number = () => 0,
): Patch {
  const [px, py, pz] = shape;
  const channels = channelFns.length;
  const image = new Float32Array(px * py * pz * channels);
  const labels = new Uint8Array(px * py * pz);
  let i = 0;
  for (let z = 0; z < pz; z++)
    for (let y = 0; y < py; y++)
      for (let x = 0; x < px; x++, i++) {
        labels[i] = labelFn(x, y, z);
        channelFns.forEach((f, c) => (image[i * channels + c] = f(x, y, z)));
      }
  return { image, labels, origin: [0, 0, 0], shape, channels, centreClass: null };
}

function none(channels: number): AugmentParams {
  return {
    flip: [false, false, false],
    scale: new Array<number>(channels).fill(1),
    shift: new Array<number>(channels).fill(0),
    gamma: new Array<null>(channels).fill(null),
    retainStats: true,
    rotation: null,
    zoom: null,
  };
}

const ramp = (x: number, y: number, z: number) => 1 + x + 10 * y + 100 * z;
const neg = (x: number, y: number, z: number) => -ramp(x, y, z);
const labelOf = (x: number, y: number, z: number) => (x + 2 * y + 3 * z) % 5;

/** Value of channel c and the label at patch voxel (x, y, z). */
function at(p: Patch, x: number, y: number, z: number, c = 0): number {
  return p.image[(x + p.shape[0] * (y + p.shape[1] * z)) * p.channels + c]!;
}
function labelAt(p: Patch, x: number, y: number, z: number): number {
  return p.labels[x + p.shape[0] * (y + p.shape[1] * z)]!;
}

function sameBytes(a: Patch, b: Patch): boolean {
  return (
    Buffer.from(a.image.buffer, a.image.byteOffset, a.image.byteLength).equals(
      Buffer.from(b.image.buffer, b.image.byteOffset, b.image.byteLength),
    ) && Buffer.from(a.labels).equals(Buffer.from(b.labels))
  );
}

describe("flips", () => {
  const shape: Vec3 = [3, 2, 2];
  const p = makePatch(shape, [ramp, neg], labelOf);

  it("reverses x (by hand: the first row 1 2 3 becomes 3 2 1)", () => {
    const out = applyAugmentation(p, { ...none(2), flip: [true, false, false] });
    expect(Array.from(out.image.subarray(0, 6))).toEqual([3, -3, 2, -2, 1, -1]);
    expect(Array.from(out.labels.subarray(0, 3))).toEqual([2, 1, 0]);
  });

  it.each([
    [[true, false, false]],
    [[false, true, false]],
    [[false, false, true]],
    [[true, true, false]],
    [[true, true, true]],
  ] as Array<[[boolean, boolean, boolean]]>)("flip %j moves every voxel to its mirror", (flip) => {
    const out = applyAugmentation(p, { ...none(2), flip });
    for (let z = 0; z < 2; z++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 3; x++) {
          const sx = flip[0] ? 2 - x : x;
          const sy = flip[1] ? 1 - y : y;
          const sz = flip[2] ? 1 - z : z;
          expect(at(out, x, y, z, 0)).toBe(ramp(sx, sy, sz));
          expect(at(out, x, y, z, 1)).toBe(neg(sx, sy, sz));
          expect(labelAt(out, x, y, z)).toBe(labelOf(sx, sy, sz));
        }
  });

  it("flipping twice gives back the same bytes, and the input is untouched", () => {
    const before = p.image.slice();
    const params = { ...none(2), flip: [true, true, true] as [boolean, boolean, boolean] };
    const twice = applyAugmentation(applyAugmentation(p, params), params);
    expect(sameBytes(twice, p)).toBe(true);
    expect(p.image).toEqual(before);
    expect(twice.image).not.toBe(p.image);
  });
});

describe("intensity scale and shift", () => {
  it("maps each channel through v·scale + shift (by hand)", () => {
    const p = makePatch([2, 1, 1], [ramp, neg]); // channel 0: 1, 2; channel 1: −1, −2
    const out = applyAugmentation(p, { ...none(2), scale: [2, 0.5], shift: [1, -1] });
    // 1·2 + 1, −1·0.5 − 1, 2·2 + 1, −2·0.5 − 1
    expect(Array.from(out.image)).toEqual([3, -1.5, 5, -2]);
  });
});

describe("gamma", () => {
  // one channel, values 0, 1, 2, 4
  const p = makePatch([4, 1, 1], [(x) => [0, 1, 2, 4][x]!]);
  const gamma2 = (invert: boolean, retainStats: boolean): AugmentParams => ({
    ...none(1),
    gamma: [{ gamma: 2, invert }],
    retainStats,
  });

  it("raises min-max normalised values to γ and maps them back (by hand)", () => {
    // min 0, range 4: (v/4)²·4 = 0, 0.25, 1, 4 (the 1e-7 in the range moves them by < 1e-7)
    const out = applyAugmentation(p, gamma2(false, false));
    [0, 0.25, 1, 4].forEach((v, i) => expect(out.image[i]).toBeCloseTo(v, 6));
  });

  it("keeps the channel's mean and population std (nnU-Net's retain_stats)", () => {
    const out = applyAugmentation(p, gamma2(false, true));
    // before: mean 1.75, std √2.1875; after gamma: 0, 0.25, 1, 4 with mean 1.3125, std √2.54296875
    const std = Math.sqrt(2.1875);
    const stdAfter = Math.sqrt(2.54296875);
    [0, 0.25, 1, 4].forEach((v, i) =>
      expect(out.image[i]).toBeCloseTo(((v - 1.3125) / (stdAfter + 1e-8)) * std + 1.75, 5),
    );
    const values = Array.from(out.image);
    const mean = values.reduce((s, v) => s + v, 0) / 4;
    expect(mean).toBeCloseTo(1.75, 5);
    expect(Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / 4)).toBeCloseTo(std, 5);
  });

  it("applies gamma to −v when inverted (by hand)", () => {
    // w = 0, −1, −2, −4; min −4, range 4; t = 1, 0.75, 0.5, 0; t²·4 − 4 = 0, −1.75, −3, −4; negated back
    const out = applyAugmentation(p, gamma2(true, false));
    [0, 1.75, 3, 4].forEach((v, i) => expect(out.image[i]).toBeCloseTo(v, 6));
  });

  it("leaves channels without a gamma alone", () => {
    const two = makePatch([3, 2, 1], [ramp, neg]);
    const out = applyAugmentation(two, {
      ...none(2),
      gamma: [null, { gamma: 1.3, invert: false }],
    });
    for (let i = 0; i < 6; i++) expect(out.image[2 * i]).toBe(two.image[2 * i]);
    expect(out.image[1]).not.toBe(two.image[1]);
  });

  it("powUnit agrees with Math.pow to 1e-13 relative, exactly at 0 and 1", () => {
    const rng = createRng(8);
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      const t = i % 4 === 0 ? rng.next() * 1e-30 : rng.next() ** 4;
      const g = 0.3 + 2.7 * rng.next();
      const expected = Math.pow(t, g);
      if (expected > 0) worst = Math.max(worst, Math.abs(powUnit(t, g) - expected) / expected);
    }
    expect(worst).toBeLessThan(1e-13);
    expect(powUnit(0, 0.7)).toBe(0);
    expect(powUnit(1, 1.4)).toBe(1);
    expect(powUnit(0.5, 1)).toBe(0.5);
  });

  it("the interpolated table stays within 1.3e-7 of t^γ from t = 1/256 for γ in [0.7, 1.5]", () => {
    for (const g of [0.7, 0.85, 1.2, 1.5]) {
      const table = gammaTable(g);
      let worst = 0;
      for (let i = 0; i < 50_000; i++) {
        const t = 1 / 256 + (i / 50_000) * (1 - 1 / 256);
        const x = t * 16384;
        const k = Math.floor(x);
        const value = table[k]! + (table[k + 1]! - table[k]!) * (x - k);
        worst = Math.max(worst, Math.abs(value - Math.pow(t, g)));
      }
      expect(worst).toBeLessThan(1.3e-7);
    }
  });
});

describe("rotations and scaling", () => {
  const cube = (n: number) => makePatch([n, n, n], [ramp, neg], labelOf);

  it.each([
    ["x", [Math.PI / 2, 0, 0], (x: number, y: number, z: number, m: number) => [x, z, m - y]],
    ["y", [0, Math.PI / 2, 0], (x: number, y: number, z: number, m: number) => [m - z, y, x]],
    ["z", [0, 0, Math.PI / 2], (x: number, y: number, z: number, m: number) => [y, m - x, z]],
  ] as Array<[string, Vec3, (x: number, y: number, z: number, m: number) => number[]]>)(
    "a 90° rotation about %s is an exact permutation of voxels",
    (_axis, rotation, source) => {
      for (const n of [5, 6]) {
        const p = cube(n);
        const out = applyAugmentation(p, { ...none(2), rotation });
        for (let z = 0; z < n; z++)
          for (let y = 0; y < n; y++)
            for (let x = 0; x < n; x++) {
              const [sx, sy, sz] = source(x, y, z, n - 1) as Vec3;
              expect(at(out, x, y, z, 0)).toBe(ramp(sx, sy, sz));
              expect(at(out, x, y, z, 1)).toBe(neg(sx, sy, sz));
              expect(labelAt(out, x, y, z)).toBe(labelOf(sx, sy, sz));
            }
      }
    },
  );

  it("180° about z equals flipping x and y, byte for byte", () => {
    const p = cube(6);
    const rotated = applyAugmentation(p, { ...none(2), rotation: [0, 0, Math.PI] });
    const flipped = applyAugmentation(p, { ...none(2), flip: [true, true, false] });
    expect(sameBytes(rotated, flipped)).toBe(true);
  });

  it("zoom 2 magnifies about the centre: trilinear images, nearest labels (by hand)", () => {
    // 8 voxels along x: source x = 3.5 + (x − 3.5)/2 = 1.75 … 5.25
    const p = makePatch([8, 1, 1], [(x) => 10 * x + 1], (x) => x);
    const out = applyAugmentation(p, { ...none(1), zoom: 2 });
    for (let x = 0; x < 8; x++) expect(out.image[x]).toBeCloseTo(10 * (1.75 + x / 2) + 1, 5);
    expect(Array.from(out.labels)).toEqual([2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it("zoom 0.5 shrinks about the centre and pads with 0 (by hand)", () => {
    // source x = 2x − 3.5: −3.5, −1.5, 0.5, 2.5, 4.5, 6.5, 8.5, 10.5
    const p = makePatch([8, 1, 1], [(x) => 10 * x + 1], (x) => x);
    const out = applyAugmentation(p, { ...none(1), zoom: 0.5 });
    // 0.5 → (1 + 11)/2; 2.5 → (21 + 31)/2; …; −1.5 and 8.5 are more than a voxel outside
    [0, 0, 6, 26, 46, 66, 0, 0].forEach((v, x) => expect(out.image[x]).toBeCloseTo(v, 5));
    // nearest: round(0.5) = 1, round(2.5) = 3, … ; outside → 0
    expect(Array.from(out.labels)).toEqual([0, 0, 1, 3, 5, 7, 0, 0]);
  });

  it("blends with the zero padding within a voxel of the border", () => {
    // zoom 0.8 on 6 voxels: source x = 2.5 + (x − 2.5)/0.8; x = 0 → −0.625: 0.375·v(0) + 0.625·0
    const p = makePatch([6, 1, 1], [() => 8]);
    const out = applyAugmentation(p, { ...none(1), zoom: 0.8 });
    expect(out.image[0]).toBeCloseTo(0.375 * 8, 5);
    expect(out.image[2]).toBeCloseTo(8, 5);
  });

  it("small rotations keep the label set and each label's volume roughly", () => {
    const n = 24;
    const c = (n - 1) / 2;
    const label = (x: number, y: number, z: number) => {
      const r = Math.hypot(x - c, y - c, (z - c) * 1.3);
      return r < 3 ? 1 : r < 7 ? 2 : x > 15 && x < 19 && y > 4 && y < 9 ? 4 : 0;
    };
    const p = makePatch([n, n, n], [(x, y, z) => label(x, y, z) * 10 + 1], label);
    const out = applyAugmentation(p, { ...none(1), rotation: [0.2, -0.15, 0.25], zoom: 1.05 });
    const count = (labels: Uint8Array, v: number) =>
      labels.reduce((s, l) => s + (l === v ? 1 : 0), 0);
    expect(new Set(out.labels)).toEqual(new Set(p.labels));
    // volumes scale by zoom³ ≈ 1.16; nearest-neighbour resampling adds a few percent
    for (const v of [1, 2]) {
      const ratio = count(out.labels, v) / count(p.labels, v);
      expect(ratio).toBeGreaterThan(1.16 * 0.85);
      expect(ratio).toBeLessThan(1.16 * 1.15);
    }
    // the centre stays where it was
    expect(labelAt(out, 12, 12, 12)).toBe(1);
    expect(at(out, 12, 12, 12)).toBeCloseTo(11, 4);
  });

  it("spatialInverse snaps 90° to exact integers and divides by the zoom", () => {
    expect(spatialInverse([0, 0, Math.PI / 2], 2)).toEqual([
      [0, 0.5, 0],
      [-0.5, 0, 0],
      [0, 0, 0.5],
    ]);
    const m = spatialInverse([0.1, 0.2, 0.3], null);
    // a rotation: orthonormal rows
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const dot = m[i]![0]! * m[j]![0]! + m[i]![1]! * m[j]![1]! + m[i]![2]! * m[j]![2]!;
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
  });
});

describe("drawAugmentation and augmentPatch", () => {
  it("draws flips with probability 1/2 per axis, intensity in range, gamma on ~30% of channels", () => {
    const rng = createRng(31);
    const draws = 3000;
    const flips = [0, 0, 0];
    let gammas = 0;
    let gammaBelow1 = 0;
    for (let i = 0; i < draws; i++) {
      const params = drawAugmentation(rng, 4);
      params.flip.forEach((f, a) => (flips[a]! += f ? 1 : 0));
      expect(params.rotation).toBeNull();
      expect(params.zoom).toBeNull();
      for (let c = 0; c < 4; c++) {
        expect(params.scale[c]! >= 0.9 && params.scale[c]! < 1.1).toBe(true);
        expect(params.shift[c]! >= -0.1 && params.shift[c]! < 0.1).toBe(true);
        const g = params.gamma[c];
        if (g) {
          gammas++;
          if (g.gamma < 1) gammaBelow1++;
          expect(g.gamma >= 0.7 && g.gamma < 1.5).toBe(true);
          expect(g.invert).toBe(false);
        }
      }
    }
    // Binomial σ: flips ≈ 0.009, gamma share ≈ 0.004 (12 000 channel draws)
    for (const f of flips) expect(Math.abs(f / draws - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(gammas / (4 * draws) - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(gammaBelow1 / gammas - 0.5)).toBeLessThan(0.04);
  });

  it("honours disabled parts, enabled axes and rotation limits", () => {
    const rng = createRng(12);
    for (let i = 0; i < 300; i++) {
      const params = drawAugmentation(rng, 2, {
        flip: { probability: 1, axes: [true, false, true] },
        intensity: false,
        gamma: { probability: 1, invertProbability: 1, range: [1.2, 1.4] },
        rotation: { probability: 1, maxAngle: [0.1, 0, 0.3] },
        scaling: { probability: 1, range: [0.9, 1.1] },
      });
      expect(params.flip).toEqual([true, false, true]);
      expect(params.scale).toEqual([1, 1]);
      expect(params.shift).toEqual([0, 0]);
      for (const g of params.gamma) {
        expect(g!.invert).toBe(true);
        expect(g!.gamma >= 1.2 && g!.gamma < 1.4).toBe(true);
      }
      const [ax, ay, az] = params.rotation!;
      expect(Math.abs(ax) <= 0.1 && ay === 0 && Math.abs(az) <= 0.3).toBe(true);
      expect(params.zoom! >= 0.9 && params.zoom! < 1.1).toBe(true);
    }
    expect(drawAugmentation(rng, 1, { flip: false, gamma: false }).flip).toEqual([
      false,
      false,
      false,
    ]);
  });

  it("is reproducible: the same seed gives identical bytes, another seed does not", () => {
    const p = makePatch([10, 9, 8], [ramp, neg, (x, y) => x * y], labelOf);
    const opts = {
      gamma: { probability: 1 },
      rotation: { probability: 1 },
      scaling: { probability: 1 },
    };
    const a = augmentPatch(p, createRng(5), opts);
    const b = augmentPatch(p, createRng(5), opts);
    const c = augmentPatch(p, createRng(6), opts);
    expect(sameBytes(a, b)).toBe(true);
    expect(sameBytes(a, c)).toBe(false);
    // the parameters are JSON-safe and replayable
    const params = drawAugmentation(createRng(5), 3, opts);
    const replayed = applyAugmentation(p, JSON.parse(JSON.stringify(params)) as AugmentParams);
    expect(sameBytes(replayed, a)).toBe(true);
  });

  it.each([
    ["a flip probability above 1", { flip: { probability: 2 } }],
    ["a negative scale", { intensity: { scale: -0.1 } }],
    ["an inverted gamma range", { gamma: { range: [1.5, 0.7] } }],
    ["a zero gamma", { gamma: { range: [0, 1] } }],
    ["a NaN angle", { rotation: { maxAngle: NaN } }],
    ["a zoom range of one number", { scaling: { range: [1] } }],
  ])("rejects %s with BAD_OPTION", (_name, opts) => {
    expect(() => drawAugmentation(createRng(1), 2, opts as never)).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
  });

  it("rejects patches whose arrays do not match their shape, and parameters for other channel counts", () => {
    const p = makePatch([2, 2, 2], [ramp]);
    expect(() => applyAugmentation({ ...p, shape: [2, 2, 3] }, none(1))).toThrow(
      expect.objectContaining({ code: "GEOMETRY_MISMATCH" }),
    );
    expect(() => applyAugmentation(p, none(2))).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
  });
});

describe("augmentationOfStrength: one knob", () => {
  it("1 draws exactly what augmentPatch's defaults draw", () => {
    for (let seed = 0; seed < 50; seed++) {
      const a = drawAugmentation(createRng(seed), 3, {});
      const b = drawAugmentation(createRng(seed), 3, augmentationOfStrength(1) as object);
      expect(b).toEqual(a);
    }
  });

  it.each<[number, object | false]>([
    [0, false],
    [
      0.5,
      {
        flip: { probability: 0.5 },
        intensity: { probability: 0.5, scale: 0.05, shift: 0.05 },
        gamma: { probability: 0.15, range: [0.85, 1.25] },
      },
    ],
    [
      2,
      {
        flip: { probability: 0.5 },
        intensity: { probability: 1, scale: 0.2, shift: 0.2 },
        gamma: { probability: 0.6, range: [0.4, 2] },
        rotation: { probability: 0.2, maxAngle: Math.PI / 12 },
        scaling: { probability: 0.2, range: [0.85, 1.25] },
      },
    ],
  ])("strength %d", (strength, want) => {
    const got = augmentationOfStrength(strength);
    if (want === false) {
      expect(got).toBe(false);
      return;
    }
    // Hand-computed values; floating point in the products, so compare closely.
    expect(
      JSON.parse(
        JSON.stringify(got, (_k, v: unknown) =>
          typeof v === "number" ? Number(v.toFixed(12)) : v,
        ),
      ),
    ).toEqual(
      JSON.parse(
        JSON.stringify(want, (_k, v: unknown) =>
          typeof v === "number" ? Number(v.toFixed(12)) : v,
        ),
      ),
    );
  });

  it("1.5: rotations and scaling come in with probability 0.1", () => {
    const o = augmentationOfStrength(1.5) as {
      rotation: { probability: number };
      scaling: { probability: number };
    };
    expect(o.rotation.probability).toBeCloseTo(0.1, 12);
    expect(o.scaling.probability).toBeCloseTo(0.1, 12);
  });

  it.each([-0.1, 2.01, Number.NaN, Number.POSITIVE_INFINITY])("rejects %d as BAD_OPTION", (s) => {
    expect(() => augmentationOfStrength(s)).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
  });
});
