// brats-infer's command line: usage and exit codes, --json, progress output, and the program
// itself under node --import tsx.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, parseArgs, USAGE } from "./cli.js";
import type { InferenceSummary } from "./options.js";
import { captureIo, phantomDataset, tinyOnnxModel } from "./test-utils.js";

const appDir = fileURLToPath(new URL("../", import.meta.url));
const cliPath = fileURLToPath(new URL("./cli.ts", import.meta.url));

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
    const parsed = parseArgs([
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
        overlays: true,
        shard: { index: 1, count: 4 },
        etThreshold: 200,
        minComponent: 10,
        overwrite: true,
        report: false,
      },
    });
    expect(
      parseArgs(["--model", "m", "--input", "i", "--out", "o", "--threads", "2"]).options,
    ).toEqual({ models: ["m"], input: "i", out: "o", threads: 2 });
  });

  it("prints usage with --help (status 0)", async () => {
    const io = captureIo();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.out).toBe(USAGE);
    for (const flag of [
      "--model",
      "--input",
      "--out",
      "--engine",
      "--tta",
      "--overlap",
      "--overlays",
      "--shard",
      "--backend",
      "--threads",
      "--checkpoint",
      "--et-threshold",
      "--min-component",
      "--json",
      "--quiet",
    ]) {
      expect(USAGE).toContain(flag);
    }
  });

  const need = ["--model", "m.onnx", "--input", "in", "--out", "out"];
  it.each([
    [[], "--model is required"],
    [["--model", "m", "--out", "o"], "--input is required"],
    [["--model", "m", "--input", "i"], "--out is required"],
    [[...need, "--shard", "4/4"], "--shard"],
    [[...need, "--shard", "1/0"], "--shard"],
    [[...need, "--shard", "x"], "--shard"],
    [[...need, "--overlap", "1"], "--overlap"],
    [[...need, "--overlap", "-0.1"], "--overlap"],
    [[...need, "--threads", "0"], "--threads"],
    [[...need, "--et-threshold", "1.5"], "--et-threshold"],
    [[...need, "--min-component", "-3"], "--min-component"],
    [[...need, "--engine", "torch"], "--engine"],
    [[...need, "--backend", "metal"], "--backend"],
    [[...need, "--checkpoint", "first"], "--checkpoint"],
    [[...need, "--frobnicate"], "unknown option"],
    [[...need, "stray"], "unexpected argument"],
    [[...need, "--input", "again"], "given twice"],
    [[...need, "--overlap"], "needs a value"],
  ])("usage error %j → status 2", async (argv, message) => {
    const io = captureIo();
    expect(await main(argv, io)).toBe(2);
    expect(io.err).toContain(message);
    expect(io.err).toContain("Usage: brats-infer");
    expect(io.out).toBe("");
  });
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
    expect(tty.err).toMatch(/\r\[[#-]{24}\] case 1\/1 (windows \d+\/\d+ )?ETA /);
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
      await main(
        ["--model", join(dir, "nope.onnx"), "--input", data, "--out", join(dir, "m")],
        missing,
      ),
    ).toBe(2);
    expect(missing.err).toContain("NOT_FOUND");
  });
});

describe("brats-infer as a program", () => {
  it("runs under node --import tsx with exit codes and JSON on stdout", () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", cliPath, ...args], {
        cwd: appDir,
        encoding: "utf8",
      });
    const help = run(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(USAGE);
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
