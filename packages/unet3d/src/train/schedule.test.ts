import { describe, expect, it } from "vitest";
import { learningRateAt } from "./schedule.js";

describe("learningRateAt", () => {
  it.each([
    // poly: 0.01 · (1 − 5/10)^0.9 = 0.01 · 0.535886731...
    { step: 0, schedule: "poly", want: 0.01 },
    { step: 5, schedule: "poly", want: 0.01 * 0.5358867312681466 },
    { step: 10, schedule: "poly", want: 0 },
    // cosine from 0.01 to 0.001: midpoint (0.01 + 0.001)/2; a quarter: 0.001 + 0.009·(1 + √½)/2.
    { step: 0, schedule: "cosine", want: 0.01 },
    { step: 5, schedule: "cosine", want: 0.0055 },
    { step: 2.5, schedule: "cosine", want: 0.001 + (0.009 * (1 + Math.SQRT1_2)) / 2 },
    { step: 10, schedule: "cosine", want: 0.001 },
    { step: 7, schedule: "constant", want: 0.01 },
  ] as const)("$schedule at step $step of 10 is $want", ({ step, schedule, want }) => {
    const lr = learningRateAt(step, 10, { learningRate: 0.01, schedule, minLearningRate: 0.001 });
    expect(lr).toBeCloseTo(want, 15);
  });
  it("poly with power 2 halves twice", () => {
    expect(learningRateAt(5, 10, { learningRate: 1, polyPower: 2 })).toBeCloseTo(0.25, 15);
  });
});
