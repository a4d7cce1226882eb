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

async function tryBackend(name: BackendName): Promise<BackendAttempt> {
  const packageName = PACKAGES[name];
  if (name === "tensorflow" && tf.findBackendFactory("tensorflow") !== null) {
    // Already registered: by tfjs-node imported elsewhere, or by tfjs-node-gpu without a GPU
    // (importing tfjs-node as well would register every kernel a second time).
    const reason = await activate("tensorflow");
    return reason === null
      ? { name, ok: true, reason: 'TF.js backend "tensorflow" was already registered' }
      : { name, ok: false, reason };
  }
  try {
    // Importing tfjs-node(-gpu) registers the "tensorflow" backend and makes it current.
    await importOptional(packageName);
  } catch (error) {
    return { name, ok: false, reason: describeImportFailure(packageName, error) };
  }
  const reason = await activate(name === "tensorflow-gpu" ? "tensorflow" : name);
  if (reason !== null) return { name, ok: false, reason };
  if (name === "tensorflow-gpu" && !usesGpu()) {
    return { name, ok: false, reason: "TensorFlow found no GPU device" };
  }
  return { name, ok: true };
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
  const tried: BackendAttempt[] = [];
  await quietly(async () => {
    for (const name of candidates) {
      const attempt = await tryBackend(name);
      tried.push(attempt);
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
  return { name: chosen.name, tried };
}
