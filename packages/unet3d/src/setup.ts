// One call that sets TF.js up for an application: the backend, this package's layers, the kernels
// that replace stock ones on that backend, and one line saying what was chosen and why. Apps call
// it instead of repeating selectBackend → registerBratsLayers → "if wasm, registerFastConv3D".
import {
  pickBackend,
  type BackendName,
  type BackendPreference,
  type BackendReport,
} from "./backend.js";
import { registerOnednnKernels } from "@brats/tfjs-onednn";
import { registerFastConv3D } from "./fast-conv3d/index.js";
import { registerBratsLayers } from "./register.js";

export interface SetupTfjsOptions {
  /** Default "auto": the fastest backend that works here (as selectBackend). */
  backend?: BackendPreference;
  /**
   * Threads for backends that take a count: wasm (setThreadsCount; its Node build runs one
   * thread whatever is asked) and TensorFlow (TF_NUM_INTRAOP_THREADS unless already set).
   */
  threads?: number;
  /**
   * Native kernels (@brats/tfjs-onednn) where they load; default true. false keeps the wasm
   * fast kernels alone (BRATS_ONEDNN=0 does the same for a whole process).
   */
  native?: boolean;
  /** Receives the report line once (e.g. a CLI's stderr); default: nothing is printed. */
  log?: (line: string) => void;
  /**
   * The training step the backend is for. On "auto", a step whose estimate
   * (estimateTrainStepHeapBytes) does not fit the wasm heap runs on cpu instead when native
   * kernels load there: the cpu backend keeps each tensor in its own array, with no 4 GiB heap.
   */
  trainStep?: TrainStepSize;
}

/** What a training step's memory depends on. */
export interface TrainStepSize {
  /** Patch edge in voxels (a cube), or its three edges. */
  patch: number | readonly [number, number, number];
  batch: number;
  baseFilters: number;
}

/** The wasm backend's heap cannot grow past 4 GiB (wasm32). */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

/**
 * What one training step of the U-Net needs on the wasm heap, from measurements (2026-12-03,
 * wasm + onednn, reference model: 16 base filters, depth 4, batch 1, after two steps): 615 MiB at
 * 48³, 1,220 at 64³, 2,344 at 80³, 3,893 at 96³. That is at most 4.5 KiB per voxel per 16 base
 * filters above a 150 MiB floor; the estimate errs high (48³: 636, 96³: 4,038).
 */
export function estimateTrainStepHeapBytes(step: TrainStepSize): number {
  const [d, h, w] =
    typeof step.patch === "number" ? [step.patch, step.patch, step.patch] : step.patch;
  const perVoxel = 4.5 * 1024 * (step.baseFilters / 16);
  return 150 * 2 ** 20 + perVoxel * d * h * w * step.batch;
}

export interface TfjsSetup extends BackendReport {
  /** The kernel sets registered for the chosen backend, as the report names them. */
  kernels: string[];
  /** Threads the backend says it runs with (wasm), else null. */
  threads: number | null;
  /** What `log` received, e.g. "tfjs backend: wasm + fast Conv3D kernels (tensorflow not installed)". */
  line: string;
}

/**
 * Kernels that replace stock ones on some backends. The list below is the one place a new set
 * (e.g. native kernels) plugs in: setupTfjs registers every provider of the chosen backend.
 */
export interface KernelProvider {
  /** What the report calls them: "fast Conv3D kernels". */
  label: string;
  /** The backends (BackendReport names) they are for. */
  backends: readonly BackendName[];
  /** Native code: skipped when setup is asked for `native: false`. */
  native?: boolean;
  /**
   * Registers them; idempotent. Throws when they cannot run here: setup then keeps the stock
   * kernels and the report says why. May return a detail for the report ("oneDNN 2.6.3 on 2
   * threads").
   */
  register: (opts: {
    threads?: number;
    backend: BackendName;
  }) => void | string | Promise<void | string>;
}

export const KERNEL_PROVIDERS: readonly KernelProvider[] = [
  {
    label: "onednn",
    backends: ["wasm", "cpu"],
    native: true,
    register: ({ threads, backend }) => {
      // On wasm the fast Conv3D kernels go in first so that they are what a call the native
      // kernels do not cover falls back to.
      if (backend === "wasm") registerFastConv3D();
      const info = registerOnednnKernels({
        backend: backend === "cpu" ? "cpu" : "wasm",
        ...(threads === undefined ? {} : { threads }),
      });
      return `oneDNN ${info.onednn} on ${info.threads} thread${info.threads === 1 ? "" : "s"}`;
    },
  },
  {
    label: "fast Conv3D kernels",
    backends: ["wasm"],
    register: () => registerFastConv3D(),
  },
];

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(1);

/** Registers every provider of `backend`: the labels that registered, and the report's notes. */
async function registerProviders(
  backend: string,
  providers: readonly KernelProvider[],
  opts: SetupTfjsOptions,
): Promise<{ kernels: string[]; why: string[] }> {
  const kernels: string[] = [];
  const why: string[] = [];
  for (const provider of providers) {
    if (!provider.backends.includes(backend as BackendName)) continue;
    if (provider.native === true && opts.native === false) {
      why.push(`${provider.label} off (native: false)`);
      continue;
    }
    try {
      const detail = await provider.register({
        backend: backend as BackendName,
        ...(opts.threads === undefined ? {} : { threads: opts.threads }),
      });
      kernels.push(provider.label);
      if (typeof detail === "string") why.push(detail);
    } catch (error) {
      why.push(`${provider.label} unavailable: ${firstLine(error)}`);
    }
  }
  return { kernels, why };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.trim();
}

/**
 * Picks the backend (selectBackend), registers the custom layers (registerBratsLayers) and the
 * kernel providers of that backend (on wasm the fast Conv3D kernels), then gives the report line
 * to `log` once and returns it with the backend report. Idempotent. Throws UNet3DError
 * BAD_CONFIG (unknown backend, bad threads) and BACKEND (no backend tried could start).
 */
export async function setupTfjs(opts: SetupTfjsOptions = {}): Promise<TfjsSetup> {
  return setupTfjsWith(opts, KERNEL_PROVIDERS);
}

/** setupTfjs with another provider list (tests). */
export async function setupTfjsWith(
  opts: SetupTfjsOptions,
  providers: readonly KernelProvider[],
): Promise<TfjsSetup> {
  const preference = opts.backend ?? "auto";
  const report = await pickBackend(
    preference,
    opts.threads === undefined ? {} : { threads: opts.threads },
  );
  registerBratsLayers();
  let { kernels, why } = await registerProviders(report.name, providers, opts);
  const moved: string[] = [];
  if (
    preference === "auto" &&
    report.name === "wasm" &&
    opts.trainStep !== undefined &&
    estimateTrainStepHeapBytes(opts.trainStep) > WASM_HEAP_LIMIT_BYTES
  ) {
    const need = `a training step needs about ${gib(estimateTrainStepHeapBytes(opts.trainStep))} GiB, more than the wasm heap's 4`;
    const cpuNative = providers.some((p) => p.native === true && p.backends.includes("cpu"));
    if (cpuNative && opts.native !== false) {
      const cpu = await pickBackend("cpu");
      const onCpu = await registerProviders("cpu", providers, opts);
      const native = onCpu.kernels.filter((k) => providers.find((p) => p.label === k)?.native);
      if (native.length > 0) {
        Object.assign(report, {
          name: cpu.name,
          tried: [...report.tried, ...cpu.tried],
          threads: cpu.threads,
        });
        ({ kernels, why } = onCpu);
        moved.push(`cpu, not wasm: ${need}`);
      } else {
        await pickBackend("wasm");
        moved.push(`${need}, and native kernels do not load on cpu (${onCpu.why.join("; ")})`);
      }
    } else {
      moved.push(`${need}; it may fail`);
    }
  }
  const skipped = report.tried.filter((t) => !t.ok).map((t) => `${t.name} ${t.reason ?? "failed"}`);
  why.unshift(...(preference === "auto" ? skipped : ["asked for"]));
  if (preference === "auto" && skipped.length === 0) why.unshift("the fastest backend");
  why.push(...moved);
  const asked = opts.threads;
  if (asked !== undefined && report.threads !== null && report.threads !== asked) {
    why.push(`${asked} threads asked, ${report.name} runs ${report.threads} here`);
  }
  if (
    asked !== undefined &&
    report.threads === null &&
    report.name === "cpu" &&
    kernels.length === 0
  ) {
    why.push("the cpu backend runs one thread");
  }
  const threads =
    asked !== undefined && report.threads !== null
      ? `, ${report.threads} thread${report.threads === 1 ? "" : "s"}`
      : "";
  const line =
    `tfjs backend: ${report.name}${kernels.map((k) => ` + ${k}`).join("")}${threads}` +
    ` (${why.join("; ")})`;
  opts.log?.(line);
  return { name: report.name, tried: report.tried, kernels, threads: report.threads, line };
}
