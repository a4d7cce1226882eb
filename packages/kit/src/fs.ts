// Crash-safe writes: every file and folder is first written under a temporary name beside its target,
// fsynced, then renamed over it, so readers see the old bytes or the new ones, never half of either.
// One temp-name scheme for all of them, `.<name>.tmp-<host>-<pid>-<random>`: hidden (dataset scans
// skip dotfiles), beside the target (rename stays within one file system), and naming the host and
// process, so that a later clean-up can tell the leftovers of dead processes from work in progress,
// also on file systems shared between machines.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { constants as fsConstants } from "node:fs";
import { access, type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

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
  await makeDirs(dirname(target));
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

/** A folder that cannot be made or written into: what, where, and the system's code. */
export class FolderError extends Error {
  override readonly name = "FolderError";
  constructor(
    readonly code: "NOT_A_FOLDER" | "NOT_WRITABLE" | "CANNOT_CREATE",
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

async function statOrNull(path: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
}

/**
 * Checks, creating nothing, that `path` is (or can become) a folder to write into: it is a
 * writable folder, or its nearest existing parent is. FolderError otherwise. Run it before any
 * work so that a bad --out fails at once. Returns the folders that would have to be made, outermost
 * first.
 */
export async function checkWritableFolder(path: string): Promise<string[]> {
  const missing: string[] = [];
  let level = resolve(path);
  for (;;) {
    const stats = await statOrNull(level);
    if (stats !== null) {
      if (!stats.isDirectory()) {
        throw new FolderError("NOT_A_FOLDER", level, `${level} exists and is not a folder`);
      }
      try {
        await access(level, fsConstants.W_OK);
      } catch (error) {
        throw new FolderError("NOT_WRITABLE", level, `cannot write into ${level}`, {
          cause: error,
        });
      }
      return missing.reverse();
    }
    missing.push(level);
    const parent = dirname(level);
    if (parent === level) return missing.reverse();
    level = parent;
  }
}

/**
 * `mkdir -p` without Node's recursive mkdir, which loops forever where a folder cannot be created
 * although its parent exists (Node 20 under /proc): the nearest existing parent is checked
 * (checkWritableFolder), then each missing level is made in turn; a failure is a FolderError
 * naming the level and the system's code.
 */
export async function makeDirs(path: string): Promise<void> {
  for (const level of await checkWritableFolder(path)) {
    try {
      await mkdir(level);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Made meanwhile by a concurrent worker: fine when it is a folder.
      if (code === "EEXIST" && (await statOrNull(level))?.isDirectory() === true) continue;
      throw new FolderError(
        "CANNOT_CREATE",
        level,
        `cannot create ${level}: ${code ?? String(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}

/** True unless no process `pid` exists on this machine (signal 0 probes without sending). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Removes the temp files and folders (tempName's scheme) that processes of this machine left in
 * `dir` when they died (kill -9 during a checkpoint save leaves a whole model folder). Temps of
 * live processes, of other machines (a shared file system: their pids mean nothing here) and
 * anything else are left alone. Returns the names removed.
 */
export async function removeStaleTemps(
  dir: string,
  opts: { alive?: (pid: number) => boolean; host?: string } = {},
): Promise<string[]> {
  const alive = opts.alive ?? processAlive;
  const host = tempHostName(opts.host);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.sort()) {
    const parts = parseTempName(name);
    if (parts === null || parts.host !== host || parts.pid === process.pid || alive(parts.pid)) {
      continue;
    }
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
