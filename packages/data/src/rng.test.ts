import { describe, expect, it } from "vitest";
import { createRng, deriveRngState, randomInt, uniform } from "./rng.js";

describe("createRng", () => {
  it("follows the xoshiro128** reference from state [1, 2, 3, 4]", () => {
    // reference outputs of the published C code, recomputed with a direct Python transcription
    const rng = createRng([1, 2, 3, 4]);
    const outputs = Array.from({ length: 6 }, () => rng.next() * 2 ** 32);
    expect(outputs).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
    expect(rng.state()).toEqual([1110993931, 286554632, 2431677446, 2165318166]);
  });

  it("gives the same stream for the same seed and different streams for different seeds", () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 8 }, () => rng.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(-1));
    expect(draw(2 ** 40)).not.toEqual(draw(0));
  });

  it("resumes from its state", () => {
    const rng = createRng(7);
    for (let i = 0; i < 10; i++) rng.next();
    const saved = JSON.parse(JSON.stringify(rng.state())) as number[];
    const expected = Array.from({ length: 5 }, () => rng.next());
    const resumed = createRng(saved);
    expect(Array.from({ length: 5 }, () => resumed.next())).toEqual(expected);
  });

  it("equals createRng(deriveRngState(seed)) for a number seed", () => {
    expect(createRng(5).state()).toEqual(createRng(deriveRngState(5)).state());
  });

  it.each([
    ["a fractional seed", 1.5],
    ["NaN", NaN],
    ["an unsafe integer", 2 ** 60],
    ["a short state", [1, 2, 3]],
    ["an all-zero state", [0, 0, 0, 0]],
    ["a state word out of range", [1, 2, 3, 2 ** 32]],
    ["a negative state word", [1, 2, 3, -4]],
  ])("rejects %s with BAD_OPTION", (_name, seed) => {
    expect(() => createRng(seed)).toThrow(expect.objectContaining({ code: "BAD_OPTION" }));
  });

  it("draws uniformly: mean 1/2, variance 1/12 and ten equal bins over 100 000 draws", () => {
    const rng = createRng(123);
    const n = 100_000;
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    let sumSq = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      sum += u;
      sumSq += u * u;
      bins[Math.floor(u * 10)]!++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005); // σ of the mean ≈ 0.0009
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    // each bin ~ Binomial(n, 0.1): σ ≈ 95; 5σ bounds
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(475);
  });
});

describe("deriveRngState", () => {
  it("separates key lists that differ in any key, order or length", () => {
    const states = [
      deriveRngState(1, 0, 0),
      deriveRngState(1, 0, 1),
      deriveRngState(1, 1, 0),
      deriveRngState(0, 1, 1),
      deriveRngState(1, 0),
      deriveRngState(1),
      deriveRngState(),
      deriveRngState(-1),
    ].map((s) => s.join(","));
    expect(new Set(states).size).toBe(states.length);
    expect(deriveRngState(3, 4, 5)).toEqual(deriveRngState(3, 4, 5));
  });

  it("returns 32-bit unsigned words usable as a state", () => {
    const state = deriveRngState(9, 8, 7);
    expect(state).toHaveLength(4);
    for (const w of state) expect(Number.isInteger(w) && w >= 0 && w < 2 ** 32).toBe(true);
    expect(() => createRng(state)).not.toThrow();
  });

  it("gives streams whose first draws are uncorrelated across consecutive indices", () => {
    // first draw of 10 000 streams (seed 1, epoch 0, index i): their mean must be ~1/2
    let sum = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) sum += createRng(deriveRngState(1, 0, i)).next();
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.015); // σ ≈ 0.0029
  });
});

describe("randomInt and uniform", () => {
  it("randomInt covers 0..n−1 and nothing else", () => {
    const rng = createRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(randomInt(rng, 7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(randomInt(rng, 1)).toBe(0);
  });

  it("uniform maps next() linearly onto [lo, hi)", () => {
    const a = createRng(11);
    const b = createRng(11);
    for (let i = 0; i < 5; i++) {
      const u = a.next();
      expect(uniform(b, -2, 6)).toBeCloseTo(-2 + 8 * u, 14);
    }
  });
});
