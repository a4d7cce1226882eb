// The learning-rate schedules of train(): a function of the global step only, so a resumed run
// follows the same curve.
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
  const { learningRate: lr, schedule = "poly", polyPower = 0.9, minLearningRate = 0 } = opts;
  const t = Math.min(Math.max(step, 0), totalSteps) / totalSteps;
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
