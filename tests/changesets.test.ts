// Changesets check, never in the real repository: a throwaway git repository gets copies of
// .changeset/, pnpm-workspace.yaml and every package.json; `changeset status` must list a pending
// changeset for each public package that has none released yet, and `changeset version` must bump
// every public package, write its CHANGELOG.md with the changeset text, leave the private apps alone
// and keep internal dependency ranges pointing at the new versions (checked through `pnpm pack`).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
const changesetBin = join(repo, "node_modules", ".bin", "changeset");

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface Workspace {
  dir: string;
  manifest: Manifest;
}

interface StatusFile {
  changesets: { id: string; summary: string; releases: { name: string; type: string }[] }[];
  releases: { name: string; type: string; oldVersion: string; newVersion: string }[];
}

const BUMP_ORDER = ["none", "patch", "minor", "major"];

/** The version after a bump (semver; for 0.x, as changesets does: a minor bump stays in 0.x). */
function bumped(version: string, type: string): string {
  const [major, minor, patch] = version.split(".").map(Number) as [number, number, number];
  if (type === "major") return `${major + 1}.0.0`;
  if (type === "minor") return `${major}.${minor + 1}.0`;
  if (type === "patch") return `${major}.${minor}.${patch + 1}`;
  return version;
}

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Manifest;
}

async function workspaces(root: string): Promise<Workspace[]> {
  const found: Workspace[] = [];
  for (const group of ["packages", "apps"]) {
    for (const name of (await readdir(join(root, group))).sort()) {
      const dir = join(root, group, name);
      if (existsSync(join(dir, "package.json"))) {
        found.push({ dir: `${group}/${name}`, manifest: await readManifest(dir) });
      }
    }
  }
  return found;
}

async function sh(file: string, args: string[], cwd: string) {
  try {
    return await run(file, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${file} ${args.join(" ")} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

const git = (cwd: string, ...args: string[]) =>
  sh("git", ["-c", "user.email=release@test", "-c", "user.name=release-test", ...args], cwd);

describe("changesets: pending changesets and `changeset version` in a throwaway copy", () => {
  let root = "";
  let before: Workspace[] = [];
  let publicPackages: Workspace[] = [];
  let status: StatusFile = { changesets: [], releases: [] };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "brats-changesets-"));
    before = await workspaces(repo);
    publicPackages = before.filter((w) => w.manifest.private !== true);
    await cp(join(repo, ".changeset"), join(root, ".changeset"), { recursive: true });
    for (const f of ["package.json", "pnpm-workspace.yaml"]) {
      await cp(join(repo, f), join(root, f));
    }
    for (const w of before) {
      await mkdir(join(root, w.dir), { recursive: true });
      await cp(join(repo, w.dir, "package.json"), join(root, w.dir, "package.json"));
      const changelog = join(repo, w.dir, "CHANGELOG.md");
      if (existsSync(changelog)) await cp(changelog, join(root, w.dir, "CHANGELOG.md"));
    }
    // changesets reads git (the base branch, the commits that added each changeset).
    await git(root, "init", "-q", "-b", "main");
    await git(root, "add", "-A");
    await git(root, "commit", "-q", "-m", "manifests");
    await sh(changesetBin, ["status", "--output=status.json"], root);
    status = JSON.parse(await readFile(join(root, "status.json"), "utf8")) as StatusFile;
    await rm(join(root, "status.json"));
  }, 120_000);

  afterAll(async () => {
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  it("finds the workspace: public packages and private apps", () => {
    expect(publicPackages.map((w) => w.manifest.name).sort()).toEqual([
      "@brats/conventions",
      "@brats/data",
      "@brats/metrics",
      "@brats/nifti",
      "@brats/runs",
      "@brats/tfjs-onednn",
      "@brats/unet3d",
      "@brats/viz",
    ]);
    for (const w of before.filter((x) => x.dir.startsWith("apps/"))) {
      expect(w.manifest.private, w.dir).toBe(true);
    }
  });

  it("has a pending changeset for every public package not released yet (no CHANGELOG.md)", () => {
    const named = new Set(status.changesets.flatMap((c) => c.releases.map((r) => r.name)));
    const unreleased = publicPackages.filter((w) => !existsSync(join(repo, w.dir, "CHANGELOG.md")));
    const missing = unreleased.map((w) => w.manifest.name).filter((name) => !named.has(name));
    expect(missing, `public packages without a changeset (add one with pnpm changeset)`).toEqual(
      [],
    );
    for (const c of status.changesets) {
      expect(c.summary.trim().length, `changeset ${c.id} has no text`).toBeGreaterThan(20);
      for (const r of c.releases) {
        expect(
          before.find((w) => w.manifest.name === r.name)?.manifest.private,
          `changeset ${c.id} releases private ${r.name}`,
        ).not.toBe(true);
      }
    }
  });

  it("`changeset version` bumps every public package, writes its changelog, and leaves the apps alone", async () => {
    await sh(changesetBin, ["version"], root);
    const after = await workspaces(root);
    const versions = new Map(after.map((w) => [w.manifest.name, w.manifest.version]));

    for (const w of publicPackages) {
      const { name, version } = w.manifest;
      // The largest bump any changeset asks for this package.
      const asked = status.changesets
        .flatMap((c) => c.releases)
        .filter((r) => r.name === name)
        .map((r) => r.type)
        .reduce((a, b) => (BUMP_ORDER.indexOf(b) > BUMP_ORDER.indexOf(a) ? b : a), "none");
      const newVersion = versions.get(name)!;
      if (asked !== "none") expect(newVersion, name).toBe(bumped(version, asked));
      expect(newVersion, `${name} was not bumped`).not.toBe(version);

      const changelog = await readFile(join(root, w.dir, "CHANGELOG.md"), "utf8");
      expect(changelog.startsWith(`# ${name}\n`), `${name} CHANGELOG title`).toBe(true);
      expect(changelog, name).toContain(`## ${newVersion}\n`);
      for (const c of status.changesets.filter((x) => x.releases.some((r) => r.name === name))) {
        // The first line of the changeset's text, as changesets writes it into the list item.
        const firstLine = c.summary.trim().split("\n")[0]!;
        expect(changelog, `${name} CHANGELOG has changeset ${c.id}`).toContain(firstLine);
      }
    }

    for (const w of before.filter((x) => x.manifest.private === true)) {
      const original = await readFile(join(repo, w.dir, "package.json"), "utf8");
      expect(await readFile(join(root, w.dir, "package.json"), "utf8"), w.dir).toBe(original);
      expect(existsSync(join(root, w.dir, "CHANGELOG.md")), `${w.dir} CHANGELOG.md`).toBe(false);
    }
    // The consumed changesets are gone; the config and README stay.
    expect((await readdir(join(root, ".changeset"))).sort()).toEqual(["README.md", "config.json"]);
  });

  it("internal dependency ranges point at the new versions once packed", async () => {
    const after = await workspaces(root);
    const byName = new Map(after.map((w) => [w.manifest.name, w]));
    const packs = join(root, "packs");
    await mkdir(packs);
    for (const w of after.filter((x) => x.manifest.private !== true)) {
      const internal = Object.entries({
        ...w.manifest.dependencies,
        ...w.manifest.peerDependencies,
      }).filter(([dep]) => byName.has(dep));
      // What `pnpm install` would link, so that pnpm pack can resolve workspace: ranges.
      for (const [dep] of Object.entries({
        ...w.manifest.dependencies,
        ...w.manifest.peerDependencies,
        ...w.manifest.devDependencies,
      }).filter(([d]) => byName.has(d))) {
        const link = join(root, w.dir, "node_modules", dep);
        await mkdir(dirname(link), { recursive: true });
        await symlink(relative(dirname(link), join(root, byName.get(dep)!.dir)), link);
      }
      const { stdout } = await sh("pnpm", ["pack", "--pack-destination", packs], join(root, w.dir));
      const tarball = stdout.trim().split("\n").at(-1)!;
      const packed = JSON.parse(
        (await sh("tar", ["-xzOf", tarball, "package/package.json"], root)).stdout,
      ) as Manifest;
      expect(packed.version).toBe(w.manifest.version);
      for (const [dep, range] of internal) {
        const target = byName.get(dep)!.manifest.version;
        const packedRange = packed.dependencies?.[dep] ?? packed.peerDependencies?.[dep];
        expect(
          [`^${target}`, `~${target}`, target],
          `${w.manifest.name} → ${dep}: ${range} packed as ${packedRange}`,
        ).toContain(packedRange);
      }
    }
  });
});
