// brats-demo (`pnpm demo`): the whole job end to end on synthetic data, with a progress bar. The
// option table below is the parser and the help (@brats/kit/cli); bin/brats-demo.js starts main.
import { relative } from "node:path";
import type { InferenceEvent } from "@brats/infer-app";
import {
  defineCli,
  EXIT,
  parseChoice,
  parseCli,
  processIo,
  readPackageVersion,
  type CliIo,
  type OptionValues,
} from "@brats/kit/cli";
import { etaSeconds, formatDuration, ProgressBar } from "@brats/kit/progress";
import type { TrainEvent } from "@brats/unet3d";
import { DemoError, runDemo, type DemoSummary } from "./demo.js";

// Re-exported for bin/brats-demo.js: the bin must run main with this bundle's own copy of kit,
// whose error classes are the ones main throws.
export { runCliMain } from "@brats/kit/cli";

export const CLI = defineCli({
  name: "brats-demo",
  version: readPackageVersion(new URL("../package.json", import.meta.url)),
  summary: `Generates synthetic BraTS-like cases, trains a small 3D U-Net on the CPU for a few minutes,
segments a held-out case with the ONNX engine, evaluates it and writes a results folder with the
segmentation (.nii.gz), metrics (CSV, JSON), overlay PNGs, training curves, the model card and an
HTML report. Nothing is downloaded; no pretrained weights are involved.`,
  options: {
    out: {
      type: "string",
      placeholder: "DIR",
      description: "output folder (an earlier demo there is replaced)",
      defaultText: "./brats-demo",
    },
    preset: {
      type: "string",
      placeholder: "NAME",
      description: "full (a few minutes) or ci (seconds; checks the plumbing, not accuracy)",
      default: "full",
    },
    engine: {
      type: "string",
      placeholder: "NAME",
      description: "inference engine: onnx or tfjs",
      default: "onnx",
    },
    json: { type: "boolean", description: "print a JSON summary on stdout" },
  },
  epilogue: "Exit status: 0 done, 1 failure, 2 usage error.",
});

function summaryText(summary: DemoSummary): string {
  // Paths under the working directory print relative, others absolute.
  const rel = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r === "" ? "." : r.startsWith("..") ? p : r;
  };
  const f = summary.files;
  const d = summary.dice;
  return [
    "",
    `Done in ${formatDuration(summary.seconds.total)} (data ${summary.seconds.data.toFixed(0)} s, training ${summary.seconds.training.toFixed(0)} s, inference ${summary.seconds.inference.toFixed(0)} s).`,
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
  ].join("\n");
}

type Values = OptionValues<typeof CLI.options>;

/** Runs the demo on `argv` (without node and the script); resolves to the exit status. Usage
 * errors are thrown (runCliMain prints them, status 2). */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const parsed = parseCli(CLI, argv);
  if (parsed.kind === "run") return demo(parsed.values, io);
  io.stdout(parsed.text);
  return EXIT.ok;
}

/** The demo with a progress bar on stderr and the summary on stdout. */
async function demo(values: Values, io: CliIo): Promise<number> {
  const preset = parseChoice("--preset", values.preset, ["full", "ci"]);
  const engine = parseChoice("--engine", values.engine, ["onnx", "tfjs"]);

  // The bar is for a terminal only; the stage lines are the log.
  const tty = io.stderrIsTTY === true && !values.json;
  const bar = tty ? new ProgressBar({ write: io.stderr, tty: true }) : null;
  const log = (line: string): void => {
    bar?.clear();
    io.stderr(line + "\n");
  };
  const onTrainEvent = (e: TrainEvent): void => {
    if (e.type !== "step") return;
    const fraction = e.step / e.totalSteps;
    bar?.update({
      fraction,
      text: `step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)}`,
      eta: etaSeconds(e.time, fraction),
    });
  };
  const onInferenceEvent = (e: InferenceEvent): void => {
    // The windows of each case have an ETA of their own.
    if (e.type === "case-start") bar?.restart();
    if (e.type === "windows")
      bar?.update({ fraction: e.done / e.total, text: `windows ${e.done}/${e.total} ${e.id}` });
    if (e.type === "start") log(`    engine ${e.engine}, ${e.backend}`);
  };

  let summary: DemoSummary;
  try {
    summary = await runDemo({
      preset,
      engine,
      ...(values.out === undefined ? {} : { out: values.out }),
      log,
      onTrainEvent,
      onInferenceEvent,
    });
  } catch (e) {
    bar?.clear();
    const code = e instanceof DemoError ? ` (${e.code})` : "";
    io.stderr(`brats-demo: failed${code}: ${(e as Error).message}\n`);
    return EXIT.failure;
  }
  bar?.clear();
  if (values.json) {
    const { training, inference, ...rest } = summary;
    io.stdout(
      JSON.stringify({ ...rest, training: { ...training }, engine: inference.engine }, null, 2) +
        "\n",
    );
    return EXIT.ok;
  }
  io.stdout(summaryText(summary));
  return EXIT.ok;
}
