import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import { folderIO, loadModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from "./io.js";
import {
  BatchNormalization3D,
  GroupNormalization,
  InstanceNormalization,
  SpatialAttention3D,
  SpatialDropout3D,
  UpSampling3D,
} from "./layers.js";
import { createUNet3D, unet3dConfigOf } from "./model.js";
import { registerBratsLayers } from "./register.js";

let root: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await fs.mkdtemp(path.join(os.tmpdir(), "unet3d-io-"));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

let dirCount = 0;
const freshDir = (): string => path.join(root, `m${dirCount++}`);

/** A small model with every custom layer (and a Conv3DTranspose). */
function everyLayerModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 4, 3] });
  const s = (l: tfl.layers.Layer, x: tfl.SymbolicTensor): tfl.SymbolicTensor =>
    l.apply(x) as tfl.SymbolicTensor;
  let x = s(
    tfl.layers.conv3d({
      filters: 4,
      kernelSize: 3,
      padding: "same",
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
    input,
  );
  x = s(new BatchNormalization3D({ name: "bn" }), x);
  x = s(new InstanceNormalization({ name: "in" }), x);
  x = s(new GroupNormalization({ groups: 2, name: "gn" }), x);
  x = s(new SpatialAttention3D({ kernelSize: 3, seed: seed + 1, name: "att" }), x);
  x = s(new SpatialDropout3D({ rate: 0.25, seed: seed + 2, name: "drop" }), x);
  x = s(tfl.layers.maxPooling3d({ poolSize: 2 }), x);
  x = s(
    tfl.layers.conv3dTranspose({
      filters: 2,
      kernelSize: 2,
      strides: 2,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 3 }),
    }),
    x,
  );
  x = s(new UpSampling3D({ size: [1, 2, 1], name: "up" }), x);
  return tfl.model({ inputs: input, outputs: x, name: "every_layer" });
}

/** Random values in every weight (so gamma/beta/moving stats are not their trivial init). */
function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  model.setWeights(
    model.weights.map((w, i) => {
      const r = tf.randomUniform(w.shape as number[], 0.5, 1.5, "float32", seed + i);
      return w.originalName.includes("moving_variance") ? r : tf.sub(r, 1);
    }),
  );
}

/** Name, shape and the SHA-256 of the exact bytes of every weight (equal digests = equal bits). */
function bits(model: tfl.LayersModel): Array<{ name: string; shape: number[]; sha256: string }> {
  return model.weights.map((w) => {
    const data = w.read().dataSync() as Float32Array;
    return {
      name: w.originalName,
      shape: w.shape as number[],
      sha256: createHash("sha256")
        .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        .digest("hex"),
    };
  });
}

describe("folderIO / saveModel / loadModel", () => {
  it("round-trips a model with every custom layer bit for bit, with identical predictions", async () => {
    const model = everyLayerModel(10);
    randomiseWeights(model, 20);
    const dir = freshDir();
    await saveModel(model, dir);
    expect((await fs.readdir(dir)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    const loaded = await loadModel(dir);
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(
      model.layers.map((l) => l.getClassName()),
    );
    expect(bits(loaded)).toEqual(bits(model));
    const x = tf.randomNormal([2, 4, 4, 4, 3], 0, 1, "float32", 30);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it("writes the tfjs layers-model format", async () => {
    const model = everyLayerModel(1);
    const dir = freshDir();
    await saveModel(model, dir);
    const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v4\./);
    expect(json.convertedBy).toBeNull();
    expect(json.modelTopology.class_name).toBe("Model");
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual([WEIGHTS_BIN]);
    const specs = json.weightsManifest[0].weights as Array<{
      name: string;
      shape: number[];
      dtype: string;
    }>;
    expect(specs.map((s) => s.name)).toEqual(model.weights.map((w) => w.originalName));
    const floats = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    expect((await fs.stat(path.join(dir, WEIGHTS_BIN))).size).toBe(4 * floats);
    expect(json.weightsIntegrity.bytes).toBe(4 * floats);
    expect(json.weightsIntegrity.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("round-trips the U-Net (instance norm, up-sampling, regions) with its stored configuration", async () => {
    const model = createUNet3D({
      depth: 2,
      baseFilters: 4,
      normalization: "instance",
      upsampling: "upsample",
      outputs: "regions",
      seed: 3,
      modalities: ["flair", "t1ce"],
    });
    const dir = freshDir();
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    expect(bits(loaded)).toEqual(bits(model));
    expect(unet3dConfigOf(loaded)).toEqual(unet3dConfigOf(model));
    const x = tf.randomNormal([1, 8, 8, 8, 2], 0, 1, "float32", 4);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  });

  it("round-trips a default-size U-Net (batch norm) bit for bit", async () => {
    const model = createUNet3D({ seed: 5 });
    const dir = freshDir();
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    expect(bits(loaded)).toEqual(bits(model));
    // Trainable weights plus the moving mean and variance of 18 BatchNorms over 1,472 channels.
    expect((await fs.stat(path.join(dir, WEIGHTS_BIN))).size).toBe(4 * (5_648_784 + 2 * 1_472));
  });

  it("overwrites an existing model and leaves no temporary files", async () => {
    const dir = freshDir();
    const first = everyLayerModel(1);
    const second = everyLayerModel(2);
    await saveModel(first, dir);
    await saveModel(second, dir);
    expect((await fs.readdir(dir)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    expect(bits(await loadModel(dir))).toEqual(bits(second));
  });

  it("a save that fails midway leaves the previous model intact", async () => {
    const dir = freshDir();
    const first = everyLayerModel(1);
    await saveModel(first, dir);
    // Artifacts whose model.json cannot be serialised: the weights temp file is already written.
    const broken: tf.io.ModelArtifacts = {
      modelTopology: { unserialisable: 1n },
      weightSpecs: [{ name: "w", shape: [2], dtype: "float32" }],
      weightData: new Float32Array([1, 2]).buffer,
    };
    await expect(folderIO(dir).save!(broken)).rejects.toThrow();
    expect((await fs.readdir(dir)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    expect(bits(await loadModel(dir))).toEqual(bits(first));
  });

  it("a crash between the two renames is detected and the previous model is loaded, then repaired", async () => {
    const dir = freshDir();
    const first = everyLayerModel(1);
    const second = everyLayerModel(2);
    await saveModel(first, dir);
    // Simulate the crash: weights.bin already replaced by the next model's, model.json still old.
    const other = freshDir();
    await saveModel(second, other);
    await fs.link(path.join(dir, WEIGHTS_BIN), path.join(dir, "weights.prev.bin"));
    await fs.copyFile(path.join(other, WEIGHTS_BIN), path.join(dir, ".weights.bin.123.abc.tmp"));
    await fs.rename(path.join(dir, ".weights.bin.123.abc.tmp"), path.join(dir, WEIGHTS_BIN));
    expect(bits(await loadModel(dir))).toEqual(bits(first));
    // The next save starts by putting the matching weights back, then proceeds as usual.
    const third = everyLayerModel(3);
    await saveModel(third, dir);
    expect((await fs.readdir(dir)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    expect(bits(await loadModel(dir))).toEqual(bits(third));
  });

  it("reports corrupt weights, bad model.json and missing folders with typed errors", async () => {
    const dir = freshDir();
    await saveModel(everyLayerModel(1), dir);
    const weights = await fs.readFile(path.join(dir, WEIGHTS_BIN));
    weights[100] = (weights[100]! + 1) & 0xff;
    await fs.writeFile(path.join(dir, WEIGHTS_BIN), weights);
    await expect(loadModel(dir)).rejects.toMatchObject({ code: "WEIGHTS_MISMATCH" });

    await fs.writeFile(path.join(dir, MODEL_JSON), "{ not json");
    await expect(loadModel(dir)).rejects.toMatchObject({ code: "BAD_MODEL" });
    await fs.writeFile(path.join(dir, MODEL_JSON), JSON.stringify({ weightsManifest: [] }));
    await expect(loadModel(dir)).rejects.toMatchObject({ code: "BAD_MODEL" });
    await expect(loadModel(path.join(root, "does-not-exist"))).rejects.toMatchObject({
      code: "IO",
    });
  });

  it("refuses weight paths outside the folder", async () => {
    const dir = freshDir();
    await saveModel(everyLayerModel(1), dir);
    const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), "utf8"));
    json.weightsManifest[0].paths = ["../secret.bin"];
    await fs.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toMatchObject({ code: "BAD_MODEL" });
  });

  it("loads a folder written by another tfjs saver (sharded weights, no integrity record)", async () => {
    const model = everyLayerModel(4);
    randomiseWeights(model, 5);
    const dir = freshDir();
    await saveModel(model, dir);
    const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), "utf8"));
    const data = await fs.readFile(path.join(dir, WEIGHTS_BIN));
    const cut = 1000;
    await fs.writeFile(path.join(dir, "group1-shard1of2.bin"), data.subarray(0, cut));
    await fs.writeFile(path.join(dir, "group1-shard2of2.bin"), data.subarray(cut));
    await fs.rm(path.join(dir, WEIGHTS_BIN));
    delete json.weightsIntegrity;
    json.weightsManifest[0].paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    await fs.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(json));
    expect(bits(await loadModel(dir))).toEqual(bits(model));
    // A truncated shard is caught before tfjs decodes garbage.
    await fs.writeFile(path.join(dir, "group1-shard2of2.bin"), data.subarray(cut, data.length - 4));
    await expect(loadModel(dir)).rejects.toMatchObject({ code: "WEIGHTS_MISMATCH" });
  });

  it("works with tf.loadLayersModel directly once the layers are registered", async () => {
    registerBratsLayers();
    const model = everyLayerModel(6);
    const dir = freshDir();
    await model.save(folderIO(dir));
    const loaded = await tfl.loadLayersModel(folderIO(dir));
    expect(bits(loaded)).toEqual(bits(model));
  });
});
