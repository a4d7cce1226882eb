import { describe, expect, it } from "vitest";
import { regionDice } from "./validate.js";

describe("regionDice", () => {
  it("scores nested regions by hand", () => {
    // truth: WT = {1,2,3,4}, TC = {2,3}, ET = {3}; prediction: WT = {2,3,4,5}, TC = {3}, ET = {}.
    const truth = [0, 2, 1, 3, 2, 0];
    const pred = [0, 0, 2, 1, 2, 2];
    const d = regionDice(pred, truth);
    expect(d.WT).toBeCloseTo((2 * 3) / 8, 12);
    expect(d.TC).toBeCloseTo((2 * 1) / 3, 12);
    expect(d.ET).toBe(0);
    expect(regionDice([0, 2], [0, 2]).ET).toBe(1); // absent from both
  });
});
