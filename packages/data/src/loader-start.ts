// Starting a loader worker from the built package or from TypeScript sources. This module must stay
// beside loader-worker.ts (in src/, and in dist/ once bundled): the worker is found relative to it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { DataError } from "./errors.js";
import type { WorkerInit } from "./loader-protocol.js";

let tsxRegisterUrl: string | null = null;

/** The URL of tsx's ESM register API (from its package exports), for workers run from sources. */
function tsxEsmApiUrl(): string {
  if (tsxRegisterUrl !== null) return tsxRegisterUrl;
  try {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve("tsx/package.json");
    const pkg = JSON.parse(readFileSync(packageJson, "utf8")) as {
      exports: Record<string, { import?: { default?: string } } | string>;
    };
    const entry = pkg.exports["./esm/api"];
    const file = typeof entry === "object" ? entry.import?.default : undefined;
    if (file === undefined) throw new Error("tsx has no ./esm/api import export");
    tsxRegisterUrl = pathToFileURL(join(dirname(packageJson), file)).href;
    return tsxRegisterUrl;
  } catch (cause) {
    throw new DataError(
      "BAD_OPTION",
      "loader workers run from TypeScript sources need tsx (a dev dependency); build the package or use workers: 0",
      { cause },
    );
  }
}

/**
 * A loader worker. From the built package, dist/loader-worker.js next to this module. From
 * sources (tests, tsx), Node 20 cannot start a worker from a .ts file, and `--import tsx` in the
 * worker's execArgv does not reach its entry module, so a tiny bootstrap registers tsx's ESM
 * hooks first; `--conditions=source` resolves @brats/* to sources as the tests do.
 */
export function startWorker(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (!/\.[cm]?ts$/.test(new URL(here).pathname)) {
    return new Worker(new URL("./loader-worker.js", here), { workerData: init });
  }
  const entry = new URL("./loader-worker.ts", here).href;
  const bootstrap = `import(${JSON.stringify(tsxEsmApiUrl())})
    .then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, {
    eval: true,
    workerData: init,
    execArgv: ["--conditions=source"],
  });
}
