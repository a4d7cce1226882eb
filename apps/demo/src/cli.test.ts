// brats-demo's command line without running the demo: help, version, usage errors, and the
// committed bin file started as a program. demo.test.ts runs the demo itself.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { helpText, parseCli, runCliMain, type CliIo } from "@brats/kit/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, main } from "./cli.js";

function captureIo(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}

/** The CLI as bin/brats-demo.js runs it: main under runCliMain (errors printed, exit status). */
function cli(argv: string[], io: CliIo): Promise<number> {
  return runCliMain(CLI, main, { argv, io, setExitCode: () => undefined });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "brats-demo-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("brats-demo", () => {
  it("--help lists every option the parser accepts, one per line; --version is the package's", async () => {
    const io = captureIo();
    expect(await cli(["--help"], io)).toBe(0);
    expect(io.out).toBe(helpText(CLI));
    expect(io.out).toContain("Usage: brats-demo");
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

  it.each([
    [["--preset", "huge"], "--preset must be full or ci, got huge"],
    [["--engine", "torch"], "--engine must be onnx or tfjs, got torch"],
    [["--bogus"], "unknown option --bogus"],
    [["--prest", "ci"], "unknown option --prest (did you mean --preset?)"],
    [["--out", "a", "--out", "b"], "--out given more than once"],
    [["--json", "--json"], "--json given more than once"],
    [["--out"], "--out needs a value"],
    [["stray"], 'unexpected argument "stray"'],
  ])("usage error %j: one short line, status 2", async (argv, message) => {
    const io = captureIo();
    expect(await cli(argv, io)).toBe(2);
    expect(io.err).toBe(`brats-demo: ${message}\nsee brats-demo --help\n`);
    expect(io.out).toBe("");
  });

  it("bin/brats-demo.js runs main with exit codes", async () => {
    // The committed bin, beside a dist/cli.js that is the source (so no build is needed).
    const bin = fileURLToPath(new URL("../bin/brats-demo.js", import.meta.url));
    const source = fileURLToPath(new URL("./cli.ts", import.meta.url));
    await mkdir(join(dir, "bin"), { recursive: true });
    await mkdir(join(dir, "dist"), { recursive: true });
    await copyFile(bin, join(dir, "bin", "brats-demo.js"));
    await writeFile(join(dir, "dist", "cli.js"), `export * from ${JSON.stringify(source)};\n`);
    await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        ["--conditions=source", "--import", "tsx", join(dir, "bin", "brats-demo.js"), ...args],
        { cwd: fileURLToPath(new URL("../", import.meta.url)), encoding: "utf8" },
      );
    const help = run(["--help"]);
    expect([help.status, help.stdout]).toEqual([0, helpText(CLI)]);
    const usage = run(["--preset", "huge"]);
    expect([usage.status, usage.stderr]).toEqual([
      2,
      "brats-demo: --preset must be full or ci, got huge\nsee brats-demo --help\n",
    ]);
  });
});
