import { describe, expect, expectTypeOf, it } from "vitest";
import { closestName, defineCli, helpText, parseCli, UsageError } from "../cli.js";
import { infer, nifti, REQUIRED } from "./fixtures.testutil.js";

describe("parseCli", () => {
  it("types the values from the table", () => {
    const r = parseCli(infer, REQUIRED);
    if (r.kind !== "run") throw new Error("expected a run");
    expectTypeOf(r.values.model).toEqualTypeOf<string[]>();
    expectTypeOf(r.values.input).toEqualTypeOf<string>();
    expectTypeOf(r.values.engine).toEqualTypeOf<string>();
    expectTypeOf(r.values.threads).toEqualTypeOf<string | undefined>();
    expectTypeOf(r.values.tta).toEqualTypeOf<boolean>();
  });

  it.each([
    [
      "the required options only",
      REQUIRED,
      {
        model: ["m.onnx"],
        input: "in",
        out: "o",
        engine: "onnx",
        threads: undefined,
        tta: false,
        "no-report": false,
        json: false,
      },
    ],
    [
      "repeated --model in order, = values, short options, booleans",
      ["--model=a", "-o", "x", "--model", "b", "--input", "i", "--tta", "--no-report"],
      {
        model: ["a", "b"],
        input: "i",
        out: "x",
        engine: "onnx",
        threads: undefined,
        tta: true,
        "no-report": true,
        json: false,
      },
    ],
    [
      "a value that is a lone dash, and a = value starting with a dash",
      [...REQUIRED, "--engine", "-", "--threads=-3"],
      { engine: "-", threads: "-3" },
    ],
  ])("%s", (_, argv, values) => {
    const r = parseCli(infer, argv);
    expect(r.kind).toBe("run");
    if (r.kind === "run") expect(r.values).toMatchObject(values);
  });

  it.each([
    [["--help"], "help"],
    [["-h"], "help"],
    [["--version"], "version"],
    // --help and --version win over every other problem, as in every tool before.
    [["--nope", "--help"], "help"],
    [["--out", "a", "--out", "b", "-h"], "help"],
    [["--version", "stray"], "version"],
    [["--help", "--version"], "help"],
  ])("%j is %s", (argv, kind) => {
    const r = parseCli(infer, argv);
    expect(r.kind).toBe(kind);
    if (r.kind === "help") expect(r.text).toBe(helpText(infer));
    if (r.kind === "version") expect(r.text).toBe("1.2.3\n");
  });

  it.each([
    [["--modle", "x"], "unknown option --modle (did you mean --model?)"],
    [["--inptu", "x"], "unknown option --inptu (did you mean --input?)"],
    [["--Json"], "unknown option --Json (did you mean --json?)"],
    [["--thr", "2"], "unknown option --thr (did you mean --threads?)"],
    [["--engines=onnx"], "unknown option --engines (did you mean --engine?)"],
    [["--frobnicate"], "unknown option --frobnicate"],
    [["--x"], "unknown option --x"],
    [["-z"], "unknown option -z"],
    [["-input", "x"], "unknown option -input (did you mean --input?)"],
    [["-qqq"], "unknown option -qqq"],
    [[...REQUIRED, "--out", "again"], "--out given more than once"],
    [[...REQUIRED, "--json", "--json"], "--json given more than once"],
    [[...REQUIRED, "--engine"], "--engine needs a value"],
    [[...REQUIRED, "--engine="], "--engine needs a value"],
    [
      [...REQUIRED, "--engine", "--json"],
      '--engine needs a value (for one that starts with "-", write --engine=--json)',
    ],
    [[...REQUIRED, "--json=yes"], "--json takes no value"],
    [[...REQUIRED, "stray"], 'unexpected argument "stray"'],
    [[...REQUIRED, "--", "--json"], 'unexpected argument "--json"'],
    [["--input", "i", "--out", "o"], "missing required option --model"],
    [["--model", "m", "--out", "o"], "missing required option --input"],
    [[], "missing required options --model, --input and --out"],
  ])("%j: %s", (argv, message) => {
    expect(() => parseCli(infer, argv)).toThrow(new UsageError(message));
  });

  it.each([
    [["info", "a.nii"], ["info", "a.nii"], false],
    [["info", "--json", "a.nii", "b.nii"], ["info", "a.nii", "b.nii"], true],
    [["info", "--", "--json"], ["info", "--json"], false],
  ])("positionals %j", (argv, positionals, json) => {
    expect(parseCli(nifti, argv)).toEqual({ kind: "run", values: { json }, positionals });
  });

  it.each([
    [[], "missing FILE"],
    [["--json"], "missing FILE"],
    [["a", "b", "c", "d"], 'unexpected argument "d"'],
    [["a", "--jsn"], "unknown option --jsn (did you mean --json?)"],
  ])("positionals %j: %s", (argv, message) => {
    expect(() => parseCli(nifti, argv)).toThrow(new UsageError(message));
  });

  it("refuses tables that redefine the built-in options", () => {
    expect(() =>
      defineCli({
        name: "x",
        version: "0",
        options: { help: { type: "boolean", description: "mine" } },
      }),
    ).toThrow("--help is built in");
  });
});

describe("closestName", () => {
  const names = ["data", "out", "epochs", "steps-per-epoch", "val-every", "val-overlap", "help"];
  it.each([
    ["dat", "data"],
    ["date", "data"],
    ["ot", "out"],
    ["epoch", "epochs"],
    ["steps", "steps-per-epoch"],
    ["val-evry", "val-every"],
    ["val-overlop", "val-overlap"],
    ["val", "val-every"],
    ["HELP", "help"],
    ["xyz", null],
    ["e", null],
    ["outputs", null],
    ["patch", null],
  ])("%s → %s", (typed, expected) => {
    expect(closestName(typed, names)).toBe(expected);
  });
});
