// Crash-safe writes: every file and folder is first written under a temporary name beside its target,
// fsynced, then renamed over it, so readers see the old bytes or the new ones, never half of either.
// One temp-name scheme for all of them, `.<name>.tmp-<host>-<pid>-<random>`: hidden (dataset scans
// skip dotfiles), beside the target (rename stays within one file system), and naming the host and
// process, so that a later clean-up can tell the leftovers of dead processes from work in progress,
// also on file systems shared between machines.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const TEMP_MARK = ".tmp-";
const RANDOM_HEX = 12;
/** `.<target>.tmp-<host>-<pid>-<12 hex>`; the target is the shortest match, so a host may hold anything. */
const TEMP_NAME = /^\.(.+?)\.tmp-(.+)-(\d+)-([0-9a-f]{12})$/;

/**
 * This machine's name as temp names spell it: characters other than letters, digits, `.`, `_` and
 * `-` become `_` (no path separators), at most 64 of them (file names stop at 255 bytes).
 */
export function tempHostName(host: string = hostname()): string {
  const clean = host.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64);
  return clean === "" ? "unknown" : clean;
}

export interface TempNameParts {
  /** The file or folder name the temp stands for (a base name, not a path). */
  target: string;
  host: string;
  pid: number;
}

/**
 * The temporary path for `target` (a path): `<dir>/.<base>.tmp-<host>-<pid>-<random>`. `host`,
 * `pid` and `random` are for tests; by default this machine, this process and 6 random bytes.
 */
export function tempName(
  target: string,
  opts: { host?: string; pid?: number; random?: string } = {},
): string {
  const host = tempHostName(opts.host);
  const pid = opts.pid ?? process.pid;
  const random = opts.random ?? randomBytes(RANDOM_HEX / 2).toString("hex");
  if (!/^[0-9a-f]{12}$/.test(random))
    throw new Error(`random must be 12 hex digits, got ${random}`);
  return join(dirname(target), `.${basename(target)}${TEMP_MARK}${host}-${pid}-${random}`);
}

/** The parts of a temp name made by tempName (a base name), or null for any other name. */
export function parseTempName(name: string): TempNameParts | null {
  const m = TEMP_NAME.exec(name);
  if (m === null) return null;
  const pid = Number(m[3]);
  if (!Number.isSafeInteger(pid)) return null;
  return { target: m[1]!, host: m[2]!, pid };
}

/** Makes renames and new entries in `dir` durable; not every platform can open a folder, which is harmless. */
export async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // e.g. Windows (EISDIR/EPERM): renames there are as durable as the OS makes them.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes a new temporary file beside `target` through `write`, fsyncs and closes it, and returns its
 * path; the caller renames it into place (for commits of several files, as model folders do). On
 * failure the temp file is removed and the error rethrown.
 */
export async function writeTempWith(
  target: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<string> {
  const tmp = tempName(target);
  let handle: FileHandle | null = null;
  try {
    handle = await open(tmp, "wx");
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = null;
    return tmp;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** writeTempWith for bytes or text (UTF-8) already in memory. */
export function writeTemp(target: string, data: string | Uint8Array): Promise<string> {
  return writeTempWith(target, (handle) => handle.writeFile(data));
}

/**
 * Replaces `path` atomically with what `write` writes to the handle (for output produced in chunks,
 * such as a gzip stream): temp file beside it, fsync, rename, fsync of the folder. On failure
 * nothing changes at `path`, the temp file is removed and the error rethrown as it was.
 */
export async function writeAtomicWith(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const tmp = await writeTempWith(path, write);
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDir(dirname(path));
}

/** Replaces `path` atomically with `data` (text is written as UTF-8); see writeAtomicWith. */
export function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  return writeAtomicWith(path, (handle) => handle.writeFile(data));
}

/** Where writeAtomicDir keeps the previous folder during a swap: `<target>.old`. */
export function previousDirOf(target: string): string {
  return `${target}.old`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** fsyncs every file and folder under `dir` (what `fill` wrote may not have been). */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) {
      // r+: Windows cannot flush a file opened read-only.
      const handle = await open(path, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  await syncDir(dir);
}

/**
 * Replaces the folder `target` as a whole (checkpoints: a model must never meet the optimizer state of
 * another step). `fill` writes the new contents into a fresh temp folder beside `target`; everything
 * in it is fsynced, then the folders are swapped by renames: `target` → `<target>.old`, temp →
 * `target`, and `<target>.old` is removed. A crash therefore leaves a complete folder at `target`,
 * or, between the two renames, only at `<target>.old` (previousDirOf), which readers fall back to;
 * when `target` is missing, an existing `<target>.old` is kept until the new folder is in place.
 * If `fill` (or a rename) fails, the temp folder is removed and the previous `target` stays.
 * Creates the parent folder when needed.
 */
export async function writeAtomicDir(
  target: string,
  fill: (tmpDir: string) => Promise<void>,
): Promise<void> {
  const tmp = tempName(target);
  const old = previousDirOf(target);
  await mkdir(dirname(target), { recursive: true });
  await mkdir(tmp);
  let moved = false;
  try {
    await fill(tmp);
    await syncTree(tmp);
    if (await exists(target)) {
      await rm(old, { recursive: true, force: true });
      await rename(target, old);
      moved = true;
    }
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    // The second rename failed: put the previous folder back where readers look first.
    if (moved) await rename(old, target).catch(() => undefined);
    throw error;
  }
  await syncDir(dirname(target));
  await rm(old, { recursive: true, force: true });
}
