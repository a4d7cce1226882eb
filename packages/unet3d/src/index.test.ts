import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { isFastConv3DRegistered } from "./fast-conv3d/index.js";
import { BRATS_LAYER_CLASSES } from "./layers.js";

describe("the public entry", () => {
  it("registers nothing and picks no backend when imported", async () => {
    const api = await import("./index.js");
    const registered = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);
    const ours = BRATS_LAYER_CLASSES.map((c) => c.className);
    expect(ours).toContain("SpatialAttention3D");
    for (const name of ours) expect(registered).not.toContain(name);
    expect(tf.engine().backendName).toBeUndefined();
    expect(isFastConv3DRegistered()).toBe(false);
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
      "saveModel",
      "loadModel",
      "predictVolume",
      "setupTfjs",
      "train",
      "exportOnnx",
      "saveOnnx",
      "loadOnnxModel",
      "UNet3DError",
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe("function");
    }
  });

  it("keeps internals out of the entry point", async () => {
    const api = (await import("./index.js")) as Record<string, unknown>;
    for (const name of [
      "BRATS_LAYER_CLASSES",
      "SpatialAttention3D",
      "folderIO",
      "registerFastConv3D",
      "slidingWindows",
      "gaussianImportance",
      "selectBackend",
      "learningRateAt",
    ]) {
      expect(api[name], name).toBeUndefined();
    }
    expect(Object.keys(api).length).toBeLessThanOrEqual(40);
  });
});
