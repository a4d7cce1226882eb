import { describe, expect, it } from "vitest";
import { NiftiError, type NiftiErrorCode } from "./errors.js";
import {
  dataByteLength,
  headerPrefixLength,
  parseHeader,
  serializeHeader,
  sniffHeader,
} from "./header.js";
import {
  concatBytes,
  rawExtensions,
  rawNifti1,
  rawNifti2,
  type RawHeaderFields,
} from "./test-utils.js";
import type { NiftiHeader } from "./types.js";

function codeOf(fn: () => unknown): NiftiErrorCode | "no error" | "not a NiftiError" {
  try {
    fn();
  } catch (error) {
    return error instanceof NiftiError ? error.code : "not a NiftiError";
  }
  return "no error";
}

const FIELDS: RawHeaderFields = {
  dim: [3, 4, 5, 6, 1, 1, 1, 1],
  datatype: 4,
  bitpix: 16,
  pixdim: [-1, 2, 3, 4, 1, 1, 1, 1],
  sclSlope: 2,
  sclInter: -1,
  descrip: "hand made",
  qformCode: 1,
  sformCode: 2,
  quatern: [0, 0.5, 0.5],
  qoffset: [10, 20, 30],
  srow: [
    [2, 0, 0, 10],
    [0, 3, 0, 20],
    [0, 0, 4, 30],
  ],
  intentCode: 1002,
  intentName: "labels",
  xyztUnits: 10,
  sliceCode: 1,
  dimInfo: 57,
  calMax: 255,
  calMin: -5,
};

/** What parseHeader must report for FIELDS, whatever the version and byte order. */
function expectFields(h: NiftiHeader): void {
  expect(h.dim).toEqual([3, 4, 5, 6, 1, 1, 1, 1]);
  expect(h.datatype).toBe(4);
  expect(h.bitpix).toBe(16);
  expect(h.pixdim).toEqual([-1, 2, 3, 4, 1, 1, 1, 1]);
  expect(h.sclSlope).toBe(2);
  expect(h.sclInter).toBe(-1);
  expect(h.descrip).toBe("hand made");
  expect(h.qformCode).toBe(1);
  expect(h.sformCode).toBe(2);
  expect([h.quaternB, h.quaternC, h.quaternD]).toEqual([0, 0.5, 0.5]);
  expect([h.qoffsetX, h.qoffsetY, h.qoffsetZ]).toEqual([10, 20, 30]);
  expect(h.srowX).toEqual([2, 0, 0, 10]);
  expect(h.srowY).toEqual([0, 3, 0, 20]);
  expect(h.srowZ).toEqual([0, 0, 4, 30]);
  expect(h.intentCode).toBe(1002);
  expect(h.intentName).toBe("labels");
  expect(h.xyztUnits).toBe(10);
  expect(h.sliceCode).toBe(1);
  expect(h.dimInfo).toBe(57);
  expect(h.calMax).toBe(255);
  expect(h.calMin).toBe(-5);
  expect(h.extensions).toEqual([]);
}

describe("sniffHeader", () => {
  it.each([
    [rawNifti1(FIELDS, true), 1, true, 348],
    [rawNifti1(FIELDS, false), 1, false, 348],
    [rawNifti2(FIELDS, true), 2, true, 540],
    [rawNifti2(FIELDS, false), 2, false, 540],
  ])(
    "reads version and byte order from sizeof_hdr (%#)",
    (bytes, version, littleEndian, headerSize) => {
      expect(sniffHeader(bytes)).toEqual({ version, littleEndian, headerSize });
    },
  );

  it.each([[new Uint8Array(0)], [new Uint8Array([0x5c, 1])], [new Uint8Array([1, 2, 3, 4, 5, 6])]])(
    "rejects anything else as NOT_NIFTI (%#)",
    (bytes) => {
      expect(codeOf(() => sniffHeader(bytes))).toBe("NOT_NIFTI");
    },
  );
});

describe("parseHeader", () => {
  it.each([
    ["NIfTI-1 little-endian", rawNifti1(FIELDS, true), 1, true, "n+1", 352],
    ["NIfTI-1 big-endian", rawNifti1(FIELDS, false), 1, false, "n+1", 352],
    ["NIfTI-2 little-endian", rawNifti2(FIELDS, true), 2, true, "n+2", 544],
    ["NIfTI-2 big-endian", rawNifti2(FIELDS, false), 2, false, "n+2", 544],
  ])("%s", (_name, bytes, version, littleEndian, magic, voxOffset) => {
    const h = parseHeader(bytes);
    expect(h.version).toBe(version);
    expect(h.littleEndian).toBe(littleEndian);
    expect(h.magic).toBe(magic);
    expect(h.voxOffset).toBe(voxOffset);
    expectFields(h);
    expect(dataByteLength(h)).toBe(4 * 5 * 6 * 2);
  });

  it("reads NIfTI-2 int64 dims beyond int32 as exact numbers", () => {
    const h = parseHeader(rawNifti2({ dim: [2, 2 ** 33 + 1, 3], datatype: 2 }), {
      maxBytes: 2 ** 40,
    });
    expect(h.dim.slice(0, 3)).toEqual([2, 2 ** 33 + 1, 3]);
    expect(dataByteLength(h)).toBe((2 ** 33 + 1) * 3);
  });

  it("fixes a single-file vox_offset below the header end to 352 / 544, as nibabel does", () => {
    expect(parseHeader(rawNifti1({ ...FIELDS, voxOffset: 0 })).voxOffset).toBe(352);
    expect(parseHeader(rawNifti1({ ...FIELDS, voxOffset: 100 })).voxOffset).toBe(352);
    expect(parseHeader(rawNifti2({ ...FIELDS, voxOffset: 0 })).voxOffset).toBe(544);
    expect(parseHeader(rawNifti1({ ...FIELDS, voxOffset: 352.75 })).voxOffset).toBe(352);
  });

  it("keeps a detached header's vox_offset (an offset into the .img)", () => {
    expect(parseHeader(rawNifti1({ ...FIELDS, magic: "ni1", voxOffset: 0 })).voxOffset).toBe(0);
    expect(parseHeader(rawNifti1({ ...FIELDS, magic: "ni1", voxOffset: 64 })).voxOffset).toBe(64);
    expect(parseHeader(rawNifti2({ ...FIELDS, magic: "ni2", voxOffset: 0 })).magic).toBe("ni2");
  });

  it("reads a plain Analyze 7.5 header (no magic) without NIfTI geometry", () => {
    const bytes = rawNifti1({ ...FIELDS, magic: "" }, false);
    const h = parseHeader(bytes);
    expect(h.magic).toBe("");
    expect(h.dim).toEqual([3, 4, 5, 6, 1, 1, 1, 1]);
    expect(h.pixdim).toEqual([-1, 2, 3, 4, 1, 1, 1, 1]);
    expect([h.qformCode, h.sformCode, h.intentCode, h.xyztUnits]).toEqual([0, 0, 0, 0]);
    expect(h.srowX).toEqual([0, 0, 0, 0]);
    // SPM keeps its scale factor at the scl_slope offset.
    expect(h.sclSlope).toBe(2);
  });

  it("decodes strings up to the first NUL, as UTF-8 or else Latin-1", () => {
    const utf8 = rawNifti1({ ...FIELDS, descrip: "" });
    utf8.set([0x63, 0x61, 0x66, 0xc3, 0xa9, 0, 0x78], 148); // "café\0x"
    expect(parseHeader(utf8).descrip).toBe("café");
    const latin1 = rawNifti1({ ...FIELDS, descrip: "" });
    latin1.set([0x63, 0x61, 0x66, 0xe9], 148); // "caf" + Latin-1 é
    expect(parseHeader(latin1).descrip).toBe("café");
    const full = rawNifti1({ ...FIELDS, descrip: "x".repeat(80) });
    expect(parseHeader(full).descrip).toBe("x".repeat(80));
  });

  it("reads extensions of a single file up to vox_offset, in either byte order", () => {
    for (const le of [true, false]) {
      const tail = rawExtensions(
        [
          { esize: 32, code: 6, payload: [1, 2, 3] },
          { esize: 16, code: 4, payload: [9] },
        ],
        le,
      );
      const bytes = concatBytes(
        rawNifti1({ ...FIELDS, voxOffset: 400, tail }, le),
        new Uint8Array(400 - 348 - tail.length),
      );
      const h = parseHeader(bytes);
      expect(h.extensions.map((e) => [e.code, e.data.length, e.data[0]])).toEqual([
        [6, 24, 1],
        [4, 8, 9],
      ]);
      expect(Array.from(h.extensions[0]!.data.slice(0, 4))).toEqual([1, 2, 3, 0]);
    }
  });

  it("reads extensions of a detached header to its end", () => {
    const tail = rawExtensions([{ esize: 16, code: 2, payload: [7, 7] }]);
    const h = parseHeader(rawNifti1({ ...FIELDS, magic: "ni1", voxOffset: 0, tail }));
    expect(h.extensions).toEqual([{ code: 2, data: new Uint8Array([7, 7, 0, 0, 0, 0, 0, 0]) }]);
  });

  it("ignores the extension area when the extender's first byte is 0", () => {
    const tail = new Uint8Array(4 + 16).fill(0xff);
    tail[0] = 0;
    expect(parseHeader(rawNifti1({ ...FIELDS, voxOffset: 368, tail })).extensions).toEqual([]);
  });

  it.each<[string, Array<{ esize: number; code: number }>, number]>([
    ["esize not a multiple of 16", [{ esize: 20, code: 4 }], 400],
    ["esize below 16", [{ esize: 8, code: 4 }], 400],
    ["esize 0 (would never advance)", [{ esize: 0, code: 4 }], 400],
    ["negative esize", [{ esize: -16, code: 4 }], 400],
    ["esize past vox_offset", [{ esize: 64, code: 4 }], 400],
    ["esize far past the end", [{ esize: 2 ** 30, code: 4 }], 400],
  ])("rejects %s as BAD_HEADER", (_name, blocks, voxOffset) => {
    const tail = rawExtensions(blocks);
    const bytes = concatBytes(
      rawNifti1({ ...FIELDS, voxOffset, tail }),
      new Uint8Array(Math.max(0, voxOffset - 348 - tail.length)),
    );
    expect(codeOf(() => parseHeader(bytes))).toBe("BAD_HEADER");
  });

  it("rejects a detached header with stray bytes after its extensions", () => {
    const tail = concatBytes(rawExtensions([{ esize: 16, code: 2 }]), new Uint8Array(5));
    expect(codeOf(() => parseHeader(rawNifti1({ ...FIELDS, magic: "ni1", tail })))).toBe(
      "BAD_HEADER",
    );
  });

  it.each<[string, NiftiErrorCode, Uint8Array]>([
    ["dim[0] = 0", "BAD_HEADER", rawNifti1({ ...FIELDS, dim: [0, 4, 5, 6] })],
    ["dim[0] = 8", "BAD_HEADER", rawNifti1({ ...FIELDS, dim: [8, 1, 1, 1, 1, 1, 1, 1] })],
    ["dim[0] = -1", "BAD_HEADER", rawNifti1({ ...FIELDS, dim: [-1, 4, 5, 6] })],
    ["a zero dim", "BAD_HEADER", rawNifti1({ ...FIELDS, dim: [3, 4, 0, 6] })],
    ["a negative dim", "BAD_HEADER", rawNifti1({ ...FIELDS, dim: [3, 4, -5, 6] })],
    [
      "dims whose product overflows",
      "BAD_HEADER",
      rawNifti1({ ...FIELDS, dim: [7, 32767, 32767, 32767, 32767, 32767, 32767, 32767] }),
    ],
    ["a NIfTI-2 dim beyond 2^53", "BAD_HEADER", rawNifti2({ ...FIELDS, dim: [1, 2 ** 60] })],
    [
      "a NIfTI-2 byte size beyond 2^53",
      "BAD_HEADER",
      rawNifti2({ ...FIELDS, datatype: 64, dim: [2, 2 ** 26, 2 ** 25] }),
    ],
    ["a negative vox_offset", "BAD_HEADER", rawNifti1({ ...FIELDS, voxOffset: -352 })],
    ["a NaN vox_offset", "BAD_HEADER", rawNifti1({ ...FIELDS, voxOffset: Number.NaN })],
    ["datatype 0", "UNSUPPORTED_DATATYPE", rawNifti1({ ...FIELDS, datatype: 0 })],
    ["datatype float128", "UNSUPPORTED_DATATYPE", rawNifti1({ ...FIELDS, datatype: 1536 })],
    ["sizeof_hdr 540 without an n+2 magic", "NOT_NIFTI", rawNifti2({ ...FIELDS, magic: "n+1" })],
    ["a header cut short", "TRUNCATED", rawNifti1(FIELDS).subarray(0, 200)],
    ["a NIfTI-2 header cut short", "TRUNCATED", rawNifti2(FIELDS).subarray(0, 539)],
  ])("%s → %s", (_name, code, bytes) => {
    expect(codeOf(() => parseHeader(bytes))).toBe(code);
  });

  it("checks the declared size against maxBytes before anything else is read", () => {
    // 2^40 bytes of float64 declared by a bare 348-byte header.
    const huge = rawNifti1({ dim: [3, 16384, 16384, 512], datatype: 64 });
    expect(codeOf(() => parseHeader(huge))).toBe("TOO_LARGE");
    expect(codeOf(() => parseHeader(rawNifti1(FIELDS), { maxBytes: 239 }))).toBe("TOO_LARGE");
    expect(codeOf(() => parseHeader(rawNifti1(FIELDS), { maxBytes: 240 }))).toBe("no error");
    expect(codeOf(() => parseHeader(rawNifti1({ ...FIELDS, voxOffset: 2 ** 32 })))).toBe(
      "TOO_LARGE",
    );
    expect(
      codeOf(() => parseHeader(rawNifti1({ ...FIELDS, voxOffset: 352 + 1000 }), { maxBytes: 999 })),
    ).toBe("TOO_LARGE");
  });

  it("says TRUNCATED when flagged extensions run past the bytes available", () => {
    const tail = rawExtensions([{ esize: 32, code: 4 }]);
    const bytes = rawNifti1({ ...FIELDS, voxOffset: 384, tail }).subarray(0, 360);
    expect(codeOf(() => parseHeader(bytes))).toBe("TRUNCATED");
  });
});

describe("headerPrefixLength", () => {
  it("is the header and extender, then the flagged extensions: never the padding up to vox_offset", () => {
    expect(headerPrefixLength(rawNifti1(FIELDS))).toBe(352);
    // No extensions flagged: the bytes up to a distant vox_offset are not needed.
    expect(headerPrefixLength(rawNifti1({ ...FIELDS, voxOffset: 1024 }))).toBe(352);
    expect(headerPrefixLength(rawNifti2(FIELDS))).toBe(544);
    // Flagged: each extension in turn, as far as the bytes at hand tell (esize), then its end.
    const tail = rawExtensions([
      { esize: 32, code: 4 },
      { esize: 48, code: 6 },
    ]);
    const full = rawNifti1({ ...FIELDS, voxOffset: 1024, tail });
    expect(headerPrefixLength(full.subarray(0, 352))).toBe(360);
    expect(headerPrefixLength(full.subarray(0, 360))).toBe(384);
    expect(headerPrefixLength(full.subarray(0, 384))).toBe(392);
    expect(headerPrefixLength(full.subarray(0, 392))).toBe(432);
    // The chain ends 592 bytes before vox_offset: the rest is read as the next extension, an empty one.
    expect(codeOf(() => headerPrefixLength(concatBytes(full, new Uint8Array(8))))).toBe(
      "BAD_HEADER",
    );
  });

  it("is unbounded for a detached header (the whole file)", () => {
    expect(headerPrefixLength(rawNifti1({ ...FIELDS, magic: "ni1" }))).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

describe("serializeHeader", () => {
  const base = parseHeader(rawNifti1(FIELDS));

  it("writes every field at its nifti1.h offset, little-endian by default", () => {
    const bytes = serializeHeader({ ...base, extensions: [] });
    const v = new DataView(bytes.buffer);
    expect(bytes.length).toBe(352);
    expect(v.getInt32(0, true)).toBe(348);
    expect(v.getInt16(40, true)).toBe(3);
    expect(v.getInt16(42, true)).toBe(4);
    expect(v.getInt16(70, true)).toBe(4);
    expect(v.getInt16(72, true)).toBe(16);
    expect(v.getFloat32(80, true)).toBe(2);
    expect(v.getFloat32(108, true)).toBe(352);
    expect(v.getFloat32(112, true)).toBe(2);
    expect(v.getInt16(252, true)).toBe(1);
    expect(v.getInt16(254, true)).toBe(2);
    expect(v.getFloat32(292, true)).toBe(10);
    expect(new TextDecoder().decode(bytes.subarray(344, 348))).toBe("n+1\0");
    expect(Array.from(bytes.subarray(348, 352))).toEqual([0, 0, 0, 0]);
  });

  it("writes big-endian and NIfTI-2 on request", () => {
    const be = serializeHeader(base, { littleEndian: false });
    expect(new DataView(be.buffer).getInt32(0, false)).toBe(348);
    const two = serializeHeader(base, { version: 2, littleEndian: false });
    const v = new DataView(two.buffer);
    expect(two.length).toBe(544);
    expect(v.getInt32(0, false)).toBe(540);
    expect(new TextDecoder().decode(two.subarray(4, 12))).toBe("n+2\0\r\n\x1a\n");
    expect(v.getBigInt64(168, false)).toBe(544n);
    expect(v.getBigInt64(24, false)).toBe(4n);
  });

  it("derives bitpix from the datatype, and magic / vox_offset from the layout", () => {
    const h = parseHeader(serializeHeader({ ...base, bitpix: 99, magic: "ni1", voxOffset: 7 }));
    expect([h.bitpix, h.magic, h.voxOffset]).toEqual([16, "n+1", 352]);
    const detached = serializeHeader(base, { detached: true });
    expect(parseHeader(detached).magic).toBe("ni1");
    expect(new DataView(detached.buffer).getFloat32(108, true)).toBe(0);
  });

  it("pads extensions to 16 bytes, sets the extender and moves vox_offset past them", () => {
    const extensions = [
      { code: 6, data: new Uint8Array([1, 2, 3]) },
      { code: 40, data: new Uint8Array(8).fill(5) },
    ];
    const bytes = serializeHeader({ ...base, extensions });
    const v = new DataView(bytes.buffer);
    expect(bytes.length).toBe(352 + 16 + 16);
    expect(bytes[348]).toBe(1);
    expect([v.getInt32(352, true), v.getInt32(356, true)]).toEqual([16, 6]);
    expect([v.getInt32(368, true), v.getInt32(372, true)]).toEqual([16, 40]);
    expect(v.getFloat32(108, true)).toBe(384);
    const back = parseHeader(bytes);
    expect(back.voxOffset).toBe(384);
    expect(back.extensions.map((e) => [e.code, Array.from(e.data)])).toEqual([
      [6, [1, 2, 3, 0, 0, 0, 0, 0]],
      [40, [5, 5, 5, 5, 5, 5, 5, 5]],
    ]);
  });

  it("round-trips every field in both versions and byte orders", () => {
    for (const version of [1, 2] as const) {
      for (const littleEndian of [true, false]) {
        const back = parseHeader(serializeHeader(base, { version, littleEndian }));
        expect(back.version).toBe(version);
        expect(back.littleEndian).toBe(littleEndian);
        expectFields(back);
      }
    }
  });

  it("cuts long UTF-8 strings at a character boundary", () => {
    const back = parseHeader(
      serializeHeader({ ...base, descrip: "é".repeat(50), intentName: "abcdefghijklmnopq" }),
    );
    expect(back.descrip).toBe("é".repeat(40));
    expect(back.intentName).toBe("abcdefghijklmnop");
  });

  it.each<[string, Partial<NiftiHeader>]>([
    ["a dim above 32767", { dim: [3, 40000, 5, 6, 1, 1, 1, 1] }],
    ["dim[0] = 0", { dim: [0, 1, 1, 1, 1, 1, 1, 1] }],
    ["a fractional dim", { dim: [3, 4.5, 5, 6, 1, 1, 1, 1] }],
    ["a qform_code beyond int16", { qformCode: 70000 }],
    ["xyzt_units beyond a byte", { xyztUnits: 300 }],
    ["a fractional slice_start", { sliceStart: 0.5 }],
  ])("refuses %s for NIfTI-1 (BAD_HEADER)", (_name, patch) => {
    expect(codeOf(() => serializeHeader({ ...base, ...patch }))).toBe("BAD_HEADER");
  });

  it("writes dims above 32767 in NIfTI-2 and says NIfTI-1 cannot hold them", () => {
    const wide = { ...base, dim: [3, 40000, 5, 6, 1, 1, 1, 1] };
    expect(parseHeader(serializeHeader(wide, { version: 2 })).dim[1]).toBe(40000);
    expect(() => serializeHeader(wide)).toThrow(/NIfTI-1 cannot hold/);
  });

  it("rejects unknown datatypes", () => {
    expect(codeOf(() => serializeHeader({ ...base, datatype: 1792 }))).toBe("UNSUPPORTED_DATATYPE");
  });
});
