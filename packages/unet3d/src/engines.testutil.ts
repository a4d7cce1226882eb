/**
 * The TF.js engines the training tests run on: "wasm" (the wasm backend with the fast Conv3D
 * kernels) and "native" (the same plus @brats/tfjs-onednn's kernels in front). Where the addon
 * cannot load, "native" is left out with a message, except under CI, where it must load.
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadAddon, registerOnednnKernels, unregisterOnednnKernels } from "@brats/tfjs-onednn";
import { registerFastConv3D, unregisterFastConv3D } from "./fast-conv3d/index.js";
import { registerBratsLayers } from "./register.js";

export type TestEngine = "wasm" | "native";

function nativeLoads(): boolean {
  const load = loadAddon();
  if (load.ok) return true;
  if (process.env.CI) throw new Error(`CI: the oneDNN addon must load here: ${load.reason}`);
  console.warn(`native engine tests skipped: ${load.reason}`);
  return false;
}

export const TEST_ENGINES: readonly TestEngine[] = nativeLoads() ? ["wasm", "native"] : ["wasm"];

/** Switches the wasm backend to `engine`'s kernels (and registers the custom layers). */
export async function useEngine(engine: TestEngine): Promise<void> {
  if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend did not start");
  registerBratsLayers();
  registerFastConv3D();
  if (engine === "native") registerOnednnKernels();
  else unregisterOnednnKernels();
}

/** Puts the stock wasm kernels back. */
export function releaseEngine(): void {
  unregisterOnednnKernels();
  unregisterFastConv3D();
}
