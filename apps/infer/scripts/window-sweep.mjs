#!/usr/bin/env node
// The measurement behind brats-infer's default window: one model segments the same cases at each
// sliding-window edge, timed, and brats-eval scores each output against the cases' labels. One
// JSON line per window on stdout: {"window", "seconds", "secondsPerCase", "dice": {WT, TC, ET}}.
//
//   node apps/infer/scripts/window-sweep.mjs --model RUN_OR_ONNX --input CASES --out DIR
//     [--windows 64,96,128,160] [--engine onnx|tfjs] [--overlap 0.5]
//
// Run from the repository root after `pnpm build`, on a quiet machine (it times inference).
// DIR must not exist; each window's output goes to DIR/w<N>.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    input: { type: "string" },
    out: { type: "string" },
    windows: { type: "string", default: "64,96,128,160" },
    engine: { type: "string", default: "onnx" },
    overlap: { type: "string", default: "0.5" },
  },
});
if (values.model === undefined || values.input === undefined || values.out === undefined) {
  console.error("window-sweep.mjs: --model, --input and --out are required");
  process.exit(2);
}
if (existsSync(values.out)) {
  console.error(`window-sweep.mjs: ${values.out} exists; pick a new --out`);
  process.exit(2);
}
const cases = readdirSync(values.input).length;
for (const window of values.windows.split(",").map(Number)) {
  const out = join(values.out, `w${window}`);
  const started = performance.now();
  const infer = spawnSync(
    "node",
    [
      "apps/infer/bin/brats-infer.js",
      "--model",
      values.model,
      "--input",
      values.input,
      "--out",
      out,
      "--engine",
      values.engine,
      "--overlap",
      values.overlap,
      "--window",
      String(window),
      "--no-report",
      "--quiet",
    ],
    { encoding: "utf8" },
  );
  const seconds = (performance.now() - started) / 1000;
  if (infer.status !== 0) {
    console.log(JSON.stringify({ window, error: infer.stderr.trim().split("\n").at(-1) }));
    continue;
  }
  const evaluated = spawnSync(
    "node",
    ["packages/metrics/bin/brats-eval.js", "--pred", out, "--gt", values.input, "--json"],
    { encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (evaluated.status !== 0) throw new Error(`brats-eval failed: ${evaluated.stderr}`);
  const { summary } = JSON.parse(evaluated.stdout);
  const dice = { WT: summary.WT.dice.mean, TC: summary.TC.dice.mean, ET: summary.ET.dice.mean };
  console.log(JSON.stringify({ window, seconds, secondsPerCase: seconds / cases, dice }));
}
