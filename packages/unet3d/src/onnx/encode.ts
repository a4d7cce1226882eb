/**
 * The ONNX graph as export.ts builds it (nodes, attributes, initializers) and its encoding as a
 * ModelProto with our protobuf writer (proto.ts) and the field numbers of schema.ts. Field order
 * is fixed (the exported bytes are pinned by sha256 in export.test.ts).
 */
import { ProtoWriter } from "./proto.js";
import {
  AttributeProto,
  AttributeType,
  DataType,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetIdProto,
  StringStringEntryProto,
  TensorProto,
  TensorShapeDimension,
  TensorShapeProto,
  TypeProto,
  TypeProtoTensor,
  ValueInfoProto,
} from "./schema.js";

export type Attr =
  | { name: string; kind: "int"; value: number }
  | { name: string; kind: "float"; value: number }
  | { name: string; kind: "string"; value: string }
  | { name: string; kind: "ints"; value: number[] };

export interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Attr[];
}

export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: a float tensor of these dims (numbers, or symbolic names). */
export interface ValueInfo {
  name: string;
  dims: Array<number | string>;
}

export interface ModelParts {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string | undefined;
  metadata: Record<string, string>;
  graphName: string;
  nodes: OnnxNode[];
  initializers: Initializer[];
  input: ValueInfo;
  output: ValueInfo;
}

function encodeAttribute(a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(AttributeProto.name, a.name);
  switch (a.kind) {
    case "int":
      w.int(AttributeProto.type, AttributeType.INT).int(AttributeProto.i, a.value);
      break;
    case "float":
      w.int(AttributeProto.type, AttributeType.FLOAT).float(AttributeProto.f, a.value);
      break;
    case "string":
      w.int(AttributeProto.type, AttributeType.STRING).string(AttributeProto.s, a.value);
      break;
    case "ints":
      // Unpacked (one varint field per value), as written since the first export.
      w.int(AttributeProto.type, AttributeType.INTS);
      for (const v of a.value) w.int(AttributeProto.ints, v);
      break;
  }
  return w;
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(NodeProto.input, i);
  for (const o of n.outputs) w.string(NodeProto.output, o);
  w.string(NodeProto.name, n.name).string(NodeProto.opType, n.op);
  for (const a of n.attrs) w.message(NodeProto.attribute, encodeAttribute(a));
  return w;
}

function encodeTensor(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(TensorProto.dims, d);
  const raw = new Uint8Array(t.data.byteLength);
  const view = new DataView(raw.buffer);
  if (t.data instanceof Float32Array) {
    w.int(TensorProto.dataType, DataType.FLOAT);
    t.data.forEach((v, i) => view.setFloat32(i * 4, v, true)); // raw_data is little-endian
  } else {
    w.int(TensorProto.dataType, DataType.INT64);
    t.data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  }
  return w.string(TensorProto.name, t.name).bytes(TensorProto.rawData, raw);
}

function encodeValueInfo({ name, dims }: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === "number") dim.int(TensorShapeDimension.dimValue, d);
    else dim.string(TensorShapeDimension.dimParam, d);
    shape.message(TensorShapeProto.dim, dim);
  }
  const tensorType = new ProtoWriter()
    .int(TypeProtoTensor.elemType, DataType.FLOAT)
    .message(TypeProtoTensor.shape, shape);
  const type = new ProtoWriter().message(TypeProto.tensorType, tensorType);
  return new ProtoWriter().string(ValueInfoProto.name, name).message(ValueInfoProto.type, type);
}

/** The ModelProto bytes of one graph in the default ONNX domain. */
export function encodeModel(p: ModelParts): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of p.nodes) graph.message(GraphProto.node, encodeNode(n));
  graph.string(GraphProto.name, p.graphName);
  for (const t of p.initializers) graph.message(GraphProto.initializer, encodeTensor(t));
  graph.message(GraphProto.input, encodeValueInfo(p.input));
  graph.message(GraphProto.output, encodeValueInfo(p.output));

  const model = new ProtoWriter()
    .int(ModelProto.irVersion, p.irVersion)
    .string(ModelProto.producerName, p.producerName);
  if (p.producerVersion !== undefined) model.string(ModelProto.producerVersion, p.producerVersion);
  model.message(ModelProto.graph, graph);
  model.message(
    ModelProto.opsetImport,
    new ProtoWriter()
      .string(OperatorSetIdProto.domain, "")
      .int(OperatorSetIdProto.version, p.opset),
  );
  for (const [key, value] of Object.entries(p.metadata)) {
    model.message(
      ModelProto.metadataProps,
      new ProtoWriter()
        .string(StringStringEntryProto.key, key)
        .string(StringStringEntryProto.value, value),
    );
  }
  return model.finish();
}
