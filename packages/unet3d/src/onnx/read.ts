/**
 * Reads the header fields of an ONNX ModelProto with our protobuf reader: ir_version, producer,
 * opset imports and metadata_props. onnxruntime's JavaScript API does not expose metadata_props.
 */
import { UNet3DError } from "../errors.js";
import { fieldString, readFields, WIRE_BYTES, WIRE_VARINT } from "./proto.js";
import { ModelProto, OperatorSetIdProto, StringStringEntryProto } from "./schema.js";

export interface OnnxModelInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Opset version by domain ("" is the default ONNX domain). */
  opsets: Record<string, number>;
  /** metadata_props as key → value. */
  props: Record<string, string>;
}

/** Header fields of an ONNX model; throws UNet3DError("BAD_MODEL") for bytes that are not one. */
export function readOnnxModelInfo(bytes: Uint8Array): OnnxModelInfo {
  const info: OnnxModelInfo = {
    irVersion: 0,
    producerName: "",
    producerVersion: "",
    opsets: {},
    props: {},
  };
  let hasGraph = false;
  for (const f of readFields(bytes)) {
    if (f.field === ModelProto.irVersion && f.wire === WIRE_VARINT)
      info.irVersion = Number(f.value);
    else if (f.field === ModelProto.producerName) info.producerName = fieldString(f);
    else if (f.field === ModelProto.producerVersion) info.producerVersion = fieldString(f);
    else if (f.field === ModelProto.graph && f.wire === WIRE_BYTES) hasGraph = true;
    else if (f.field === ModelProto.opsetImport && f.wire === WIRE_BYTES) {
      let domain = "";
      let version = 0;
      for (const g of readFields(f.value)) {
        if (g.field === OperatorSetIdProto.domain) domain = fieldString(g);
        else if (g.field === OperatorSetIdProto.version && g.wire === WIRE_VARINT)
          version = Number(g.value);
      }
      info.opsets[domain] = version;
    } else if (f.field === ModelProto.metadataProps && f.wire === WIRE_BYTES) {
      let key = "";
      let value = "";
      for (const g of readFields(f.value)) {
        if (g.field === StringStringEntryProto.key) key = fieldString(g);
        else if (g.field === StringStringEntryProto.value) value = fieldString(g);
      }
      info.props[key] = value;
    }
  }
  if (info.irVersion === 0 || !hasGraph) {
    throw new UNet3DError("BAD_MODEL", "not an ONNX model: no ir_version or no graph");
  }
  return info;
}
