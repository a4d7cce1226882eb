/**
 * Reads the header fields of an ONNX ModelProto with our protobuf reader: ir_version, producer,
 * opset imports and metadata_props. onnxruntime's JavaScript API does not expose metadata_props.
 */
import { UNet3DError } from "../errors.js";
import { fieldString, readFields, WIRE_BYTES, WIRE_VARINT } from "./proto.js";

export interface OnnxModelInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Opset version by domain ("" is the default ONNX domain). */
  opsets: Record<string, number>;
  /** metadata_props as key → value. */
  props: Record<string, string>;
}

// ModelProto field numbers (onnx.proto).
const IR_VERSION = 1;
const PRODUCER_NAME = 2;
const PRODUCER_VERSION = 3;
const GRAPH = 7;
const OPSET_IMPORT = 8;
const METADATA_PROPS = 14;

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
    if (f.field === IR_VERSION && f.wire === WIRE_VARINT) info.irVersion = Number(f.value);
    else if (f.field === PRODUCER_NAME) info.producerName = fieldString(f);
    else if (f.field === PRODUCER_VERSION) info.producerVersion = fieldString(f);
    else if (f.field === GRAPH && f.wire === WIRE_BYTES) hasGraph = true;
    else if (f.field === OPSET_IMPORT && f.wire === WIRE_BYTES) {
      let domain = "";
      let version = 0;
      for (const g of readFields(f.value)) {
        if (g.field === 1) domain = fieldString(g);
        else if (g.field === 2 && g.wire === WIRE_VARINT) version = Number(g.value);
      }
      info.opsets[domain] = version;
    } else if (f.field === METADATA_PROPS && f.wire === WIRE_BYTES) {
      let key = "";
      let value = "";
      for (const g of readFields(f.value)) {
        if (g.field === 1) key = fieldString(g);
        else if (g.field === 2) value = fieldString(g);
      }
      info.props[key] = value;
    }
  }
  if (info.irVersion === 0 || !hasGraph) {
    throw new UNet3DError("BAD_MODEL", "not an ONNX model: no ir_version or no graph");
  }
  return info;
}
