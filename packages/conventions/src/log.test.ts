import { describe, expect, it } from "vitest";
import {
  formatEpochLine,
  formatStepLine,
  parseTrainingLog,
  type EpochRecord,
  type StepRecord,
} from "./log.js";

describe("parseTrainingLog", () => {
  it("reads step and epoch lines, skipping and counting bad ones", () => {
    const text = [
      '{"type":"step","epoch":1,"step":0,"loss":0.9,"lr":0.01,"time":1.5}',
      '{"type":"step","epoch":1,"step":1,"loss":0.8}',
      "",
      '{"type":"epoch","epoch":1,"loss":0.85,"val":{"WT":0.7,"TC":0.6,"ET":null},"lr":0.01,"time":3}',
      "{bad json",
      "[1, 2]",
      '{"type":"step","epoch":2,"step":2}',
      '{"type":"config","lr":0.01}',
      '{"type":"epoch","epoch":2,"loss":0.5}\r',
      '{"type":"epoch","epoch":1,"loss":0.84,"val":{"WT":0.71}}',
      "   ",
    ].join("\n");
    const log = parseTrainingLog(text);
    expect(log.steps).toEqual([
      { epoch: 1, step: 0, loss: 0.9, lr: 0.01, time: 1.5 },
      { epoch: 1, step: 1, loss: 0.8 },
    ]);
    // the later line for epoch 1 replaces the earlier one; a null Dice is left out
    expect(log.epochs).toEqual([
      { epoch: 1, loss: 0.84, val: { WT: 0.71 } },
      { epoch: 2, loss: 0.5 },
    ]);
    expect(log.skipped).toBe(4);
    expect(log.skippedLines).toEqual([5, 6, 7, 8]);
  });

  it("sorts records and accepts an empty log", () => {
    const log = parseTrainingLog(
      '{"type":"step","epoch":2,"step":9,"loss":1}\n{"type":"step","epoch":1,"step":3,"loss":2}',
    );
    expect(log.steps.map((s) => s.step)).toEqual([3, 9]);
    expect(parseTrainingLog("")).toEqual({ steps: [], epochs: [], skipped: 0, skippedLines: [] });
  });

  it("keeps only the first 20 skipped line numbers", () => {
    const log = parseTrainingLog(Array.from({ length: 25 }, () => "x").join("\n"));
    expect(log.skipped).toBe(25);
    expect(log.skippedLines).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("rejects a non-string", () => {
    expect(() => parseTrainingLog(42 as unknown as string)).toThrow(TypeError);
  });
});

describe("formatEpochLine / formatStepLine", () => {
  const validated: EpochRecord = {
    epoch: 3,
    loss: 0.25,
    lr: 0.001,
    val: { WT: 0.9, TC: 0.8, ET: 0.7 },
    time: 12.5,
  };
  const unvalidated: EpochRecord = { ...validated, epoch: 4, val: null };
  const step: StepRecord = { epoch: 3, step: 30, loss: 0.5, lr: 0.002, time: 11 };

  it.each<[string, string, string]>([
    [
      "a validated epoch",
      formatEpochLine(validated),
      '{"type":"epoch","epoch":3,"loss":0.25,"lr":0.001,"val":{"WT":0.9,"TC":0.8,"ET":0.7},"time":12.5}\n',
    ],
    [
      "an unvalidated epoch (no val key)",
      formatEpochLine(unvalidated),
      '{"type":"epoch","epoch":4,"loss":0.25,"lr":0.001,"time":12.5}\n',
    ],
    [
      "a step",
      formatStepLine(step),
      '{"type":"step","epoch":3,"step":30,"loss":0.5,"lr":0.002,"time":11}\n',
    ],
  ])("%s", (_what, line, expected) => {
    expect(line).toBe(expected);
  });

  it("round-trips through parseTrainingLog", () => {
    const log = parseTrainingLog(
      formatStepLine(step) + formatEpochLine(validated) + formatEpochLine(unvalidated),
    );
    expect(log.steps).toEqual([step]);
    expect(log.epochs).toEqual([
      { epoch: 3, loss: 0.25, lr: 0.001, val: { WT: 0.9, TC: 0.8, ET: 0.7 }, time: 12.5 },
      { epoch: 4, loss: 0.25, lr: 0.001, time: 12.5 },
    ]);
    expect(log.skipped).toBe(0);
  });
});
