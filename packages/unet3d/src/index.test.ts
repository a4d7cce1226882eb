import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";

describe("the public entry", () => {
  it("registers nothing and picks no backend when imported", async () => {
    const api = await import("./index.js");
    const registered = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);
    const ours = api.BRATS_LAYER_CLASSES.map((c) => c.className);
    expect(ours).toContain("SpatialAttention3D");
    for (const name of ours) expect(registered).not.toContain(name);
    expect(tf.engine().backendName).toBeUndefined();
    expect(api.isFastConv3DRegistered()).toBe(false);
    api.registerBratsLayers();
    const after = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);
    for (const name of ours) expect(after).toContain(name);
  });

  it("exports the agreed names", async () => {
    const api = await import("./index.js");
    for (const name of [
      "createUNet3D",
      "countTrainableParams",
      "registerBratsLayers",
      "softDiceLoss",
      "categoricalCrossEntropy",
      "diceCELoss",
      "regionDiceBCELoss",
      "folderIO",
      "saveModel",
      "loadModel",
      "registerFastConv3D",
      "unregisterFastConv3D",
      "predictVolume",
      "slidingWindows",
      "gaussianImportance",
      "selectBackend",
      "setupTfjs",
      "UNet3DError",
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe("function");
    }
  });
});
