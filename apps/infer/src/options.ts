// What one inference run takes and gives: its options, its events, its summary, and the names of
// the run-level files it writes into OUT. A leaf module: the run's other modules all read it.
import type { CheckpointName } from "@brats/runs";
import type { EngineChoice, EngineName } from "./models.js";
import type { ClaimTiming } from "./claims.js";
import type { CaseSettings } from "./record.js";
import type { Shard } from "./shard.js";

export const METRICS_JSON = "metrics.json";
export const METRICS_CSV = "metrics.csv";
export const REPORT_HTML = "report.html";
export const OVERLAYS_DIR = "overlays";

export interface InferenceOptions {
  /** Run folders and/or .onnx files; several form an ensemble (probabilities averaged). */
  models: string[];
  /** One case folder, or a dataset folder (any BraTS layout discoverCases reads). */
  input: string;
  out: string;
  /** Default "auto": onnx when onnxruntime-node loads, else tfjs. */
  engine?: EngineChoice;
  /** TF.js backend (tfjs) or execution provider (onnx: cpu, cuda); default "auto". */
  backend?: string;
  /** onnxruntime intra-op threads (onnx engine). */
  threads?: number;
  /** Checkpoint of run folders; default best when present, else last. */
  checkpoint?: CheckpointName;
  /** Mirroring test-time augmentation (8 flips). Default false. */
  tta?: boolean;
  /** Sliding-window overlap in [0, 1); default the model's (its training validation overlap). */
  overlap?: number;
  /**
   * Sliding-window edge in voxels (a cube); default the model's (its training patch). A fully
   * convolutional model takes larger windows: fewer windows, less overlap recomputed. Must be
   * divisible by 2^depth of the network.
   */
  window?: number;
  /** Write overlay PNGs to <OUT>/overlays. Default false. */
  overlays?: boolean;
  /** Process only shard i of n of the id-sorted cases. */
  shard?: Shard | null;
  /** Enhancing tumour smaller than this many voxels (in total) becomes necrosis. Default off. */
  etThreshold?: number | null;
  /** Tumour components smaller than this many voxels are removed. Default off. */
  minComponent?: number | null;
  /** Recompute cases of OUT made with other settings instead of refusing (SETTINGS_CONFLICT). */
  overwrite?: boolean;
  /** Write <OUT>/report.html. Default true. */
  report?: boolean;
  /**
   * Workers sharing OUT claim cases (claims.ts): timings, or false to do every case of the
   * shard without looking (the old behaviour). Default on, with DEFAULT_CLAIM_TIMING.
   */
  claims?: ClaimTiming | false;
}

export interface ModelInfo {
  name: string;
  path: string;
  kind: "run" | "onnx";
  checkpoint: CheckpointName | null;
  sha256: string;
  modelCard: string | null;
}

export interface CaseResult {
  id: string;
  /** "done" in this run, "skipped" (done before with the same settings) or "failed". */
  status: "done" | "skipped" | "failed";
  /** Absolute path of the segmentation (null when failed). */
  segmentation: string | null;
  overlays: string[];
  /** Wall time of the case (of the run that computed it, for skipped cases). */
  seconds: number | null;
  volumesMl: { WT: number; TC: number; ET: number } | null;
  /** Dice per region when the case has ground truth. */
  dice: { WT: number; TC: number; ET: number } | null;
  error: { code: string; message: string } | null;
}

export type InferenceEvent =
  | {
      type: "start";
      engine: EngineName;
      backend: string;
      models: ModelInfo[];
      notes: string[];
      /** Cases of this shard, of them already done. */
      cases: number;
      skipped: number;
    }
  | { type: "case-start"; id: string; index: number; toRun: number }
  | { type: "windows"; id: string; done: number; total: number }
  | { type: "case-end"; result: CaseResult; index: number; toRun: number };

export interface InferenceHooks {
  onEvent?: (event: InferenceEvent) => void;
  /** Receives the TF.js setup line (tfjs engine), before the "start" event. */
  log?: (line: string) => void;
}

export interface InferenceSummary {
  engine: EngineName;
  backend: string;
  models: ModelInfo[];
  input: string;
  out: string;
  shard: Shard | null;
  settings: CaseSettings;
  settingsKey: string;
  /** The cases of this shard, sorted by id. */
  cases: CaseResult[];
  counts: { cases: number; done: number; skipped: number; failed: number };
  /** Files over every case of OUT made with these settings (null when none has ground truth). */
  metrics: { json: string; csv: string; cases: number } | null;
  report: string | null;
  notes: string[];
  seconds: number;
}
