/**
 * Export of a channels-last tfjs-layers model (anything createUNet3D builds) to an ONNX
 * ModelProto, channels-first: one input `image` [N, C, D, H, W] and one output `probabilities`
 * [N, K, D, H, W]. The graph is channels-first throughout, so no transposes are needed: kernels are
 * re-laid out on export and channel axes (−1 in TF.js) become axis 1. Batch normalisation is
 * folded into the preceding convolution with its moving (inference) statistics.
 *
 * This file walks the model; each Keras layer class has its converter in the table of convert.ts
 * (graph.ts holds what they share) and encode.ts writes the ModelProto with our own protobuf writer
 * (proto.ts) and the named field numbers of schema.ts.
 */
import { writeAtomic } from "@brats/kit/fs";
import type * as tfl from "@tensorflow/tfjs-layers";
import { UNet3DError } from "../errors.js";
import { LAYER_CONVERTERS } from "./convert.js";
import { encodeModel, type ValueInfo } from "./encode.js";
import { GraphBuilder, unsupported, type Config, type ConvRecord } from "./graph.js";

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

/** Input and output shapes of a model export can handle: [N, D, H, W, C] → [N, D, H, W, K]. */
function checkedShapes(model: tfl.LayersModel): {
  inputShape: ReadonlyArray<number | null>;
  outputShape: ReadonlyArray<number | null>;
  inChannels: number;
  outChannels: number;
} {
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
  return { inputShape, outputShape, inChannels, outChannels };
}

/** How many layers consume each symbolic tensor (by id). Also refuses shared layers. */
function readersOf(model: tfl.LayersModel): Map<number, number> {
  const readers = new Map<number, number>();
  for (const layer of model.layers) {
    if (layer.inboundNodes.length !== 1) {
      throw unsupported(`layer "${layer.name}" is used ${layer.inboundNodes.length} times`);
    }
    // An InputLayer's node lists its own output as its input.
    if (layer.getClassName() === "InputLayer") continue;
    for (const t of layer.inboundNodes[0]!.inputTensors) {
      readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
    }
  }
  return readers;
}

/**
 * Appends the nodes of every layer, in the model's order, through the converter of its class;
 * returns the ONNX value name of each symbolic tensor (by id).
 */
function convertLayers(g: GraphBuilder, model: tfl.LayersModel): Map<number, string> {
  const readers = readersOf(model);
  const valueOf = new Map<number, string>();
  const foldableConvs = new Map<string, ConvRecord>();
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
    const inputs = node.inputTensors.map((t) => {
      const name = valueOf.get(t.id);
      if (name === undefined) {
        throw unsupported(`layer "${layer.name}" reads a tensor no earlier layer produced`);
      }
      return name;
    });
    const convert = LAYER_CONVERTERS.get(className);
    if (convert === undefined) {
      throw unsupported(`layer "${layer.name}" of class ${className} has no ONNX mapping`);
    }
    const firstInput = node.inputTensors[0];
    const output = convert({
      g,
      layer,
      className,
      config,
      base: layer.name,
      inputs,
      outShape: outTensor.shape,
      firstInputReaders: firstInput === undefined ? undefined : readers.get(firstInput.id),
      foldableConvs,
    });
    valueOf.set(outTensor.id, output);
  }
  return valueOf;
}

/**
 * Names the graph output "probabilities": renames the producing node's output, or adds an
 * Identity when the value is the graph input or is also read by another node.
 */
function nameGraphOutput(g: GraphBuilder, finalName: string): void {
  const producer = g.nodes.find((n) => n.outputs.includes(finalName));
  const readElsewhere = g.nodes.some((n) => n.inputs.includes(finalName));
  if (producer !== undefined && !readElsewhere) {
    producer.outputs = producer.outputs.map((o) => (o === finalName ? ONNX_OUTPUT_NAME : o));
  } else {
    g.node("Identity", ONNX_OUTPUT_NAME, [finalName], [ONNX_OUTPUT_NAME]);
  }
}

/** Channels-first graph input/output of a channels-last shape; symbolic dims for unknown sizes
 * (the U-Net's output grid is its input grid). */
function valueInfo(name: string, shape: ReadonlyArray<number | null>, channels: number): ValueInfo {
  const spatialNames = ["D", "H", "W"];
  return {
    name,
    dims: [
      "N",
      channels,
      ...shape.slice(1, 4).map((d, i) => (typeof d === "number" ? d : spatialNames[i]!)),
    ],
  };
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
  const { inputShape, outputShape, inChannels, outChannels } = checkedShapes(model);

  const g = new GraphBuilder();
  g.unique(ONNX_INPUT_NAME);
  const valueOf = convertLayers(g, model);
  const finalName = valueOf.get(model.outputs[0]!.id);
  if (finalName === undefined) throw unsupported("the model output is not produced by any layer");
  nameGraphOutput(g, finalName);

  return encodeModel({
    irVersion,
    opset,
    producerName: PRODUCER_NAME,
    producerVersion: opts.producerVersion,
    metadata: opts.metadata ?? {},
    graphName: model.name,
    nodes: g.nodes,
    initializers: g.initializers,
    input: valueInfo(ONNX_INPUT_NAME, inputShape, inChannels),
    output: valueInfo(ONNX_OUTPUT_NAME, outputShape, outChannels),
  });
}

/** exportOnnx() written to `path` atomically (@brats/kit/fs writeAtomic: temp file, fsync, rename). */
export async function saveOnnx(
  model: tfl.LayersModel,
  path: string,
  opts: ExportOnnxOptions = {},
): Promise<void> {
  const bytes = exportOnnx(model, opts);
  try {
    await writeAtomic(path, bytes);
  } catch (cause) {
    throw new UNet3DError("IO", `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}
