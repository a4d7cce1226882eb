// TimeBudget: when one more step fits, what is held back for the run's end, the share spent.
import { describe, expect, it } from "vitest";
import { TimeBudget } from "./budget.js";

/** A clock the test moves by hand. */
function manualClock(start = 1000) {
  let now = start;
  return {
    clock: () => now,
    advance: (s: number) => {
      now += s;
    },
  };
}

describe("TimeBudget", () => {
  it("counts time from its start plus what earlier sessions spent", () => {
    const t = manualClock();
    const budget = new TimeBudget(100, { clock: t.clock, elapsed: 40 });
    expect(budget.elapsed()).toBe(40);
    t.advance(15);
    expect(budget.elapsed()).toBe(55);
  });

  it.each<[string, number[], number, number, number, boolean]>([
    // name, step times, validation, checkpoint, time spent, can step
    ["nothing measured yet", [], 0, 0, 99, true],
    ["out of time", [], 0, 0, 100.5, false],
    ["one 10 s step left exactly", [10], 0, 0, 90, true],
    ["a step would overrun", [10], 0, 0, 90.5, false],
    ["mean of recent steps: (4 + 8) / 2 = 6", [4, 8], 0, 0, 94, true],
    ["mean of recent steps, overrun", [4, 8], 0, 0, 94.5, false],
    ["validation and checkpoint held back: 60 + 10 + 25 + 5 = 100", [10], 25, 5, 60, true],
    ["held back, overrun", [10], 25, 5, 61, false],
  ])("%s", (_name, steps, validation, checkpoint, spent, fits) => {
    const t = manualClock();
    const budget = new TimeBudget(100, { clock: t.clock });
    for (const s of steps) budget.noteStep(s);
    if (validation > 0) budget.noteValidation(validation);
    if (checkpoint > 0) budget.noteCheckpoint(checkpoint);
    t.advance(spent);
    expect(budget.canStep()).toBe(fits);
  });

  it.each<[string, number, boolean]>([
    // name, time spent, can step after a 5 s checkpoint (10 s steps, 25 s validation)
    ["checkpoint, step and reserve fit: 55 + 5 + 10 + 30 = 100", 55, true],
    ["the checkpoint would leave no time for the step", 56, false],
  ])("canStepAfterCheckpoint: %s", (_name, spent, fits) => {
    const t = manualClock();
    const budget = new TimeBudget(100, { clock: t.clock });
    budget.noteStep(10);
    budget.noteValidation(25);
    budget.noteCheckpoint(5);
    t.advance(spent);
    expect(budget.canStepAfterCheckpoint()).toBe(fits);
    // canStep does not count the checkpoint: 56 + 10 + 30 ≤ 100.
    expect(budget.canStep()).toBe(spent + 10 + 30 <= 100);
  });

  it("keeps the ten most recent steps for its estimate", () => {
    const budget = new TimeBudget(100, { clock: () => 0 });
    for (let i = 0; i < 10; i++) budget.noteStep(100);
    for (let i = 0; i < 10; i++) budget.noteStep(2);
    expect(budget.stepEstimate()).toBe(2);
  });

  it("reserves an estimate until a validation is measured, then the longest measured", () => {
    const budget = new TimeBudget(100, { clock: () => 0 });
    budget.estimateValidation(30);
    expect(budget.reserve()).toBe(30);
    budget.noteValidation(12);
    expect(budget.reserve()).toBe(12);
    budget.estimateValidation(50); // ignored once measured
    budget.noteValidation(9);
    expect(budget.reserve()).toBe(12);
    budget.noteValidation(14);
    budget.noteCheckpoint(3);
    budget.noteCheckpoint(2);
    expect(budget.reserve()).toBe(17);
  });

  it("gives the share of training time spent: elapsed / (limit − reserve), clamped to 1", () => {
    const t = manualClock();
    const budget = new TimeBudget(100, { clock: t.clock });
    budget.noteValidation(20);
    t.advance(40);
    expect(budget.fraction()).toBe(0.5);
    expect(budget.remainingForSteps()).toBe(40);
    t.advance(60);
    expect(budget.fraction()).toBe(1);
    expect(budget.remainingForSteps()).toBe(0);
    const spentOnReserve = new TimeBudget(10, { clock: () => 0 });
    spentOnReserve.noteValidation(20);
    expect(spentOnReserve.fraction()).toBe(1);
  });
});
