/**
 * Test helpers: deterministic inputs, the relative error measure, the engines (each backend with
 * the native kernels on it, against the stock cpu kernels), and the rule that the native tests
 * skip with a message where the addon cannot load, except under CI, where they fail.
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadAddon } from "./native.js";
import { registerOnednnKernels, unregisterOnednnKernels } from "./register.js";
import type { OnednnBackend } from "./register.js";

/** Deterministic values in [-0.5, 0.5) (an LCG), so every backend sees the same inputs. */
export function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** max |a − ref| / max |ref| (or the plain max difference when ref is all zeros). */
export function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Whether the native tests run here; under CI a missing addon is a failure, not a skip. */
export function nativeAvailable(): boolean {
  const load = loadAddon();
  if (load.ok) return true;
  if (process.env.CI) throw new Error(`CI: the oneDNN addon must load here: ${load.reason}`);
  console.warn(`skipping the native kernel tests: ${load.reason}`);
  return false;
}

/** The backends the native kernels are tested on. */
export const ENGINES: readonly OnednnBackend[] = ["wasm", "cpu"];

/** Makes `engine` the backend, with the native kernels registered on it. */
export async function useEngine(engine: OnednnBackend): Promise<void> {
  await tf.setBackend(engine);
  registerOnednnKernels({ backend: engine });
}

/** Runs `f` on the stock cpu kernels (the native ones taken out meanwhile), then restores `engine`. */
export async function onStockCpu<T>(engine: OnednnBackend, f: () => T): Promise<T> {
  unregisterOnednnKernels();
  await tf.setBackend("cpu");
  try {
    return f();
  } finally {
    await useEngine(engine);
  }
}
