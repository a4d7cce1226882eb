// Concurrent workers on one OUT split its cases by claiming them: before segmenting a case, a
// worker creates <OUT>/.claims/<ID>.claim (atomically, with its host, pid and a random token) and
// touches it every heartbeat while it works. Another worker skips a claimed case and comes back to
// it; it takes a claim over when its owner is gone: on this machine, when the owner's pid is dead;
// from another machine (a shared file system), when the claim has not been touched for the
// staleness period. So n workers started with the same command split a dataset without --shard,
// and the cases of a killed worker (or a dead node) are done by the others.
import { randomBytes } from "node:crypto";
import { link, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { makeDirs, processAlive, tempHostName, writeTemp } from "@brats/kit/fs";

/** The hidden folder of claims in OUT (dataset scans and the report skip dotfiles). */
export const CLAIMS_DIR = ".claims";

export interface ClaimTiming {
  /** Seconds between touches of a held claim. Default 10. */
  heartbeatSeconds?: number;
  /** A claim of another machine untouched for this long is taken over. Default 60. */
  staleSeconds?: number;
}

export const DEFAULT_CLAIM_TIMING: Required<ClaimTiming> = {
  heartbeatSeconds: 10,
  staleSeconds: 60,
};

/** What a claim file holds. */
interface ClaimOwner {
  host: string;
  pid: number;
  token: string;
  started: string;
}

/** A case this worker holds; release it when the case is done (or failed). */
export interface HeldClaim {
  id: string;
  release(): Promise<void>;
}

export interface ClaimsOptions extends ClaimTiming {
  /** For tests: this worker's host name and pid liveness. */
  host?: string;
  alive?: (pid: number) => boolean;
  now?: () => number;
}

/** The claims of one OUT, as one worker sees them. */
export class CaseClaims {
  readonly dir: string;
  readonly heartbeatSeconds: number;
  readonly staleSeconds: number;
  private readonly host: string;
  private readonly alive: (pid: number) => boolean;
  private readonly now: () => number;

  constructor(out: string, opts: ClaimsOptions = {}) {
    this.dir = join(out, CLAIMS_DIR);
    this.heartbeatSeconds = opts.heartbeatSeconds ?? DEFAULT_CLAIM_TIMING.heartbeatSeconds;
    this.staleSeconds = opts.staleSeconds ?? DEFAULT_CLAIM_TIMING.staleSeconds;
    this.host = tempHostName(opts.host);
    this.alive = opts.alive ?? processAlive;
    this.now = opts.now ?? Date.now;
  }

  private pathOf(id: string): string {
    return join(this.dir, `${id}.claim`);
  }

  /** The case for this worker, or null while another live worker holds it. */
  async tryClaim(id: string): Promise<HeldClaim | null> {
    await makeDirs(this.dir);
    const path = this.pathOf(id);
    // Twice at most: a first failure may be a stale claim, taken over before the second try.
    for (let attempt = 0; attempt < 2; attempt++) {
      const owner: ClaimOwner = {
        host: this.host,
        pid: process.pid,
        token: randomBytes(8).toString("hex"),
        started: new Date(this.now()).toISOString(),
      };
      // Written whole beside it, then linked into place: link fails when the claim exists, so
      // creating a claim and filling it are one step for every other worker.
      const tmp = await writeTemp(path, JSON.stringify(owner) + "\n");
      try {
        await link(tmp, path);
        return this.hold(id, path, owner.token);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      if (!(await this.takeOverIfStale(path))) return null;
    }
    return null;
  }

  /** True when the claim at `path` was stale and is gone now (removed by this worker or another). */
  private async takeOverIfStale(path: string): Promise<boolean> {
    let before: Awaited<ReturnType<typeof stat>>;
    let owner: Partial<ClaimOwner> | null;
    try {
      before = await stat(path);
      owner = parseOwner(await readFile(path, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw error;
    }
    if (!this.isStale(owner, before.mtimeMs)) return false;
    // Move it aside under a name of our own; only one worker's rename succeeds.
    const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
    try {
      await rename(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw error;
    }
    const moved = await stat(aside);
    if (moved.ino !== before.ino || moved.mtimeMs !== before.mtimeMs) {
      // Between our look and the rename another worker took it over (or its owner touched it):
      // put the live claim back, unless a newer one is already there.
      await link(aside, path).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      return false;
    }
    await unlink(aside).catch(() => undefined);
    return true;
  }

  private isStale(owner: Partial<ClaimOwner> | null, mtimeMs: number): boolean {
    if (owner?.host === this.host && typeof owner.pid === "number") {
      // This machine: the pid says it all (a live owner may be busy between heartbeats).
      return owner.pid !== process.pid && !this.alive(owner.pid);
    }
    return this.now() - mtimeMs > this.staleSeconds * 1000;
  }

  private hold(id: string, path: string, token: string): HeldClaim {
    const touch = () => {
      const t = new Date(this.now());
      utimes(path, t, t).catch(() => undefined);
    };
    const timer = setInterval(touch, this.heartbeatSeconds * 1000);
    timer.unref();
    return {
      id,
      release: async () => {
        clearInterval(timer);
        try {
          // Only our own claim: after a takeover (we were thought dead) it is someone else's.
          if (parseOwner(await readFile(path, "utf8"))?.token === token) await unlink(path);
        } catch {
          // already gone
        }
      },
    };
  }
}

function parseOwner(text: string): Partial<ClaimOwner> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}
