import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkWritableFolder,
  FolderError,
  makeDirs,
  parseTempName,
  processAlive,
  removeStaleTemps,
  previousDirOf,
  tempHostName,
  tempName,
  writeAtomic,
  writeAtomicDir,
  writeAtomicWith,
  writeTemp,
} from "./fs.js";

let root = "";
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "brats-kit-fs-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
async function freshDir(): Promise<string> {
  const dir = join(root, String(n++));
  await mkdir(dir);
  return dir;
}

describe("temp names", () => {
  it.each([
    ["model.json", "node1", 42],
    ["BraTS2021_00006.nii.gz", "gpu-07.cluster.example.org", 123456],
    ["last", "host-with-dashes-9", 7],
    [".hidden", "a.b-c.d", 1],
    ["name with spaces.csv", "x", 99999],
    ["a-1-abcdefabcdef", "h-1-2", 3],
  ])("%s on %s pid %i round-trips", (target, host, pid) => {
    const path = tempName(join("/some/dir", target), { host, pid });
    expect(dirname(path)).toBe("/some/dir");
    const name = basename(path);
    expect(name.startsWith(`.${target}.tmp-${host}-${pid}-`)).toBe(true);
    expect(parseTempName(name)).toEqual({ target, host, pid });
  });

  it("spells hosts without path separators, at most 64 characters", () => {
    expect(tempHostName("my host/with\\odd:chars")).toBe("my_host_with_odd_chars");
    expect(tempHostName("")).toBe("unknown");
    expect(tempHostName("h".repeat(100))).toHaveLength(64);
    const name = basename(tempName("/d/x", { host: "a/b", pid: 5 }));
    expect(parseTempName(name)).toMatchObject({ target: "x", host: "a_b", pid: 5 });
  });

  it("gives each call its own random part", () => {
    expect(tempName("/d/x")).not.toBe(tempName("/d/x"));
  });

  it.each([
    "model.json",
    ".model.json",
    "model.json.tmp-123-abcdef", // the old nifti scheme
    ".model.json.a1b2c3d4e5f6.tmp", // the old record scheme
    ".weights.bin.123.abcdef012345.tmp", // the old model-folder scheme
    "last.tmp-123", // the old checkpoint scheme
    ".x.tmp-host-12-abcdef01234", // 11 hex digits
    ".x.tmp-host-12-ABCDEF012345", // upper case
    ".x.tmp-host-abcdef012345", // no pid
    ".x.tmp--12-abcdef012345", // no host
    "..tmp-host-12-abcdef012345", // no target
    "x.tmp-host-12-abcdef012345", // not hidden
  ])("rejects %s", (name) => {
    expect(parseTempName(name)).toBeNull();
  });
});

describe("writeAtomic", () => {
  it.each([
    ["text", "héllo\n", Buffer.from("héllo\n", "utf8")],
    ["bytes", new Uint8Array([0, 1, 2, 255]), Buffer.from([0, 1, 2, 255])],
    ["empty", "", Buffer.alloc(0)],
  ])("writes %s and leaves nothing else", async (_, data, bytes) => {
    const dir = await freshDir();
    const path = join(dir, "out.bin");
    await writeFile(path, "old contents");
    await writeAtomic(path, data);
    expect(await readFile(path)).toEqual(bytes);
    expect(await readdir(dir)).toEqual(["out.bin"]);
  });

  it("leaves the target and no temp file behind when the write fails", async () => {
    const dir = await freshDir();
    const path = join(dir, "keep.txt");
    await writeFile(path, "old");
    const failing = writeAtomicWith(path, async (handle) => {
      await handle.write("partial");
      throw new Error("disk full");
    });
    await expect(failing).rejects.toThrow("disk full");
    expect(await readFile(path, "utf8")).toBe("old");
    expect(await readdir(dir)).toEqual(["keep.txt"]);
  });

  it("fails with the file system's error when the folder is missing", async () => {
    const dir = await freshDir();
    await expect(writeAtomic(join(dir, "no", "such.txt"), "x")).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("writes chunks through writeAtomicWith", async () => {
    const dir = await freshDir();
    const path = join(dir, "chunks.txt");
    await writeAtomicWith(path, async (handle) => {
      for (const part of ["a", "b", "c"]) await handle.write(part);
    });
    expect(await readFile(path, "utf8")).toBe("abc");
  });

  it("writeTemp leaves a parseable temp file for the caller to rename", async () => {
    const dir = await freshDir();
    const tmp = await writeTemp(join(dir, "weights.bin"), new Uint8Array([9]));
    expect(dirname(tmp)).toBe(dir);
    expect(parseTempName(basename(tmp))).toMatchObject({ target: "weights.bin", pid: process.pid });
    expect(await readFile(tmp)).toEqual(Buffer.from([9]));
  });
});

describe("writeAtomicDir", () => {
  const fillWith =
    (files: Record<string, string>) =>
    async (tmp: string): Promise<void> => {
      for (const [name, text] of Object.entries(files)) {
        await mkdir(dirname(join(tmp, name)), { recursive: true });
        await writeFile(join(tmp, name), text);
      }
    };
  async function contents(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) {
        const rel = join(e.parentPath, e.name).slice(dir.length + 1);
        out[rel] = await readFile(join(e.parentPath, e.name), "utf8");
      }
    }
    return out;
  }

  it.each([
    ["a new folder", null],
    ["an existing folder", { "old.txt": "1", "sub/x.txt": "2" }],
  ])("replaces %s as a whole", async (_, before) => {
    const out = await freshDir();
    const target = join(out, "last");
    if (before !== null) await writeAtomicDir(target, fillWith(before));
    const after = { "model.json": "{}", "sub/weights.bin": "w" };
    await writeAtomicDir(target, fillWith(after));
    expect(await contents(target)).toEqual(after);
    expect(await readdir(out)).toEqual(["last"]);
  });

  it("keeps the old folder and removes the temp folder when fill fails", async () => {
    const out = await freshDir();
    const target = join(out, "best");
    await writeAtomicDir(target, fillWith({ "a.txt": "old" }));
    const failing = writeAtomicDir(target, async (tmp) => {
      await writeFile(join(tmp, "a.txt"), "half");
      throw new Error("interrupted");
    });
    await expect(failing).rejects.toThrow("interrupted");
    expect(await contents(target)).toEqual({ "a.txt": "old" });
    expect(await readdir(out)).toEqual(["best"]);
  });

  it("keeps a surviving <target>.old until the new folder is in place", async () => {
    // A crash between the two renames left only the previous folder.
    const out = await freshDir();
    const target = join(out, "last");
    await mkdir(previousDirOf(target));
    await writeFile(join(previousDirOf(target), "a.txt"), "previous");
    let seen: string[] = [];
    await writeAtomicDir(target, async (tmp) => {
      seen = await readdir(out);
      await writeFile(join(tmp, "a.txt"), "new");
    });
    expect(seen).toContain("last.old");
    expect(await contents(target)).toEqual({ "a.txt": "new" });
    expect(await readdir(out)).toEqual(["last"]);
  });

  it("creates the parent folder", async () => {
    const out = await freshDir();
    await writeAtomicDir(join(out, "run", "last"), fillWith({ "x.txt": "x" }));
    expect(await contents(join(out, "run", "last"))).toEqual({ "x.txt": "x" });
  });

  it("fills a temp folder named by the one scheme, beside the target", async () => {
    const out = await freshDir();
    let tmpDir = "";
    await writeAtomicDir(join(out, "last"), async (tmp) => {
      tmpDir = tmp;
      await Promise.resolve();
    });
    expect(dirname(tmpDir)).toBe(out);
    expect(parseTempName(basename(tmpDir))).toMatchObject({ target: "last", pid: process.pid });
  });
});

describe("makeDirs and checkWritableFolder", () => {
  it("makes every missing level, and is a no-op on an existing folder", async () => {
    const dir = await freshDir();
    const deep = join(dir, "a", "b", "c");
    expect(await checkWritableFolder(deep)).toEqual([join(dir, "a"), join(dir, "a", "b"), deep]);
    await makeDirs(deep);
    expect(await readdir(join(dir, "a", "b"))).toEqual(["c"]);
    await makeDirs(deep);
    expect(await checkWritableFolder(deep)).toEqual([]);
  });

  it.each<[string, (dir: string) => Promise<string>, FolderError["code"][]]>([
    [
      "a file in the way",
      async (dir) => {
        await writeFile(join(dir, "file"), "x");
        return join(dir, "file", "sub");
      },
      ["NOT_A_FOLDER"],
    ],
    // Node 20's recursive mkdir spins forever here; makeDirs fails at once (root may "write"
    // into /proc, so only the mkdir fails; anyone else is refused by the check).
    [
      "a folder under /proc",
      () => Promise.resolve("/proc/brats-kit-test/run"),
      ["CANNOT_CREATE", "NOT_WRITABLE"],
    ],
  ])("fails with a FolderError for %s", async (_name, make, codes) => {
    const path = await make(await freshDir());
    const started = performance.now();
    const error = await makeDirs(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FolderError);
    expect(codes).toContain((error as FolderError).code);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("removeStaleTemps", () => {
  it("removes only the temps of dead processes of this machine", async () => {
    const dir = await freshDir();
    const names = {
      dead: basename(tempName(join(dir, "last"), { pid: 999_001, random: "aaaaaaaaaaaa" })),
      alive: basename(tempName(join(dir, "best"), { pid: 999_002, random: "bbbbbbbbbbbb" })),
      mine: basename(tempName(join(dir, "config.json"), { random: "cccccccccccc" })),
      otherHost: basename(
        tempName(join(dir, "last"), { host: "elsewhere", pid: 999_001, random: "dddddddddddd" }),
      ),
    };
    await mkdir(join(dir, names.dead));
    await writeFile(join(dir, names.dead, "weights.bin"), "w");
    await mkdir(join(dir, names.alive));
    await writeFile(join(dir, names.mine), "x");
    await writeFile(join(dir, names.otherHost), "x");
    await writeFile(join(dir, "last.tmp-123"), "not this scheme");
    const alive = (pid: number) => pid === 999_002;
    expect(await removeStaleTemps(dir, { alive })).toEqual([names.dead]);
    expect((await readdir(dir)).sort()).toEqual(
      [names.alive, names.mine, names.otherHost, "last.tmp-123"].sort(),
    );
    expect(await removeStaleTemps(join(dir, "missing"))).toEqual([]);
  });

  it("tells live processes from dead ones", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 12345)).toBe(false); // above Linux's pid_max
  });
});
