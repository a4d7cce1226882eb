// The field-number table (schema.ts) against onnx-proto's generated encoder: a message with only
// field `key` set must encode as exactly one field numbered schema[key].
import { onnx } from "onnx-proto";
import { describe, expect, it } from "vitest";
import { readFields } from "./proto.js";
import * as schema from "./schema.js";

type Encode = (message: Record<string, unknown>) => Uint8Array;
const enc =
  <T>(type: { encode(m: T): { finish(): Uint8Array } }): Encode =>
  (m) =>
    type.encode(m as T).finish();

const MESSAGES: Array<{
  name: string;
  table: Record<string, number>;
  encode: Encode;
  /** One value per table key. */
  sample: Record<string, unknown>;
}> = [
  {
    name: "ModelProto",
    table: schema.ModelProto,
    encode: enc(onnx.ModelProto),
    sample: {
      irVersion: 7,
      producerName: "p",
      producerVersion: "v",
      graph: {},
      opsetImport: [{}],
      metadataProps: [{}],
    },
  },
  {
    name: "OperatorSetIdProto",
    table: schema.OperatorSetIdProto,
    encode: enc(onnx.OperatorSetIdProto),
    sample: { domain: "d", version: 13 },
  },
  {
    name: "StringStringEntryProto",
    table: schema.StringStringEntryProto,
    encode: enc(onnx.StringStringEntryProto),
    sample: { key: "k", value: "v" },
  },
  {
    name: "GraphProto",
    table: schema.GraphProto,
    encode: enc(onnx.GraphProto),
    sample: { node: [{}], name: "g", initializer: [{}], input: [{}], output: [{}] },
  },
  {
    name: "NodeProto",
    table: schema.NodeProto,
    encode: enc(onnx.NodeProto),
    sample: { input: ["x"], output: ["y"], name: "n", opType: "Relu", attribute: [{}] },
  },
  {
    name: "AttributeProto",
    table: schema.AttributeProto,
    encode: enc(onnx.AttributeProto),
    sample: { name: "a", f: 1.5, i: 3, s: Uint8Array.from([1]), ints: [1], type: 2 },
  },
  {
    name: "TensorProto",
    table: schema.TensorProto,
    encode: enc(onnx.TensorProto),
    sample: { dims: [2], dataType: 1, name: "t", rawData: Uint8Array.from([1]) },
  },
  {
    name: "ValueInfoProto",
    table: schema.ValueInfoProto,
    encode: enc(onnx.ValueInfoProto),
    sample: { name: "v", type: {} },
  },
  {
    name: "TypeProto",
    table: schema.TypeProto,
    encode: enc(onnx.TypeProto),
    sample: { tensorType: {} },
  },
  {
    name: "TypeProto.Tensor",
    table: schema.TypeProtoTensor,
    encode: enc(onnx.TypeProto.Tensor),
    sample: { elemType: 1, shape: {} },
  },
  {
    name: "TensorShapeProto",
    table: schema.TensorShapeProto,
    encode: enc(onnx.TensorShapeProto),
    sample: { dim: [{}] },
  },
  {
    name: "TensorShapeProto.Dimension",
    table: schema.TensorShapeDimension,
    encode: enc(onnx.TensorShapeProto.Dimension),
    sample: { dimValue: 4, dimParam: "N" },
  },
];

describe("schema: field numbers agree with onnx-proto", () => {
  it.each(MESSAGES)("$name", ({ table, encode, sample }) => {
    expect(Object.keys(sample).sort()).toEqual(Object.keys(table).sort());
    for (const [key, number] of Object.entries(table)) {
      const fields = readFields(encode({ [key]: sample[key] }));
      expect(
        fields.map((f) => f.field),
        key,
      ).toEqual([number]);
    }
  });

  it.each<[string, Record<string, number>, Record<string, unknown>]>([
    ["AttributeProto.AttributeType", schema.AttributeType, onnx.AttributeProto.AttributeType],
    ["TensorProto.DataType", schema.DataType, onnx.TensorProto.DataType],
  ])("%s values", (_name, ours, theirs) => {
    for (const [key, value] of Object.entries(ours)) expect(theirs[key], key).toBe(value);
  });
});
