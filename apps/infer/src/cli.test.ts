// brats-infer's command line: usage and exit codes, --json, progress output, and the program
// itself under node --import tsx.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helpText, parseCli, runCliMain } from "@brats/kit/cli";
import { caseProgress, CLI, main, parseCommandLine, type CliIo } from "./cli.js";
import type { InferenceSummary } from "./options.js";
import { captureIo, phantomDataset, tinyOnnxModel } from "./test-utils.js";

const appDir = fileURLToPath(new URL("../", import.meta.url));
const cliPath = fileURLToPath(new URL("./cli.ts", import.meta.url));
const binPath = fileURLToPath(new URL("../bin/brats-infer.js", import.meta.url));

/** The CLI as bin/brats-infer.js runs it: main under runCliMain (errors printed, exit status). */
function cli(argv: string[], io: CliIo): Promise<number> {
  return runCliMain(CLI, main, { argv, io, setExitCode: () => undefined });
}

let dir: string;
let data: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "brats-infer-cli-"));
  data = await phantomDataset(join(dir, "data"), 3);
  model = await tinyOnnxModel(join(dir, "models"), "tiny");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("arguments", () => {
  it("parses every flag", () => {
    const parsed = parseCommandLine([
      "--model",
      "a",
      "--model=b.onnx",
      "--input",
      "in",
      "--out",
      "out",
      "--engine",
      "tfjs",
      "--backend",
      "wasm",
      "--checkpoint",
      "last",
      "--tta",
      "--overlap",
      "0.25",
      "--window",
      "96",
      "--overlays",
      "--shard",
      "1/4",
      "--et-threshold",
      "200",
      "--min-component",
      "10",
      "--overwrite",
      "--no-report",
      "--json",
      "--quiet",
    ]);
    expect(parsed).toEqual({
      kind: "run",
      json: true,
      quiet: true,
      options: {
        models: ["a", "b.onnx"],
        input: "in",
        out: "out",
        engine: "tfjs",
        backend: "wasm",
        checkpoint: "last",
        tta: true,
        overlap: 0.25,
        window: 96,
        overlays: true,
        shard: { index: 1, count: 4 },
        etThreshold: 200,
        minComponent: 10,
        overwrite: true,
        report: false,
      },
    });
    const threads = parseCommandLine([
      "--model",
      "m",
      "--input",
      "i",
      "--out",
      "o",
      "--threads",
      "2",
    ]);
    expect(threads.kind === "run" && threads.options).toEqual({
      models: ["m"],
      input: "i",
      out: "o",
      threads: 2,
    });
  });

  it("--help lists every option the parser accepts, one per line; --version is the package's", async () => {
    const io = captureIo();
    expect(await cli(["--help"], io)).toBe(0);
    expect(io.out).toBe(helpText(CLI));
    const lines = io.out.split("\n");
    for (const name of [...Object.keys(CLI.options), "help", "version"]) {
      expect(
        lines.filter((l) => new RegExp(`^  (-\\w, )?--${name}( |$)`).test(l)),
        name,
      ).toHaveLength(1);
      const o = (CLI.options as Record<string, { type: string }>)[name];
      const argv = o?.type === "string" ? [`--${name}`, "1"] : [`--${name}`];
      expect(() => parseCli(CLI, argv), name).not.toThrow(/unknown option/);
    }
    const version = captureIo();
    expect(await cli(["--version"], version)).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(version.out).toBe(`${pkg.version}\n`);
  });

  const need = ["--model", "m.onnx", "--input", "in", "--out", "out"];
  it.each([
    [[], "missing required options --model, --input and --out"],
    [["--model", "m", "--out", "o"], "missing required option --input"],
    [["--model", "m", "--input", "i"], "missing required option --out"],
    [[...need, "--shard", "4/4"], "--shard"],
    [[...need, "--shard", "1/0"], "--shard"],
    [[...need, "--shard", "x"], "--shard"],
    [[...need, "--overlap", "1"], "--overlap must be a number in [0, 1), got 1"],
    [[...need, "--overlap", "-0.1"], "--overlap"],
    [[...need, "--threads", "0"], "--threads must be a positive integer, got 0"],
    [[...need, "--et-threshold", "1.5"], "--et-threshold"],
    [[...need, "--min-component", "-3"], "--min-component"],
    [[...need, "--engine", "torch"], "--engine"],
    [[...need, "--backend", "metal"], "--backend"],
    [[...need, "--checkpoint", "first"], "--checkpoint must be best or last, got first"],
    [[...need, "--frobnicate"], "unknown option --frobnicate"],
    [[...need, "--modle", "x"], "unknown option --modle (did you mean --model?)"],
    [[...need, "stray"], 'unexpected argument "stray"'],
    [[...need, "--input", "again"], "--input given more than once"],
    [[...need, "--tta", "--tta"], "--tta given more than once"],
    [[...need, "--overlap"], "--overlap needs a value"],
  ])("usage error %j → one short line, status 2", async (argv, message) => {
    const io = captureIo();
    expect(await cli(argv, io)).toBe(2);
    expect(io.err).toContain(message);
    expect(io.err).toMatch(/^brats-infer: [^\n]+\nsee brats-infer --help\n$/);
    expect(io.out).toBe("");
  });

  it("a missing --input or --model is NOT_FOUND, status 2", async () => {
    const nope = join(dir, "nope");
    for (const [argv, option] of [
      [["--model", model, "--input", nope, "--out", join(dir, "o")], "--input"],
      [
        ["--model", model, "--model", `${nope}.onnx`, "--input", data, "--out", join(dir, "o")],
        "--model",
      ],
    ] as const) {
      await expect(main(argv, captureIo())).rejects.toMatchObject({ code: "NOT_FOUND" });
      const io = captureIo();
      expect(await cli([...argv], io)).toBe(2);
      expect(io.err).toMatch(
        new RegExp(`^brats-infer: ${option}: no such file or directory: ${nope}`),
      );
    }
  });

  it.each([
    // casesDone, cases, windowsDone, windows → fraction, text
    [0, 4, 0, 0, 0, "case 1/4 X"],
    // 1.5 of 4 cases.
    [1, 4, 50, 100, 0.375, "case 2/4 windows 50/100 X"],
    [2, 4, 0, 0, 0.5, "case 3/4 X"],
    [0, 1, 8, 16, 0.5, "case 1/1 windows 8/16 X"],
    [3, 3, 0, 0, 1, "case 3/3 X"],
    // Nothing to run: full.
    [0, 0, 0, 0, 1, "case 0/0 X"],
  ])(
    "caseProgress: %i/%i cases, %i/%i windows",
    (casesDone, cases, windowsDone, windows, fraction, text) => {
      expect(caseProgress({ casesDone, cases, windowsDone, windows, id: "X" })).toEqual({
        fraction,
        text,
      });
    },
  );
});

describe("runs", () => {
  it("--json prints one summary on stdout; engine, backend and models on stderr", async () => {
    const io = captureIo();
    const out = join(dir, "json");
    expect(
      await main(
        ["--model", model, "--input", data, "--out", out, "--engine", "onnx", "--json"],
        io,
      ),
    ).toBe(0);
    const summary = JSON.parse(io.out) as InferenceSummary;
    expect(io.out.trim().split("\n")).toHaveLength(1);
    expect(summary.counts).toEqual({ cases: 3, done: 3, skipped: 0, failed: 0 });
    expect(summary.engine).toBe("onnx");
    expect(summary.metrics?.cases).toBe(3);
    expect(io.err).toContain("engine onnx, backend cpu; model: ");
    expect(io.err).toContain(model);
    // No progress bar without a terminal.
    expect(io.err).not.toContain("\r");

    const again = captureIo();
    expect(await main(["--model", model, "--input", data, "--out", out, "--json"], again)).toBe(0);
    expect((JSON.parse(again.out) as InferenceSummary).counts.skipped).toBe(3);
  });

  it("draws a progress bar on a terminal, none with --quiet", async () => {
    const tty = captureIo(true);
    const out = join(dir, "tty");
    const argv = ["--model", model, "--input", join(data, "Phantom_00000"), "--out", out];
    expect(await main(argv, tty)).toBe(0);
    expect(tty.err).toMatch(
      /\r\[[#-]{24}\] +\d+% case 1\/1 (windows \d+\/\d+ )?Phantom_00000 ETA \S+/,
    );
    expect(tty.err).toContain("Phantom_00000 done in");
    expect(tty.out).toContain("1 case(s): 1 done, 0 skipped");

    const quiet = captureIo(true);
    expect(await main([...argv.slice(0, 5), join(dir, "quiet"), "--quiet"], quiet)).toBe(0);
    expect(quiet.err).not.toContain("\r[");
    expect(quiet.err).not.toContain("done in");
    expect(quiet.err).toContain("engine onnx");
  });

  it("exit status 1 when a case fails (others done and listed); 2 for a missing model", async () => {
    const broken = join(dir, "broken");
    await phantomDataset(broken, 2);
    await truncate(join(broken, "Phantom_00000", "Phantom_00000_flair.nii.gz"), 40);
    const io = captureIo();
    expect(await main(["--model", model, "--input", broken, "--out", join(dir, "b-out")], io)).toBe(
      1,
    );
    expect(io.err).toContain("error: Phantom_00000: IO");
    expect(io.out).toContain("1 done, 0 skipped (already done), 1 failed");
    expect(io.out).toContain("failed: Phantom_00000: IO");

    const missing = captureIo();
    expect(
      await cli(
        ["--model", join(dir, "nope.onnx"), "--input", data, "--out", join(dir, "m")],
        missing,
      ),
    ).toBe(2);
    expect(missing.err).toBe(
      `brats-infer: --model: no such file or directory: ${join(dir, "nope.onnx")}\n`,
    );
  });
});

describe("brats-infer as a program", () => {
  it("bin/brats-infer.js runs main with exit codes and JSON on stdout", async () => {
    // The committed bin, beside a dist/cli.js that is the source (so no build is needed).
    const root = join(dir, "program");
    await mkdir(join(root, "bin"), { recursive: true });
    await mkdir(join(root, "dist"), { recursive: true });
    await copyFile(binPath, join(root, "bin", "brats-infer.js"));
    await writeFile(join(root, "dist", "cli.js"), `export * from ${JSON.stringify(cliPath)};\n`);
    await writeFile(join(root, "package.json"), '{ "type": "module" }\n');
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        ["--conditions=source", "--import", "tsx", join(root, "bin", "brats-infer.js"), ...args],
        { cwd: appDir, encoding: "utf8" },
      );
    const help = run(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(helpText(CLI));
    const unknown = run(["--epoch", "3"]);
    expect([unknown.status, unknown.stderr]).toEqual([
      2,
      "brats-infer: unknown option --epoch\nsee brats-infer --help\n",
    ]);
    const usage = run([
      "--model",
      model,
      "--input",
      data,
      "--out",
      join(dir, "p"),
      "--shard",
      "2/2",
    ]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("--shard");
    const ok = run([
      "--model",
      model,
      "--input",
      join(data, "Phantom_00001"),
      "--out",
      join(dir, "spawned"),
      "--json",
    ]);
    expect(ok.status).toBe(0);
    const summary = JSON.parse(ok.stdout) as InferenceSummary;
    expect(summary.cases.map((c) => [c.id, c.status])).toEqual([["Phantom_00001", "done"]]);
  });
});
