// The training loop: Adam (optimizer.ts) with a learning-rate schedule (schedule.ts) over epochs
// of patches, validation of whole cases with sliding-window inference (validate.ts), atomic
// `last`/`best` checkpoints that hold everything a resume needs (checkpoint.ts), the logs
// (log.ts), early stopping, a clean stop on SIGINT (signals.ts) and a time budget (budget.ts).
import { makeDirs } from "@brats/kit/fs";
import type * as tfl from "@tensorflow/tfjs-layers";
import { loadModel } from "../io.js";
import {
  dropoutCallsOf,
  dropoutLayers,
  findCheckpoint,
  freshState,
  loadAdamMoments,
  momentEntries,
  readTrainState,
  restoreDropoutCalls,
  saveCheckpoint,
  type CheckpointName,
  type SeededDropout,
  type TrainState,
} from "./checkpoint.js";
import type { EpochRecord, RegionScores } from "@brats/conventions";
import { RunLog } from "./log.js";
import { createAdam, disposeAdam, type Adam, type AdamOptions } from "./optimizer.js";
import {
  checkOptions,
  type BatchSource,
  type StopReason,
  type TrainOptions,
  type TrainResult,
} from "./options.js";
import { TimeBudget, systemClock, type Clock } from "./budget.js";
import { learningRateAtFraction } from "./schedule.js";
import { watchInterrupts, type Interrupts } from "./signals.js";
import { taskOf, trainStep, type Task } from "./step.js";
import { estimateValidationSeconds, validate } from "./validate.js";

/** A run in progress: its options, what it trains, and its state (mutated step by step). */
interface Run {
  options: TrainOptions;
  totalSteps: number;
  lrAt: (step: number) => number;
  step: AdamOptions & Task;
  state: TrainState;
  model: tfl.LayersModel;
  adam: Adam;
  dropouts: SeededDropout[];
  source: BatchSource;
  log: RunLog;
  /** Seconds since the run started (resumes included). */
  now: () => number;
  clock: Clock;
  /** With options.timeLimit. */
  budget: TimeBudget | null;
}

/**
 * The learning rate by global step, with the options' schedule. Under a time limit the schedule
 * follows the larger of the shares of steps and of time spent, so it reaches its end at whichever
 * limit comes first.
 */
function scheduleOf(
  options: TrainOptions,
  totalSteps: number,
  budget: TimeBudget | null,
): (step: number) => number {
  const { learningRate = 1e-3 } = options;
  return (step) =>
    learningRateAtFraction(Math.max(step / totalSteps, budget?.fraction() ?? 0), {
      learningRate,
      ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
      ...(options.polyPower === undefined ? {} : { polyPower: options.polyPower }),
      ...(options.minLearningRate === undefined
        ? {}
        : { minLearningRate: options.minLearningRate }),
    });
}

/** The state and model of outDir/last (logs cut back to it), or of a fresh run. */
async function openRun(
  options: TrainOptions,
  log: RunLog,
  lastDir: string | null,
): Promise<{ state: TrainState; model: tfl.LayersModel }> {
  if (lastDir !== null) {
    const state = await readTrainState(lastDir);
    const model = await loadModel(lastDir);
    await log.rewind(state);
    return { state, model };
  }
  const model = typeof options.model === "function" ? options.model() : options.model;
  return { state: freshState(await log.start()), model };
}

async function checkpoint(run: Run, name: CheckpointName): Promise<void> {
  const { state } = run;
  const started = run.clock();
  const snapshot: TrainState = {
    ...state,
    elapsed: run.now(),
    sourceState: run.source.state(),
    dropoutCalls: dropoutCallsOf(run.dropouts),
    moments: momentEntries(run.adam),
    ...(await run.log.sizes()),
  };
  await saveCheckpoint(run.options.outDir, name, run.model, run.adam, snapshot);
  run.budget?.noteCheckpoint(run.clock() - started);
  run.options.onProgress?.({ type: "checkpoint", name, epoch: state.epoch, step: state.step });
}

/** The remaining steps of the epoch in progress, until an interrupt or the time budget stops them. */
async function runSteps(
  run: Run,
  interrupts: Interrupts,
): Promise<"done" | "interrupted" | "budget"> {
  const { state, options } = run;
  const { stepsPerEpoch, checkpointEverySteps } = options;
  while (state.stepInEpoch < stepsPerEpoch) {
    if (interrupts.requested) return "interrupted";
    if (run.budget !== null && !run.budget.canStep()) return "budget";
    const started = run.clock();
    const lr = run.lrAt(state.step);
    const batch = await run.source.next();
    const loss = await trainStep(run.model, run.adam, batch, lr, state.step + 1, run.step);
    state.step++;
    state.stepInEpoch++;
    state.epochLossSum += loss;
    const stepSeconds = run.clock() - started;
    run.budget?.noteStep(stepSeconds);
    const time = run.now();
    await run.log.step({ epoch: state.epoch, step: state.step, loss, lr, time });
    options.onProgress?.({
      type: "step",
      epoch: state.epoch,
      step: state.step,
      stepInEpoch: state.stepInEpoch,
      stepsPerEpoch,
      totalSteps: run.totalSteps,
      loss,
      lr,
      time,
      stepSeconds,
    });
    if (
      checkpointEverySteps !== undefined &&
      state.step % checkpointEverySteps === 0 &&
      state.stepInEpoch < stepsPerEpoch
    ) {
      await checkpoint(run, "last");
    }
  }
  return "done";
}

/** Records a validation's mean Dice against the best so far; true when it is a new best. */
function noteValidation(state: TrainState, val: RegionScores, epoch: number): boolean {
  const mean = (val.WT + val.TC + val.ET) / 3;
  if (state.bestScore === null || mean > state.bestScore) {
    state.bestScore = mean;
    state.bestEpoch = epoch;
    state.validationsSinceBest = 0;
    return true;
  }
  state.validationsSinceBest++;
  return false;
}

/**
 * End of an epoch (or of the steps of one the time budget allowed, `outOfTime`): validate, log,
 * checkpoint, maybe stop early or on the budget. Returns why the run ends here, or null when it
 * goes on (the state then points at the next epoch).
 */
async function endEpoch(run: Run, outOfTime: boolean): Promise<StopReason | null> {
  const { state, options } = run;
  const { epochs, validation, patience } = options;
  const epoch = state.epoch;
  // The last epoch under a time limit: no further step would leave time for the run's end.
  const lastOnTime = outOfTime || (run.budget !== null && !run.budget.canStepAfterCheckpoint());
  const every = validation?.every === undefined ? 1 : validation.every;
  const validating =
    validation !== undefined &&
    ((every !== null && epoch % every === 0) || epoch === epochs || lastOnTime);
  let val: RegionScores | null = null;
  let valSeconds: number | undefined;
  if (validating) {
    const started = run.clock();
    val = await validate(run.model, validation, run.step.outputs, epoch, options.onProgress);
    valSeconds = run.clock() - started;
    run.budget?.noteValidation(valSeconds);
  }
  const record: EpochRecord = {
    epoch,
    loss: state.epochLossSum / state.stepInEpoch,
    lr: run.lrAt(state.step - 1),
    val,
    time: run.now(),
    ...(valSeconds === undefined ? {} : { valSeconds }),
  };
  state.history.push(record);
  await run.log.epoch(record);
  const improved = val !== null && noteValidation(state, val, epoch);
  options.onProgress?.({
    type: "epoch",
    epoch,
    loss: record.loss,
    lr: record.lr,
    val,
    time: record.time,
    best: improved,
    ...(valSeconds === undefined ? {} : { valSeconds }),
  });
  const stopEarly = patience !== undefined && state.validationsSinceBest >= patience;
  const finished = epoch === epochs || stopEarly || lastOnTime;
  const reason: StopReason =
    epoch === epochs && !outOfTime
      ? "completed"
      : stopEarly
        ? "early-stopped"
        : lastOnTime
          ? "time-limit"
          : "completed";
  // The saved state points at the next epoch, so a resume starts there.
  if (finished) {
    state.finished = reason;
  } else {
    state.epoch++;
    state.stepInEpoch = 0;
    state.epochLossSum = 0;
  }
  if (improved) await checkpoint(run, "best");
  await checkpoint(run, "last");
  return finished ? reason : null;
}

/**
 * Validates the model as it ended the last logged epoch when that epoch was not validated (a run
 * stopped by its budget between epochs), amending the epoch's record and log line (a later line
 * replaces an earlier one). True when that is a new best.
 */
async function validateUnvalidatedLast(run: Run): Promise<boolean> {
  const { state, options } = run;
  const last = state.history.at(-1);
  if (options.validation === undefined || last === undefined || last.val !== null) return false;
  const started = run.clock();
  const val = await validate(
    run.model,
    options.validation,
    run.step.outputs,
    last.epoch,
    options.onProgress,
  );
  const valSeconds = run.clock() - started;
  run.budget?.noteValidation(valSeconds);
  const record: EpochRecord = { ...last, val, valSeconds };
  state.history[state.history.length - 1] = record;
  await run.log.epoch(record);
  const improved = noteValidation(state, val, last.epoch);
  options.onProgress?.({
    type: "epoch",
    epoch: last.epoch,
    loss: last.loss,
    lr: last.lr,
    val,
    time: last.time,
    best: improved,
    valSeconds,
  });
  return improved;
}

/** Epochs until the last one, early stopping or an interrupt (which saves `last` first). */
async function runEpochs(run: Run, interrupts: Interrupts): Promise<StopReason> {
  const { state } = run;
  if (state.finished !== null) return state.finished;
  while (state.epoch <= run.options.epochs) {
    const steps = await runSteps(run, interrupts);
    if (steps === "interrupted") {
      await checkpoint(run, "last");
      return "interrupted";
    }
    if (steps === "budget" && state.stepInEpoch === 0) {
      // Out of time before the epoch's first step (a resume with its budget spent, a budget
      // smaller than one step, or a checkpoint slower than the one before): nothing new to log,
      // but the model the run ends with is validated, if the previous epoch was not.
      state.finished = "time-limit";
      const improved = await validateUnvalidatedLast(run);
      if (improved) await checkpoint(run, "best");
      await checkpoint(run, "last");
      return "time-limit";
    }
    const ended = await endEpoch(run, steps === "budget");
    if (ended !== null) return ended;
  }
  return "completed";
}

/**
 * Trains `model` (or, on resume, the model of outDir/last) and resolves when the epochs are done,
 * early stopping triggers or an interrupt (SIGINT, `signal`) has been honoured: the step in
 * progress finishes and `last` is saved, so a resume continues exactly where it stopped.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options);
  const { outDir, epochs, stepsPerEpoch, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = options;
  const totalSteps = epochs * stepsPerEpoch;
  await makeDirs(outDir);
  const log = new RunLog(outDir);
  const lastDir = options.resume === true ? await findCheckpoint(outDir, "last") : null;
  const { state, model } = await openRun(options, log, lastDir);
  const task = taskOf(options, model);
  const adam = createAdam(model);
  if (lastDir !== null) await loadAdamMoments(lastDir, adam, state);
  const dropouts = dropoutLayers(model);
  restoreDropoutCalls(dropouts, state);

  const source = await options.source(lastDir === null ? null : state.sourceState);
  const interrupts = watchInterrupts({
    sigint: options.handleSigint ?? true,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const clock = options.clock ?? systemClock;
  const elapsedAtStart = state.elapsed;
  const runStart = clock();
  const budget =
    options.timeLimit === undefined
      ? null
      : new TimeBudget(options.timeLimit, { clock, elapsed: elapsedAtStart });
  if (budget !== null && options.validation !== undefined && state.finished === null) {
    // A resumed run holds back what its earlier validations took; a fresh one times a window.
    const measured = state.history.flatMap((h) =>
      h.valSeconds === undefined ? [] : [h.valSeconds],
    );
    if (measured.length > 0) budget.noteValidation(Math.max(...measured));
    else
      budget.estimateValidation(await estimateValidationSeconds(model, options.validation, clock));
  }
  const run: Run = {
    options,
    totalSteps,
    lrAt: scheduleOf(options, totalSteps, budget),
    step: { beta1, beta2, epsilon, ...task },
    state,
    model,
    adam,
    dropouts,
    source,
    log,
    now: () => elapsedAtStart + (clock() - runStart),
    clock,
    budget,
  };
  let reason: StopReason;
  try {
    reason = await runEpochs(run, interrupts);
  } finally {
    interrupts.dispose();
    disposeAdam(adam);
    await source.close?.();
  }
  return {
    reason,
    epoch: state.epoch,
    step: state.step,
    model,
    bestScore: state.bestScore,
    bestEpoch: state.bestEpoch,
    history: state.history,
  };
}
