/**
 * Finds and loads the addon (build/Release/brats_onednn.node, built at install by
 * scripts/build-native.mjs), or says in one line why it cannot: not built (and the build's own
 * reason when it recorded one), libdnnl missing, disabled by BRATS_ONEDNN=0.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { TensorRef } from "./memory.js";

/**
 * What the addon exports (src/native/*.cc). A tensor is a byte offset into `heap` (the wasm heap)
 * or a typed array of its own (the cpu backend; `heap` is then null).
 */
export interface OnednnAddon {
  info(): {
    onednn: string;
    cpuRuntime: string;
    threads: number;
    isa: number;
    scratchBytes: number;
  };
  setThreads(n: number): number;
  releaseScratch(): void;
  conv3dForward(
    heap: ArrayBuffer | null,
    x: TensorRef,
    w: TensorRef,
    y: TensorRef,
    geometry: number[],
  ): void;
  conv3dBackwardData(
    heap: ArrayBuffer | null,
    dy: TensorRef,
    w: TensorRef,
    dx: TensorRef,
    geometry: number[],
  ): void;
  conv3dBackwardWeights(
    heap: ArrayBuffer | null,
    x: TensorRef,
    dy: TensorRef,
    dw: TensorRef,
    geometry: number[],
  ): void;
  conv3dImplementations(geometry: number[]): {
    forward: string;
    backwardData: string;
    backwardWeights: string;
  };
  maxPool3dForward(heap: ArrayBuffer | null, x: TensorRef, y: TensorRef, geometry: number[]): void;
  maxPool3dBackward(
    heap: ArrayBuffer | null,
    dy: TensorRef,
    x: TensorRef,
    dx: TensorRef,
    geometry: number[],
  ): void;
  /**
   * op: 0 add, 1 sub, 2 mul, 3 div, 4 equal (bool out), 5 maximum, 6 squared difference,
   * 7–10 greater, greater-equal, less, less-equal (bool out).
   */
  binary(
    op: number,
    heap: ArrayBuffer | null,
    a: TensorRef,
    b: TensorRef,
    out: TensorRef,
    aShape: number[],
    bShape: number[],
    outShape: number[],
  ): void;
  tile(
    heap: ArrayBuffer | null,
    x: TensorRef,
    out: TensorRef,
    inShape: number[],
    reps: number[],
    bytes: number,
  ): void;
  batchNorm(
    heap: ArrayBuffer | null,
    x: TensorRef,
    mean: TensorRef,
    variance: TensorRef,
    offset: TensorRef,
    scale: TensorRef,
    out: TensorRef,
    count: number,
    channels: number,
    epsilon: number,
  ): void;
  /** op: 0 sum, 1 mean, 2 max, over the middle of [outer, mid, inner]. */
  reduce(
    op: number,
    heap: ArrayBuffer | null,
    x: TensorRef,
    out: TensorRef,
    outer: number,
    mid: number,
    inner: number,
  ): void;
  /** op: 0 relu, 1 step, 2 sqrt, 3 square, 4 sigmoid, 5 log, 6 exp, 7 rsqrt, 8 clip, 9 neg. */
  unary(
    op: number,
    heap: ArrayBuffer | null,
    x: TensorRef,
    out: TensorRef,
    count: number,
    a: number,
    b: number,
  ): void;
  softmax(
    heap: ArrayBuffer | null,
    x: TensorRef,
    out: TensorRef,
    rows: number,
    width: number,
  ): void;
  concat(
    heap: ArrayBuffer | null,
    inputs: TensorRef[],
    out: TensorRef,
    outer: number,
    widths: number[],
  ): void;
  split(
    heap: ArrayBuffer | null,
    outputs: TensorRef[],
    x: TensorRef,
    outer: number,
    widths: number[],
  ): void;
}

export type AddonLoad =
  { ok: true; addon: OnednnAddon; path: string } | { ok: false; reason: string };

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where node-gyp puts the addon, relative to the package root (src/ and dist/ are one level down). */
export const ADDON_PATH = `${PACKAGE_ROOT}build/Release/brats_onednn.node`;
/** What the install-time build writes when it could not build the addon. */
export const BUILD_STATUS_PATH = `${PACKAGE_ROOT}build/native-status.txt`;

let cached: AddonLoad | null = null;

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}

/** Why the last install-time build failed, if it said. */
function buildFailure(): string | null {
  if (!existsSync(BUILD_STATUS_PATH)) return null;
  const text = readFileSync(BUILD_STATUS_PATH, "utf8").trim();
  return text.length > 0 ? firstLine(text) : null;
}

/**
 * Loads the addon once per process. `BRATS_ONEDNN=0` disables it; `BRATS_ONEDNN_ADDON=path`
 * loads another build (tests use it to show the fallback).
 */
export function loadAddon(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  if (cached !== null) return cached;
  cached = load(env);
  return cached;
}

function load(env: NodeJS.ProcessEnv): AddonLoad {
  if (env.BRATS_ONEDNN === "0") return { ok: false, reason: "disabled by BRATS_ONEDNN=0" };
  const path = env.BRATS_ONEDNN_ADDON ?? ADDON_PATH;
  if (!existsSync(path)) {
    const why = env.BRATS_ONEDNN_ADDON === undefined ? buildFailure() : null;
    return {
      ok: false,
      reason: `addon not built (${why ?? `no ${path}`}; rebuild: pnpm --filter @brats/tfjs-onednn build:native)`,
    };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as OnednnAddon;
    addon.info();
    return { ok: true, addon, path };
  } catch (error) {
    const message = firstLine(error instanceof Error ? error.message : String(error));
    if (/libdnnl|libdnn|libgomp/.test(message)) {
      return {
        ok: false,
        reason: `libdnnl missing (${message}; on Debian/Ubuntu: apt-get install libdnnl-dev)`,
      };
    }
    return { ok: false, reason: `addon failed to load (${message})` };
  }
}
