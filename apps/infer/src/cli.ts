// brats-infer: segment BraTS cases with trained models (brats-train run folders or ONNX files).
// The option table below is the parser and the help (@brats/kit/cli); bin/brats-infer.js starts main.
import {
  defineCli,
  EXIT,
  parseChoice,
  parseCli,
  parseInteger,
  parseNumber,
  processIo,
  readPackageVersion,
  reportError,
  requireInputPath,
  UsageError,
  type CliIo,
} from "@brats/kit/cli";
import { ProgressBar, type ProgressUpdate } from "@brats/kit/progress";
import { InferError, USAGE_CODES } from "./errors.js";
import { ONNX_BACKENDS, TFJS_BACKENDS } from "./models.js";
import type { InferenceEvent, InferenceOptions, InferenceSummary } from "./options.js";
import { runInference } from "./run.js";
import { DEFAULT_CLAIM_TIMING } from "./claims.js";
import { parseShard } from "./shard.js";

// Re-exported for bin/brats-infer.js: the bin must run main with this bundle's own copy of kit,
// whose error classes are the ones main throws.
export { runCliMain } from "@brats/kit/cli";
export type { CliIo } from "@brats/kit/cli";

const ENGINES = ["onnx", "tfjs", "auto"] as const;
const BACKENDS = [...new Set<string>([...TFJS_BACKENDS, ...ONNX_BACKENDS])];

export const CLI = defineCli({
  name: "brats-infer",
  version: readPackageVersion(new URL("../package.json", import.meta.url)),
  summary: `Segment BraTS cases with trained @brats models: sliding windows over the whole scan, back to
BraTS labels on the input's exact grid (<OUT>/<ID>.nii.gz). Cases already done in OUT with the
same settings are skipped, so a re-run after a crash only does what is missing.`,
  options: {
    model: {
      type: "string",
      placeholder: "PATH",
      multiple: true,
      required: true,
      description:
        "a brats-train run folder or an .onnx file with brats metadata; repeat it for an ensemble (probabilities averaged; the models must agree on modalities, outputs, classes, label convention and preprocessing)",
    },
    input: {
      type: "string",
      placeholder: "DIR",
      required: true,
      description: "one case folder or a dataset folder (any BraTS naming, nested folders)",
    },
    out: {
      type: "string",
      placeholder: "OUT_DIR",
      required: true,
      description:
        "output folder (created): <ID>.nii.gz, <ID>.json, metrics.json/.csv (cases with ground truth), report.html, overlays/ (with --overlays)",
    },
    engine: {
      type: "string",
      placeholder: "NAME",
      description:
        "onnx (onnxruntime-node) or tfjs; tfjs runs run folders only; onnx runs .onnx files and run folders (exported to ONNX in memory)",
      defaultText: "onnx when onnxruntime-node loads, else tfjs",
    },
    backend: {
      type: "string",
      placeholder: "NAME",
      description:
        "tfjs: auto, tensorflow-gpu, tensorflow, wasm (with the native oneDNN kernels where they load; BRATS_ONEDNN=0 turns them off), cpu; onnx: auto (= cpu), cpu, cuda (falls back to cpu when unavailable)",
      defaultText: "auto",
    },
    threads: {
      type: "string",
      placeholder: "N",
      description: "onnxruntime intra-op threads (onnx engine)",
      defaultText: "the physical cores",
    },
    checkpoint: {
      type: "string",
      placeholder: "NAME",
      description: "best or last checkpoint of run folders",
      defaultText: "best, else last",
    },
    tta: {
      type: "boolean",
      description: "mirroring test-time augmentation (8 flips per window; 8x slower)",
    },
    overlap: {
      type: "string",
      placeholder: "F",
      description: "sliding-window overlap in [0, 1)",
      defaultText: "the model's, usually 0.5",
    },
    window: {
      type: "string",
      placeholder: "N",
      description:
        "sliding-window edge in voxels (a cube, divisible by 2^depth); larger than the training patch is fine",
      defaultText: "the model's training patch",
    },
    "et-threshold": {
      type: "string",
      placeholder: "N",
      description:
        "post-processing: enhancing tumour smaller than N voxels in total becomes necrosis (nnU-Net's BraTS rule)",
      defaultText: "off",
    },
    "min-component": {
      type: "string",
      placeholder: "N",
      description: "post-processing: tumour components smaller than N voxels are removed",
      defaultText: "off",
    },
    overlays: {
      type: "boolean",
      description:
        "also write PNGs: three-plane prediction over FLAIR, and ground truth vs prediction when the case has a segmentation",
    },
    shard: {
      type: "string",
      placeholder: "i/n",
      description:
        "only cases i, i+n, i+2n, ... of the id-sorted list (0 <= i < n), for job arrays; every shard may share OUT",
    },
    overwrite: {
      type: "boolean",
      description: "recompute cases OUT holds with other settings (default: refuse)",
    },
    "claim-heartbeat": {
      type: "string",
      placeholder: "SECONDS",
      description:
        "workers sharing OUT claim each case before segmenting it; a held claim is touched this often",
      defaultText: String(DEFAULT_CLAIM_TIMING.heartbeatSeconds),
    },
    "claim-stale": {
      type: "string",
      placeholder: "SECONDS",
      description:
        "a claim of another machine untouched this long is taken over (on this machine: when its process is dead)",
      defaultText: String(DEFAULT_CLAIM_TIMING.staleSeconds),
    },
    "no-report": { type: "boolean", description: "do not write report.html" },
    json: { type: "boolean", description: "print one JSON summary on stdout" },
    quiet: {
      type: "boolean",
      description: "no progress bar or per-case lines (errors are still printed)",
    },
  },
  epilogue: `The engine, backend and models are printed first (stderr); a progress bar over cases and
windows with an ETA goes to stderr when it is a terminal.
Several brats-infer started with the same command on one OUT (job arrays, several machines on a
shared folder) split the cases by claiming them (OUT/.claims); a killed worker's case is taken over.
Exit status: 0 every case done, 1 a case failed (the others are still done and listed) or the
models/engine could not be loaded, 2 usage error (bad option, missing path, models that
disagree, OUT made with other settings).`,
});

export type Parsed =
  | { kind: "help" | "version"; text: string }
  | { kind: "run"; options: InferenceOptions; json: boolean; quiet: boolean };

/** The command line as InferenceOptions (UsageError for a bad call). */
export function parseCommandLine(argv: readonly string[]): Parsed {
  const parsed = parseCli(CLI, argv);
  if (parsed.kind !== "run") return parsed;
  const v = parsed.values;
  const options: InferenceOptions = { models: v.model, input: v.input, out: v.out };
  if (v.engine !== undefined) options.engine = parseChoice("--engine", v.engine, ENGINES);
  if (v.backend !== undefined) options.backend = parseChoice("--backend", v.backend, BACKENDS);
  if (v.threads !== undefined) options.threads = parseInteger("--threads", v.threads, { min: 1 });
  if (v.checkpoint !== undefined) {
    options.checkpoint = parseChoice("--checkpoint", v.checkpoint, ["best", "last"]);
  }
  if (v.overlap !== undefined) {
    options.overlap = parseNumber("--overlap", v.overlap, { min: 0, below: 1 });
  }
  if (v.window !== undefined) options.window = parseInteger("--window", v.window, { min: 1 });
  const et = v["et-threshold"];
  if (et !== undefined) options.etThreshold = parseInteger("--et-threshold", et, { min: 1 });
  const minComponent = v["min-component"];
  if (minComponent !== undefined) {
    options.minComponent = parseInteger("--min-component", minComponent, { min: 1 });
  }
  if (v.shard !== undefined) {
    try {
      options.shard = parseShard(v.shard);
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
  }
  if (v.tta) options.tta = true;
  if (v.overlays) options.overlays = true;
  if (v.overwrite) options.overwrite = true;
  if (v["no-report"]) options.report = false;
  const heartbeat = v["claim-heartbeat"];
  const stale = v["claim-stale"];
  if (heartbeat !== undefined || stale !== undefined) {
    const heartbeatSeconds =
      heartbeat === undefined
        ? DEFAULT_CLAIM_TIMING.heartbeatSeconds
        : parseNumber("--claim-heartbeat", heartbeat, { above: 0 });
    const staleSeconds =
      stale === undefined
        ? DEFAULT_CLAIM_TIMING.staleSeconds
        : parseNumber("--claim-stale", stale, { above: 0 });
    if (staleSeconds <= heartbeatSeconds) {
      throw new UsageError(
        `--claim-stale (${staleSeconds} s) must be longer than --claim-heartbeat (${heartbeatSeconds} s)`,
      );
    }
    options.claims = { heartbeatSeconds, staleSeconds };
  }
  return { kind: "run", options, json: v.json, quiet: v.quiet };
}

/** Where the run is, for the bar: cases finished of those to run, windows of the current case. */
export interface CaseProgress {
  casesDone: number;
  cases: number;
  windowsDone: number;
  windows: number;
  id: string;
}

/** `case 2/6 windows 40/216 ID`; the current case's windows count as a fraction of a case. */
export function caseProgress(s: CaseProgress): ProgressUpdate {
  const caseFraction = s.windows > 0 ? Math.min(1, s.windowsDone / s.windows) : 0;
  const fraction = s.cases > 0 ? Math.min(1, (s.casesDone + caseFraction) / s.cases) : 1;
  const current = Math.min(s.cases, s.casesDone + 1);
  const windows = s.windows > 0 ? ` windows ${s.windowsDone}/${s.windows}` : "";
  return { fraction, text: `case ${current}/${s.cases}${windows} ${s.id}` };
}

function fixed(v: number | null | undefined, digits: number): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "-";
}

function summaryText(s: InferenceSummary): string {
  const lines = [
    `${s.counts.cases} case(s): ${s.counts.done} done, ${s.counts.skipped} skipped (already done), ${s.counts.failed} failed`,
    `segmentations: ${s.out}`,
  ];
  if (s.metrics !== null) {
    lines.push(
      `metrics over ${s.metrics.cases} case(s) of OUT: ${s.metrics.json}, ${s.metrics.csv}`,
    );
  }
  if (s.report !== null) lines.push(`report: ${s.report}`);
  for (const c of s.cases.filter((c) => c.status === "failed")) {
    lines.push(`failed: ${c.id}: ${c.error?.code}: ${c.error?.message}`);
  }
  return lines.join("\n") + "\n";
}

function startText(e: Extract<InferenceEvent, { type: "start" }>): string {
  const models = e.models
    .map((m) => (m.checkpoint === null ? m.path : `${m.path} (${m.checkpoint})`))
    .join(", ");
  return (
    `brats-infer: engine ${e.engine}, backend ${e.backend}; ${e.models.length === 1 ? "model" : `ensemble of ${e.models.length}`}: ${models}\n` +
    `brats-infer: ${e.cases} case(s), ${e.skipped} already done\n` +
    e.notes.map((n) => `brats-infer: note: ${n}\n`).join("")
  );
}

/**
 * Runs brats-infer on `argv` (without node and the script); resolves to the exit status. Usage
 * errors and missing input paths are thrown (runCliMain prints them, status 2).
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.kind !== "run") {
    io.stdout(parsed.text);
    return EXIT.ok;
  }
  const { options, json, quiet } = parsed;
  requireInputPath(options.input, "--input");
  for (const model of options.models) requireInputPath(model, "--model");

  // The bar is for a terminal only; logs get the per-case lines.
  const showBar = io.stderrIsTTY === true && !quiet && !json;
  const bar = new ProgressBar({ write: io.stderr, tty: true });
  const state: CaseProgress = { casesDone: 0, cases: 0, windowsDone: 0, windows: 0, id: "" };
  const log = (text: string) => {
    if (showBar) bar.clear();
    io.stderr(text);
  };
  const onEvent = (e: InferenceEvent) => {
    if (e.type === "start") {
      log(startText(e));
      state.cases = e.cases - e.skipped;
      // The ETA counts the cases of this run only, from the first one on.
      bar.restart();
    } else if (e.type === "case-start") {
      Object.assign(state, { id: e.id, windowsDone: 0, windows: 0 });
      if (showBar) bar.update(caseProgress(state), true);
    } else if (e.type === "windows") {
      Object.assign(state, { windowsDone: e.done, windows: e.total });
      if (showBar) bar.update(caseProgress(state));
    } else {
      state.casesDone = e.index + 1;
      const r = e.result;
      if (r.status === "failed") {
        log(`brats-infer: error: ${r.id}: ${r.error?.code}: ${r.error?.message}\n`);
      } else if (!quiet) {
        const dice =
          r.dice === null
            ? ""
            : `; Dice WT ${fixed(r.dice.WT, 3)} TC ${fixed(r.dice.TC, 3)} ET ${fixed(r.dice.ET, 3)}`;
        log(`brats-infer: ${r.id} done in ${fixed(r.seconds, 1)} s${dice}\n`);
      }
    }
  };

  let summary: InferenceSummary;
  try {
    summary = await runInference(options, {
      log: (line) => log(`brats-infer: ${line}\n`),
      onEvent,
    });
  } catch (err) {
    if (showBar) bar.clear();
    // InferError's codes: those caused by the call (USAGE_CODES) exit 2, the others 1.
    if (err instanceof InferError)
      return reportError(CLI.name, err, io, { usageCodes: USAGE_CODES });
    throw err;
  }
  if (showBar) bar.clear();
  io.stdout(json ? JSON.stringify(summary) + "\n" : summaryText(summary));
  return summary.counts.failed > 0 ? EXIT.failure : EXIT.ok;
}
