#!/usr/bin/env node
// The experiment behind brats-train's defaults (apps/train/README.md, "Defaults chosen by
// measurement"): settings × folds × seeds, each a brats-train run with a time limit on four of
// the six shared BraTS cases, validated on the other two; optionally the PyTorch peer
// (../shared/peers/pytorch_quality.py) on the same folds and budget, scored by brats-eval like
// ours. Every finished run appends one JSON line to RESULTS (default
// apps/train/experiments/results.jsonl, committed: the table is rebuilt from it), and runs already
// there are skipped, so the experiment can be stopped and continued, session after session.
//
//   node apps/train/scripts/screen.mjs [--minutes 10 | --steps N] [--folds 0,1,2] [--seeds 1,2]
//     [--settings baseline,regions,...|all] [--peer] [--score val|eval] [--results FILE]
//     [--work DIR] [--table] [--list]
//
// --score val (default): the Dice brats-train's final validation reports (whole held-out cases,
// preprocessed grid). --score eval: the last checkpoint segments the held-out cases with
// brats-infer and brats-eval scores them on their own grid, as the peer is scored.
// Run from the repository root after `pnpm build`, on a quiet machine (nothing else running:
// a time budget measures the machine). --table prints the Markdown table and exits.
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const DATA = resolve("../shared/data/brats");

/** The settings screened: brats-train flags over its defaults. */
const SETTINGS = {
  baseline: [],
  regions: ["--config-json", '{"outputs":"regions"}'],
  "instance-norm": ["--config-json", '{"normalization":"instance"}'],
  "instance-norm-b2": ["--config-json", '{"normalization":"instance"}', "--batch", "2"],
  "batch-norm-b2": ["--batch", "2"],
  "fg-0.5": ["--config-json", '{"foregroundShare":0.5}'],
  "fg-0.2": ["--config-json", '{"foregroundShare":0.2}'],
  "patch-96": ["--patch", "96"],
  "lr-3e-3": ["--lr", "0.003"],
  "lr-3e-4": ["--lr", "0.0003"],
  cosine: ["--schedule", "cosine"],
  "augment-0": ["--augment", "0"],
  "augment-0.5": ["--augment", "0.5"],
  "augment-1.5": ["--augment", "1.5"],
  "augment-2": ["--augment", "2"],
};

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    // A step budget instead of a time budget: compares settings per step, so that a setting is not
    // judged by how well its kernels happen to be optimised (brats-train --epochs 1 --steps-per-epoch N).
    steps: { type: "string" },
    folds: { type: "string", default: "0,1,2" },
    seeds: { type: "string", default: "1,2" },
    settings: { type: "string", default: "all" },
    peer: { type: "boolean", default: false },
    score: { type: "string", default: "val" },
    results: { type: "string", default: "apps/train/experiments/results.jsonl" },
    work: { type: "string", default: "/tmp/brats-screen" },
    table: { type: "boolean", default: false },
    list: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    readFileSync(new URL(import.meta.url), "utf8")
      .split("\n")
      .slice(1, 19)
      .join("\n"),
  );
  process.exit(0);
}
if (values.list) {
  for (const [name, flags] of Object.entries(SETTINGS)) console.log(`${name}\t${flags.join(" ")}`);
  process.exit(0);
}

function readResults() {
  if (!existsSync(values.results)) return [];
  return readFileSync(values.results, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** "10 min" for a time budget, "585 steps" for a step budget (--steps). */
const budgetOf = (r) => (r.minutes === null ? `${r.stepBudget} steps` : `${r.minutes} min`);
/** Time budgets first (shortest first), then step budgets (fewest first). */
const budgetOrder = (r) => (r.minutes === null ? 1e6 + r.stepBudget : r.minutes);

/** Markdown: one row per run, then mean and spread (max − min over runs) per setting and budget. */
function table(results) {
  const rows = [
    "| setting | budget | fold | seed | steps | WT | TC | ET | mean |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const sorted = [...results].sort(
    (a, b) =>
      budgetOrder(a) - budgetOrder(b) ||
      a.setting.localeCompare(b.setting) ||
      a.fold - b.fold ||
      a.seed - b.seed,
  );
  const f = (v) => v.toFixed(3);
  for (const r of sorted) {
    const d = r.dice;
    rows.push(
      `| ${r.setting} | ${budgetOf(r)} | ${r.fold} | ${r.seed} | ${r.steps ?? "?"} | ${f(d.WT)} | ${f(d.TC)} | ${f(d.ET)} | ${f((d.WT + d.TC + d.ET) / 3)} |`,
    );
  }
  // Per setting, budget and fold: mean over seeds, with the spread (max − min) of the seeds; then
  // the difference from the baseline over the runs both have (same budget, fold and seed), which
  // is what compares settings fairly while folds differ this much in difficulty.
  rows.push(
    "",
    "| setting | budget | fold | runs | steps | WT | TC | ET | mean (seed spread) | Δ mean vs baseline, same runs (n) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const meanDice = (r) => (r.dice.WT + r.dice.TC + r.dice.ET) / 3;
  // The baseline run scored the same way when there is one, else its validation score (which
  // brats-eval's score on the original grid matched exactly for the fold-0 baseline).
  const runKey = (r, score = r.score) => `${budgetOf(r)}|${r.fold}|${r.seed}|${score}`;
  const baselineRuns = new Map(
    sorted.filter((r) => r.setting === "baseline").map((r) => [runKey(r), r]),
  );
  const baseline = {
    has: (r) => baselineRuns.has(runKey(r)) || baselineRuns.has(runKey(r, "val")),
    get: (r) => baselineRuns.get(runKey(r)) ?? baselineRuns.get(runKey(r, "val")),
  };
  const groups = new Map();
  for (const r of sorted) {
    const key = `${r.setting}\t${budgetOf(r)}\t${r.fold}\t${r.score}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, rs] of groups) {
    const [setting, budget, fold] = key.split("\t");
    const m = (k) => mean(rs.map((r) => r.dice[k]));
    const means = rs.map(meanDice);
    const spread = Math.max(...means) - Math.min(...means);
    const steps = rs.every((r) => typeof r.steps === "number")
      ? Math.round(mean(rs.map((r) => r.steps)))
      : "?";
    const paired = rs.filter((r) => baseline.has(r));
    const gain = mean(paired.map((r) => meanDice(r) - meanDice(baseline.get(r))));
    const delta =
      setting === "baseline" || paired.length === 0
        ? "–"
        : `${gain >= 0 ? "+" : ""}${f(gain)} (${paired.length})`;
    rows.push(
      `| ${setting} | ${budget} | ${fold} | ${rs.length} | ${steps} | ${f(m("WT"))} | ${f(m("TC"))} | ${f(m("ET"))} | ${f(mean(means))}${rs.length > 1 ? ` (${f(spread)})` : ""} | ${delta} |`,
    );
  }
  rows.push("", ...confirmationTable(sorted, baselineRuns, runKey));
  return rows.join("\n");
}

/**
 * Ours against the peer: per budget, the baseline and PyTorch-peer runs of the same fold and
 * seed, both scored by brats-eval. Mean Dice per region of each side over those pairs, then
 * ours − peer per region, with the smallest and largest paired difference.
 */
function confirmationTable(sorted, baselineRuns, runKey) {
  const f = (v) => v.toFixed(3);
  const signed = (v) => `${v >= 0 ? "+" : ""}${f(v)}`;
  const pairsByBudget = new Map();
  for (const peer of sorted.filter((r) => r.setting === "pytorch-peer" && r.score === "eval")) {
    const ours = baselineRuns.get(runKey(peer, "eval"));
    if (ours === undefined) continue;
    const budget = budgetOf(peer);
    pairsByBudget.set(budget, [...(pairsByBudget.get(budget) ?? []), { ours, peer }]);
  }
  const rows = [
    "| budget | pairs (fold/seed) | side | WT | TC | ET | mean |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  ];
  const regions = ["WT", "TC", "ET"];
  const meanOf = (r) => (r.dice.WT + r.dice.TC + r.dice.ET) / 3;
  for (const [budget, pairs] of pairsByBudget) {
    const names = pairs.map(({ peer }) => `${peer.fold}/${peer.seed}`).join(", ");
    const side = (pick) => [
      ...regions.map((k) => mean(pairs.map((p) => pick(p).dice[k]))),
      mean(pairs.map((p) => meanOf(pick(p)))),
    ];
    const diffs = [
      ...regions.map((k) => pairs.map((p) => p.ours.dice[k] - p.peer.dice[k])),
      pairs.map((p) => meanOf(p.ours) - meanOf(p.peer)),
    ];
    rows.push(
      `| ${budget} | ${names} | brats-train defaults | ${side((p) => p.ours)
        .map(f)
        .join(" | ")} |`,
      `| ${budget} | ${names} | PyTorch peer | ${side((p) => p.peer)
        .map(f)
        .join(" | ")} |`,
      `| ${budget} | ${names} | ours − peer (min … max) | ${diffs
        .map(
          (d) =>
            `${signed(mean(d))}${d.length > 1 ? ` (${signed(Math.min(...d))} … ${signed(Math.max(...d))})` : ""}`,
        )
        .join(" | ")} |`,
    );
  }
  return rows;
}

if (values.table) {
  console.log(table(readResults()));
  process.exit(0);
}

if (!existsSync(DATA)) {
  console.error(`screen.mjs: no ${DATA} (the shared BraTS cases)`);
  process.exit(2);
}
const cases = readdirSync(DATA).sort();
if (cases.length !== 6) {
  console.error(`screen.mjs: expected 6 cases under ${DATA}, found ${cases.length}`);
  process.exit(2);
}
/** Fold k holds out cases 2k and 2k + 1 of the sorted ids; the other four train. */
const foldOf = (k) => ({
  val: cases.slice(2 * k, 2 * k + 2),
  train: cases.filter((_, i) => i < 2 * k || i >= 2 * k + 2),
});

const stepBudget = values.steps === undefined ? null : Number(values.steps);
if (stepBudget !== null && !(Number.isInteger(stepBudget) && stepBudget > 0)) {
  console.error("screen.mjs: --steps must be a positive integer");
  process.exit(2);
}
if (stepBudget !== null && values.peer) {
  console.error("screen.mjs: the peer trains on a time budget only; --steps runs ours alone");
  process.exit(2);
}
const minutes = stepBudget === null ? Number(values.minutes) : null;
const budget = minutes ?? `s${stepBudget}`;
const folds = values.folds.split(",").map(Number);
const seeds = values.seeds.split(",").map(Number);
const names = values.settings === "all" ? Object.keys(SETTINGS) : values.settings.split(",");
for (const n of names) {
  if (!(n in SETTINGS)) {
    console.error(`screen.mjs: unknown setting ${n}; --list shows them`);
    process.exit(2);
  }
}
if (values.score !== "val" && values.score !== "eval") {
  console.error("screen.mjs: --score must be val or eval");
  process.exit(2);
}

/** A folder of symlinks to `ids` of the shared cases. */
function linkFolder(dir, ids) {
  if (existsSync(dir)) return dir;
  mkdirSync(dir, { recursive: true });
  for (const id of ids) symlinkSync(join(DATA, id), join(dir, id));
  return dir;
}

function run(cmd, args, logFile) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  appendFileSync(logFile, `$ ${cmd} ${args.join(" ")}\n${r.stderr ?? ""}\n`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.slice(0, 2).join(" ")} failed (${r.status}); see ${logFile}`);
  }
  return r.stdout;
}

/** brats-eval of PRED against the held-out cases: mean Dice per region. */
function evalDice(pred, gt, logFile) {
  const out = run(
    "node",
    ["packages/metrics/bin/brats-eval.js", "--pred", pred, "--gt", gt, "--json"],
    logFile,
  );
  const { summary } = JSON.parse(out);
  return { WT: summary.WT.dice.mean, TC: summary.TC.dice.mean, ET: summary.ET.dice.mean };
}

const done = new Set(
  readResults().map(
    (r) => `${r.setting}|${r.minutes ?? `s${r.stepBudget}`}|${r.fold}|${r.seed}|${r.score}`,
  ),
);
mkdirSync(values.work, { recursive: true });
const jobs = [];
for (const fold of folds)
  for (const seed of seeds) {
    for (const setting of names) jobs.push({ setting, fold, seed });
    if (values.peer) jobs.push({ setting: "pytorch-peer", fold, seed });
  }
for (const { setting, fold, seed } of jobs) {
  const score = setting === "pytorch-peer" ? "eval" : values.score;
  const key = `${setting}|${budget}|${fold}|${seed}|${score}`;
  if (done.has(key)) continue;
  const { train, val } = foldOf(fold);
  const dir = join(values.work, `${setting}-b${budget}-f${fold}-s${seed}-${score}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const log = join(dir, "log.txt");
  const valDir = linkFolder(join(values.work, `fold${fold}-val`), val);
  const started = Date.now();
  let result;
  process.stderr.write(`screen.mjs: ${key} …\n`);
  if (setting === "pytorch-peer") {
    const trainDir = linkFolder(join(values.work, `fold${fold}-train`), train);
    const stdout = run(
      "/usr/bin/python3",
      [
        "../shared/peers/pytorch_quality.py",
        trainDir,
        valDir,
        join(dir, "pred"),
        "--minutes",
        String(minutes),
        "--seed",
        String(seed),
      ],
      log,
    );
    // The peer's last line: RESULT {"train_s", "steps", "final_loss", "infer_s"}.
    const peer = JSON.parse(stdout.match(/^RESULT (.*)$/m)?.[1] ?? "{}");
    result = { steps: peer.steps ?? null, dice: evalDice(join(dir, "pred"), valDir, log), peer };
  } else {
    const flags = [...SETTINGS[setting]];
    const configAt = flags.indexOf("--config-json");
    if (configAt >= 0) {
      const file = join(dir, "settings.json");
      appendFileSync(file, flags[configAt + 1]);
      flags.splice(configAt, 2, "--config", file);
    }
    const out = run(
      "node",
      [
        "apps/train/bin/brats-train.js",
        "--data",
        DATA,
        "--out",
        join(dir, "run"),
        "--val",
        val.join(","),
        ...(stepBudget === null
          ? ["--time-limit", `${minutes}m`]
          : ["--epochs", "1", "--steps-per-epoch", String(stepBudget)]),
        "--seed",
        String(seed),
        "--json",
        ...flags,
      ],
      log,
    );
    const summary = JSON.parse(out);
    let dice = summary.lastVal;
    if (score === "eval") {
      run(
        "node",
        [
          "apps/infer/bin/brats-infer.js",
          "--model",
          join(dir, "run"),
          "--checkpoint",
          "last",
          "--input",
          valDir,
          "--out",
          join(dir, "pred"),
          "--quiet",
        ],
        log,
      );
      dice = evalDice(join(dir, "pred"), valDir, log);
    }
    result = {
      steps: summary.step,
      dice,
      validationSeconds: summary.validationSeconds,
      engine: readFileSync(log, "utf8").match(/tfjs backend: [^\n]*/)?.[0] ?? null,
    };
  }
  const line = {
    setting,
    minutes,
    ...(stepBudget === null ? {} : { stepBudget }),
    fold,
    seed,
    score,
    ...result,
    wallSeconds: (Date.now() - started) / 1000,
    date: new Date().toISOString().slice(0, 10),
    load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  };
  mkdirSync(resolve(values.results, ".."), { recursive: true });
  appendFileSync(values.results, JSON.stringify(line) + "\n");
  process.stderr.write(
    `screen.mjs: ${key}: steps ${result.steps} WT ${result.dice.WT.toFixed(3)} TC ${result.dice.TC.toFixed(3)} ET ${result.dice.ET.toFixed(3)}\n`,
  );
}
console.log(table(readResults()));
