import { describe, expect, it } from "vitest";
import { fieldString, ProtoWriter, readFields } from "./proto.js";
import { readOnnxModelInfo } from "./read.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("ProtoWriter", () => {
  // Encodings from the protobuf encoding guide and hand-computed varints.
  it.each<[string, (w: ProtoWriter) => void, string]>([
    ["int 150 in field 1", (w) => w.int(1, 150), "089601"],
    ["int 0", (w) => w.int(1, 0), "0800"],
    ["int 300 in field 2", (w) => w.int(2, 300), "10ac02"],
    ["int -1 (10-byte two's complement)", (w) => w.int(1, -1), "08ffffffffffffffffff01"],
    ["int 2^53-1", (w) => w.int(1, Number.MAX_SAFE_INTEGER), "08ffffffffffffff0f"],
    ["field 20 (two-byte key)", (w) => w.int(20, 7), "a00107"],
    ["string 'testing' in field 2", (w) => w.string(2, "testing"), "120774657374696e67"],
    ["float 1.0 in field 1", (w) => w.float(1, 1), "0d0000803f"],
    ["bytes in field 9", (w) => w.bytes(9, Uint8Array.from([1, 2, 3])), "4a03010203"],
    ["nested message 3 {1: 150}", (w) => w.message(3, new ProtoWriter().int(1, 150)), "1a03089601"],
  ])("%s", (_name, write, expected) => {
    const w = new ProtoWriter();
    write(w);
    const bytes = w.finish();
    expect(hex(bytes)).toBe(expected);
    expect(w.length).toBe(bytes.length);
  });

  it("refuses numbers that are not safe integers", () => {
    expect(() => new ProtoWriter().int(1, 1.5)).toThrow(
      expect.objectContaining({ code: "BAD_CONFIG" }),
    );
  });
});

describe("readFields", () => {
  it("reads back what the writer wrote", () => {
    const bytes = new ProtoWriter()
      .int(1, 150)
      .int(2, -1)
      .string(3, "héllo")
      .float(4, 0.5)
      .message(5, new ProtoWriter().int(1, 7))
      .finish();
    const fields = readFields(bytes);
    expect(fields.map((f) => [f.field, f.wire])).toEqual([
      [1, 0],
      [2, 0],
      [3, 2],
      [4, 5],
      [5, 2],
    ]);
    expect(fields[0]!.value).toBe(150n);
    expect(fields[1]!.value).toBe(2n ** 64n - 1n);
    expect(fieldString(fields[2]!)).toBe("héllo");
    expect(new DataView((fields[3]!.value as Uint8Array).slice().buffer).getFloat32(0, true)).toBe(
      0.5,
    );
    expect(readFields(fields[4]!.value as Uint8Array)[0]!.value).toBe(7n);
  });

  it.each<[string, number[]]>([
    ["truncated varint", [0x08, 0x96]],
    ["length past the end", [0x12, 0x05, 0x61]],
    ["field number 0", [0x00, 0x01]],
    ["wire type 3 (groups)", [0x0b]],
    ["varint longer than 10 bytes", [0x08, ...Array<number>(11).fill(0xff), 0x01]],
  ])("%s → BAD_MODEL", (_name, bytes) => {
    expect(() => readFields(Uint8Array.from(bytes))).toThrow(
      expect.objectContaining({ code: "BAD_MODEL" }),
    );
  });

  it("invalid UTF-8 in a string field → BAD_MODEL", () => {
    const [f] = readFields(Uint8Array.from([0x12, 0x01, 0xff]));
    expect(() => fieldString(f!)).toThrow(expect.objectContaining({ code: "BAD_MODEL" }));
  });
});

describe("readOnnxModelInfo", () => {
  it("reads ir_version, producer, opsets and metadata_props", () => {
    const bytes = new ProtoWriter()
      .int(1, 7)
      .string(2, "p")
      .string(3, "1.2")
      .message(7, new ProtoWriter().string(2, "g"))
      .message(8, new ProtoWriter().string(1, "").int(2, 13))
      .message(8, new ProtoWriter().string(1, "com.microsoft").int(2, 1))
      .message(14, new ProtoWriter().string(1, "brats").string(2, "{}"))
      .message(14, new ProtoWriter().string(1, "k").string(2, "v"))
      .finish();
    expect(readOnnxModelInfo(bytes)).toEqual({
      irVersion: 7,
      producerName: "p",
      producerVersion: "1.2",
      opsets: { "": 13, "com.microsoft": 1 },
      props: { brats: "{}", k: "v" },
    });
  });

  it.each<[string, Uint8Array]>([
    ["empty bytes", new Uint8Array(0)],
    ["no graph", new ProtoWriter().int(1, 7).finish()],
    ["text", new TextEncoder().encode("not a model at all")],
  ])("%s → BAD_MODEL", (_name, bytes) => {
    expect(() => readOnnxModelInfo(bytes)).toThrow(expect.objectContaining({ code: "BAD_MODEL" }));
  });
});
