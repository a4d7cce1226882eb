import { describe, expect, it } from "vitest";
import { InferError } from "./errors.js";
import { parseShard, shardCases } from "./shard.js";

const ids = (list: { id: string }[]) => list.map((c) => c.id);
const cases = (names: string[]) => names.map((id) => ({ id }));

describe("parseShard", () => {
  it.each([
    ["0/1", { index: 0, count: 1 }],
    ["0/4", { index: 0, count: 4 }],
    ["3/4", { index: 3, count: 4 }],
    [" 2/10 ", { index: 2, count: 10 }],
  ])("%s", (spec, expected) => {
    expect(parseShard(spec)).toEqual(expected);
  });

  it.each(["4/4", "1/0", "0/0", "-1/4", "a/b", "1", "1/2/3", "", "1.5/4", "0/ 4"])(
    "refuses %j with BAD_OPTION",
    (spec) => {
      expect(() => parseShard(spec)).toThrow(InferError);
      try {
        parseShard(spec);
      } catch (e) {
        expect((e as InferError).code).toBe("BAD_OPTION");
      }
    },
  );
});

describe("shardCases", () => {
  const names = ["c", "a", "e", "b", "d", "g", "f"];

  it.each([
    // sorted: a b c d e f g
    [0, 1, ["a", "b", "c", "d", "e", "f", "g"]],
    [0, 2, ["a", "c", "e", "g"]],
    [1, 2, ["b", "d", "f"]],
    [0, 3, ["a", "d", "g"]],
    [1, 3, ["b", "e"]],
    [2, 3, ["c", "f"]],
    [6, 7, ["g"]],
    [7, 9, []],
  ])("shard %i/%i", (index, count, expected) => {
    expect(ids(shardCases(cases(names), { index, count }))).toEqual(expected);
  });

  it("without a shard returns every case sorted by code unit (not locale)", () => {
    expect(ids(shardCases(cases(["b", "B", "a", "_x", "A10", "A9"])))).toEqual([
      "A10",
      "A9",
      "B",
      "_x",
      "a",
      "b",
    ]);
  });

  it.each([1, 2, 3, 4, 5, 7, 8, 13])(
    "the %i shards partition the cases: disjoint, union = all, each in sorted order",
    (count) => {
      const all = Array.from(
        { length: 11 },
        (_, i) => `BraTS2021_${String((i * 7919) % 1000).padStart(5, "0")}`,
      );
      const sorted = [...all].sort();
      const seen: string[] = [];
      for (let index = 0; index < count; index++) {
        const part = ids(shardCases(cases(all), { index, count }));
        expect(part).toEqual([...part].sort());
        seen.push(...part);
      }
      expect(seen.length).toBe(all.length);
      expect(new Set(seen).size).toBe(all.length);
      expect([...seen].sort()).toEqual(sorted);
    },
  );

  it("does not depend on the input order", () => {
    const a = ["x3", "x1", "x2", "x5", "x4"];
    const b = [...a].reverse();
    for (let index = 0; index < 2; index++) {
      expect(ids(shardCases(cases(a), { index, count: 2 }))).toEqual(
        ids(shardCases(cases(b), { index, count: 2 })),
      );
    }
  });

  it("refuses duplicate ids and bad shards with BAD_OPTION", () => {
    expect(() => shardCases(cases(["a", "b", "a"]))).toThrow(/twice/);
    expect(() => shardCases(cases(["a"]), { index: 2, count: 2 })).toThrow(InferError);
    expect(() => shardCases(cases(["a"]), { index: 0, count: 0 })).toThrow(InferError);
  });
});
