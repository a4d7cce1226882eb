/**
 * What the per-layer converters (convert*.ts) share: the graph under construction (unique names,
 * nodes, initializers), the context one layer is converted in, attribute and weight helpers, and
 * the activations. Node and value names follow the Keras layer names, made unique in order of
 * creation: converters must keep their order of calls for the exported bytes to stay the same.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "../errors.js";
import type { Attr, Initializer, OnnxNode } from "./encode.js";

export type Config = Record<string, unknown>;

export function unsupported(message: string): UNet3DError {
  return new UNet3DError("ONNX_UNSUPPORTED", message);
}

export const int = (name: string, value: number): Attr => ({ name, kind: "int", value });
export const ints = (name: string, value: number[]): Attr => ({ name, kind: "ints", value });
export const float = (name: string, value: number): Attr => ({ name, kind: "float", value });
export const str = (name: string, value: string): Attr => ({ name, kind: "string", value });

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  private readonly usedNames = new Set<string>();

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  /** Adds a float initializer; `data` is kept by reference (a batch-norm fold may still scale it). */
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

/** A linear Conv whose weights a following batch norm may still fold into. */
export interface ConvRecord {
  weight: Float32Array; // [Cout, Cin, k...]
  bias: Float32Array; // [Cout]
  outChannels: number;
}

/** One Keras layer to convert, with the graph built so far. */
export interface LayerContext {
  g: GraphBuilder;
  layer: tfl.layers.Layer;
  className: string;
  config: Config;
  /** The layer's name: the base of its node and value names. */
  base: string;
  /** ONNX value names of the layer's inputs, in order. */
  inputs: string[];
  /** Channels-last shape of the layer's one output. */
  outShape: ReadonlyArray<number | null>;
  /** How many layers read the layer's first input (a conv output read twice cannot absorb a BN). */
  firstInputReaders: number | undefined;
  /** Linear convs open for folding, by the ONNX name of their output. */
  foldableConvs: Map<string, ConvRecord>;
}

/** Appends the nodes of one layer and returns the ONNX name of its output. */
export type LayerConverter = (c: LayerContext) => string;

/** The one input of a single-input layer. */
export function oneInput(c: LayerContext): string {
  if (c.inputs.length !== 1) {
    throw unsupported(`layer "${c.base}" (${c.className}) expects one input`);
  }
  return c.inputs[0]!;
}

export function triple(value: unknown, what: string, layer: string): [number, number, number] {
  const v = typeof value === "number" ? [value, value, value] : value;
  if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => Number.isInteger(n) && n >= 1)) {
    throw unsupported(
      `layer "${layer}": ${what} ${JSON.stringify(value)} is not 3 positive integers`,
    );
  }
  return v as [number, number, number];
}

export type Weights = Map<string, { shape: number[]; data: Float32Array }>;

/** Weight values of a layer, by the tail of the variable name ("kernel", "gamma", ...). */
export function weightsOf(layer: tfl.layers.Layer): Weights {
  const out: Weights = new Map();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const value = values[i] as tf.Tensor;
    // originalName is "<layer>/<weight>"; the tail names the weight.
    const tail = w.originalName.split("/").pop() ?? w.originalName;
    out.set(tail, { shape: value.shape, data: Float32Array.from(value.dataSync()) });
  });
  return out;
}

export function requireWeight(
  weights: Weights,
  name: string,
  layer: string,
): { shape: number[]; data: Float32Array } {
  const w = weights.get(name);
  if (w === undefined) throw unsupported(`layer "${layer}" has no weight "${name}"`);
  return w;
}

/** Channels-last axis of a rank-`rank` tensor → the same axis channels-first. */
export function channelsFirstAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw unsupported(`axis ${axis} out of range for rank ${rank}`);
  if (a === 0) return 0;
  if (a === rank - 1) return 1;
  return a + 1;
}

/** The activation a layer's config names ("linear" when none: Conv3D etc. may carry one). */
export function activationOf(config: Config): string {
  const a = config["activation"];
  return typeof a === "string" ? a : "linear";
}

/** One activation: appends its nodes after `input` (named from `base`), returns the output. */
type ActivationEmitter = (g: GraphBuilder, input: string, base: string) => string;

const unary =
  (op: string, suffix: string): ActivationEmitter =>
  (g, input, base) => {
    const out = g.unique(`${base}/${suffix}`);
    g.node(op, base, [input], [out]);
    return out;
  };

/**
 * TF.js softmax is over the last (channel) axis: axis 1 channels-first. Written out as
 * exp(x − max) / Σ exp(x − max) rather than as a Softmax node: onnxruntime's CPU Softmax over a
 * non-last axis transposes and then runs one tiny row per voxel (1.4 s for a [1, 4, 128³] tensor
 * here, against 0.25 s for these five element-wise and reduce nodes).
 */
const softmax: ActivationEmitter = (g, input, base) => {
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
};

const ACTIVATIONS: ReadonlyMap<string, ActivationEmitter> = new Map([
  ["linear", (_g: GraphBuilder, input: string) => input],
  ["relu", unary("Relu", "relu")],
  ["sigmoid", unary("Sigmoid", "sigmoid")],
  ["softmax", softmax],
  ["tanh", unary("Tanh", "tanh")],
]);

/** Appends the nodes of a named activation (channels axis = 1) and returns its output. */
export function emitActivation(
  g: GraphBuilder,
  activation: string,
  input: string,
  base: string,
): string {
  const emit = ACTIVATIONS.get(activation);
  if (emit === undefined) {
    throw unsupported(`layer "${base}": activation "${activation}" has no ONNX mapping here`);
  }
  return emit(g, input, base);
}
