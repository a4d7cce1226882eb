#!/usr/bin/env node
// brats-demo (`pnpm demo`): the whole job end to end on synthetic data, with a progress line.
import { realpathSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { InferenceEvent } from "@brats/infer-app";
import type { TrainEvent } from "@brats/unet3d";
import { DemoError, runDemo, type DemoSummary } from "./demo.js";

export const USAGE = `Usage: brats-demo [--out DIR] [--preset full|ci] [--engine onnx|tfjs] [--json]

Generates synthetic BraTS-like cases, trains a small 3D U-Net on the CPU for a few minutes,
segments a held-out case with the ONNX engine, evaluates it and writes a results folder with the
segmentation (.nii.gz), metrics (CSV, JSON), overlay PNGs, training curves, the model card and an
HTML report. Nothing is downloaded; no pretrained weights are involved.

  --out DIR        output folder, default ./brats-demo (an earlier demo there is replaced)
  --preset NAME    full (default, a few minutes) or ci (seconds; checks the plumbing, not accuracy)
  --engine NAME    inference engine: onnx (default) or tfjs
  --json           print a JSON summary on stdout
  -h, --help       show this help

Exit status: 0 done, 1 failure, 2 usage error.
`;

interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stderrIsTTY?: boolean;
}

function clock(s: number): string {
  const t = Math.max(0, Math.round(s));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
}

function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let out: string | undefined;
  let preset: "full" | "ci" = "full";
  let engine: "onnx" | "tfjs" = "onnx";
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === "-h" || a === "--help") {
        io.stdout(USAGE);
        return 0;
      } else if (a === "--out") out = value();
      else if (a === "--preset") {
        const v = value();
        if (v !== "full" && v !== "ci") throw new Error(`--preset must be full or ci, got ${v}`);
        preset = v;
      } else if (a === "--engine") {
        const v = value();
        if (v !== "onnx" && v !== "tfjs")
          throw new Error(`--engine must be onnx or tfjs, got ${v}`);
        engine = v;
      } else if (a === "--json") json = true;
      else throw new Error(`unknown option ${a}`);
    } catch (e) {
      io.stderr(`brats-demo: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
  }

  const tty = io.stderrIsTTY === true && !json;
  const log = (line: string): void => io.stderr((tty ? "\r\x1b[K" : "") + line + "\n");
  let lastDraw = 0;
  const draw = (text: string): void => {
    const now = performance.now();
    if (!tty || now - lastDraw < 200) return;
    lastDraw = now;
    io.stderr(`\r${text}\x1b[K`);
  };
  const onTrainEvent = (e: TrainEvent): void => {
    if (e.type !== "step") return;
    const fraction = e.step / e.totalSteps;
    const eta = (e.time / fraction) * (1 - fraction);
    draw(
      `    ${bar(fraction)} step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} ETA ${clock(eta)}`,
    );
  };
  const onInferenceEvent = (e: InferenceEvent): void => {
    if (e.type === "windows")
      draw(`    ${bar(e.done / e.total)} windows ${e.done}/${e.total} ${e.id}`);
    if (e.type === "start") log(`    engine ${e.engine}, ${e.backend}`);
  };

  let summary: DemoSummary;
  try {
    summary = await runDemo({
      preset,
      engine,
      ...(out === undefined ? {} : { out }),
      log,
      onTrainEvent,
      onInferenceEvent,
    });
  } catch (e) {
    const code = e instanceof DemoError ? ` (${e.code})` : "";
    io.stderr(`${tty ? "\r\x1b[K" : ""}brats-demo: failed${code}: ${(e as Error).message}\n`);
    return 1;
  }
  if (json) {
    const { training, inference, ...rest } = summary;
    io.stdout(
      JSON.stringify({ ...rest, training: { ...training }, engine: inference.engine }, null, 2) +
        "\n",
    );
    return 0;
  }
  // Paths under the working directory print relative, others absolute.
  const rel = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r === "" ? "." : r.startsWith("..") ? p : r;
  };
  const f = summary.files;
  const d = summary.dice;
  io.stdout(
    [
      "",
      `Done in ${clock(summary.seconds.total)} (data ${summary.seconds.data.toFixed(0)} s, training ${summary.seconds.training.toFixed(0)} s, inference ${summary.seconds.inference.toFixed(0)} s).`,
      `Held-out case ${summary.heldOut}: Dice WT ${d.WT.toFixed(3)}  TC ${d.TC.toFixed(3)}  ET ${d.ET.toFixed(3)}`,
      "",
      `  report        ${rel(f.report)}`,
      `  segmentation  ${rel(f.segmentation)}`,
      `  metrics       ${rel(f.metricsCsv)}, ${rel(f.metricsJson)}`,
      `  overlays      ${f.overlays.map(rel).join(", ")}`,
      `  curves        ${rel(f.curves)}`,
      `  model card    ${rel(f.modelCard)}`,
      `  model         ${rel(f.model)} (ONNX; the run folder ${rel(summary.run)} has the TF.js checkpoints)`,
      "",
    ].join("\n"),
  );
  return 0;
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY,
  });
  process.exitCode = code;
}
