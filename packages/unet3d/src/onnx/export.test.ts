import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { loadModel, saveModel } from "../io.js";
import { countTrainableParams, createUNet3D, type UNet3DConfig } from "../model.js";
import { registerBratsLayers } from "../register.js";
import { exportOnnx, saveOnnx, type ExportOnnxOptions } from "./export.js";
import {
  maxAbsDiff,
  randomInput,
  randomizeStatistics,
  tfPredict,
  toChannelsFirst,
} from "./onnx.testutil.js";

let dir = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  registerBratsLayers();
  dir = mkdtempSync(join(tmpdir(), "brats-onnx-export-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the ONNX bytes in onnxruntime-node on channels-first input; returns channels-first output. */
async function runOrt(
  bytes: Uint8Array,
  data: Float32Array,
  dims: number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ image: new ort.Tensor("float32", data, dims) });
    const p = out["probabilities"]!;
    return { data: p.data as Float32Array, dims: p.dims };
  } finally {
    await session.release();
  }
}

describe("exportOnnx: onnxruntime-node agrees with TF.js on random weights", () => {
  // Every option createUNet3D has: each norm, transpose/upsample, attention on/off and kernel
  // size, dropout present or 0, classes/regions, depth 2–3, fixed or symbolic input sizes.
  const cases: Array<{
    name: string;
    config: UNet3DConfig;
    size: number;
    batch: number;
    k: number;
  }> = [
    {
      name: "batch, transpose, classes, 16³",
      config: { depth: 2, baseFilters: 4 },
      size: 16,
      batch: 1,
      k: 4,
    },
    {
      name: "instance, upsample, regions, depth 3, 16³",
      config: {
        depth: 3,
        baseFilters: 4,
        normalization: "instance",
        upsampling: "upsample",
        outputs: "regions",
      },
      size: 16,
      batch: 1,
      k: 3,
    },
    {
      name: "group (2 groups), attention kernel 3, no dropout, 32³",
      config: {
        depth: 2,
        baseFilters: 4,
        normalization: "group",
        groups: 2,
        attentionKernelSize: 3,
        dropout: 0,
      },
      size: 32,
      batch: 1,
      k: 4,
    },
    {
      name: "batch, no attention, upsample, 5 classes, batch of 2, 16³",
      config: { depth: 2, baseFilters: 4, attention: false, upsampling: "upsample", numClasses: 5 },
      size: 16,
      batch: 2,
      k: 5,
    },
    {
      name: "batch, fixed input shape [16,16,16,2], depth 3",
      config: { depth: 3, baseFilters: 4, inputShape: [16, 16, 16, 2] },
      size: 16,
      batch: 1,
      k: 4,
    },
  ];
  it.each(cases)("$name", async ({ config, size, batch, k }) => {
    const model = createUNet3D({ ...config, seed: 7 });
    randomizeStatistics(model, 11);
    const c = model.inputs[0]!.shape[4] as number;
    const shape = [batch, size, size, size, c];
    const x = randomInput(shape, 5);
    const expected = tfPredict(model, x, shape);
    const spatial = size ** 3;
    const got = await runOrt(exportOnnx(model), toChannelsFirst(x, batch, spatial, c), [
      batch,
      c,
      size,
      size,
      size,
    ]);
    expect(got.dims).toEqual([batch, k, size, size, size]);
    const diff = maxAbsDiff(got.data, toChannelsFirst(expected, batch, spatial, k));
    expect(diff).toBeLessThan(1e-4);
    model.dispose();
  });

  it("a model saved and loaded with saveModel/loadModel exports the same agreeing graph", async () => {
    const model = createUNet3D({
      depth: 2,
      baseFilters: 4,
      normalization: "group",
      groups: 2,
      seed: 5,
    });
    randomizeStatistics(model, 6);
    const folder = join(dir, "saved");
    await saveModel(model, folder);
    const loaded = await loadModel(folder);
    const x = randomInput([1, 16, 16, 16, 3], 8);
    const expected = tfPredict(model, x, [1, 16, 16, 16, 3]);
    const bytes = exportOnnx(loaded);
    expect(bytes).toEqual(exportOnnx(model));
    const got = await runOrt(bytes, toChannelsFirst(x, 1, 4096, 3), [1, 3, 16, 16, 16]);
    expect(maxAbsDiff(got.data, toChannelsFirst(expected, 1, 4096, 4))).toBeLessThan(1e-4);
    loaded.dispose();
  });

  it("opset 17 (IR 8) runs and agrees as well", async () => {
    const model = createUNet3D({ depth: 2, baseFilters: 4, seed: 3 });
    randomizeStatistics(model, 4);
    const x = randomInput([1, 16, 16, 16, 3], 9);
    const expected = tfPredict(model, x, [1, 16, 16, 16, 3]);
    const bytes = exportOnnx(model, { opset: 17 });
    const decoded = onnx.ModelProto.decode(bytes);
    expect(Number(decoded.irVersion)).toBe(8);
    expect(decoded.opsetImport.map((o) => Number(o.version))).toEqual([17]);
    const got = await runOrt(bytes, toChannelsFirst(x, 1, 4096, 3), [1, 3, 16, 16, 16]);
    expect(maxAbsDiff(got.data, toChannelsFirst(expected, 1, 4096, 4))).toBeLessThan(1e-4);
  });
});

describe("exportOnnx: the file decoded with onnx-proto", () => {
  it("has one input image [N,C,D,H,W] and one output probabilities [N,K,D,H,W], opset 13, metadata", () => {
    const model = createUNet3D({ depth: 2, baseFilters: 4, seed: 1 });
    const bytes = exportOnnx(model, {
      metadata: { brats: '{"x":1}', other: "é" },
      producerVersion: "9.9.9",
    });
    const m = onnx.ModelProto.decode(bytes);
    expect(Number(m.irVersion)).toBe(7);
    expect(m.producerName).toBe("@brats/unet3d");
    expect(m.producerVersion).toBe("9.9.9");
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", 13]]);
    expect(m.metadataProps.map((p) => [p.key, p.value])).toEqual([
      ["brats", '{"x":1}'],
      ["other", "é"],
    ]);
    const g = m.graph as onnx.GraphProto;
    const dims = (v: onnx.IValueInfoProto): Array<number | string> =>
      v.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
    expect(g.input.map((v) => v.name)).toEqual(["image"]);
    expect(g.input[0]!.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(dims(g.input[0]!)).toEqual(["N", 3, "D", "H", "W"]);
    expect(g.output.map((v) => v.name)).toEqual(["probabilities"]);
    expect(dims(g.output[0]!)).toEqual(["N", 4, "D", "H", "W"]);
    // The softmax over channels, written out: exp(x − max_c x) / Σ_c exp(x − max_c x).
    const tail = g.node.slice(-5);
    expect(tail.map((n) => n.opType)).toEqual(["ReduceMax", "Sub", "Exp", "ReduceSum", "Div"]);
    expect(tail[0]!.attribute!.find((a) => a.name === "axes")!.ints!.map(Number)).toEqual([1]);
    expect(tail[4]!.output).toEqual(["probabilities"]);
    // Batch norm is folded away; dropout leaves nothing.
    const ops = new Set(g.node.map((n) => n.opType));
    expect(ops.has("BatchNormalization")).toBe(false);
    expect([...ops].sort()).toEqual(
      [
        "Concat",
        "Conv",
        "ConvTranspose",
        "Div",
        "Exp",
        "MaxPool",
        "Mul",
        "ReduceMax",
        "ReduceMean",
        "ReduceSum",
        "Relu",
        "Reshape",
        "Shape",
        "Sigmoid",
        "Slice",
        "Sub",
        "Transpose",
      ].sort(),
    );
  });

  it("fixed spatial sizes are written as numbers, regions end in a sigmoid", () => {
    const model = createUNet3D({
      depth: 2,
      baseFilters: 4,
      inputShape: [8, 12, 16, 4],
      outputs: "regions",
    });
    const g = onnx.ModelProto.decode(exportOnnx(model)).graph as onnx.GraphProto;
    const dims = (v: onnx.IValueInfoProto): Array<number | string> =>
      v.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
    expect(dims(g.input[0]!)).toEqual(["N", 4, 8, 12, 16]);
    expect(dims(g.output[0]!)).toEqual(["N", 3, 8, 12, 16]);
    expect(g.node[g.node.length - 1]!.opType).toBe("Sigmoid");
  });

  it("the reference model (5,648,784 parameters) exports every parameter except the folded BN γ/β", () => {
    const model = createUNet3D({ seed: 0 });
    expect(countTrainableParams(model)).toBe(5_648_784);
    const g = onnx.ModelProto.decode(exportOnnx(model)).graph as onnx.GraphProto;
    let floats = 0;
    const float = g.initializer.filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT);
    // The others are int64 shapes and axes (of the up-convolutions' reshapes, the softmax).
    for (const t of g.initializer.filter((i) => !float.includes(i))) {
      expect(t.dataType).toBe(onnx.TensorProto.DataType.INT64);
    }
    for (const t of float) {
      const n = t.dims!.reduce<number>((a, d) => a * Number(d), 1);
      expect(t.rawData!.length).toBe(4 * n);
      floats += n;
    }
    // 18 BatchNorm3d layers: 2 per block, blocks of 16, 32, 64, 128 (encoder), 256 (bottleneck),
    // 128, 64, 32, 16 (decoder) channels = 2·(240 + 256 + 240) = 1,472 channels, each with γ and
    // β (trainable) folded into the conv before it: 5,648,784 − 2·1,472 = 5,645,840. The 4
    // up-convolutions run as 2D ones with the 2 depth taps as channels, so their biases are stored
    // twice: + (128 + 64 + 32 + 16) = 5,646,080.
    expect(floats).toBe(5_646_080);
    const count = (op: string): number => g.node.filter((n) => n.opType === op).length;
    // 18 block convs + 4 attention convs + head; 4 up-convolutions; no BN.
    expect(count("Conv")).toBe(23);
    expect(count("ConvTranspose")).toBe(4);
    expect(count("BatchNormalization")).toBe(0);
    model.dispose();
  });
});

describe("exportOnnx: the bytes are pinned", () => {
  // sha256 of the whole file for small seeded models: a refactor of the exporter or of the
  // protobuf writer must leave these unchanged. Change one only with the export change that
  // explains it (and check the model still agrees with TF.js above).
  it.each<{ name: string; config: UNet3DConfig; opts: ExportOnnxOptions; sha256: string }>([
    {
      name: "batch (folded), transpose, classes, metadata, opset 13",
      config: { depth: 2, baseFilters: 4, seed: 7 },
      opts: { metadata: { brats: '{"x":1}', other: "é" }, producerVersion: "9.9.9" },
      sha256: "c16defa1bf19443e1f58eb9cbb57a53564dce4aa0ada7ced3609b31251bd31ad",
    },
    {
      name: "instance, upsample, regions, depth 3, opset 17",
      config: {
        depth: 3,
        baseFilters: 4,
        normalization: "instance",
        upsampling: "upsample",
        outputs: "regions",
        seed: 7,
      },
      opts: { opset: 17 },
      sha256: "4bcc8cd6934ea8c3734e8e533fc4069cb87df9385d1424c0c6b533d83e373dd7",
    },
    {
      name: "group, attention kernel 3, no dropout, opset 13",
      config: {
        depth: 2,
        baseFilters: 4,
        normalization: "group",
        groups: 2,
        attentionKernelSize: 3,
        dropout: 0,
        seed: 7,
      },
      opts: { opset: 13 },
      sha256: "a831d966dd17b2f1b0636db18eb0aa3e43ba8a3a933c5367b2af9952eb766d45",
    },
  ])("$name", ({ config, opts, sha256 }) => {
    const model = createUNet3D(config);
    randomizeStatistics(model, 11);
    const bytes = exportOnnx(model, opts);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(sha256);
    model.dispose();
  });
});

describe("exportOnnx: errors", () => {
  it("a layer without an ONNX mapping throws ONNX_UNSUPPORTED naming it", () => {
    const input = tfl.input({ shape: [8, 8, 8, 1] });
    const output = tfl.layers.leakyReLU({ name: "leaky" }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    expect(() => exportOnnx(model)).toThrow(expect.objectContaining({ code: "ONNX_UNSUPPORTED" }));
    expect(() => exportOnnx(model)).toThrow(/leaky/);
  });

  it("a dilated Conv3D throws ONNX_UNSUPPORTED", () => {
    const input = tfl.input({ shape: [8, 8, 8, 1] });
    const output = tfl.layers
      .conv3d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: "same", name: "dilated" })
      .apply(input) as tfl.SymbolicTensor;
    expect(() => exportOnnx(tfl.model({ inputs: input, outputs: output }))).toThrow(
      expect.objectContaining({ code: "ONNX_UNSUPPORTED" }),
    );
  });

  it("a model that is not [N,D,H,W,C] → [N,D,H,W,K] throws ONNX_UNSUPPORTED", () => {
    const input = tfl.input({ shape: [8, 8, 1] });
    const output = tfl.layers
      .conv2d({ filters: 2, kernelSize: 3 })
      .apply(input) as tfl.SymbolicTensor;
    expect(() => exportOnnx(tfl.model({ inputs: input, outputs: output }))).toThrow(
      expect.objectContaining({ code: "ONNX_UNSUPPORTED" }),
    );
  });

  it.each([12, 18, 13.5])("opset %s throws BAD_CONFIG", (opset) => {
    const model = createUNet3D({ depth: 1, baseFilters: 2 });
    expect(() => exportOnnx(model, { opset })).toThrow(
      expect.objectContaining({ code: "BAD_CONFIG" }),
    );
  });
});

describe("saveOnnx", () => {
  it("writes the exported bytes and leaves no temporary file", async () => {
    const model = createUNet3D({ depth: 1, baseFilters: 2, seed: 2 });
    const folder = mkdtempSync(join(dir, "save-"));
    const path = join(folder, "m.onnx");
    await saveOnnx(model, path, { metadata: { a: "b" } });
    expect(new Uint8Array(readFileSync(path))).toEqual(exportOnnx(model, { metadata: { a: "b" } }));
    expect(readdirSync(folder)).toEqual(["m.onnx"]);
  });

  it("a path in a missing folder throws IO and writes nothing", async () => {
    const model = createUNet3D({ depth: 1, baseFilters: 2 });
    const path = join(dir, "missing", "m.onnx");
    await expect(saveOnnx(model, path)).rejects.toMatchObject({ code: "IO" });
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });
});
