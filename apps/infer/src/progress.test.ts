import { describe, expect, it } from "vitest";
import { ProgressBar, progressLine } from "./progress.js";

describe("progressLine", () => {
  it.each([
    // casesDone, cases, windowsDone, windows, elapsed → bar fill, label, ETA
    [0, 4, 0, 0, 0, 0, "case 1/4", "?"],
    // 1.5 of 4 cases in 30 s: 30 / 0.375 × 0.625 = 50 s left; 0.375 × 24 = 9 filled.
    [1, 4, 50, 100, 30, 9, "case 2/4 windows 50/100", "0:50"],
    // 2 of 4 in 100 s → 100 s left.
    [2, 4, 0, 0, 100, 12, "case 3/4", "1:40"],
    // 0.5 of 1 case in 1800 s → 1800 s left = 30 min.
    [0, 1, 8, 16, 1800, 12, "case 1/1 windows 8/16", "30:00"],
    // 1 of 3 in 3700 s → 7400 s = 2:03:20.
    [1, 3, 0, 0, 3700, 8, "case 2/3", "2:03:20"],
    [3, 3, 0, 0, 12, 24, "case 3/3", "0:00"],
  ])(
    "%i/%i cases, %i/%i windows, %i s",
    (casesDone, cases, windowsDone, windows, elapsed, filled, label, eta) => {
      const line = progressLine({ casesDone, cases, windowsDone, windows, elapsed, id: "X" });
      const bar = `${"#".repeat(filled)}${"-".repeat(24 - filled)}`;
      expect(line).toBe(`\r[${bar}] ${label} ETA ${eta} X\x1b[K`);
    },
  );
});

describe("ProgressBar", () => {
  it("throttles redraws unless forced and clears only what it drew", () => {
    const written: string[] = [];
    let now = 0;
    const bar = new ProgressBar(
      (t) => written.push(t),
      200,
      () => now,
    );
    const state = { casesDone: 0, cases: 1, windowsDone: 1, windows: 2, elapsed: 1, id: "A" };
    bar.clear();
    expect(written).toEqual([]);
    bar.update(state);
    now = 100;
    bar.update(state);
    expect(written).toHaveLength(1);
    bar.update(state, true);
    now = 400;
    bar.update(state);
    expect(written).toHaveLength(3);
    bar.clear();
    expect(written[3]).toBe("\r\x1b[K");
    bar.clear();
    expect(written).toHaveLength(4);
  });
});
