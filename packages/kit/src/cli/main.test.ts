import { describe, expect, it } from "vitest";
import {
  EXIT,
  formatUsageError,
  InputNotFoundError,
  parseCli,
  readPackageVersion,
  reportError,
  runCliMain,
  UsageError,
  type CliIo,
} from "../cli.js";
import { nifti } from "./fixtures.testutil.js";

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
    expect(readPackageVersion(new URL("../../package.json", import.meta.url))).toBe("0.0.0");
  });
});
