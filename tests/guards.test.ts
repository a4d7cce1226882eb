// Each architecture check bites: dependency-cruiser, knip, jscpd and ESLint's size rules run with
// the repository's own configs on small workspaces under tests/fixtures/guards/ that break them,
// and on a clean one that passes. See tests/fixtures/guards/README.md.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { afterAll, describe, expect, it } from "vitest";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = join(repo, "tests", "fixtures", "guards");
const bin = (name: string) => join(repo, "node_modules", ".bin", name);
const scratch: string[] = [];

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A fixture copied to a temporary folder and linked as pnpm would: node_modules/@brats/<name>
 * points at each workspace folder (so @brats/* resolve to src through the "source" condition),
 * plus vitest from the repository and a stub @tensorflow/tfjs-core.
 */
async function workspace(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `brats-guards-${name}-`));
  scratch.push(dir);
  await cp(join(fixtures, name), dir, { recursive: true });
  await cp(join(repo, "tsconfig.base.json"), join(dir, "tsconfig.base.json"));
  await mkdir(join(dir, "node_modules", "@brats"), { recursive: true });
  for (const group of ["packages", "apps"]) {
    const folders = await readdir(join(dir, group)).catch(() => []);
    for (const folder of folders) {
      const manifest = join(dir, group, folder, "package.json");
      const pkg = JSON.parse(await readFile(manifest, "utf8").catch(() => "{}")) as {
        name?: string;
      };
      if (pkg.name?.startsWith("@brats/")) {
        await symlink(join(dir, group, folder), join(dir, "node_modules", pkg.name), "dir");
      }
    }
  }
  await symlink(join(repo, "node_modules", "vitest"), join(dir, "node_modules", "vitest"), "dir");
  const tfjs = join(dir, "node_modules", "@tensorflow", "tfjs-core");
  await mkdir(tfjs, { recursive: true });
  await writeFile(
    join(tfjs, "package.json"),
    '{ "name": "@tensorflow/tfjs-core", "main": "index.js" }',
  );
  await writeFile(
    join(tfjs, "index.js"),
    "export const scalar = () => ({ dataSync: () => [1] });\n",
  );
  return dir;
}

/** `pnpm deps:check`'s output on a fixture: one "rule: from → to" line per violation. */
async function depcruise(name: string): Promise<{ code: number; violations: string[] }> {
  const dir = await workspace(name);
  const config = join(repo, ".dependency-cruiser.cjs");
  const r = await run(bin("depcruise"), ["packages", "apps", "--config", config], dir);
  // A cycle is printed over several lines; its first line names the rule and where it starts.
  const violations = [...r.stdout.matchAll(/^\s*error ([\w-]+): (\S+) → ?(\S*)$/gm)].map(
    ([, rule, from, to]) => `${rule}: ${from} -> ${to || "(cycle)"}`,
  );
  return { code: r.code, violations: violations.sort() };
}

describe("dependency-cruiser (.dependency-cruiser.cjs)", () => {
  it("reports each broken layer rule, type-only imports included", async () => {
    const { code, violations } = await depcruise("layers");
    expect(violations).toEqual([
      "conventions-imports-nothing: packages/conventions/src/index.ts -> packages/nifti/src/index.ts",
      "conventions-imports-nothing: packages/conventions/src/index.ts -> path",
      "kit-is-plumbing: packages/kit/src/index.ts -> packages/nifti/src/index.ts",
      "leaf-packages-no-tfjs: packages/metrics/src/index.ts -> node_modules/@tensorflow/tfjs-core/index.js",
      "leaf-packages-no-tfjs: packages/metrics/src/index.ts -> packages/tfjs-onednn/src/index.ts",
      "leaf-packages-no-tfjs: packages/viz/src/index.ts -> packages/unet3d/src/index.ts",
      "no-app-to-app: apps/infer/src/index.ts -> apps/train/src/index.ts",
      // load.ts -> patches.ts -> load.ts, closed by patches.ts' `import type`.
      "no-circular: packages/data/src/load.ts -> (cycle)",
      "no-package-to-app: packages/viz/src/index.ts -> apps/train/src/index.ts",
      "onednn-imports-only-tfjs: packages/tfjs-onednn/src/index.ts -> packages/unet3d/src/index.ts",
    ]);
    expect(code).toBe(violations.length); // depcruise exits with the number of errors
  });

  it("passes a clean workspace (the demo and a test may import other apps)", async () => {
    const { code, violations } = await depcruise("clean");
    expect(violations).toEqual([]);
    expect(code).toBe(0);
  });
});

interface KnipReport {
  issues: {
    file: string;
    files?: unknown[];
    dependencies?: { name: string }[];
    exports?: { name: string }[];
  }[];
}

async function knip(name: string): Promise<{ code: number; report: KnipReport; stdout: string }> {
  const dir = await workspace(name);
  const config = join(repo, "knip.json");
  const args = ["--config", config, "--reporter", "json", "--no-config-hints", "--no-progress"];
  const r = await run(bin("knip"), args, dir);
  return { code: r.code, report: JSON.parse(r.stdout || "{}") as KnipReport, stdout: r.stdout };
}

describe("knip (knip.json)", () => {
  it("reports an unused file, export and dependency", async () => {
    const { code, report } = await knip("unused");
    expect(code).not.toBe(0);
    const found = report.issues.flatMap((i) => [
      ...(i.files?.length ? [`file ${i.file}`] : []),
      ...(i.exports ?? []).map((e) => `export ${e.name} in ${i.file}`),
      ...(i.dependencies ?? []).map((d) => `dependency ${d.name} in ${i.file}`),
    ]);
    expect(found.sort()).toEqual([
      "dependency fflate in packages/nifti/package.json",
      "export swapBytes in packages/nifti/src/header.ts",
      "file packages/nifti/src/orphan.ts",
    ]);
  });

  it("passes a clean workspace", async () => {
    const { code, stdout } = await knip("clean");
    expect(stdout).not.toMatch(/"(files|exports|dependencies)":\[\{/);
    expect(code).toBe(0);
  });
});

interface JscpdReport {
  duplicates: { firstFile: { name: string }; secondFile: { name: string } }[];
}

async function jscpd(name: string): Promise<{ code: number; clones: string[] }> {
  const dir = await workspace(name);
  // jscpd reads "path" relative to its config file, so the config is copied beside the fixture.
  await cp(join(repo, ".jscpd.json"), join(dir, ".jscpd.json"));
  const out = join(dir, "jscpd-report");
  const args = ["--config", join(dir, ".jscpd.json"), "--reporters", "json", "--output", out];
  const r = await run(bin("jscpd"), [...args, "--silent"], dir);
  const report = JSON.parse(await readFile(join(out, "jscpd-report.json"), "utf8")) as JscpdReport;
  const clones = report.duplicates.map((d) => `${d.firstFile.name} ~ ${d.secondFile.name}`);
  return { code: r.code, clones };
}

describe("jscpd (.jscpd.json)", () => {
  it("fails on a block copied into two packages", async () => {
    const { code, clones } = await jscpd("copies");
    expect(clones).toEqual([
      expect.stringMatching(/write\.ts ~ .*files\.ts|files\.ts ~ .*write\.ts/),
    ]);
    expect(code).not.toBe(0);
  });

  it("passes a clean workspace", async () => {
    const { code, clones } = await jscpd("clean");
    expect(clones).toEqual([]);
    expect(code).toBe(0);
  });
});

describe("ESLint size rules (eslint.config.js)", () => {
  // The repository's config, without type information (the code is linted under a made-up path in
  // packages/, which no tsconfig holds) and with only the two size rules turned on.
  const eslint = new ESLint({
    cwd: repo,
    overrideConfig: tseslint.configs.disableTypeChecked,
    ruleFilter: ({ ruleId }) => ruleId === "max-lines" || ruleId === "max-lines-per-function",
  });
  const lint = async (code: string, path: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(repo, path) });
    return (result?.messages ?? []).map((m) => `${m.ruleId ?? "fatal"}: ${m.message}`);
  };
  // Blank lines and comments do not count: each filler comes with one of each.
  const padding = "\n// a comment\n";
  const moduleOf = (n: number) =>
    Array.from({ length: n }, (_, i) => `export const v${i} = ${i};${padding}`).join("");
  const functionOf = (n: number) =>
    `export function f(): number {\n  let x = 0;${padding}` +
    Array.from({ length: n - 4 }, () => `  x += 1;${padding}`).join("") +
    "  return x;\n}\n";

  it("fails a 501-line module and a 121-line function in a package's src", async () => {
    expect(await lint(moduleOf(501), "packages/guard-fixture/src/long.ts")).toEqual([
      "max-lines: File has too many lines (501). Maximum allowed is 500.",
    ]);
    expect(await lint(functionOf(121), "apps/guard-fixture/src/long.ts")).toEqual([
      "max-lines-per-function: Function 'f' has too many lines (121). Maximum allowed is 120.",
    ]);
  });

  it("passes 500 lines and 120-line functions, and tests, bench and scripts of any length", async () => {
    expect(await lint(moduleOf(500), "packages/guard-fixture/src/ok.ts")).toEqual([]);
    expect(await lint(functionOf(120), "apps/guard-fixture/src/ok.ts")).toEqual([]);
    for (const path of ["src/long.test.ts", "bench/long.bench.ts", "scripts/long.ts"]) {
      expect(await lint(moduleOf(600) + functionOf(200), `packages/guard-fixture/${path}`)).toEqual(
        [],
      );
    }
  });

  it("passes the clean fixture's sources", async () => {
    const clean = join(fixtures, "clean");
    const files = (await readdir(clean, { recursive: true })).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const code = await readFile(join(clean, file), "utf8");
      expect(await lint(code, relative(clean, join(clean, file)))).toEqual([]);
    }
  });
});
