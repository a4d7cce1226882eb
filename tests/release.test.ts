// Release check: `pnpm pack` every public package, install the tarballs together into an empty npm
// project (as a user would, with the TF.js and onnxruntime peers), then import and run them there
// (plain ESM, no "source" condition), run the README examples, and type-check the public types under
// moduleResolution NodeNext and Bundler. Needs the packages built (CI builds before testing).
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePhantom } from "../packages/data/src/index.js";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
const PUBLIC = [
  "conventions",
  "nifti",
  "data",
  "tfjs-onednn",
  "unet3d",
  "metrics",
  "viz",
  "runs",
] as const;
/** What a package ships beside dist/: tfjs-onednn builds its addon at install from these. */
const BUILT_AT_INSTALL: Partial<Record<(typeof PUBLIC)[number], RegExp>> = {
  "tfjs-onednn": /^(binding\.gyp|src\/native\/[\w-]+\.(cc|h)|scripts\/build-native\.mjs)$/,
};
const EXAMPLES = ["nifti", "data", "metrics", "viz", "unet3d"] as const;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// What a user adds beside the tarballs: the TF.js peers for the cpu and wasm backends, onnxruntime-node
// for ONNX inference, and @types/node to type-check Node code.
const PEERS = [
  "@tensorflow/tfjs-core@^4.22.0",
  "@tensorflow/tfjs-layers@^4.22.0",
  "@tensorflow/tfjs-backend-cpu@^4.22.0",
  "@tensorflow/tfjs-backend-wasm@^4.22.0",
  "onnxruntime-node@^1.30.0",
  "@types/node@^20",
];

/** Newest modification time of the non-test TypeScript sources under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || /\.test(util)?\.ts$/.test(entry.name))
      continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

const unbuilt = PUBLIC.filter(
  (p) =>
    !existsSync(join(repo, "packages", p, "dist", "index.js")) ||
    !existsSync(join(repo, "packages", p, "dist", "index.d.ts")),
);
// A dist older than its sources would test yesterday's package; CI always builds first.
const stale = PUBLIC.filter(
  (p) =>
    !unbuilt.includes(p) &&
    statSync(join(repo, "packages", p, "dist", "index.js")).mtimeMs <
      newestSource(join(repo, "packages", p, "src")),
);
const skipReason =
  unbuilt.length > 0
    ? `packages/${unbuilt.join(", packages/")} not built (no dist/index.js and index.d.ts)`
    : stale.length > 0
      ? `the dist of packages/${stale.join(", packages/")} is older than its sources`
      : "";
if (skipReason !== "") console.warn(`release test skipped: ${skipReason}; run pnpm build first`);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

async function manifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Manifest;
}

/** Runs a command, failing with its output (not just the exit code) when it fails. */
async function sh(file: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv) {
  try {
    return await run(file, args, {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${file} ${args.join(" ")} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

/** tsc's error lines, except those inside TF.js's own declarations (TF.js 4.22's .d.ts files do not
 * compile without skipLibCheck; every TF.js user has it on, but here we want ours checked). */
function tscErrors(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => /error TS\d+/.test(line))
    .filter((line) => !line.startsWith("node_modules/@tensorflow/"));
}

async function tsc(project: string, cwd: string): Promise<string[]> {
  const bin = join(repo, "node_modules", "typescript", "bin", "tsc");
  try {
    await run(process.execPath, [bin, "-p", project], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return [];
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return tscErrors(`${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

describe.skipIf(skipReason !== "")(
  "release: packed tarballs installed into an empty project",
  () => {
    let root = "";
    let project = "";
    const tarballs = new Map<string, string>();

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), "brats-release-"));
      const packs = join(root, "tarballs");
      project = join(root, "project");
      await mkdir(packs);
      await mkdir(project);
      for (const p of PUBLIC) {
        const before = new Set(await readdir(packs));
        await sh("pnpm", ["pack", "--pack-destination", packs], join(repo, "packages", p));
        const added = (await readdir(packs)).filter((f) => !before.has(f) && f.endsWith(".tgz"));
        expect(added, `pnpm pack of packages/${p}`).toHaveLength(1);
        tarballs.set(p, join(packs, added[0]!));
      }
      await writeFile(
        join(project, "package.json"),
        JSON.stringify({ name: "brats-consumer", private: true, type: "module" }, null, 2),
      );
      await sh(
        "npm",
        [
          "install",
          "--no-audit",
          "--no-fund",
          "--prefer-offline",
          "--loglevel=error",
          ...PUBLIC.map((p) => tarballs.get(p)!),
          ...PEERS,
        ],
        project,
        // onnxruntime-node's install script would fetch CUDA binaries; its CPU binaries ship in the package.
        { ONNXRUNTIME_NODE_INSTALL: "skip", npm_config_update_notifier: "false" },
      );
      for (const f of ["smoke.mjs", "types.ts"]) {
        await copyFile(join(repo, "tests", "consumer", f), join(project, f));
      }
      await mkdir(join(project, "examples"));
      for (const e of EXAMPLES) {
        await copyFile(
          join(repo, "tests", "readme-examples", `${e}.ts`),
          join(project, "examples", `${e}.ts`),
        );
      }
    }, 600_000);

    afterAll(async () => {
      if (root !== "") await rm(root, { recursive: true, force: true });
    });

    it("each tarball holds dist, README.md, LICENSE and package.json, and no sources, tests or data", async () => {
      for (const p of PUBLIC) {
        const { stdout } = await sh("tar", ["-tzf", tarballs.get(p)!], root);
        const files = stdout
          .split("\n")
          .filter((f) => f !== "")
          .map((f) => f.replace(/^package\//, ""));
        for (const required of [
          "package.json",
          "README.md",
          "LICENSE",
          "dist/index.js",
          "dist/index.d.ts",
        ]) {
          expect(files, `${p} tarball`).toContain(required);
        }
        const builtAtInstall = BUILT_AT_INSTALL[p];
        const shipped = files.filter((f) => builtAtInstall?.test(f) === true);
        if (builtAtInstall !== undefined) {
          for (const required of ["binding.gyp", "scripts/build-native.mjs"]) {
            expect(files, `${p} tarball`).toContain(required);
          }
          expect(shipped.filter((f) => f.startsWith("src/native/")).length).toBeGreaterThan(0);
        }
        const unexpected = files.filter(
          (f) =>
            !/^dist\//.test(f) &&
            !/^bin\/[\w-]+\.js$/.test(f) &&
            !shipped.includes(f) &&
            !["package.json", "README.md", "LICENSE"].includes(f),
        );
        // bin/ holds the CLIs' tiny entry files, which only load dist/.
        expect(unexpected, `${p}: files outside dist/ and bin/`).toEqual([]);
        const forbidden = files.filter(
          (f) =>
            (!shipped.includes(f) &&
              /(^|\/)(src|test|tests|bench|scripts|__golden__|test-fixtures)\//.test(f)) ||
            /\.(test|spec)\.[cm]?[jt]s$/.test(f) ||
            /\.(nii|nii\.gz|hdr|img|mgz|npy|npz|pt|pth|onnx)$/i.test(f) ||
            /brats(20|18|17)/i.test(f),
        );
        expect(forbidden, `${p}: sources, tests or data in the tarball`).toEqual([]);
      }
    });

    it("packed manifests carry real versions for internal dependencies and no source condition", async () => {
      const versions = new Map<string, string>();
      for (const p of PUBLIC) {
        const m = await manifest(join(repo, "packages", p));
        versions.set(m.name, m.version);
      }
      for (const p of PUBLIC) {
        const { stdout } = await sh(
          "tar",
          ["-xzOf", tarballs.get(p)!, "package/package.json"],
          root,
        );
        expect(stdout, p).not.toContain("workspace:");
        // The "source" condition points into src/, which is not published (publishConfig.exports drops it).
        expect(stdout, p).not.toContain('"source"');
        const packed = JSON.parse(stdout) as Manifest;
        expect(packed.version).toBe(versions.get(packed.name));
        for (const [dep, range] of Object.entries(packed.dependencies ?? {})) {
          if (dep.startsWith("@brats/"))
            expect(range, `${p} → ${dep}`).toBe(`^${versions.get(dep)}`);
        }
      }
    });

    it("imports and runs every package as plain ESM from the installed tarballs", async () => {
      const { stdout } = await sh(process.execPath, ["smoke.mjs"], project);
      const r = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
        resolved: Record<string, string>;
        conventions: Record<string, unknown>;
        nifti: Record<string, unknown>;
        data: { shape: number[]; modalities: string[]; labelCounts: Record<string, number> };
        metrics: {
          selfDice: Record<string, number>;
          shiftedDiceWT: number;
          shiftedHd95WT: number;
        };
        viz: Record<string, unknown>;
        unet3d: Record<string, unknown>;
        onnx: Record<string, unknown>;
        runs: Record<string, unknown>;
        onednn: {
          ok: boolean;
          reason: string | null;
          path: string | null;
          kernels: string[];
          nativeCalls: number;
          maxAbsDiff: number;
        };
      };
      for (const [name, file] of Object.entries(r.resolved)) {
        expect(file.startsWith(join(project, "node_modules")), `${name} → ${file}`).toBe(true);
        expect(file).toMatch(/\/dist\/[a-z]+\.js$/);
      }
      expect(r.conventions).toEqual({
        regions2023: { WT: [1, 2, 3], TC: [1, 3], ET: [3] },
        classes: [0, 1, 2, 3],
        labels2023: [0, 1, 2, 3],
        epochs: [{ epoch: 1, loss: 0.5, lr: 0.01, val: { WT: 0.9, TC: 0.8, ET: 0.7 }, time: 2 }],
        orientation: [
          [0, -1],
          [1, -1],
          [2, 1],
        ],
      });
      expect(r.nifti).toEqual({
        gzip: true,
        shape: [5, 4, 3],
        datatype: "float32",
        spacing: [1.5, 1, 2],
        axcodes: "LPS",
        dataEqual: true,
        affineEqual: true,
      });

      // The packed build must draw the same phantom as the sources, voxel for voxel.
      const phantom = generatePhantom({ shape: [48, 48, 32], seed: 5 });
      const counts: Record<string, number> = {};
      for (const v of phantom.seg) counts[v] = (counts[v] ?? 0) + 1;
      expect(r.data).toEqual({
        shape: [48, 48, 32],
        modalities: ["flair", "t1", "t1ce", "t2"],
        labelCounts: counts,
      });
      expect(Object.keys(counts).sort()).toEqual(["0", "1", "2", "4"]);

      // Dice of WT against itself shifted by one voxel along x, counted here by hand: |A ∩ shift(A)| / |A|.
      const [nx, ny, nz] = phantom.shape;
      let whole = 0;
      let overlap = 0;
      for (let z = 0; z < nz; z++) {
        for (let y = 0; y < ny; y++) {
          for (let x = 0; x < nx; x++) {
            const i = x + nx * (y + ny * z);
            if (phantom.seg[i] === 0) continue;
            whole++;
            if (x > 0 && phantom.seg[i - 1] !== 0) overlap++;
          }
        }
      }
      expect(r.metrics.selfDice).toEqual({ WT: 1, TC: 1, ET: 1 });
      expect(r.metrics.shiftedDiceWT).toBeCloseTo(overlap / whole, 12);
      expect(r.metrics.shiftedDiceWT).toBeLessThan(1);
      // Every surface voxel moves by exactly 1 mm (or stays on both surfaces).
      expect(r.metrics.shiftedHd95WT).toBe(1);

      expect(r.viz.signature).toEqual(PNG_SIGNATURE);
      expect(r.viz.expectedSignature).toEqual(PNG_SIGNATURE);
      expect(r.viz.width).toBeGreaterThan(48);
      expect(r.viz.height).toBeGreaterThan(48);
      // LPS voxel axes: the radiological axial view's top-left pixel (patient's right, anterior) is
      // voxel (0, 0, k) of the middle slice k = 16.
      expect(r.viz.coreAxial).toEqual({
        markers: { left: "R", right: "L", top: "A", bottom: "P" },
        topLeftVoxel: 16 * 48 * 48,
      });

      expect(r.unet3d.backend).toBe("cpu");
      expect(r.unet3d.outputShape).toEqual([20, 24, 16, 4]);
      expect(r.unet3d.params).toBeGreaterThan(1000);
      expect(r.unet3d.worstProbabilitySumError).toBeLessThan(1e-5);

      // exportOnnx → loadOnnxModel on onnxruntime-node's CPU provider agrees with TF.js on one window.
      expect(r.onnx.executionProviders).toEqual(["cpu"]);
      expect(r.onnx.outputLength).toBe(16 * 16 * 16 * 4);
      expect(r.onnx.tfjsLength).toBe(16 * 16 * 16 * 4);
      expect(r.onnx.maxAbsDiff).toBeLessThan(1e-4);

      // A run folder around that model: its in-memory ONNX predicts as TF.js, its card, its errors.
      expect(r.runs).toMatchObject({
        checkpoint: "last",
        windowSize: [16, 16, 16],
        parametersEqual: true,
        missingBest: "NO_CHECKPOINT",
        cardStatus: expect.stringMatching(/^Status: interrupted after 0 of 100 epochs/),
      });
      expect(r.runs.runMaxAbsDiff).toBeLessThan(1e-4);

      // The tarball's install script built the addon here (CI has the toolchain); elsewhere it may
      // say why not, and setupTfjs falls back to the fast wasm kernels.
      if (r.onednn.ok || process.env.CI) {
        expect(r.onednn).toMatchObject({
          ok: true,
          path: join(project, "node_modules/@brats/tfjs-onednn/build/Release/brats_onednn.node"),
          kernels: ["onednn", "fast Conv3D kernels"],
          nativeCalls: 1,
        });
      } else {
        expect(r.onednn.reason).toMatch(/^(addon not built|libdnnl missing) \(/);
        expect(r.onednn.kernels).toEqual(["fast Conv3D kernels"]);
      }
      expect(r.onednn.maxAbsDiff).toBeLessThan(1e-4);
    });

    it("installs the command-line tools with their bins", async () => {
      const bin = join(project, "node_modules", ".bin");
      const nifti = await sh(join(bin, "brats-nifti"), ["--version"], project);
      expect(nifti.stdout.trim()).toContain(
        (await manifest(join(repo, "packages", "nifti"))).version,
      );
      const evalTool = await sh(join(bin, "brats-eval"), ["--version"], project);
      expect(evalTool.stdout.trim()).toContain(
        (await manifest(join(repo, "packages", "metrics"))).version,
      );
    });

    it("type-checks the public types and the README examples (NodeNext and Bundler) and runs the examples", async () => {
      const compilerOptions = {
        target: "ES2022",
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        skipLibCheck: false,
        types: ["node"],
      };
      const files = ["types.ts", ...EXAMPLES.map((e) => `examples/${e}.ts`)];
      await writeFile(
        join(project, "tsconfig.nodenext.json"),
        JSON.stringify({
          compilerOptions: {
            ...compilerOptions,
            module: "NodeNext",
            moduleResolution: "NodeNext",
            outDir: "out",
          },
          files,
        }),
      );
      await writeFile(
        join(project, "tsconfig.bundler.json"),
        JSON.stringify({
          compilerOptions: {
            ...compilerOptions,
            module: "ESNext",
            moduleResolution: "Bundler",
            noEmit: true,
          },
          files,
        }),
      );
      const [nodeNext, bundler] = await Promise.all([
        tsc("tsconfig.nodenext.json", project),
        tsc("tsconfig.bundler.json", project),
      ]);
      expect(nodeNext, "tsc, moduleResolution NodeNext").toEqual([]);
      expect(bundler, "tsc, moduleResolution Bundler").toEqual([]);

      // The README examples, compiled by the NodeNext run, each in a fresh folder.
      const out = new Map<string, string>();
      for (const e of EXAMPLES) {
        const cwd = join(root, `run-${e}`);
        await mkdir(cwd);
        const { stdout } = await sh(
          process.execPath,
          [join(project, "out", "examples", `${e}.js`)],
          cwd,
        );
        out.set(e, stdout);
      }
      expect(out.get("nifti")).toBe("[ 4, 3, 2 ] int16 LPS 230\n");
      expect(out.get("data")).toMatch(
        /^\[ 'Phantom_00000', 'Phantom_00001' \] \[ 48, 48, 40 \] .* 3\ntrue\n$/,
      );
      expect(out.get("metrics")).toBe("1 1 0 373.12866\n");
      for (const png of ["overlay.png", "three-plane.png"]) {
        const bytes = await readFile(join(root, "run-viz", png));
        expect(Array.from(bytes.subarray(0, 8)), png).toEqual(PNG_SIGNATURE);
      }
      // TF.js and onnxruntime label (almost) every voxel alike: untrained softmax outputs are near ties.
      const unet = /^cpu \d+ \[ 40, 40, 24 \] ([\d.e-]+)\n$/.exec(out.get("unet3d") ?? "");
      expect(unet, out.get("unet3d")).not.toBeNull();
      expect(Number(unet![1])).toBeGreaterThanOrEqual(0.999);
    });
  },
);
