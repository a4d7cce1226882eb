/**
 * Field numbers and enum values of the ONNX messages this package writes (encode.ts) and reads
 * (read.ts), from onnx/onnx.proto, named as in the onnx-proto package (camelCase). The one table
 * of them: schema.test.ts checks each against onnx-proto's own encoder. Only the fields used here
 * are listed.
 */

export const ModelProto = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
} as const;

export const OperatorSetIdProto = { domain: 1, version: 2 } as const;

export const StringStringEntryProto = { key: 1, value: 2 } as const;

export const GraphProto = {
  node: 1,
  name: 2,
  initializer: 5,
  input: 11,
  output: 12,
} as const;

export const NodeProto = {
  input: 1,
  output: 2,
  name: 3,
  opType: 4,
  attribute: 5,
} as const;

export const AttributeProto = {
  name: 1,
  f: 2,
  i: 3,
  s: 4,
  ints: 8,
  type: 20,
} as const;

/** AttributeProto.AttributeType. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export const TensorProto = {
  dims: 1,
  dataType: 2,
  name: 8,
  rawData: 9,
} as const;

/** TensorProto.DataType. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

export const ValueInfoProto = { name: 1, type: 2 } as const;

export const TypeProto = { tensorType: 1 } as const;

/** TypeProto.Tensor. */
export const TypeProtoTensor = { elemType: 1, shape: 2 } as const;

export const TensorShapeProto = { dim: 1 } as const;

/** TensorShapeProto.Dimension. */
export const TensorShapeDimension = { dimValue: 1, dimParam: 2 } as const;
