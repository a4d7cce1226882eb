#!/usr/bin/env node
// Builds the addon with node-gyp against the system oneDNN, offline (Node's own headers via
// --nodedir). At install (no flag) it is optional: it prints nothing on success, one line on
// failure, records the reason in build/native-status.txt for the loader's report, and exits 0
// so that an install never fails for want of a compiler or libdnnl. With --strict (CI,
// `pnpm --filter @brats/tfjs-onednn build:native`) it shows the build output and exits 1 on
// failure. BRATS_ONEDNN_SKIP_BUILD=1 skips it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const strict = process.argv.includes("--strict");
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const statusFile = join(root, "build", "native-status.txt");

function fail(reason, output = "") {
  mkdirSync(join(root, "build"), { recursive: true });
  writeFileSync(statusFile, `${reason}\n${output}`);
  if (strict) {
    if (output) process.stderr.write(output.endsWith("\n") ? output : `${output}\n`);
    process.stderr.write(`@brats/tfjs-onednn: native build failed: ${reason}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `@brats/tfjs-onednn: native kernels not built (${reason}); TF.js will use the wasm kernels\n`,
  );
  process.exit(0);
}

if (process.env.BRATS_ONEDNN_SKIP_BUILD === "1" && !strict) {
  fail("skipped: BRATS_ONEDNN_SKIP_BUILD=1");
}

const cxx = process.env.CXX ?? "c++";
const probe = spawnSync(cxx, ["-x", "c++", "-std=c++17", "-E", "-o", "/dev/null", "-"], {
  input: "#include <dnnl.hpp>\n#include <omp.h>\n",
  encoding: "utf8",
});
if (probe.error) fail(`no C++ compiler (${cxx}: ${probe.error.code ?? probe.error.message})`);
if (probe.status !== 0) {
  fail("oneDNN headers not found (on Debian/Ubuntu: apt-get install libdnnl-dev)", probe.stderr);
}

const require = createRequire(import.meta.url);
let nodeGyp;
try {
  nodeGyp = require.resolve("node-gyp/bin/node-gyp.js");
} catch {
  fail("node-gyp is not installed");
}
// Node's headers as installed with Node (<prefix>/include/node), so nothing is downloaded.
const prefix = dirname(dirname(process.execPath));
const args = [nodeGyp, "rebuild", "--loglevel=error"];
if (existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
rmSync(statusFile, { force: true });
const build = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
if (build.status !== 0) {
  const output = `${build.stdout ?? ""}${build.stderr ?? ""}`;
  const missingLib = /cannot find -ldnnl/.test(output);
  fail(
    missingLib
      ? "libdnnl not found by the linker (apt-get install libdnnl-dev)"
      : "node-gyp rebuild failed",
    output,
  );
}
