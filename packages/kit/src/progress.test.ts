import { describe, expect, it } from "vitest";
import { etaSeconds, formatDuration, ProgressBar, progressLine } from "./progress.js";

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [0.4, "0s"],
    [7, "7s"],
    [42.4, "42s"],
    [59.4, "59s"],
    [59.6, "1m00s"],
    [60, "1m00s"],
    [185, "3m05s"],
    [3599, "59m59s"],
    [3599.6, "1h00m"],
    [3720, "1h02m"],
    [3779, "1h02m"],
    [26 * 3600 + 5 * 60, "26h05m"],
    [-1, "?"],
    [Number.NaN, "?"],
    [Number.POSITIVE_INFINITY, "?"],
  ])("%d s is %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("etaSeconds", () => {
  it.each([
    [10, 0.5, 10],
    [30, 0.25, 90],
    [5, 1, 0],
    [5, 1.2, 0],
    [5, 0, Number.NaN],
    [5, Number.NaN, Number.NaN],
  ])("elapsed %d s at %d done: %d s left", (elapsed, fraction, left) => {
    expect(etaSeconds(elapsed, fraction)).toBe(left);
  });
});

describe("progressLine", () => {
  it.each([
    [0, "", Number.NaN, 10, "[----------]   0% ETA ?"],
    [0.25, "case 1/4", 90, 8, "[##------]  25% case 1/4 ETA 1m30s"],
    [0.999, "x", 1, 10, "[##########]  99% x ETA 1s"],
    [1, "done", 0, 4, "[####] 100% done ETA 0s"],
    [1.7, "", 0, 4, "[####] 100% ETA 0s"],
    [-1, "", 5, 4, "[----]   0% ETA 5s"],
  ])("%d %s", (fraction, text, eta, width, line) => {
    expect(progressLine(fraction, text, eta, width)).toBe(line);
  });
});

/** A bar whose clock and output the test controls. */
function fakeBar(tty: boolean) {
  let t = 0;
  const out: string[] = [];
  const bar = new ProgressBar({
    write: (s) => out.push(s),
    tty,
    now: () => t,
    width: 4,
    redrawMs: 200,
    plainMs: 10_000,
  });
  return { bar, out, advance: (ms: number) => (t += ms) };
}

describe("ProgressBar on a terminal", () => {
  it("redraws in place at most every redrawMs, unless forced", () => {
    const { bar, out, advance } = fakeBar(true);
    advance(1000);
    bar.update({ fraction: 0.5, text: "a" });
    advance(100);
    bar.update({ fraction: 0.6, text: "b" }); // throttled
    bar.update({ fraction: 0.7, text: "c" }, true);
    advance(250);
    bar.update({ fraction: 0.75, text: "d" });
    expect(out).toEqual([
      "\r[##--]  50% a ETA 1s\x1b[K",
      "\r[###-]  70% c ETA 0s\x1b[K",
      "\r[###-]  75% d ETA 0s\x1b[K",
    ]);
  });

  it("uses the caller's ETA when given", () => {
    const { bar, out } = fakeBar(true);
    bar.update({ fraction: 0.1, text: "epoch 1/10", eta: 185 });
    expect(out).toEqual(["\r[----]  10% epoch 1/10 ETA 3m05s\x1b[K"]);
  });

  it("prints messages above the bar and draws it again", () => {
    const { bar, out, advance } = fakeBar(true);
    bar.log("before any bar\n");
    advance(2000);
    bar.update({ fraction: 0.5, text: "x" });
    bar.log("case done\n");
    expect(out).toEqual([
      "before any bar\n",
      "\r[##--]  50% x ETA 2s\x1b[K",
      "\r\x1b[K",
      "case done\n",
      "\r[##--]  50% x ETA 2s\x1b[K",
    ]);
  });

  it.each([
    [undefined, ["\r\x1b[K"]],
    ["12/12 cases", ["\r\x1b[K", "[####] 100% 12/12 cases in 3m05s\n"]],
  ])("finish(%s)", (text, tail) => {
    const { bar, out, advance } = fakeBar(true);
    advance(185_000);
    bar.update({ fraction: 0.9 });
    out.length = 0;
    bar.finish(text);
    expect(out).toEqual(tail);
    bar.clear(); // nothing left to erase
    expect(out).toEqual(tail);
  });

  it("restart() starts the ETA clock again", () => {
    const { bar, out, advance } = fakeBar(true);
    advance(60_000);
    bar.restart();
    advance(10_000);
    bar.update({ fraction: 0.5 });
    expect(bar.elapsedSeconds()).toBe(10);
    expect(out).toEqual(["\r[##--]  50% ETA 10s\x1b[K"]);
  });
});

describe("ProgressBar elsewhere (logs, CI)", () => {
  it("prints a plain line at most every plainMs, and on forced updates", () => {
    const { bar, out, advance } = fakeBar(false);
    advance(1000);
    bar.update({ fraction: 0.1, text: "a" });
    advance(5000);
    bar.update({ fraction: 0.2, text: "b" });
    bar.update({ fraction: 0.25, text: "epoch end" }, true);
    advance(10_000);
    bar.update({ fraction: 0.5, text: "c" });
    bar.log("message\n");
    bar.clear();
    bar.finish("all");
    expect(out).toEqual([
      "[----]  10% a ETA 9s\n",
      "[#---]  25% epoch end ETA 18s\n",
      "[##--]  50% c ETA 16s\n",
      "message\n",
      "[####] 100% all in 16s\n",
    ]);
  });
});
