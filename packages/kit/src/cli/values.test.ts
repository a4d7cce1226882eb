import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  InputNotFoundError,
  missingOptionError,
  parseChoice,
  parseInteger,
  parseDuration,
  parseNumber,
  requireInputPath,
  UsageError,
} from "../cli.js";

describe("parseDuration", () => {
  it.each([
    ["90s", 90],
    ["30m", 1800],
    ["2h", 7200],
    ["1h30m", 5400],
    ["1h 30m 15s", 5415],
    ["1.5h", 5400],
    ["0.5s", 0.5],
    ["30", 1800],
    ["2.5", 150],
    [" 10M ", 600],
  ])("%j is %d s", (value, seconds) => {
    expect(parseDuration("--time-limit", value)).toBe(seconds);
  });

  it.each(["", "0", "0m", "-5m", "m", "10x", "30m2h", "1h1h", "1h30", "1e3", "5 m s", "Infinity"])(
    "rejects %j with a usage error that shows the forms",
    (value) => {
      const error = (() => {
        try {
          parseDuration("--time-limit", value);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(
        `--time-limit must be a duration like 90s, 30m, 2h or 1h30m (a bare number is minutes), got ${value}`,
      );
    },
  );
});

describe("value checks", () => {
  it.each([
    ["7", {}, 7],
    ["-3", {}, -3],
    ["1", { min: 1 }, 1],
    ["0", { min: 0 }, 0],
    ["5", { min: 1, max: 5 }, 5],
  ])("parseInteger(%s, %j) = %d", (value, range, n) => {
    expect(parseInteger("--n", value, range)).toBe(n);
  });

  it.each([
    ["1.5", {}, "--n must be an integer, got 1.5"],
    ["", {}, "--n must be an integer, got "],
    [" 3", {}, "--n must be an integer, got  3"],
    ["1e3", {}, "--n must be an integer, got 1e3"],
    ["99999999999999999999", {}, "--n must be an integer, got 99999999999999999999"],
    ["0", { min: 1 }, "--n must be a positive integer, got 0"],
    ["-1", { min: 0 }, "--n must be a non-negative integer, got -1"],
    ["1", { min: 2 }, "--n must be an integer >= 2, got 1"],
    ["9", { max: 8 }, "--n must be an integer <= 8, got 9"],
    ["6", { min: 1, max: 5 }, "--n must be an integer in 1..5, got 6"],
  ])("parseInteger(%j, %j) fails", (value, range, message) => {
    expect(() => parseInteger("--n", value, range)).toThrow(new UsageError(message));
  });

  it.each([
    ["0.5", { min: 0, below: 1 }, 0.5],
    ["0", { min: 0, below: 1 }, 0],
    ["1e-3", { above: 0 }, 0.001],
    ["-2.5", {}, -2.5],
  ])("parseNumber(%s, %j) = %d", (value, range, n) => {
    expect(parseNumber("--f", value, range)).toBe(n);
  });

  it.each([
    ["1", { min: 0, below: 1 }, "--f must be a number in [0, 1), got 1"],
    ["0", { above: 0 }, "--f must be a positive number, got 0"],
    ["x", {}, "--f must be a number, got x"],
    ["", {}, "--f must be a number, got "],
    ["Infinity", {}, "--f must be a number, got Infinity"],
    ["3", { above: 0, max: 2 }, "--f must be a number in (0, 2], got 3"],
    ["-1", { min: 0 }, "--f must be a number >= 0, got -1"],
    ["2", { below: 1 }, "--f must be a number < 1, got 2"],
  ])("parseNumber(%j, %j) fails", (value, range, message) => {
    expect(() => parseNumber("--f", value, range)).toThrow(new UsageError(message));
  });

  it.each([
    [["onnx", "tfjs"], "cuda", "--engine must be onnx or tfjs, got cuda"],
    [
      ["poly", "cosine", "constant"],
      "x",
      "--engine must be one of poly, cosine or constant, got x",
    ],
    [["only"], "x", "--engine must be only, got x"],
  ])("parseChoice(%j, %s) fails", (choices, value, message) => {
    expect(() => parseChoice("--engine", value, choices)).toThrow(new UsageError(message));
  });

  it("parseChoice returns the choice with its literal type", () => {
    const engine = parseChoice("--engine", "tfjs", ["onnx", "tfjs"] as const);
    expectTypeOf(engine).toEqualTypeOf<"onnx" | "tfjs">();
    expect(engine).toBe("tfjs");
  });

  it.each([
    [["--data"], "missing required option --data"],
    [["--data", "--out"], "missing required options --data and --out"],
  ])("missingOptionError(%j)", (names, message) => {
    expect(missingOptionError(...names.map((n) => n.slice(2)))).toEqual(new UsageError(message));
  });
});

describe("requireInputPath", () => {
  const dir = mkdtempSync(join(tmpdir(), "brats-kit-cli-"));
  const file = join(dir, "a.nii.gz");
  writeFileSync(file, "x");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [dir, "any", "directory"],
    [dir, "directory", "directory"],
    [file, "any", "file"],
    [file, "file", "file"],
  ] as const)("%s as %s is a %s", (path, kind, is) => {
    expect(requireInputPath(path, "--data", kind)).toBe(is);
  });

  it.each([
    [join(dir, "missing"), "--data"],
    [join(file, "below-a-file"), "--gt"],
  ])("%s is NOT_FOUND", (path, option) => {
    let error: unknown;
    try {
      requireInputPath(path, option);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputNotFoundError);
    expect(error).toMatchObject({
      code: "NOT_FOUND",
      option,
      path,
      message: `${option}: no such file or directory: ${path}`,
    });
  });

  it.each([
    [file, "directory", `--data: not a directory: ${file}`],
    [dir, "file", `--data: not a file: ${dir}`],
  ] as const)("%s as a %s is a usage error", (path, kind, message) => {
    expect(() => requireInputPath(path, "--data", kind)).toThrow(new UsageError(message));
  });
});
