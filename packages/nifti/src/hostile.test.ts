// Every file of the hostile corpus through readNifti and `brats-nifti info` in a child process:
// a correct read or the typed error the corpus expects, no hang (a timeout), and the child's peak
// RSS within 2× the decoded data + 150 MiB. The bombs run one per process, each alone.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import {
  type Expected,
  gzipWithZeros,
  type HostileFile,
  writeHostileCorpus,
} from "./hostile-corpus.testutil.js";
import { rawNifti1, tempDir } from "./test-utils.js";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, "..");
const child = join(here, "hostile-child.testutil.ts");
/** The bound of the issue: twice the decoded data plus 150 MiB. */
const rssBoundMiB = (dataBytes: number) => (2 * dataBytes) / 2 ** 20 + 150;
/** Generous: a hang is minutes, a correct read of any of these files well under a second or two. */
const CHILD_TIMEOUT_MS = 60_000;

const tmp = tempDir("hostile");
let corpus: HostileFile[] = [];
afterAll(() => tmp.cleanup());
beforeAll(() => {
  corpus = writeHostileCorpus(tmp.dir);
});

interface Outcome {
  read: string;
  info: string;
  stats: { min: number | null; max: number | null; mean: number | null } | null;
}

interface ChildResult {
  outcomes: Map<string, Outcome>;
  maxRssMiB: number;
}

/** Runs the child on `files`; rejects on a timeout (a hang) or a crash. */
function runChild(files: string[], infoOnly = false): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        child,
        ...(infoOnly ? ["--info-only"] : []),
        ...files,
      ],
      { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`timed out (a hang?) on ${files.join(", ")}`));
    }, CHILD_TIMEOUT_MS);
    proc.on("close", (status) => {
      clearTimeout(timer);
      if (status !== 0) {
        reject(
          new Error(`child exited ${status} on ${files.join(", ")}: ${stderr.slice(0, 2000)}`),
        );
        return;
      }
      const outcomes = new Map<string, Outcome>();
      let maxRssMiB = NaN;
      for (const line of stdout.trim().split("\n")) {
        const value = JSON.parse(line) as Outcome & { file?: string; maxRssMiB?: number };
        if (value.maxRssMiB !== undefined) maxRssMiB = value.maxRssMiB;
        else outcomes.set(value.file!, value);
      }
      resolve({ outcomes, maxRssMiB });
    });
  });
}

const accepted = (f: HostileFile): readonly Expected[] =>
  typeof f.expect === "string" ? [f.expect] : f.expect;

/** Files whose path check (missing, dangling, a loop) fails before info reads anything. */
const PATH_CHECKED = new Set(["dangling.nii.gz", "loop.nii"]);

function checkOutcome(f: HostileFile, outcome: Outcome | undefined): void {
  expect(outcome, f.name).toBeDefined();
  const ok = accepted(f);
  expect(ok, `${f.name} (${f.note}): readNifti gave ${outcome!.read}`).toContain(outcome!.read);
  if (PATH_CHECKED.has(f.name)) {
    expect(outcome!.info, f.name).toMatch(/^(IO|exit [12])$/);
  } else {
    expect(ok, `${f.name} (${f.note}): info gave ${outcome!.info}`).toContain(outcome!.info);
  }
}

describe("the hostile corpus", () => {
  it("holds about a hundred files of every kind", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(90);
    const kinds = new Set(corpus.flatMap((f) => accepted(f)));
    for (const code of [
      "ok",
      "NOT_NIFTI",
      "BAD_HEADER",
      "UNSUPPORTED_DATATYPE",
      "TOO_LARGE",
      "TRUNCATED",
      "IO",
    ]) {
      expect(kinds.has(code as Expected), code).toBe(true);
    }
  });

  it("small files: the expected read or typed error, in bounded memory", async () => {
    const small = corpus.filter((f) => f.big !== true);
    // A few processes side by side; each file's peak is at most its process's peak.
    const lanes = Math.max(1, availableParallelism());
    const groups = Array.from({ length: lanes }, (_, i) => small.filter((_, j) => j % lanes === i));
    const results = await Promise.all(
      groups.map((g) => runChild(g.map((f) => join(tmp.dir, f.name)))),
    );
    for (let i = 0; i < groups.length; i++) {
      const { outcomes, maxRssMiB } = results[i]!;
      const largest = Math.max(0, ...groups[i]!.map((f) => f.dataBytes));
      expect(maxRssMiB).toBeLessThanOrEqual(rssBoundMiB(largest));
      for (const f of groups[i]!) checkOutcome(f, outcomes.get(join(tmp.dir, f.name)));
    }
  }, 180_000);

  it("bombs: never inflated past what they can hold, never held (one process each)", async () => {
    for (const f of corpus.filter((c) => c.big === true)) {
      const { outcomes, maxRssMiB } = await runChild([join(tmp.dir, f.name)]);
      checkOutcome(f, outcomes.get(join(tmp.dir, f.name)));
      expect(maxRssMiB, `${f.name}: peak RSS`).toBeLessThanOrEqual(rssBoundMiB(f.dataBytes));
    }
  }, 300_000);
});

describe("brats-nifti info streams", () => {
  it("keeps its peak flat on a 513 MiB volume (statistics in one pass over the stored type)", async () => {
    const MiB = 2 ** 20;
    const tail = new Uint8Array(MiB).map((_, i) => i % 251); // the last MiB: 0..250 repeated
    const header = rawNifti1({
      dim: [3, 1024, 1024, 513],
      datatype: 2,
      bitpix: 8,
      pixdim: [1, 1, 1, 1],
      sclSlope: 1,
      tail: new Uint8Array(4),
    });
    const file = tmp.path("big-uint8.nii.gz");
    writeFileSync(file, gzipWithZeros(header, 512 * MiB, tail));
    const { outcomes, maxRssMiB } = await runChild([file], true);
    const outcome = outcomes.get(file)!;
    expect(outcome.info).toBe("ok");
    let sum = 0;
    for (const v of tail) sum += v;
    expect(outcome.stats?.min).toBe(0);
    expect(outcome.stats?.max).toBe(250);
    expect(outcome.stats?.mean).toBeCloseTo(sum / (513 * MiB), 12);
    // Holding the volume would take 513 MiB (and its float64 copy 4 GiB): flat means the fixed 150.
    expect(maxRssMiB).toBeLessThanOrEqual(150);
  }, 120_000);
});
