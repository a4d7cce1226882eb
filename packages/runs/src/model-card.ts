// MODEL_CARD.md of a run folder: what the model is, what it was trained on and how, how well it did
// on validation, what it is for and not for, and how to run it. Written from the run folder's own
// files at the end of every training session (completed, stopped early, interrupted, resumed).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  parseModelMetadata,
  readOnnxModelInfo,
  resolveUNet3DConfig,
  type TrainState,
} from "@brats/unet3d";
import { TRAIN_PREPROCESSING, unetOptions, type SplitSpec } from "./config.js";
import { MODEL_CARD_MD, MODEL_ONNX, type CheckpointName } from "./files.js";
import { validationSummary } from "./metadata.js";
import {
  checkpointOf,
  readRunRecord,
  readTrainState,
  writeRunFile,
  type RunRecord,
} from "./record.js";

export interface ModelCardInfo {
  /** The run folder as the user named it (used in the commands shown). */
  runDir: string;
  record: RunRecord;
  /** State of last/ (progress, history, best epoch, training time). */
  last: TrainState;
  /** Epoch of the best/ checkpoint, or null when there is none. */
  bestCheckpointEpoch: number | null;
  /** Backend of the session writing the card, when it differs from the first session's. */
  sessionBackend?: string;
  /** model.onnx beside the card, if written. */
  onnx: { file: string; checkpoint: CheckpointName; bytes: number } | null;
  /** Trainable parameters of the network. */
  parameters: number | null;
  /** When the card is written (ISO 8601). */
  written: string;
}

/** Text safe in a Markdown table cell: GFM splits cells at any unescaped "|", even in code spans. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");
}

/** Inline code of any text (a longer fence when the text holds backticks). */
function code(text: string): string {
  const fence = text.includes("`") ? "``" : "`";
  return `${fence}${fence.length > 1 ? " " : ""}${text}${fence.length > 1 ? " " : ""}${fence}`;
}

/** A path or word as one shell argument. */
function shellArg(text: string): string {
  return /^[\w./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const text =
    h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
  return `${text} (${seconds.toFixed(1)} s)`;
}

function splitText(spec: SplitSpec, seed: number): string {
  switch (spec.kind) {
    case "share":
      return `${Math.round(spec.share * 1000) / 10} % of the cases held out at random (seed ${seed})`;
    case "fold":
      return `fold ${spec.k} of a ${spec.n}-fold split by case (seed ${seed})`;
    case "ids":
      return "validation cases named with --val";
  }
}

function caseList(ids: readonly string[]): string {
  return ids.length === 0 ? "none" : ids.map(code).join(", ");
}

const f4 = (v: number) => v.toFixed(4);

function fileSize(bytes: number): string {
  return bytes < 1024 * 1024
    ? `${(bytes / 1024).toFixed(1)} KiB`
    : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** JSON with two-space indents and arrays of plain values on one line. */
function prettyJson(value: unknown): string {
  // JSON strings hold no raw newlines, so ",\n" only ever separates array items.
  return JSON.stringify(value, null, 2).replace(
    /\[\n\s*([^[\]{}]*?)\n\s*\]/g,
    (_m, inner: string) => `[${inner.split(/,\n\s*/).join(", ")}]`,
  );
}

/** What every section reads: the card's input and the values several sections derive from it. */
interface CardContext {
  info: ModelCardInfo;
  record: RunRecord;
  last: TrainState;
  c: RunRecord["config"];
  completedEpochs: number;
}

/** A Markdown key/value table and the blank line after it. */
function table(rows: Array<[string, string]>): string[] {
  return ["| | |", "| --- | --- |", ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), ""];
}

function statusText({ info, last, c, completedEpochs }: CardContext): string {
  if (last.finished === "completed") return `completed: ${completedEpochs} of ${c.epochs} epochs`;
  if (last.finished === "time-limit") {
    return `ended on its time limit of ${duration(c.timeLimit ?? last.elapsed)} after ${last.step} steps`;
  }
  if (last.finished === "early-stopped") {
    return `stopped early after ${completedEpochs} of ${c.epochs} epochs (no better mean validation Dice in ${c.patience ?? "?"} validations)`;
  }
  return `interrupted after ${completedEpochs} of ${c.epochs} epochs (${last.step} steps); continue with ${code(`brats-train --data ${shellArg(c.data)} --out ${shellArg(info.runDir)} --resume`)}`;
}

function titleSection(ctx: CardContext): string[] {
  const runName = resolve(ctx.info.runDir).split(/[\\/]/).pop() ?? ctx.info.runDir;
  return [
    `# Model card: ${runName}`,
    "",
    `A 3D U-Net for brain-tumour segmentation of multimodal MRI, trained by ${code("brats-train")} (@brats). ` +
      `Status: ${statusText(ctx)}. Card written ${ctx.info.written}.`,
    "",
    "> **For research only. Not for clinical use**: not a medical device, not validated for diagnosis, " +
      "treatment planning or any decision about a patient.",
    "",
  ];
}

function modelSection({ info, last, c, completedEpochs }: CardContext): string[] {
  const unet = resolveUNet3DConfig(unetOptions(c));
  const classes = c.labels === "brats2023" ? "0, 1, 2, 3" : "0, 1, 2, 4";
  const files = [
    info.bestCheckpointEpoch === null
      ? null
      : `${code("best/")} (epoch ${info.bestCheckpointEpoch})`,
    `${code("last/")} (${completedEpochs} epochs, ${last.step} steps)`,
    info.onnx === null
      ? null
      : `${code(info.onnx.file)} (ONNX of ${code(`${info.onnx.checkpoint}/`)}, ${fileSize(info.onnx.bytes)}, configuration in its metadata)`,
    `${code("config.json")}, ${code("log.jsonl")}, ${code("metrics.csv")}, ${code("curves.png")}`,
  ].filter((x) => x !== null);
  return [
    "## Model",
    "",
    ...table([
      [
        "Architecture",
        `3D U-Net, depth ${unet.depth}, ${unet.baseFilters} base filters, ${unet.normalization} normalisation, ` +
          `${unet.attention ? "spatial attention on the skips" : "no attention"}, dropout ${unet.dropout}, ${unet.upsampling} upsampling`,
      ],
      [
        "Trainable parameters",
        info.parameters === null ? "unknown" : info.parameters.toLocaleString("en-US"),
      ],
      [
        "Input",
        `${c.modalities.map(code).join(", ")} in this channel order; sliding windows of ${c.patch}³ voxels`,
      ],
      [
        "Output",
        `${
          unet.outputs === "regions"
            ? "sigmoids of the 3 nested regions (WT, TC, ET), each thresholded at 0.5"
            : `softmax over ${unet.numClasses} classes (background, necrotic core, oedema, enhancing tumour)`
        }, written as BraTS labels ${classes} (${code(c.labels)})`,
      ],
      ["Files", files.join("; ")],
    ]),
  ];
}

function dataSection({ record, c }: CardContext): string[] {
  const pre = TRAIN_PREPROCESSING;
  return [
    "## Data",
    "",
    ...table([
      ["Folder", code(c.data)],
      ["Label convention", code(c.labels)],
      ["Split", splitText(c.split, c.seed)],
      [`Training cases (${record.split.train.length})`, caseList(record.split.train)],
      [`Validation cases (${record.split.val.length})`, caseList(record.split.val)],
      [
        "Preprocessing",
        `closest canonical (RAS) orientation, ${pre.spacing === null ? "native spacing" : `${pre.spacing.join(" × ")} mm`} voxels, ` +
          `cropped to the brain (nonzero) box${pre.margin > 0 ? ` + ${pre.margin} voxels` : ""}, per-channel z-score over nonzero voxels`,
      ],
    ]),
  ];
}

function trainingSection({ info, record, last, c, completedEpochs }: CardContext): string[] {
  const backend =
    info.sessionBackend === undefined || info.sessionBackend === record.backend
      ? record.backend
      : `${record.backend} (first session), ${info.sessionBackend} (latest session)`;
  return [
    "## Training",
    "",
    ...table([
      ["Backend", code(backend)],
      ["Started", record.started],
      [
        "Training time",
        `${duration(last.elapsed)}, all sessions${c.timeLimit === undefined || c.timeLimit === null ? "" : ` (time limit ${duration(c.timeLimit)}, validation included)`}`,
      ],
      [
        "Epochs and steps",
        `${completedEpochs} of ${c.epochs} epochs, ${last.step} steps (${c.stepsPerEpoch} per epoch, batch ${c.batch}, patches ${c.patch}³)`,
      ],
      [
        "Optimiser",
        `Adam, learning rate ${c.learningRate}, ${c.schedule} schedule; ${(c.outputs ?? "classes") === "regions" ? "Dice + binary cross-entropy on WT/TC/ET sigmoids" : "Dice + cross-entropy loss"}`,
      ],
      [
        "Sampling",
        `${Math.round(c.foregroundShare * 100)} % of patches centred on tumour; augmentation ${c.augment ? `on, strength ${c.augmentStrength ?? 1}` : "off"}`,
      ],
      [
        "Validation",
        `${c.valEvery === null ? "at the end of the run" : `every ${c.valEvery} epoch(s)`}, whole cases, sliding windows (overlap ${c.valOverlap})`,
      ],
      ["Seed", String(c.seed)],
    ]),
    "Configuration (`config.json`):",
    "",
    "```json",
    prettyJson(c),
    "```",
    "",
  ];
}

function validationSection({ record, last }: CardContext): string[] {
  const val = validationSummary(last.history, last.bestEpoch);
  const cases = record.split.val.length;
  if (val.best === null && val.last === null) {
    return [
      "## Validation",
      "",
      cases === 0 ? "No validation cases: no validation metrics." : "No validation has run yet.",
      "",
    ];
  }
  const rows: string[] = [];
  for (const [name, s] of [
    ["best", val.best],
    ["last", val.last],
  ] as const) {
    if (s !== null)
      rows.push(
        `| ${name} | ${s.epoch} | ${f4(s.WT)} | ${f4(s.TC)} | ${f4(s.ET)} | ${f4(s.mean)} |`,
      );
  }
  return [
    "## Validation",
    "",
    `Dice of the regions on the ${cases} validation case(s), computed by @brats/metrics on the preprocessed grid ` +
      `(WT = labels 1, 2, 4; TC = 1, 4; ET = 4 under brats2021).`,
    "",
    "| | epoch | WT | TC | ET | mean |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `${cases} validation case(s) give a rough estimate: expect other numbers on other data.`,
    "",
  ];
}

function intendedUseSection({ record, c }: CardContext): string[] {
  return [
    "## Intended use and limits",
    "",
    "- Research on automatic brain-tumour segmentation (method development, teaching, benchmarks). **Not for clinical use.**",
    `- Inputs must be BraTS-like: the ${c.modalities.join(", ")} scans of one subject, co-registered, skull-stripped, ` +
      "about 1 mm isotropic (other spacings are resampled to 1 mm), as distributed by the BraTS challenges. Other " +
      "sequences, non-stripped heads, post-operative or paediatric scans and other pathologies are outside what it saw.",
    `- Labels follow the ${code(c.labels)} convention; a model trained on one convention writes that convention.`,
    `- Trained on ${record.split.train.length} case(s) only; it inherits the biases of its training data (scanners, sites, annotators).`,
    "- @brats ships no pretrained weights (BraTS data terms): this model is only what this run trained, and using or " +
      "sharing it is subject to the terms of the data it was trained on.",
    "",
  ];
}

function inferenceSection({ info }: CardContext): string[] {
  const run = shellArg(info.runDir);
  return [
    "## How to run inference",
    "",
    "```sh",
    `brats-infer --model ${run} --input CASE_OR_DATASET_DIR --out OUT_DIR`,
    ...(info.onnx === null
      ? []
      : [
          `brats-infer --model ${shellArg(join(info.runDir, info.onnx.file))} --input CASE_OR_DATASET_DIR --out OUT_DIR --engine onnx`,
        ]),
    "```",
    "",
    `The first uses the run folder (${code("best/")} if present, else ${code("last/")}); ` +
      (info.onnx === null
        ? "export an ONNX file with `exportRunOnnx` (@brats/runs)."
        : `the second the ONNX file, which holds the modalities, label convention, preprocessing and window size and needs nothing else.`) +
      " Each case folder needs the same modalities; outputs are segmentations on the input's grid.",
    "",
  ];
}

/** The Markdown text of a model card: its sections in order. */
export function renderModelCard(info: ModelCardInfo): string {
  const { record, last } = info;
  const ctx: CardContext = {
    info,
    record,
    last,
    c: record.config,
    completedEpochs: last.history.length === 0 ? 0 : last.history[last.history.length - 1]!.epoch,
  };
  return [
    titleSection,
    modelSection,
    dataSection,
    trainingSection,
    validationSection,
    intendedUseSection,
    inferenceSection,
  ]
    .flatMap((section) => section(ctx))
    .join("\n");
}

/**
 * Writes `<runDir>/MODEL_CARD.md` (atomically) from the run folder's config.json, last/ and best/
 * checkpoints and model.onnx when present; returns its path. Throws RunsError (NOT_A_RUN,
 * NO_CHECKPOINT when there is no last/ checkpoint yet, BAD_RUN).
 */
export async function writeModelCard(
  runDir: string,
  opts: { sessionBackend?: string; parameters?: number | null; now?: Date } = {},
): Promise<string> {
  const record = await readRunRecord(runDir);
  const last = await readTrainState(checkpointOf(runDir, "last").dir);
  let bestCheckpointEpoch: number | null = null;
  if (existsSync(join(runDir, "best"))) {
    const best = await readTrainState(checkpointOf(runDir, "best").dir);
    bestCheckpointEpoch = best.bestEpoch;
  }
  const onnxPath = join(runDir, MODEL_ONNX);
  let onnx: ModelCardInfo["onnx"] = null;
  if (existsSync(onnxPath)) {
    // Which checkpoint the file holds is in its own metadata.
    const bytes = await readFile(onnxPath);
    let checkpoint: CheckpointName | null = null;
    try {
      const meta = parseModelMetadata(readOnnxModelInfo(bytes).props);
      const ckpt = meta.training?.["checkpoint"];
      if (ckpt === "best" || ckpt === "last") checkpoint = ckpt;
    } catch {
      checkpoint = null;
    }
    if (checkpoint !== null) onnx = { file: MODEL_ONNX, checkpoint, bytes: bytes.byteLength };
  }
  const text = renderModelCard({
    runDir,
    record,
    last,
    bestCheckpointEpoch,
    ...(opts.sessionBackend === undefined ? {} : { sessionBackend: opts.sessionBackend }),
    onnx,
    parameters: opts.parameters ?? null,
    written: (opts.now ?? new Date()).toISOString(),
  });
  return writeRunFile(runDir, MODEL_CARD_MD, text);
}
