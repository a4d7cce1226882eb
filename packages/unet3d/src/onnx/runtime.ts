/**
 * Runs an exported model with onnxruntime-node, behind the same channels-last window interface as
 * the TF.js path (predictWindows: [N, D, H, W, C] in, [N, D, H, W, K] out), so sliding-window
 * inference can use either engine. onnxruntime-node is an optional peer dependency, imported only
 * when a model is loaded.
 */
import { readFile } from "node:fs/promises";
import type * as Ort from "onnxruntime-node";
import { UNet3DError } from "../errors.js";
import { BRATS_METADATA_KEY, parseModelMetadata, type BratsModelMetadata } from "../metadata.js";
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from "./export.js";
import { readOnnxModelInfo } from "./read.js";

export type OnnxExecutionProvider = "cpu" | "cuda";

export interface LoadOnnxOptions {
  /** Providers in order of preference; default ["cpu"]. "cuda" falls back to "cpu" when
   * onnxruntime-node has no CUDA provider here (see OnnxModel.notes). */
  executionProviders?: OnnxExecutionProvider[];
  /** Intra-op threads of the CPU provider; default: onnxruntime's choice (the physical cores). */
  threads?: number;
}

export interface OnnxModel {
  /** The "brats" metadata of the model, or null when it has none. */
  readonly metadata: BratsModelMetadata | null;
  /** Every metadata_props entry of the file. */
  readonly props: Record<string, string>;
  /** Execution providers the session actually uses, in order. */
  readonly executionProviders: string[];
  /** What happened while loading that the caller may want to show (e.g. a CUDA fallback). */
  readonly notes: string[];
  /** Input channels C and output channels K of the graph (null when symbolic). */
  readonly inputChannels: number | null;
  readonly outputChannels: number | null;
  /** Runs a batch of channels-last windows [N, D, H, W, C]; returns [N, D, H, W, K] channels-last. */
  predictWindows(
    input: Float32Array,
    shape: [number, number, number, number, number],
  ): Promise<Float32Array>;
  /** Releases the session. */
  dispose(): Promise<void>;
}

export const ONNXRUNTIME_INSTALL_HINT = "ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node";

type OrtModule = typeof Ort;

async function importOrt(): Promise<OrtModule> {
  try {
    const mod = (await import("onnxruntime-node")) as OrtModule & { default?: OrtModule };
    // CommonJS interop: the namespace may only carry the exports under `default`.
    return mod.InferenceSession === undefined && mod.default !== undefined ? mod.default : mod;
  } catch (cause) {
    throw new UNet3DError(
      "ONNX_RUNTIME_MISSING",
      `onnxruntime-node is not installed or does not load (${(cause as Error).message}); install it with: ${ONNXRUNTIME_INSTALL_HINT}`,
      { cause },
    );
  }
}

function sessionOptions(
  providers: OnnxExecutionProvider[],
  threads: number | undefined,
  quiet: boolean,
): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    enableCpuMemArena: true,
    enableMemPattern: true,
    ...(threads === undefined ? {} : { intraOpNumThreads: threads, interOpNumThreads: 1 }),
    // A failed CUDA attempt logs an error of its own; the fallback note says it instead.
    ...(quiet ? { logSeverityLevel: 4 as const } : {}),
  };
}

/** Channels-last [N, S, C] → channels-first [N, C, S] (S = D·H·W), or back with `toLast`. */
function transposeChannels(
  src: Float32Array,
  n: number,
  spatial: number,
  channels: number,
  toLast: boolean,
): Float32Array {
  const out = new Float32Array(src.length);
  for (let b = 0; b < n; b++) {
    const base = b * spatial * channels;
    for (let c = 0; c < channels; c++) {
      const planar = base + c * spatial;
      if (toLast)
        for (let v = 0, i = base + c; v < spatial; v++, i += channels) out[i] = src[planar + v]!;
      else for (let v = 0, i = base + c; v < spatial; v++, i += channels) out[planar + v] = src[i]!;
    }
  }
  return out;
}

function knownDim(
  meta: Ort.InferenceSession.ValueMetadata | undefined,
  axis: number,
): number | null {
  if (meta === undefined || !meta.isTensor) return null;
  const d = meta.shape[axis];
  return typeof d === "number" ? d : null;
}

/**
 * Loads an ONNX model (path or bytes) into an onnxruntime-node session. Throws
 * UNet3DError("ONNX_RUNTIME_MISSING") without onnxruntime-node, "IO" for an unreadable file,
 * "BAD_MODEL" for bytes that are not an ONNX model or lack the `image`/`probabilities` contract,
 * "BAD_METADATA" for invalid "brats" metadata, "ONNX_RUNTIME" when onnxruntime rejects it.
 */
export async function loadOnnxModel(
  source: string | Uint8Array,
  opts: LoadOnnxOptions = {},
): Promise<OnnxModel> {
  const requested = checkedProviders(opts);
  const threads = opts.threads;
  const bytes = await modelBytes(source);
  const info = readOnnxModelInfo(bytes);
  const metadata =
    info.props[BRATS_METADATA_KEY] === undefined ? null : parseModelMetadata(info.props);

  const ort = await importOrt();
  const { session: live, providers, notes } = await createSession(ort, bytes, requested, threads);
  if (!live.inputNames.includes(ONNX_INPUT_NAME) || !live.outputNames.includes(ONNX_OUTPUT_NAME)) {
    await live.release();
    throw new UNet3DError(
      "BAD_MODEL",
      `the model must have an input "${ONNX_INPUT_NAME}" and an output "${ONNX_OUTPUT_NAME}"; it has inputs [${live.inputNames.join(", ")}] and outputs [${live.outputNames.join(", ")}]`,
    );
  }
  const inputMeta = live.inputMetadata[live.inputNames.indexOf(ONNX_INPUT_NAME)];
  const outputMeta = live.outputMetadata[live.outputNames.indexOf(ONNX_OUTPUT_NAME)];
  const inputChannels = knownDim(inputMeta, 1);
  const outputChannels = knownDim(outputMeta, 1);
  let disposed = false;

  return {
    metadata,
    props: info.props,
    executionProviders: providers,
    notes,
    inputChannels,
    outputChannels,
    async predictWindows(input, shape) {
      if (disposed) throw new UNet3DError("BAD_CONFIG", "predictWindows on a disposed OnnxModel");
      return runWindows(ort, live, input, shape, inputChannels);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await live.release();
    },
  };
}

/** The execution providers asked for, checked; BAD_CONFIG for unknown ones or bad threads. */
function checkedProviders(opts: LoadOnnxOptions): OnnxExecutionProvider[] {
  const requested = opts.executionProviders ?? ["cpu"];
  if (requested.length === 0 || !requested.every((p) => p === "cpu" || p === "cuda")) {
    throw new UNet3DError(
      "BAD_CONFIG",
      `executionProviders must list "cpu" and/or "cuda", got ${JSON.stringify(requested)}`,
    );
  }
  const threads = opts.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new UNet3DError("BAD_CONFIG", `threads must be a positive integer, got ${threads}`);
  }
  return [...requested];
}

async function modelBytes(source: string | Uint8Array): Promise<Uint8Array> {
  if (typeof source !== "string") return source;
  try {
    return new Uint8Array(await readFile(source));
  } catch (cause) {
    throw new UNet3DError("IO", `cannot read ${source}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * A session on the providers asked for; CUDA that cannot start falls back to the CPU with a note
 * (onnxruntime-node ships CPU binaries only unless its CUDA download ran).
 */
async function createSession(
  ort: OrtModule,
  bytes: Uint8Array,
  requested: readonly OnnxExecutionProvider[],
  threads: number | undefined,
): Promise<{
  session: Ort.InferenceSession;
  providers: OnnxExecutionProvider[];
  notes: string[];
}> {
  const notes: string[] = [];
  let providers: OnnxExecutionProvider[] = [...new Set(requested)];
  if (providers.includes("cuda")) {
    try {
      const session = await ort.InferenceSession.create(
        bytes,
        sessionOptions(providers, threads, true),
      );
      return { session, providers, notes };
    } catch (cause) {
      const reason = (cause as Error).message.split("\n")[0]!.slice(0, 200);
      providers = ["cpu"];
      notes.push(`CUDA execution provider unavailable (${reason}); running on cpu`);
    }
  }
  if (!providers.includes("cpu")) providers.push("cpu");
  try {
    const session = await ort.InferenceSession.create(
      bytes,
      sessionOptions(providers, threads, false),
    );
    return { session, providers, notes };
  } catch (cause) {
    throw new UNet3DError(
      "ONNX_RUNTIME",
      `onnxruntime rejected the model: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/** One predictWindows call: channels-last windows in, channels-last probabilities out. */
async function runWindows(
  ort: OrtModule,
  live: Ort.InferenceSession,
  input: Float32Array,
  shape: readonly number[],
  inputChannels: number | null,
): Promise<Float32Array> {
  if (
    !Array.isArray(shape) ||
    shape.length !== 5 ||
    !shape.every((d) => Number.isInteger(d) && d >= 1)
  ) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `window shape must be [N, D, H, W, C], got ${JSON.stringify(shape)}`,
    );
  }
  const [n, d, h, w, c] = shape as [number, number, number, number, number];
  const spatial = d * h * w;
  if (!(input instanceof Float32Array) || input.length !== n * spatial * c) {
    throw new UNet3DError(
      "SHAPE_MISMATCH",
      `windows must be a Float32Array of ${n * spatial * c} values for shape [${shape.join(",")}]`,
    );
  }
  if (inputChannels !== null && c !== inputChannels) {
    throw new UNet3DError("SHAPE_MISMATCH", `the model takes ${inputChannels} channels, got ${c}`);
  }
  const feed = new ort.Tensor("float32", transposeChannels(input, n, spatial, c, false), [
    n,
    c,
    d,
    h,
    w,
  ]);
  let result: Ort.InferenceSession.ReturnType;
  try {
    result = await live.run({ [ONNX_INPUT_NAME]: feed });
  } catch (cause) {
    throw new UNet3DError("ONNX_RUNTIME", `onnxruntime failed: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    feed.dispose();
  }
  const out = result[ONNX_OUTPUT_NAME]!;
  try {
    const dims = out.dims;
    if (
      out.type !== "float32" ||
      dims.length !== 5 ||
      dims[0] !== n ||
      dims[2] !== d ||
      dims[3] !== h ||
      dims[4] !== w
    ) {
      throw new UNet3DError(
        "SHAPE_MISMATCH",
        `the model returned ${out.type} [${dims.join(",")}] for windows [${n},${c},${d},${h},${w}]`,
      );
    }
    return transposeChannels(out.data as Float32Array, n, spatial, dims[1]!, true);
  } finally {
    for (const v of Object.values(result)) v.dispose();
  }
}
