// The root README's code stays real: every TypeScript block in it is one of tests/readme-examples/*.ts,
// byte for byte (the release test type-checks and runs those files against the packed packages), and
// the quick start is the two commands a fresh machine with Node 20 and npm needs.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("..", import.meta.url));

function fencedBlocks(markdown: string, lang: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```$", "gm");
  for (const m of markdown.matchAll(fence)) blocks.push(m[1]!);
  return blocks;
}

describe("root README", () => {
  it("shows each README example file exactly once, and no other TypeScript", async () => {
    const readme = await readFile(join(repo, "README.md"), "utf8");
    const dir = join(repo, "tests", "readme-examples");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".ts")).sort();
    expect(files).toEqual(["data.ts", "metrics.ts", "nifti.ts", "unet3d.ts", "viz.ts"]);
    const examples = new Map<string, string>();
    for (const f of files) examples.set(f, await readFile(join(dir, f), "utf8"));
    const blocks = fencedBlocks(readme, "ts");
    for (const [f, text] of examples) {
      expect(
        blocks.filter((b) => b === text),
        `${f} in README.md (copy the file into its block)`,
      ).toHaveLength(1);
    }
    const known = new Set(examples.values());
    const unchecked = blocks.filter((b) => !known.has(b));
    expect(unchecked, "ts blocks in README.md that are not in tests/readme-examples").toEqual([]);
  });

  it("has a two-command quick start: the demo and the tests", async () => {
    const readme = await readFile(join(repo, "README.md"), "utf8");
    const start = readme.indexOf("## Quick start");
    expect(start).toBeGreaterThan(-1);
    const first = fencedBlocks(readme.slice(start), "sh")[0]!;
    const commands = first.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(commands).toEqual([
      "npm install -g pnpm@10 && pnpm install && pnpm demo",
      "npm install -g pnpm@10 && pnpm install && pnpm test",
    ]);
    const pkg = JSON.parse(await readFile(join(repo, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    for (const script of ["demo", "test"]) {
      expect(pkg.scripts[script], `root package.json script "${script}"`).toBeDefined();
    }
  });
});
