// The fallback as a process sees it: an addon that is not there, or one whose libdnnl cannot be
// found, gives a one-line reason from loadAddon and OnednnError NOT_AVAILABLE from
// registerOnednnKernels. Each case runs in a child, since loadAddon loads once per process.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ADDON_PATH } from "./native.js";
import { nativeAvailable } from "./testutil.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const indexUrl = new URL("./index.ts", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "brats-onednn-fallback-"));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface ChildReport {
  load: { ok: boolean; reason?: string; path?: string };
  error: { name: string; code: string; message: string } | null;
}

/** loadAddon() and registerOnednnKernels() in a child with BRATS_ONEDNN_ADDON=addon. */
function inChild(addon: string): ChildReport {
  const script = `
    const { loadAddon, registerOnednnKernels } = await import(${JSON.stringify(indexUrl)});
    const load = loadAddon();
    let error = null;
    try {
      registerOnednnKernels();
    } catch (e) {
      error = { name: e.name, code: e.code, message: e.message };
    }
    console.log(JSON.stringify({ load: { ok: load.ok, reason: load.reason, path: load.path }, error }));
  `;
  const env: NodeJS.ProcessEnv = { ...process.env, BRATS_ONEDNN_ADDON: addon };
  delete env.BRATS_ONEDNN;
  const child = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
    { cwd: packageDir, encoding: "utf8", env, timeout: 60_000 },
  );
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as ChildReport;
}

describe("the fallback, in a child process", () => {
  it("a missing addon file: 'addon not built', and registering throws NOT_AVAILABLE", () => {
    const missing = join(dir, "missing", "brats_onednn.node");
    const report = inChild(missing);
    expect(report.load.ok).toBe(false);
    expect(report.load.reason).toBe(
      `addon not built (no ${missing}; rebuild: pnpm --filter @brats/tfjs-onednn build:native)`,
    );
    expect(report.error).toEqual({
      name: "OnednnError",
      code: "NOT_AVAILABLE",
      message: report.load.reason,
    });
  });

  it.runIf(nativeAvailable())(
    "an addon whose libdnnl.so.2 cannot be found: 'libdnnl missing', NOT_AVAILABLE",
    () => {
      // The real addon with its NEEDED entry renamed in place (same length: the ELF stays valid).
      const bytes = readFileSync(ADDON_PATH);
      const from = Buffer.from("libdnnl.so.2");
      const at = bytes.indexOf(from);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(bytes.indexOf(from, at + 1)).toBe(-1);
      bytes.write("libdnnx.so.2", at, "latin1");
      const renamed = join(dir, "brats_onednn.node");
      writeFileSync(renamed, bytes);

      const report = inChild(renamed);
      expect(report.load.ok).toBe(false);
      expect(report.load.reason).toMatch(
        /^libdnnl missing \(.*libdnnx\.so\.2: cannot open shared object file/,
      );
      expect(report.load.reason).toContain("apt-get install libdnnl-dev");
      expect(report.error).toMatchObject({ name: "OnednnError", code: "NOT_AVAILABLE" });
      expect(report.error?.message).toBe(report.load.reason);
    },
  );

  it.runIf(nativeAvailable())("an unmodified copy loads from elsewhere (control)", () => {
    const copy = join(dir, "copy.node");
    copyFileSync(ADDON_PATH, copy);
    const report = inChild(copy);
    expect(report.load).toEqual({ ok: true, path: copy });
    // Past NOT_AVAILABLE: the child has not imported the wasm backend.
    expect(report.error).toMatchObject({ name: "OnednnError", code: "BACKEND" });
  });
});
