import { describe, expect, it } from "vitest";
import { mulberry32, seededUniform } from "./random.js";

describe("mulberry32", () => {
  // The reference generator's first outputs (mulberry32(0)() / 2^32 = 0.26642920868471265).
  it.each([
    [0, [1144304738, 1416247, 958946056]],
    [1, [2693262067, 11749833, 2265367787]],
    [42, [2581720956, 1925393290, 3661312704]],
  ])("seed %i", (seed, expected) => {
    const next = mulberry32(seed);
    expect([next(), next(), next()]).toEqual(expected);
  });

  it("seededUniform divides by 2^32, in [0, 1)", () => {
    const u = seededUniform(0);
    expect(u()).toBe(0.26642920868471265);
    for (let i = 0; i < 1000; i++) {
      const v = u();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it("wraps seeds to uint32", () => {
    expect(mulberry32(2 ** 32 + 5)()).toBe(mulberry32(5)());
  });
});
