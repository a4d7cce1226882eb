// The child process of hostile.test.ts: reads each file given with readNifti, then runs
// `brats-nifti info --json` on it, and prints one JSON line per file ({file, read, info}: "ok" or
// the error code), then {maxRssMiB}: the process's peak resident memory, the test's bound.
import { run } from "./cli.js";
import { NiftiError } from "./errors.js";
import { readNifti } from "./read.js";

const outcome = (err: unknown): string =>
  err instanceof NiftiError ? err.code : `INTERNAL ${(err as Error)?.message ?? String(err)}`;

// --info-only: only `brats-nifti info` (its memory must stay flat whatever the file's size).
const infoOnly = process.argv[2] === "--info-only";
for (const file of process.argv.slice(infoOnly ? 3 : 2)) {
  let read = infoOnly ? "skipped" : "ok";
  if (!infoOnly) {
    try {
      await readNifti(file);
    } catch (err) {
      read = outcome(err);
    }
  }
  let printed = "";
  let stats: unknown = null;
  let info = "ok";
  const status = await run(["info", "--json", file], {
    stdout: (text) => {
      printed += text;
    },
    stderr: () => undefined,
  });
  if (status === 0) stats = (JSON.parse(printed) as { stats?: unknown }).stats ?? null;
  else {
    const line = JSON.parse(printed.trim().split("\n").pop() || "{}") as {
      error?: { code: string };
    };
    info = line.error?.code ?? `exit ${status}`;
  }
  process.stdout.write(JSON.stringify({ file, read, info, stats }) + "\n");
}
process.stdout.write(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + "\n");
