// The learning-rate schedules of train(): a function of the share of the run done, by global step
// (so a resumed run follows the same curve) or, under a time limit, by time spent as well.
import { UNet3DError } from "../errors.js";

export type Schedule = "poly" | "cosine" | "constant";

export interface ScheduleOptions {
  learningRate: number;
  schedule?: Schedule;
  polyPower?: number;
  minLearningRate?: number;
}

/**
 * Learning rate of step `step` (0-based) of `totalSteps`. poly: lr·(1 − t/T)^power (nnU-Net);
 * cosine: min + (lr − min)·(1 + cos(π t/T))/2; constant: lr.
 */
export function learningRateAt(step: number, totalSteps: number, opts: ScheduleOptions): number {
  return learningRateAtFraction(Math.min(Math.max(step, 0), totalSteps) / totalSteps, opts);
}

/**
 * Learning rate at share `t` ∈ [0, 1] of the run (clamped): of its steps, or of its time budget
 * for a time-limited run.
 */
export function learningRateAtFraction(fraction: number, opts: ScheduleOptions): number {
  const { learningRate: lr, schedule = "poly", polyPower = 0.9, minLearningRate = 0 } = opts;
  const t = Math.min(Math.max(fraction, 0), 1);
  switch (schedule) {
    case "constant":
      return lr;
    case "poly":
      return lr * Math.pow(1 - t, polyPower);
    case "cosine":
      return minLearningRate + ((lr - minLearningRate) * (1 + Math.cos(Math.PI * t))) / 2;
    default:
      throw new UNet3DError("BAD_CONFIG", `unknown schedule ${String(schedule)}`);
  }
}
