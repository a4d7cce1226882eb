// Picks the fastest TF.js backend that works here. The backend packages are optional peers:
// each is loaded with a dynamic import inside try/catch, so none is needed to install, build or
// test this package, and nothing is loaded before an application asks for it.
import * as tf from "@tensorflow/tfjs-core";
import { UNet3DError } from "./errors.js";

export type BackendName = "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";
export type BackendPreference = BackendName | "auto";

export interface BackendAttempt {
  name: string;
  ok: boolean;
  /** Why it was skipped ("not installed", "failed to initialise: …"), or a note when it runs. */
  reason?: string;
}

export interface BackendReport {
  /** The backend that now runs (tensorflow-gpu runs as TF.js backend "tensorflow"). */
  name: string;
  /** Every backend tried, in order, the last one being the one that runs. */
  tried: BackendAttempt[];
}

/** Fastest first: TensorFlow C++ on a GPU, TensorFlow C++ on the CPU, XNNPACK wasm, plain JS. */
export const BACKEND_ORDER: readonly BackendName[] = [
  "tensorflow-gpu",
  "tensorflow",
  "wasm",
  "cpu",
];

const PACKAGES: Record<BackendName, string> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
  wasm: "@tensorflow/tfjs-backend-wasm",
  cpu: "@tensorflow/tfjs-backend-cpu",
};

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Node's messages can run over several lines (paths, hints); the first says what failed.
  return message.split("\n")[0]!.trim();
}

/**
 * "not installed" when the package itself cannot be found, else "failed to initialise: <first
 * line of the error>" (a package that is there but whose native addon or wasm will not load).
 */
export function describeImportFailure(packageName: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const missing =
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    (message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`));
  return missing ? "not installed" : `failed to initialise: ${errorMessage(error)}`;
}

/**
 * Runs `fn` with TF.js's own warnings silenced: a failing tfjs-node import registers its
 * kernels before it throws, so trying both tfjs-node packages would otherwise print a warning
 * per kernel, and a failed backend initialisation prints its stack. The report says it instead.
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const env = tf.env();
  const previous = env.getBool("PROD");
  env.set("PROD", true);
  try {
    return await fn();
  } finally {
    env.set("PROD", previous);
  }
}

/** Variable specifier: TypeScript and bundlers must not resolve these optional packages. */
async function importOptional(packageName: string): Promise<unknown> {
  const specifier: string = packageName;
  return (await import(specifier)) as unknown;
}

/** Initialises a registered backend and makes it current; on failure returns the reason. */
async function activate(tfName: string): Promise<string | null> {
  if (tf.findBackendFactory(tfName) === null) {
    return `failed to initialise: no TF.js backend "${tfName}" was registered`;
  }
  if (await tf.setBackend(tfName)) {
    await tf.ready();
    return null;
  }
  // setBackend swallows the error; the factory, called once more, says what it was.
  try {
    await tf.findBackendFactory(tfName)();
    return "failed to initialise";
  } catch (error) {
    return `failed to initialise: ${errorMessage(error)}`;
  }
}

function usesGpu(): boolean {
  const backend = tf.engine().findBackend("tensorflow") as { isUsingGpuDevice?: unknown } | null;
  return backend?.isUsingGpuDevice === true;
}

/** What a backend takes to be set up: the thread count where it has one (see pickBackend). */
interface BackendSetup {
  threads?: number;
}

/** The wasm package's thread controls (setThreadsCount works only before its initialisation). */
interface WasmThreads {
  setThreadsCount?: (n: number) => void;
  getThreadsCount?: () => number;
}

async function tryBackend(
  name: BackendName,
  setup: BackendSetup,
): Promise<BackendAttempt & { threads: number | null }> {
  const packageName = PACKAGES[name];
  if (name === "tensorflow" && tf.findBackendFactory("tensorflow") !== null) {
    // Already registered: by tfjs-node imported elsewhere, or by tfjs-node-gpu without a GPU
    // (importing tfjs-node as well would register every kernel a second time).
    const reason = await activate("tensorflow");
    return reason === null
      ? {
          name,
          ok: true,
          reason: 'TF.js backend "tensorflow" was already registered',
          threads: null,
        }
      : { name, ok: false, reason, threads: null };
  }
  // TensorFlow reads its intra-op thread count from the environment when it starts; a value the
  // user set wins.
  if (
    setup.threads !== undefined &&
    (name === "tensorflow" || name === "tensorflow-gpu") &&
    typeof process !== "undefined"
  ) {
    process.env["TF_NUM_INTRAOP_THREADS"] ??= String(setup.threads);
  }
  let module: unknown;
  try {
    // Importing tfjs-node(-gpu) registers the "tensorflow" backend and makes it current.
    module = await importOptional(packageName);
  } catch (error) {
    return { name, ok: false, reason: describeImportFailure(packageName, error), threads: null };
  }
  const wasm = name === "wasm" ? (module as WasmThreads) : null;
  if (wasm !== null && setup.threads !== undefined) wasm.setThreadsCount?.(setup.threads);
  const reason = await activate(name === "tensorflow-gpu" ? "tensorflow" : name);
  if (reason !== null) return { name, ok: false, reason, threads: null };
  if (name === "tensorflow-gpu" && !usesGpu()) {
    return { name, ok: false, reason: "TensorFlow found no GPU device", threads: null };
  }
  return { name, ok: true, threads: wasm?.getThreadsCount?.() ?? null };
}

/**
 * Makes the fastest working backend current and says what happened: tfjs-node-gpu (TensorFlow
 * on a GPU), tfjs-node (TensorFlow on the CPU), wasm, cpu, in that order, or only the one
 * named. Prints nothing (applications print the report). Throws UNet3DError BAD_CONFIG for an
 * unknown name and BACKEND when no backend tried could be initialised.
 */
export async function selectBackend(
  preference: BackendPreference = "auto",
): Promise<BackendReport> {
  const { name, tried } = await pickBackend(preference);
  return { name, tried };
}

/**
 * selectBackend with the backend's setup (setupTfjs's): `threads` goes to wasm's setThreadsCount
 * and to TensorFlow's TF_NUM_INTRAOP_THREADS before they start. Also returns the thread count
 * the backend says it runs with (wasm), else null.
 */
export async function pickBackend(
  preference: BackendPreference,
  setup: BackendSetup = {},
): Promise<BackendReport & { threads: number | null }> {
  const candidates =
    preference === "auto"
      ? BACKEND_ORDER
      : BACKEND_ORDER.includes(preference)
        ? [preference]
        : null;
  if (candidates === null) {
    throw new UNet3DError(
      "BAD_CONFIG",
      `unknown backend ${JSON.stringify(preference)}; expected one of auto, ${BACKEND_ORDER.join(", ")}`,
    );
  }
  const threads = setup.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new UNet3DError("BAD_CONFIG", `threads must be a positive integer, got ${threads}`);
  }
  const tried: BackendAttempt[] = [];
  let running: number | null = null;
  await quietly(async () => {
    for (const name of candidates) {
      const { threads: count, ...attempt } = await tryBackend(name, setup);
      tried.push(attempt);
      running = count;
      if (attempt.ok) return;
    }
  });
  const chosen = tried[tried.length - 1];
  if (chosen === undefined || !chosen.ok) {
    throw new UNet3DError(
      "BACKEND",
      `no TF.js backend could be initialised: ${tried.map((t) => `${t.name}: ${t.reason ?? "failed"}`).join("; ")}`,
    );
  }
  return { name: chosen.name, tried, threads: running };
}
