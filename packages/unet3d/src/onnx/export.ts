/**
 * Export of a channels-last tfjs-layers model (anything createUNet3D builds) to an ONNX
 * ModelProto, channels-first: one input `image` [N, C, D, H, W] and one output `probabilities`
 * [N, K, D, H, W]. The graph is channels-first throughout, so no transposes are needed: kernels are
 * re-laid out on export and channel axes (−1 in TF.js) become axis 1. Batch normalisation is
 * folded into the preceding convolution with its moving (inference) statistics. Written with our
 * own protobuf writer (proto.ts).
 */
import { rename, rm, writeFile } from "node:fs/promises";
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "../errors.js";
import { ProtoWriter } from "./proto.js";

export interface ExportOnnxOptions {
  /** metadata_props of the model (for example `metadataProps(meta)` from metadata.ts). */
  metadata?: Record<string, string>;
  /** Opset of the default ONNX domain, 13–17 (default 13). */
  opset?: number;
  /** producer_version written into the model. */
  producerVersion?: string;
}

export const ONNX_INPUT_NAME = "image";
export const ONNX_OUTPUT_NAME = "probabilities";
export const DEFAULT_OPSET = 13;
export const PRODUCER_NAME = "@brats/unet3d";

/** ONNX IR version that goes with each supported opset (onnx/docs/Versioning.md). */
const IR_VERSION_OF_OPSET: Record<number, number> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8 };

// TensorProto.DataType and AttributeProto.AttributeType values from onnx.proto.
const FLOAT = 1;
const INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

type Attr =
  | { name: string; kind: "int"; value: number }
  | { name: string; kind: "float"; value: number }
  | { name: string; kind: "string"; value: string }
  | { name: string; kind: "ints"; value: number[] };

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Attr[];
}

interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A Conv node whose weights may still change (a following batch norm folds into them). */
interface ConvRecord {
  node: OnnxNode;
  weight: Float32Array; // [Cout, Cin, k...]
  bias: Float32Array; // [Cout]
  outChannels: number;
}

type Config = Record<string, unknown>;

function unsupported(message: string): UNet3DError {
  return new UNet3DError("ONNX_UNSUPPORTED", message);
}

const int = (name: string, value: number): Attr => ({ name, kind: "int", value });
const ints = (name: string, value: number[]): Attr => ({ name, kind: "ints", value });
const float = (name: string, value: number): Attr => ({ name, kind: "float", value });
const str = (name: string, value: string): Attr => ({ name, kind: "string", value });

function triple(value: unknown, what: string, layer: string): [number, number, number] {
  const v = typeof value === "number" ? [value, value, value] : value;
  if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => Number.isInteger(n) && n >= 1)) {
    throw unsupported(
      `layer "${layer}": ${what} ${JSON.stringify(value)} is not 3 positive integers`,
    );
  }
  return v as [number, number, number];
}

/** Weight values of a layer, by the tail of the variable name ("kernel", "gamma", ...). */
function weightsOf(layer: tfl.layers.Layer): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const value = values[i] as tf.Tensor;
    // originalName is "<layer>/<weight>"; the tail names the weight.
    const tail = w.originalName.split("/").pop() ?? w.originalName;
    out.set(tail, { shape: value.shape, data: Float32Array.from(value.dataSync()) });
  });
  return out;
}

function requireWeight(
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  name: string,
  layer: string,
): { shape: number[]; data: Float32Array } {
  const w = weights.get(name);
  if (w === undefined) throw unsupported(`layer "${layer}" has no weight "${name}"`);
  return w;
}

/**
 * Kernel [k..., A, B] (TF.js, taps first) → [B, A, k...] (ONNX, taps last). A Conv3D kernel
 * [k..., Cin, Cout] becomes Conv's [Cout, Cin, k...]; a conv3dTranspose kernel [k..., Cout, Cin]
 * becomes ConvTranspose's [Cin, Cout, k...].
 */
function kernelToOnnx(data: Float32Array, taps: number, a: number, b: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let t = 0; t < taps; t++)
    for (let i = 0; i < a; i++)
      for (let j = 0; j < b; j++) out[(j * a + i) * taps + t] = data[(t * a + i) * b + j]!;
  return out;
}

/** Channels-last axis of a rank-`rank` tensor → the same axis channels-first. */
function channelsFirstAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw unsupported(`axis ${axis} out of range for rank ${rank}`);
  if (a === 0) return 0;
  if (a === rank - 1) return 1;
  return a + 1;
}

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  private readonly usedNames = new Set<string>();

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  floatInit(base: string, dims: number[], data: Float32Array): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  int64Init(base: string, values: number[]): string {
    const name = this.unique(base);
    this.initializers.push({
      name,
      dims: [values.length],
      data: BigInt64Array.from(values.map((v) => BigInt(v))),
    });
    return name;
  }

  node(
    op: string,
    name: string,
    inputs: string[],
    outputs: string[],
    attrs: Attr[] = [],
  ): OnnxNode {
    const n: OnnxNode = { op, name: this.unique(`node:${name}`), inputs, outputs, attrs };
    this.nodes.push(n);
    return n;
  }
}

/**
 * A 3D transposed convolution whose depth kernel equals its depth stride (no overlap along D, as
 * the U-Net's 2×2×2 stride-2 up-convolutions) as a 2D one over the depth slices: output slice
 * d·kD + kd of channel co is the 2D transposed convolution of input slice d with tap kd, so the kD
 * taps become kD·Cout output channels and a reshape interleaves them back along D.
 * onnxruntime's 3D ConvTranspose scatters its columns back with a generic N-d col2im; this form
 * took 0.17 s instead of 0.30 s for a [1, 32, 64³] → [1, 16, 128³] up-convolution here.
 * x [N, Cin, D, H, W] → [N, D, Cin, H, W] → [N·D, Cin, H, W] → ConvTranspose 2D →
 * [N·D, kD·Cout, H', W'] → [N, D, kD, Cout, H', W'] → [N, Cout, D, kD, H', W'] → [N, Cout, D·kD, H', W'].
 */
function depthFoldedConvTranspose(
  g: GraphBuilder,
  base: string,
  x: string,
  weight: Float32Array, // ONNX [Cin, Cout, kD, kH, kW]
  bias: Float32Array,
  cin: number,
  cout: number,
  [kd, kh, kw]: [number, number, number],
  [, sh, sw]: [number, number, number],
): string {
  const plane = kh * kw;
  const weight2d = new Float32Array(weight.length);
  for (let ci = 0; ci < cin; ci++)
    for (let co = 0; co < cout; co++)
      for (let d = 0; d < kd; d++) {
        const src = ((ci * cout + co) * kd + d) * plane;
        const dst = (ci * kd * cout + d * cout + co) * plane;
        weight2d.set(weight.subarray(src, src + plane), dst);
      }
  const bias2d = new Float32Array(kd * cout);
  for (let d = 0; d < kd; d++) bias2d.set(bias, d * cout);

  const value = (name: string): string => g.unique(`${base}/${name}`);
  const slice = (src: string, from: number, to: number, name: string): string => {
    const out = value(name);
    g.node(
      "Slice",
      `${base}/${name}`,
      [
        src,
        g.int64Init(`${base}/${name}_starts`, [from]),
        g.int64Init(`${base}/${name}_ends`, [to]),
      ],
      [out],
    );
    return out;
  };
  const concat = (parts: string[], name: string): string => {
    const out = value(name);
    g.node("Concat", `${base}/${name}`, parts, [out], [int("axis", 0)]);
    return out;
  };
  const shape = (src: string, name: string): string => {
    const out = value(name);
    g.node("Shape", `${base}/${name}`, [src], [out]);
    return out;
  };

  const inShape = shape(x, "in_shape");
  const n = slice(inShape, 0, 1, "n");
  const depth = slice(inShape, 2, 3, "d");
  const hw = slice(inShape, 3, 5, "hw");
  const slicesFirst = value("slices_first");
  g.node("Transpose", `${base}/slices_first`, [x], [slicesFirst], [ints("perm", [0, 2, 1, 3, 4])]);
  const slices = value("slices");
  g.node(
    "Reshape",
    `${base}/slices`,
    [slicesFirst, concat([g.int64Init(`${base}/minus_one_cin`, [-1, cin]), hw], "slices_shape")],
    [slices],
  );
  const up2d = value("up2d");
  g.node(
    "ConvTranspose",
    base,
    [
      slices,
      g.floatInit(`${base}/weight`, [cin, kd * cout, kh, kw], weight2d),
      g.floatInit(`${base}/bias`, [kd * cout], bias2d),
    ],
    [up2d],
    [ints("kernel_shape", [kh, kw]), ints("strides", [sh, sw]), ints("pads", [0, 0, 0, 0])],
  );
  const upHw = slice(shape(up2d, "up_shape"), 2, 4, "up_hw");
  const taps = value("taps");
  g.node(
    "Reshape",
    `${base}/taps`,
    [up2d, concat([n, depth, g.int64Init(`${base}/kd_cout`, [kd, cout]), upHw], "taps_shape")],
    [taps],
  );
  const channelsFirst = value("channels_first");
  g.node(
    "Transpose",
    `${base}/channels_first`,
    [taps],
    [channelsFirst],
    [ints("perm", [0, 3, 1, 2, 4, 5])],
  );
  const out = value("out");
  g.node(
    "Reshape",
    `${base}/out`,
    [
      channelsFirst,
      concat([n, g.int64Init(`${base}/cout_minus_one`, [cout, -1]), upHw], "out_shape"),
    ],
    [out],
  );
  return out;
}

/** Whether a layer's config asks for no activation (Conv3D etc. may carry one). */
function activationOf(config: Config): string {
  const a = config["activation"];
  return typeof a === "string" ? a : "linear";
}

/** Appends the node of a named activation (channels axis = 1) and returns its output. */
function emitActivation(
  g: GraphBuilder,
  activation: string,
  input: string,
  base: string,
  layer: string,
): string {
  switch (activation) {
    case "linear":
      return input;
    case "relu": {
      const out = g.unique(`${base}/relu`);
      g.node("Relu", base, [input], [out]);
      return out;
    }
    case "sigmoid": {
      const out = g.unique(`${base}/sigmoid`);
      g.node("Sigmoid", base, [input], [out]);
      return out;
    }
    case "softmax": {
      // TF.js softmax is over the last (channel) axis: axis 1 channels-first. Written out as
      // exp(x − max) / Σ exp(x − max) rather than as a Softmax node: onnxruntime's CPU Softmax
      // over a non-last axis transposes and then runs one tiny row per voxel (1.4 s for a
      // [1, 4, 128³] tensor here, against 0.25 s for these five element-wise and reduce nodes).
      const max = g.unique(`${base}/max`);
      g.node("ReduceMax", `${base}/max`, [input], [max], [ints("axes", [1]), int("keepdims", 1)]);
      const shifted = g.unique(`${base}/shifted`);
      g.node("Sub", `${base}/shift`, [input, max], [shifted]);
      const exp = g.unique(`${base}/exp`);
      g.node("Exp", `${base}/exp`, [shifted], [exp]);
      const sum = g.unique(`${base}/sum`);
      // ReduceSum takes its axes as an input from opset 13 on.
      g.node(
        "ReduceSum",
        `${base}/sum`,
        [exp, g.int64Init(`${base}/axes`, [1])],
        [sum],
        [int("keepdims", 1)],
      );
      const out = g.unique(`${base}/softmax`);
      g.node("Div", base, [exp, sum], [out]);
      return out;
    }
    case "tanh": {
      const out = g.unique(`${base}/tanh`);
      g.node("Tanh", base, [input], [out]);
      return out;
    }
    default:
      throw unsupported(`layer "${layer}": activation "${activation}" has no ONNX mapping here`);
  }
}

/**
 * Converts a channels-last tfjs-layers model to an ONNX ModelProto (bytes). Supports every layer
 * createUNet3D() can produce; any other layer throws UNet3DError("ONNX_UNSUPPORTED") naming it.
 */
export function exportOnnx(model: tfl.LayersModel, opts: ExportOnnxOptions = {}): Uint8Array {
  const opset = opts.opset ?? DEFAULT_OPSET;
  const irVersion = IR_VERSION_OF_OPSET[opset];
  if (irVersion === undefined) {
    throw new UNet3DError(
      "BAD_CONFIG",
      `opset must be one of ${Object.keys(IR_VERSION_OF_OPSET).join(", ")}, got ${opset}`,
    );
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw unsupported(
      `the model must have one input and one output, it has ${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  const inputShape = model.inputs[0]!.shape;
  const outputShape = model.outputs[0]!.shape;
  if (inputShape.length !== 5 || outputShape.length !== 5) {
    throw unsupported(
      `the model must map [N, D, H, W, C] to [N, D, H, W, K], got [${inputShape.join(",")}] → [${outputShape.join(",")}]`,
    );
  }
  const inChannels = inputShape[4];
  const outChannels = outputShape[4];
  if (typeof inChannels !== "number" || typeof outChannels !== "number") {
    throw unsupported("the model's input and output channel counts must be known");
  }

  const g = new GraphBuilder();
  g.unique(ONNX_INPUT_NAME);
  /** ONNX value name of each symbolic tensor (by id). */
  const valueOf = new Map<number, string>();
  /** How many layers consume each symbolic tensor (a conv output read twice cannot absorb a BN). */
  const consumers = new Map<number, number>();
  /** Conv records by the ONNX name of their output. */
  const convByOutput = new Map<string, ConvRecord>();

  for (const layer of model.layers) {
    if (layer.inboundNodes.length !== 1) {
      throw unsupported(`layer "${layer.name}" is used ${layer.inboundNodes.length} times`);
    }
    // An InputLayer's node lists its own output as its input.
    if (layer.getClassName() === "InputLayer") continue;
    for (const t of layer.inboundNodes[0]!.inputTensors) {
      consumers.set(t.id, (consumers.get(t.id) ?? 0) + 1);
    }
  }

  for (const layer of model.layers) {
    const node = layer.inboundNodes[0]!;
    const className = layer.getClassName();
    const config = layer.getConfig() as Config;
    const outputs = node.outputTensors;
    if (outputs.length !== 1) {
      throw unsupported(`layer "${layer.name}" (${className}) has ${outputs.length} outputs`);
    }
    const outTensor = outputs[0]!;
    if (className === "InputLayer") {
      valueOf.set(outTensor.id, ONNX_INPUT_NAME);
      continue;
    }
    const inputNames = node.inputTensors.map((t) => {
      const name = valueOf.get(t.id);
      if (name === undefined) {
        throw unsupported(`layer "${layer.name}" reads a tensor no earlier layer produced`);
      }
      return name;
    });
    const x = inputNames[0] ?? "";
    const base = layer.name;
    const setOutput = (name: string): void => {
      valueOf.set(outTensor.id, name);
    };
    const oneInput = (): void => {
      if (inputNames.length !== 1) {
        throw unsupported(`layer "${layer.name}" (${className}) expects one input`);
      }
    };

    switch (className) {
      case "Conv3D": {
        oneInput();
        const kernel = triple(config["kernelSize"], "kernelSize", base);
        const strides = triple(config["strides"] ?? 1, "strides", base);
        const dilation = triple(config["dilationRate"] ?? 1, "dilationRate", base);
        if (dilation.some((d) => d !== 1)) throw unsupported(`layer "${base}": dilation ≠ 1`);
        if ((config["dataFormat"] ?? "channelsLast") !== "channelsLast") {
          throw unsupported(`layer "${base}": dataFormat must be channelsLast`);
        }
        const weights = weightsOf(layer);
        const k = requireWeight(weights, "kernel", base);
        const [, , , cin, cout] = k.shape as [number, number, number, number, number];
        const taps = kernel[0] * kernel[1] * kernel[2];
        const weight = kernelToOnnx(k.data, taps, cin, cout);
        const bias = weights.get("bias")?.data ?? new Float32Array(cout);
        const padding = config["padding"];
        const attrs: Attr[] = [ints("kernel_shape", kernel), ints("strides", strides)];
        if (padding === "same") {
          if (strides.every((s) => s === 1)) {
            // TF 'same' with stride 1: k − 1 padding, the odd one at the end.
            const before = kernel.map((kk) => Math.floor((kk - 1) / 2));
            const after = kernel.map((kk, i) => kk - 1 - before[i]!);
            attrs.push(ints("pads", [...before, ...after]));
          } else {
            attrs.push(str("auto_pad", "SAME_UPPER"));
          }
        } else if (padding === "valid") {
          attrs.push(ints("pads", [0, 0, 0, 0, 0, 0]));
        } else {
          throw unsupported(`layer "${base}": padding "${String(padding)}"`);
        }
        const wName = g.floatInit(`${base}/weight`, [cout, cin, ...kernel], weight);
        const bName = g.floatInit(`${base}/bias`, [cout], bias);
        const out = g.unique(`${base}/out`);
        const n = g.node("Conv", base, [x, wName, bName], [out], attrs);
        const activation = activationOf(config);
        if (activation === "linear") {
          convByOutput.set(out, { node: n, weight, bias, outChannels: cout });
        }
        setOutput(emitActivation(g, activation, out, base, base));
        break;
      }

      case "Conv3DTranspose": {
        oneInput();
        const kernel = triple(config["kernelSize"], "kernelSize", base);
        const strides = triple(config["strides"] ?? 1, "strides", base);
        const dilation = triple(config["dilationRate"] ?? 1, "dilationRate", base);
        if (dilation.some((d) => d !== 1)) throw unsupported(`layer "${base}": dilation ≠ 1`);
        const padding = config["padding"];
        // 'same' with kernel = stride needs no padding and equals 'valid'; other 'same' cases
        // crop asymmetrically in ways ONNX's auto_pad does not match reliably.
        if (!(
          padding === "valid" ||
          (padding === "same" && kernel.every((kk, i) => kk === strides[i]))
        )) {
          throw unsupported(
            `layer "${base}": Conv3DTranspose padding "${String(padding)}" with kernel ≠ stride`,
          );
        }
        const weights = weightsOf(layer);
        const k = requireWeight(weights, "kernel", base);
        const [, , , cout, cin] = k.shape as [number, number, number, number, number];
        const taps = kernel[0] * kernel[1] * kernel[2];
        const weight = kernelToOnnx(k.data, taps, cout, cin);
        const bias = weights.get("bias")?.data ?? new Float32Array(cout);
        if (kernel[0] === strides[0]) {
          setOutput(
            emitActivation(
              g,
              activationOf(config),
              depthFoldedConvTranspose(g, base, x, weight, bias, cin, cout, kernel, strides),
              base,
              base,
            ),
          );
          break;
        }
        const wName = g.floatInit(`${base}/weight`, [cin, cout, ...kernel], weight);
        const bName = g.floatInit(`${base}/bias`, [cout], bias);
        const out = g.unique(`${base}/out`);
        g.node(
          "ConvTranspose",
          base,
          [x, wName, bName],
          [out],
          [
            ints("kernel_shape", kernel),
            ints("strides", strides),
            ints("pads", [0, 0, 0, 0, 0, 0]),
          ],
        );
        setOutput(emitActivation(g, activationOf(config), out, base, base));
        break;
      }

      case "BatchNormalization3D": {
        oneInput();
        const weights = weightsOf(layer);
        const mean = requireWeight(weights, "moving_mean", base).data;
        const variance = requireWeight(weights, "moving_variance", base).data;
        const channels = mean.length;
        const gamma = weights.get("gamma")?.data ?? new Float32Array(channels).fill(1);
        const beta = weights.get("beta")?.data ?? new Float32Array(channels);
        const epsilon = Number(config["epsilon"] ?? 1e-3);
        const inTensor = node.inputTensors[0]!;
        const conv = convByOutput.get(x);
        if (
          conv !== undefined &&
          consumers.get(inTensor.id) === 1 &&
          conv.outChannels === channels
        ) {
          // y = γ·(Wx + b − μ)/√(σ² + ε) + β = (sW)x + s(b − μ) + β with s = γ/√(σ² + ε).
          const perChannel = conv.weight.length / channels;
          for (let c = 0; c < channels; c++) {
            const s = gamma[c]! / Math.sqrt(variance[c]! + epsilon);
            for (let i = c * perChannel; i < (c + 1) * perChannel; i++) conv.weight[i]! *= s;
            conv.bias[c] = (conv.bias[c]! - mean[c]!) * s + beta[c]!;
          }
          convByOutput.delete(x);
          setOutput(x);
        } else {
          const out = g.unique(`${base}/out`);
          g.node(
            "BatchNormalization",
            base,
            [
              x,
              g.floatInit(`${base}/scale`, [channels], gamma),
              g.floatInit(`${base}/bias`, [channels], beta),
              g.floatInit(`${base}/mean`, [channels], mean),
              g.floatInit(`${base}/var`, [channels], variance),
            ],
            [out],
            [float("epsilon", epsilon)],
          );
          setOutput(out);
        }
        break;
      }

      case "InstanceNormalization": {
        oneInput();
        const weights = weightsOf(layer);
        const channels = outTensor.shape[outTensor.shape.length - 1];
        if (typeof channels !== "number") throw unsupported(`layer "${base}": unknown channels`);
        const gamma = weights.get("gamma")?.data ?? new Float32Array(channels).fill(1);
        const beta = weights.get("beta")?.data ?? new Float32Array(channels);
        const out = g.unique(`${base}/out`);
        g.node(
          "InstanceNormalization",
          base,
          [
            x,
            g.floatInit(`${base}/scale`, [channels], gamma),
            g.floatInit(`${base}/bias`, [channels], beta),
          ],
          [out],
          [float("epsilon", Number(config["epsilon"] ?? 1e-5))],
        );
        setOutput(out);
        break;
      }

      case "GroupNormalization": {
        oneInput();
        const weights = weightsOf(layer);
        const channels = outTensor.shape[outTensor.shape.length - 1];
        const groups = Number(config["groups"]);
        if (typeof channels !== "number" || !Number.isInteger(groups) || channels % groups !== 0) {
          throw unsupported(`layer "${base}": ${String(channels)} channels, ${groups} groups`);
        }
        // [N, C, ...] → [N, G, C/G·spatial] → instance norm per group → back → per-channel affine.
        const grouped = g.unique(`${base}/grouped`);
        g.node(
          "Reshape",
          `${base}/group`,
          [x, g.int64Init(`${base}/group_shape`, [0, groups, -1])],
          [grouped],
        );
        const normed = g.unique(`${base}/normed`);
        g.node(
          "InstanceNormalization",
          base,
          [
            grouped,
            g.floatInit(`${base}/ones`, [groups], new Float32Array(groups).fill(1)),
            g.floatInit(`${base}/zeros`, [groups], new Float32Array(groups)),
          ],
          [normed],
          [float("epsilon", Number(config["epsilon"] ?? 1e-5))],
        );
        const shape = g.unique(`${base}/shape`);
        g.node("Shape", `${base}/shape`, [x], [shape]);
        let y = g.unique(`${base}/ungrouped`);
        g.node("Reshape", `${base}/ungroup`, [normed, shape], [y]);
        const rank = outTensor.shape.length;
        const affineDims = [channels, ...Array<number>(rank - 2).fill(1)];
        const gamma = weights.get("gamma");
        if (gamma !== undefined) {
          const scaled = g.unique(`${base}/scaled`);
          g.node(
            "Mul",
            `${base}/gamma`,
            [y, g.floatInit(`${base}/gamma`, affineDims, gamma.data)],
            [scaled],
          );
          y = scaled;
        }
        const beta = weights.get("beta");
        if (beta !== undefined) {
          const shifted = g.unique(`${base}/shifted`);
          g.node(
            "Add",
            `${base}/beta`,
            [y, g.floatInit(`${base}/beta`, affineDims, beta.data)],
            [shifted],
          );
          y = shifted;
        }
        setOutput(y);
        break;
      }

      case "ReLU": {
        oneInput();
        const maxValue = config["maxValue"];
        if (maxValue !== null && maxValue !== undefined) {
          throw unsupported(`layer "${base}": ReLU with maxValue`);
        }
        setOutput(emitActivation(g, "relu", x, base, base));
        break;
      }

      case "Activation":
        oneInput();
        setOutput(emitActivation(g, activationOf(config), x, base, base));
        break;

      case "MaxPooling3D": {
        oneInput();
        const pool = triple(config["poolSize"], "poolSize", base);
        const strides = triple(config["strides"] ?? pool, "strides", base);
        const padding = config["padding"];
        if (padding !== "valid" && padding !== "same") {
          throw unsupported(`layer "${base}": padding "${String(padding)}"`);
        }
        const out = g.unique(`${base}/out`);
        g.node(
          "MaxPool",
          base,
          [x],
          [out],
          [
            ints("kernel_shape", pool),
            ints("strides", strides),
            padding === "same" ? str("auto_pad", "SAME_UPPER") : ints("pads", [0, 0, 0, 0, 0, 0]),
          ],
        );
        setOutput(out);
        break;
      }

      case "UpSampling3D": {
        oneInput();
        const size = triple(config["size"], "size", base);
        const out = g.unique(`${base}/out`);
        // Nearest with asymmetric coordinates and floor: out[i] = in[floor(i / s)], a repeat.
        g.node(
          "Resize",
          base,
          [x, "", g.floatInit(`${base}/scales`, [5], Float32Array.from([1, 1, ...size]))],
          [out],
          [
            str("mode", "nearest"),
            str("coordinate_transformation_mode", "asymmetric"),
            str("nearest_mode", "floor"),
          ],
        );
        setOutput(out);
        break;
      }

      case "Concatenate": {
        const rank = outTensor.shape.length;
        const axis = channelsFirstAxis(Number(config["axis"] ?? -1), rank);
        const out = g.unique(`${base}/out`);
        g.node("Concat", base, inputNames, [out], [int("axis", axis)]);
        setOutput(out);
        break;
      }

      case "SpatialAttention3D": {
        oneInput();
        const k = Number(config["kernelSize"] ?? 1);
        const weights = weightsOf(layer);
        const kernel = requireWeight(weights, "kernel", base);
        const bias = requireWeight(weights, "bias", base);
        const taps = k * k * k;
        // x · sigmoid(conv([mean_c x, max_c x])), channel order [mean, max] as in layers.ts.
        const mean = g.unique(`${base}/mean`);
        g.node("ReduceMean", `${base}/mean`, [x], [mean], [ints("axes", [1]), int("keepdims", 1)]);
        const max = g.unique(`${base}/max`);
        g.node("ReduceMax", `${base}/max`, [x], [max], [ints("axes", [1]), int("keepdims", 1)]);
        const maps = g.unique(`${base}/maps`);
        g.node("Concat", `${base}/maps`, [mean, max], [maps], [int("axis", 1)]);
        const logits = g.unique(`${base}/logits`);
        const pad = (k - 1) / 2;
        g.node(
          "Conv",
          `${base}/conv`,
          [
            maps,
            g.floatInit(`${base}/weight`, [1, 2, k, k, k], kernelToOnnx(kernel.data, taps, 2, 1)),
            g.floatInit(`${base}/bias`, [1], bias.data),
          ],
          [logits],
          [ints("kernel_shape", [k, k, k]), ints("pads", [pad, pad, pad, pad, pad, pad])],
        );
        const gate = g.unique(`${base}/gate`);
        g.node("Sigmoid", `${base}/gate`, [logits], [gate]);
        const out = g.unique(`${base}/out`);
        g.node("Mul", base, [x, gate], [out]);
        setOutput(out);
        break;
      }

      case "SpatialDropout3D":
      case "Dropout":
      case "SpatialDropout1D":
      case "SpatialDropout2D":
        // Identity at inference.
        oneInput();
        setOutput(x);
        break;

      default:
        throw unsupported(`layer "${base}" of class ${className} has no ONNX mapping`);
    }
  }

  // Name the graph output "probabilities": rename the producing node's output, or add an Identity
  // when the value is the graph input or is also read by another node.
  const finalName = valueOf.get(model.outputs[0]!.id);
  if (finalName === undefined) throw unsupported("the model output is not produced by any layer");
  const producer = g.nodes.find((n) => n.outputs.includes(finalName));
  const readElsewhere = g.nodes.some((n) => n.inputs.includes(finalName));
  if (producer !== undefined && !readElsewhere) {
    producer.outputs = producer.outputs.map((o) => (o === finalName ? ONNX_OUTPUT_NAME : o));
  } else {
    g.node("Identity", ONNX_OUTPUT_NAME, [finalName], [ONNX_OUTPUT_NAME]);
  }

  // Symbolic dims for unknown sizes; the U-Net's output grid is its input grid.
  const spatialNames = ["D", "H", "W"];
  const inputDims: Array<number | string> = [
    "N",
    inChannels,
    ...inputShape.slice(1, 4).map((d, i) => (typeof d === "number" ? d : spatialNames[i]!)),
  ];
  const outputDims: Array<number | string> = [
    "N",
    outChannels,
    ...outputShape.slice(1, 4).map((d, i) => (typeof d === "number" ? d : spatialNames[i]!)),
  ];
  return encodeModel({
    irVersion,
    opset,
    producerVersion: opts.producerVersion,
    metadata: opts.metadata ?? {},
    graphName: model.name,
    nodes: g.nodes,
    initializers: g.initializers,
    input: { name: ONNX_INPUT_NAME, dims: inputDims },
    output: { name: ONNX_OUTPUT_NAME, dims: outputDims },
  });
}

// ------------------------------------------------------------------------------------ encoding

interface ModelParts {
  irVersion: number;
  opset: number;
  producerVersion: string | undefined;
  metadata: Record<string, string>;
  graphName: string;
  nodes: OnnxNode[];
  initializers: Initializer[];
  input: { name: string; dims: Array<number | string> };
  output: { name: string; dims: Array<number | string> };
}

function encodeAttribute(a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  switch (a.kind) {
    case "int":
      w.int(20, ATTR_INT).int(3, a.value);
      break;
    case "float":
      w.int(20, ATTR_FLOAT).float(2, a.value);
      break;
    case "string":
      w.int(20, ATTR_STRING).string(4, a.value);
      break;
    case "ints":
      w.int(20, ATTR_INTS);
      for (const v of a.value) w.int(8, v);
      break;
  }
  return w;
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.op);
  for (const a of n.attrs) w.message(5, encodeAttribute(a));
  return w;
}

function encodeTensor(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  const raw = new Uint8Array(t.data.byteLength);
  const view = new DataView(raw.buffer);
  if (t.data instanceof Float32Array) {
    w.int(2, FLOAT);
    t.data.forEach((v, i) => view.setFloat32(i * 4, v, true)); // raw_data is little-endian
  } else {
    w.int(2, INT64);
    t.data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  }
  return w.string(8, t.name).bytes(9, raw);
}

function encodeValueInfo(name: string, dims: Array<number | string>): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === "number") dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, name).message(2, type);
}

function encodeModel(p: ModelParts): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of p.nodes) graph.message(1, encodeNode(n));
  graph.string(2, p.graphName);
  for (const t of p.initializers) graph.message(5, encodeTensor(t));
  graph.message(11, encodeValueInfo(p.input.name, p.input.dims));
  graph.message(12, encodeValueInfo(p.output.name, p.output.dims));

  const model = new ProtoWriter().int(1, p.irVersion).string(2, PRODUCER_NAME);
  if (p.producerVersion !== undefined) model.string(3, p.producerVersion);
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, "").int(2, p.opset));
  for (const [key, value] of Object.entries(p.metadata)) {
    model.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return model.finish();
}

/** exportOnnx() written to `path` atomically (a temporary file renamed into place). */
export async function saveOnnx(
  model: tfl.LayersModel,
  path: string,
  opts: ExportOnnxOptions = {},
): Promise<void> {
  const bytes = exportOnnx(model, opts);
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new UNet3DError("IO", `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}
