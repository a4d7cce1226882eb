import { describe, expect, it } from "vitest";
import {
  extractPatch,
  foregroundIndex,
  fromChannelsLast,
  samplePatch,
  toChannelsLast,
  type PatchSource,
} from "./patches.js";
import type { Vec3 } from "./grid.js";
import { createRng } from "./rng.js";

/** Two channels: v = 1 + x + 10y + 100z and −v; labels (x + y + z) % 3. */
function rampCase(shape: Vec3): PatchSource {
  const n = shape[0] * shape[1] * shape[2];
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  const seg = new Uint8Array(n);
  let i = 0;
  for (let z = 0; z < shape[2]; z++)
    for (let y = 0; y < shape[1]; y++)
      for (let x = 0; x < shape[0]; x++, i++) {
        a[i] = 1 + x + 10 * y + 100 * z;
        b[i] = -a[i]!;
        seg[i] = (x + y + z) % 3;
      }
  return { channels: [a, b], seg, shape };
}

const ramp = (x: number, y: number, z: number) => 1 + x + 10 * y + 100 * z;

describe("extractPatch", () => {
  it("copies a patch inside the volume, channels last", () => {
    const c = rampCase([6, 5, 4]);
    const p = extractPatch(c, [3, 2, 2], [2, 1, 1]);
    expect(p.shape).toEqual([3, 2, 2]);
    expect(p.channels).toBe(2);
    expect(p.image).toHaveLength(24);
    // [z][y][x][c]: patch voxel (x, y, z) is volume voxel (2 + x, 1 + y, 1 + z); (2, 1, 1) → 1 + 2 + 10 + 100
    expect(Array.from(p.image.subarray(0, 6))).toEqual([113, -113, 114, -114, 115, -115]);
    for (let z = 0; z < 2; z++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 3; x++) {
          const i = x + 3 * (y + 2 * z);
          expect(p.image[2 * i]).toBe(ramp(2 + x, 1 + y, 1 + z));
          expect(p.image[2 * i + 1]).toBe(-ramp(2 + x, 1 + y, 1 + z));
          expect(p.labels[i]).toBe((2 + x + 1 + y + 1 + z) % 3);
        }
  });

  it("pads with zeros where the patch leaves the volume", () => {
    const c = rampCase([6, 5, 4]);
    const p = extractPatch(c, [3, 3, 3], [-1, 3, 2]);
    for (let z = 0; z < 3; z++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 3; x++) {
          const [vx, vy, vz] = [x - 1, y + 3, z + 2];
          const inside = vx >= 0 && vy < 5 && vz < 4;
          const i = x + 3 * (y + 3 * z);
          expect(p.image[2 * i]).toBe(inside ? ramp(vx, vy, vz) : 0);
          expect(p.image[2 * i + 1]).toBe(inside ? -ramp(vx, vy, vz) : 0);
          expect(p.labels[i]).toBe(inside ? (vx + vy + vz) % 3 : 0);
        }
    // by hand: patch (1, 0, 0) ← volume (0, 3, 2) = 1 + 30 + 200; patch (1, 2, 0) ← y = 5, outside
    expect(p.image[2 * 1]).toBe(231);
    expect(p.image[2 * (1 + 3 * 2)]).toBe(0);
  });

  it("is all zeros entirely outside the volume, and labels are 0 without a seg", () => {
    const c = rampCase([4, 4, 4]);
    const outside = extractPatch(c, [2, 2, 2], [10, 0, 0]);
    expect(outside.image.every((v) => v === 0)).toBe(true);
    const noSeg = extractPatch({ ...c, seg: null }, [2, 2, 2], [1, 1, 1]);
    expect(noSeg.labels.every((v) => v === 0)).toBe(true);
    expect(noSeg.image[0]).toBe(ramp(1, 1, 1));
  });
});

describe("samplePatch", () => {
  it("places random patches inside the volume, over every possible origin", () => {
    const c = rampCase([12, 10, 9]);
    const rng = createRng(3);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const p = samplePatch(c, [8, 8, 8], rng, { foregroundShare: 0 });
      expect(p.centreClass).toBeNull();
      const [ox, oy, oz] = p.origin;
      expect(ox >= 0 && ox <= 4 && oy >= 0 && oy <= 2 && oz >= 0 && oz <= 1).toBe(true);
      seen.add(p.origin.join(","));
      expect(p.image[0]).toBe(ramp(ox, oy, oz));
    }
    expect(seen.size).toBe(5 * 3 * 2);
  });

  it("keeps the whole volume inside a patch larger than it", () => {
    const c = rampCase([6, 5, 4]);
    const total = c.channels[0]!.reduce((s, v) => s + v, 0);
    const rng = createRng(4);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const p = samplePatch(c, [8, 8, 4], rng, { foregroundShare: 0 });
      const [ox, oy, oz] = p.origin;
      expect(ox >= -2 && ox <= 0 && oy >= -3 && oy <= 0 && oz === 0).toBe(true);
      seen.add(p.origin.join(","));
      let sum = 0;
      for (let v = 0; v < p.image.length; v += 2) sum += p.image[v]!;
      expect(sum).toBe(total);
    }
    expect(seen.size).toBe(3 * 4);
  });

  it("centres the measured share of patches on foreground, each present class equally often", () => {
    // 32³, class 1: a 4×4×4 block (64 voxels), class 2: one voxel near a corner, class 3: 3 voxels
    const shape: Vec3 = [32, 32, 32];
    const n = 32 ** 3;
    const seg = new Uint8Array(n);
    const at = (x: number, y: number, z: number) => x + 32 * (y + 32 * z);
    for (let z = 10; z < 14; z++)
      for (let y = 10; y < 14; y++) for (let x = 10; x < 14; x++) seg[at(x, y, z)] = 1;
    seg[at(1, 30, 2)] = 2;
    seg[at(20, 20, 20)] = 3;
    seg[at(21, 20, 20)] = 3;
    seg[at(25, 5, 28)] = 3;
    const c: PatchSource = { channels: [new Float32Array(n).fill(1)], seg, shape };
    const rng = createRng(2024);
    const draws = 3000;
    const share = 0.4;
    let centredOnForeground = 0;
    const byClass = [0, 0, 0, 0];
    for (let i = 0; i < draws; i++) {
      const p = samplePatch(c, [9, 8, 7], rng, { foregroundShare: share });
      const centre = 4 + 9 * (4 + 8 * 3); // patch voxel ⌊size/2⌋ = (4, 4, 3)
      const label = p.labels[centre]!;
      if (label !== 0) {
        centredOnForeground++;
        byClass[label]!++;
      }
      if (p.centreClass !== null) expect(label).toBe(p.centreClass);
    }
    // Binomial(3000, 0.4): σ ≈ 0.009; random patches centre on foreground with p < 0.003
    expect(Math.abs(centredOnForeground / draws - share)).toBeLessThan(0.04);
    // classes drawn uniformly among 1, 2, 3 (not by voxel count: class 2 has 1 voxel, class 1 has 64)
    for (const cls of [1, 2, 3]) {
      expect(Math.abs(byClass[cls]! / centredOnForeground - 1 / 3)).toBeLessThan(0.06);
    }
  });

  it("falls back to random patches without foreground or without a seg", () => {
    const empty: PatchSource = {
      channels: [new Float32Array(64)],
      seg: new Uint8Array(64),
      shape: [4, 4, 4],
    };
    const rng = createRng(5);
    for (let i = 0; i < 20; i++) {
      expect(samplePatch(empty, [2, 2, 2], rng, { foregroundShare: 1 }).centreClass).toBeNull();
      expect(
        samplePatch({ ...empty, seg: null }, [2, 2, 2], rng, { foregroundShare: 1 }).centreClass,
      ).toBeNull();
    }
  });

  it("always centres on foreground with share 1, padding where the centre is near a face", () => {
    const seg = new Uint8Array(1000);
    seg[0] = 4; // voxel (0, 0, 0)
    const c: PatchSource = { channels: [new Float32Array(1000).fill(2)], seg, shape: [10, 10, 10] };
    const p = samplePatch(c, [5, 5, 5], createRng(9), { foregroundShare: 1 });
    expect(p.centreClass).toBe(4);
    expect(p.origin).toEqual([-2, -2, -2]);
    expect(p.labels[2 + 5 * (2 + 5 * 2)]).toBe(4);
    expect(p.image[0]).toBe(0); // padded corner
    expect(p.image[2 + 5 * (2 + 5 * 2)]).toBe(2);
  });

  it("is reproducible: the same seed gives identical bytes", () => {
    const c = rampCase([20, 18, 16]);
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () =>
        samplePatch(c, [8, 8, 8], rng, { foregroundShare: 0.5 }),
      );
    };
    const [a, b, other] = [draw(77), draw(77), draw(78)];
    a.forEach((p, i) => {
      expect(Buffer.from(p.image.buffer).equals(Buffer.from(b[i]!.image.buffer))).toBe(true);
      expect(p.labels).toEqual(b[i]!.labels);
      expect(p.origin).toEqual(b[i]!.origin);
    });
    expect(a.map((p) => p.origin)).not.toEqual(other.map((p) => p.origin));
  });

  it.each([
    ["a zero size", [0, 4, 4], {}],
    ["a fractional size", [4, 4.5, 4], {}],
    ["two sizes", [4, 4], {}],
    ["a share above 1", [4, 4, 4], { foregroundShare: 1.5 }],
    ["a NaN share", [4, 4, 4], { foregroundShare: NaN }],
  ])("rejects %s with BAD_OPTION", (_name, size, opts) => {
    expect(() => samplePatch(rampCase([6, 6, 6]), size as Vec3, createRng(1), opts)).toThrow(
      expect.objectContaining({ code: "BAD_OPTION" }),
    );
  });

  it("rejects channels that do not match the shape", () => {
    const c = { ...rampCase([4, 4, 4]), shape: [4, 4, 5] as Vec3 };
    expect(() => samplePatch(c, [2, 2, 2], createRng(1))).toThrow(
      expect.objectContaining({ code: "GEOMETRY_MISMATCH" }),
    );
  });
});

describe("foregroundIndex", () => {
  it("lists each nonzero label's voxels in ascending order and caches per array", () => {
    const seg = Uint8Array.from([0, 4, 1, 0, 4, 4, 2, 0]);
    const index = foregroundIndex(seg);
    expect(index.classes).toEqual([1, 2, 4]);
    expect(Array.from(index.voxels.get(4)!)).toEqual([1, 4, 5]);
    expect(Array.from(index.voxels.get(1)!)).toEqual([2]);
    expect(foregroundIndex(seg)).toBe(index);
    expect(foregroundIndex(seg.slice())).not.toBe(index);
  });
});

describe("toChannelsLast / fromChannelsLast", () => {
  it("interleaves x-fastest channels into [z][y][x][C] and back", () => {
    const shape: Vec3 = [2, 1, 2];
    const a = Float32Array.from([1, 2, 3, 4]);
    const b = Float32Array.from([10, 20, 30, 40]);
    const c = Float32Array.from([-1, -2, -3, -4]);
    const last = toChannelsLast([a, b, c], shape);
    expect(Array.from(last)).toEqual([1, 10, -1, 2, 20, -2, 3, 30, -3, 4, 40, -4]);
    expect(fromChannelsLast(last, shape, 3)).toEqual([a, b, c]);
    expect(() => toChannelsLast([a, new Float32Array(3)], shape)).toThrow(
      expect.objectContaining({ code: "GEOMETRY_MISMATCH" }),
    );
    expect(() => fromChannelsLast(last, shape, 2)).toThrow(
      expect.objectContaining({ code: "GEOMETRY_MISMATCH" }),
    );
  });
});
