import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  closestName,
  defineCli,
  EXIT,
  formatUsageError,
  helpText,
  InputNotFoundError,
  missingOptionError,
  parseChoice,
  parseCli,
  parseInteger,
  parseNumber,
  readPackageVersion,
  reportError,
  requireInputPath,
  runCliMain,
  UsageError,
  type CliIo,
} from "./cli.js";

/** A table like brats-infer's: values, a repeatable required option, booleans, a default. */
const infer = defineCli({
  name: "brats-infer",
  version: "1.2.3",
  summary: "Segment BraTS cases.",
  options: {
    model: {
      type: "string",
      placeholder: "PATH",
      multiple: true,
      required: true,
      description: "a run folder or an .onnx file; repeat it for an ensemble",
    },
    input: { type: "string", placeholder: "DIR", required: true, description: "case folders" },
    out: { type: "string", short: "o", placeholder: "DIR", required: true, description: "output" },
    engine: { type: "string", placeholder: "NAME", default: "onnx", description: "onnx or tfjs" },
    threads: {
      type: "string",
      placeholder: "N",
      defaultText: "the physical cores",
      description: "onnxruntime threads",
    },
    tta: { type: "boolean", description: "mirroring test-time augmentation" },
    "no-report": { type: "boolean", description: "do not write report.html" },
    json: { type: "boolean", description: "print one JSON summary" },
  },
  epilogue: "Exit status: 0 done, 1 failure, 2 usage error.",
});

/** A table like brats-nifti's: positionals (a command and files). */
const nifti = defineCli({
  name: "brats-nifti",
  version: "0.1.0",
  usage: "brats-nifti info FILE... [--json]",
  options: { json: { type: "boolean", description: "one JSON object per file" } },
  positionals: { name: "FILE", min: 1, max: 3 },
});

const REQUIRED = ["--model", "m.onnx", "--input", "in", "--out", "o"];

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

describe("helpText", () => {
  const text = helpText(infer);

  it("lists every option of the table, --help and --version, one per line", () => {
    const lines = text.split("\n");
    for (const name of [...Object.keys(infer.options), "help", "version"]) {
      expect(
        lines.filter((l) => new RegExp(`^  (-\\w, )?--${name}\\b`).test(l)),
        name,
      ).toHaveLength(1);
    }
  });

  it("is laid out from the table", () => {
    expect(text).toBe(
      [
        "Usage: brats-infer --model PATH [--model PATH ...] --input DIR --out DIR [options]",
        "",
        "Segment BraTS cases.",
        "",
        "Options:",
        "  --model PATH   a run folder or an .onnx file; repeat it for an ensemble (required; repeatable)",
        "  --input DIR    case folders (required)",
        "  -o, --out DIR  output (required)",
        "  --engine NAME  onnx or tfjs (default onnx)",
        "  --threads N    onnxruntime threads (default the physical cores)",
        "  --tta          mirroring test-time augmentation",
        "  --no-report    do not write report.html",
        "  --json         print one JSON summary",
        "  -h, --help     show this help",
        "  --version      show the version",
        "",
        "Exit status: 0 done, 1 failure, 2 usage error.",
        "",
      ].join("\n"),
    );
  });

  it("takes a given usage line and puts long labels on a line of their own", () => {
    const long = defineCli({
      name: "t",
      version: "0",
      usage: "t [options] FILE",
      options: {
        "a-rather-long-option-name": { type: "string", placeholder: "VALUE", description: "d" },
        b: { type: "boolean", description: "e ".repeat(60).trim() },
      },
    });
    expect(helpText(long)).toBe(
      [
        "Usage: t [options] FILE",
        "",
        "Options:",
        "  --a-rather-long-option-name VALUE",
        "                            d",
        `  --b                       ${"e ".repeat(36).trim()}`,
        `                            ${"e ".repeat(24).trim()}`,
        "  -h, --help                show this help",
        "  --version                 show the version",
        "",
      ].join("\n"),
    );
  });
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

/** A CliIo that records what is written. */
function recorder(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
  };
  return io;
}

class TypedError extends Error {
  constructor(
    readonly code: "NOT_FOUND" | "BAD_MODEL",
    message: string,
  ) {
    super(message);
  }
}

describe("reportError", () => {
  const systemError = Object.assign(new Error("ENOENT: no such file or directory, scandir 'x'"), {
    code: "ENOENT",
    errno: -2,
  });
  const nodeBug = Object.assign(new TypeError("The argument must be a string"), {
    code: "ERR_INVALID_ARG_TYPE",
  });
  it.each([
    [new UsageError("unknown option --x"), 2, "t: unknown option --x\nsee t --help\n"],
    [new InputNotFoundError("--data", "/no"), 2, "t: --data: no such file or directory: /no\n"],
    [
      new TypedError("BAD_MODEL", "model.json is broken"),
      1,
      "t: BAD_MODEL: model.json is broken\n",
    ],
    [new TypedError("NOT_FOUND", "no run at r"), 2, "t: NOT_FOUND: no run at r\n"],
    [systemError, 1, "t: ENOENT: no such file or directory, scandir 'x'\n"],
    [
      nodeBug,
      1,
      "t: internal error: The argument must be a string (a bug: please report it; BRATS_DEBUG=1 prints the stack)\n",
    ],
    [
      new Error("x is undefined"),
      1,
      "t: internal error: x is undefined (a bug: please report it; BRATS_DEBUG=1 prints the stack)\n",
    ],
    [
      "a string",
      1,
      "t: internal error: a string (a bug: please report it; BRATS_DEBUG=1 prints the stack)\n",
    ],
  ])("%s → exit %i", (error, code, text) => {
    const io = recorder();
    expect(reportError("t", error, io, { usageCodes: ["NOT_FOUND"], debug: false })).toBe(code);
    expect(io.err).toBe(text);
    expect(io.out).toBe("");
  });

  it("prints the stack of unexpected errors when debugging", () => {
    const io = recorder();
    reportError("t", new Error("boom"), io, { debug: true });
    expect(io.err).toMatch(/^t: internal error: Error: boom\n\s+at /);
  });

  it("formats usage errors as one message line and the --help hint", () => {
    expect(formatUsageError("brats-train", "missing required option --data")).toBe(
      "brats-train: missing required option --data\nsee brats-train --help\n",
    );
  });
});

describe("runCliMain", () => {
  it.each([
    ["returns", () => Promise.resolve(EXIT.interrupted), EXIT.interrupted, ""],
    [
      "throws a usage error",
      () => Promise.reject(new UsageError("missing required option --data")),
      EXIT.usage,
      "brats-x: missing required option --data\nsee brats-x --help\n",
    ],
    [
      "throws a bug",
      () => Promise.reject(new Error("oops")),
      EXIT.failure,
      "brats-x: internal error: oops (a bug: please report it; BRATS_DEBUG=1 prints the stack)\n",
    ],
  ])("sets the exit status when main %s", async (_, main, code, err) => {
    const io = recorder();
    let set: number | null = null;
    const got = await runCliMain({ name: "brats-x" }, main, {
      argv: ["a"],
      io,
      setExitCode: (c) => (set = c),
      debug: false,
    });
    expect(got).toBe(code);
    expect(set).toBe(code);
    expect(io.err).toBe(err);
  });

  it("passes argv and io to main", async () => {
    const io = recorder();
    await runCliMain(
      { name: "t" },
      (argv, mainIo) => {
        mainIo.stdout(argv.join(","));
        return Promise.resolve(0);
      },
      { argv: ["x", "y"], io, setExitCode: () => undefined },
    );
    expect(io.out).toBe("x,y");
  });

  it("parse + help + version make a whole main", async () => {
    const main = (argv: readonly string[], io: CliIo): Promise<number> => {
      const r = parseCli(nifti, argv);
      if (r.kind !== "run") {
        io.stdout(r.text);
        return Promise.resolve(EXIT.ok);
      }
      io.stdout(`${r.positionals.length} file(s)\n`);
      return Promise.resolve(EXIT.ok);
    };
    const cases: [string[], number, string, string][] = [
      [["--version"], 0, "0.1.0\n", ""],
      [["a", "b"], 0, "2 file(s)\n", ""],
      [
        ["--jsno"],
        2,
        "",
        "brats-nifti: unknown option --jsno (did you mean --json?)\nsee brats-nifti --help\n",
      ],
    ];
    for (const [argv, code, out, err] of cases) {
      const io = recorder();
      expect(await runCliMain(nifti, main, { argv, io, setExitCode: () => undefined })).toBe(code);
      expect([io.out, io.err]).toEqual([out, err]);
    }
  });
});

describe("readPackageVersion", () => {
  it("reads the version next to the module", () => {
    expect(readPackageVersion(new URL("../package.json", import.meta.url))).toBe("0.0.0");
  });
});
