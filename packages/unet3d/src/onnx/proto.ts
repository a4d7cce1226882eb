/**
 * A minimal protocol-buffers writer and reader: just what an ONNX ModelProto needs (varints, int64,
 * fixed32, length-delimited fields), so exporting and reading metadata need no protobuf runtime.
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 */
import { UNet3DError } from "../errors.js";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Builds one message as a list of chunks; nested messages are written with `message()`. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  /** Total bytes written so far. */
  length = 0;

  private flush(): void {
    if (this.pending.length > 0) {
      this.chunks.push(Uint8Array.from(this.pending));
      this.pending = [];
    }
  }

  private byte(b: number): void {
    this.pending.push(b);
    this.length++;
  }

  /** Unsigned varint of a non-negative safe integer, or any int64 as a bigint (two's complement). */
  private varint(value: number | bigint): void {
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) {
        throw new UNet3DError("BAD_CONFIG", `cannot encode ${value} as a protobuf integer`);
      }
      if (value < 0) {
        this.varint(BigInt(value));
        return;
      }
      while (value > 0x7f) {
        this.byte((value % 0x80) | 0x80);
        value = Math.floor(value / 0x80);
      }
      this.byte(value);
      return;
    }
    // Negative int64 values are encoded as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** int32/int64/enum/bool field (negative numbers become 10-byte two's complement). */
  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    for (const x of b) this.byte(x);
    return this;
  }

  /** bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(value.length);
    this.flush();
    this.chunks.push(value);
    this.length += value.length;
    return this;
  }

  /** string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Embedded message field. */
  message(field: number, sub: ProtoWriter): this {
    this.tag(field, WIRE_BYTES);
    this.varint(sub.length);
    this.flush();
    sub.flush();
    for (const c of sub.chunks) this.chunks.push(c);
    this.length += sub.length;
    return this;
  }

  /** The encoded message as one array. */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** One field of a decoded message: varints as bigint, fixed32/64 as raw bytes, bytes as a view. */
export type ProtoField =
  | { field: number; wire: typeof WIRE_VARINT; value: bigint }
  | { field: number; wire: typeof WIRE_FIXED64 | typeof WIRE_FIXED32; value: Uint8Array }
  | { field: number; wire: typeof WIRE_BYTES; value: Uint8Array };

function malformed(message: string): UNet3DError {
  return new UNet3DError("BAD_MODEL", `malformed protobuf: ${message}`);
}

/** Decodes the top-level fields of one message (sub-messages stay as byte views). Throws
 * UNet3DError("BAD_MODEL") on truncated or invalid input. */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= bytes.length) throw malformed("truncated varint");
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw malformed("varint longer than 10 bytes");
  };
  const take = (n: number): Uint8Array => {
    if (n > bytes.length - pos) throw malformed(`field of ${n} bytes past the end`);
    const view = bytes.subarray(pos, pos + n);
    pos += n;
    return view;
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw malformed("field number 0");
    switch (wire) {
      case WIRE_VARINT:
        fields.push({ field, wire, value: varint() });
        break;
      case WIRE_FIXED64:
        fields.push({ field, wire, value: take(8) });
        break;
      case WIRE_BYTES: {
        const n = varint();
        if (n > BigInt(bytes.length - pos)) throw malformed(`field of ${n} bytes past the end`);
        fields.push({ field, wire, value: take(Number(n)) });
        break;
      }
      case WIRE_FIXED32:
        fields.push({ field, wire, value: take(4) });
        break;
      default:
        throw malformed(`unsupported wire type ${wire}`);
    }
  }
  return fields;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** A UTF-8 string field's text; BAD_MODEL when it is not valid UTF-8. */
export function fieldString(f: ProtoField): string {
  if (f.wire !== WIRE_BYTES) throw malformed(`field ${f.field} is not a string`);
  try {
    return utf8Decoder.decode(f.value);
  } catch {
    throw malformed(`field ${f.field} is not valid UTF-8`);
  }
}
