// runInference on phantom cases with tiny random-weight ONNX models: idempotent re-runs, crash
// leftovers, settings conflicts, shards sharing one OUT, ensembles, TTA, post-processing, errors.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  truncate,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNifti } from "@brats/nifti";
import type { EvaluationReport } from "@brats/metrics";
import { createUNet3D, saveOnnx, setupTfjs } from "@brats/unet3d";
import { tempHostName } from "@brats/kit/fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAIMS_DIR } from "./claims.js";
import { InferError } from "./errors.js";
import { readRecord } from "./record.js";
import type { InferenceEvent, InferenceOptions } from "./options.js";
import { runInference } from "./run.js";
import { shardCases } from "./shard.js";
import { phantomDataset, tinyOnnxModel } from "./test-utils.js";

let dir: string;
let data: string;
let modelA: string;
let modelB: string;
const IDS = ["Phantom_00000", "Phantom_00001", "Phantom_00002", "Phantom_00003"];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "brats-infer-run-"));
  data = await phantomDataset(join(dir, "data"), IDS.length);
  modelA = await tinyOnnxModel(join(dir, "models"), "a");
  modelB = await tinyOnnxModel(join(dir, "models"), "b", { seed: 12 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file of OUT (recursively) → bytes, except report.html (it carries the run's date). */
async function snapshot(out: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (sub: string) => {
    for (const entry of await readdir(join(out, sub), { withFileTypes: true })) {
      const rel = sub === "" ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory()) await walk(rel);
      else if (rel !== "report.html") files.set(rel, await readFile(join(out, rel)));
    }
  };
  await walk("");
  return files;
}

function base(out: string, extra: Partial<InferenceOptions> = {}): InferenceOptions {
  return { models: [modelA], input: data, out, engine: "onnx", threads: 1, ...extra };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(InferError);
    return (err as InferError).code;
  }
  return "resolved";
}

describe("runInference: idempotent re-runs", () => {
  it("skips done cases with byte-identical files; redoes crash leftovers identically", async () => {
    const out = join(dir, "idem");
    const first = await runInference(base(out, { overlays: true }));
    expect(first.counts).toEqual({ cases: 4, done: 4, skipped: 0, failed: 0 });
    expect(first.engine).toBe("onnx");
    expect(first.backend).toBe("cpu");
    const before = await snapshot(out);
    for (const id of IDS) {
      for (const f of [`${id}.nii.gz`, `${id}.json`, `overlays/${id}_prediction.png`]) {
        expect(before.has(f), f).toBe(true);
      }
    }
    expect(before.has("metrics.json") && before.has("metrics.csv")).toBe(true);
    const html = await readFile(join(out, "report.html"), "utf8");
    for (const id of IDS) expect(html).toContain(id);

    const second = await runInference(base(out, { overlays: true }));
    expect(second.counts).toEqual({ cases: 4, done: 0, skipped: 4, failed: 0 });
    expect(second.cases.map((c) => c.dice)).toEqual(first.cases.map((c) => c.dice));
    expect(await snapshot(out)).toEqual(before);

    // Crash leftovers: a case whose record never landed (plus the writer's temp file), a
    // truncated segmentation under a complete record, and a missing overlay.
    await rm(join(out, "Phantom_00001.json"));
    await writeFile(join(out, "Phantom_00001.nii.gz.tmp-999-abcdef"), "partial");
    await truncate(join(out, "Phantom_00002.nii.gz"), 100);
    await rm(join(out, "overlays/Phantom_00003_prediction.png"));
    await writeFile(join(out, "overlays/.Phantom_00003_prediction.png.0badc0ffee00.tmp"), "x");
    // ... and the same under the one temp-name scheme of @brats/kit/fs (other host, other process).
    const leftover = ".Phantom_00001.nii.gz.tmp-node-7.example.org-999-0123456789ab";
    await writeFile(join(out, leftover), "partial");
    const third = await runInference(base(out, { overlays: true }));
    expect(third.cases.map((c) => c.status)).toEqual(["skipped", "done", "done", "done"]);
    expect(existsSync(join(out, "Phantom_00001.nii.gz.tmp-999-abcdef"))).toBe(false);
    expect(existsSync(join(out, leftover))).toBe(false);
    expect(existsSync(join(out, "overlays/.Phantom_00003_prediction.png.0badc0ffee00.tmp"))).toBe(
      false,
    );
    const after = await snapshot(out);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [file, bytes] of before) {
      if (/^Phantom_0000[123]\.json$/.test(file)) continue; // their time and date are new
      expect(after.get(file)!.equals(bytes), file).toBe(true);
    }
    // Records of redone cases differ only in provenance.
    for (const id of ["Phantom_00001", "Phantom_00002"]) {
      const strip = (b: Buffer) => {
        const r = JSON.parse(b.toString()) as Record<string, unknown>;
        delete r.seconds;
        delete r.date;
        return r;
      };
      expect(strip(after.get(`${id}.json`)!)).toEqual(strip(before.get(`${id}.json`)!));
    }
  });

  it("refuses OUT made with other settings (SETTINGS_CONFLICT) unless overwrite", async () => {
    const out = join(dir, "conflict");
    await runInference(base(out, { report: false }));
    expect(await codeOf(runInference(base(out, { tta: true, report: false })))).toBe(
      "SETTINGS_CONFLICT",
    );
    expect(await codeOf(runInference(base(out, { models: [modelB], report: false })))).toBe(
      "SETTINGS_CONFLICT",
    );
    expect(await codeOf(runInference(base(out, { overlap: 0.25, report: false })))).toBe(
      "SETTINGS_CONFLICT",
    );
    const redone = await runInference(
      base(out, { minComponent: 5, overwrite: true, report: false }),
    );
    expect(redone.counts.done).toBe(4);
    const record = await readRecord(join(out, "Phantom_00000.json"));
    expect(record?.settings.minComponent).toBe(5);
    // Asking for overlays later recomputes (identical segmentation) and adds them.
    const seg = await readFile(join(out, "Phantom_00000.nii.gz"));
    const withOverlays = await runInference(
      base(out, { minComponent: 5, overlays: true, report: false }),
    );
    expect(withOverlays.counts.done).toBe(4);
    expect((await readFile(join(out, "Phantom_00000.nii.gz"))).equals(seg)).toBe(true);
    expect(existsSync(join(out, "overlays/Phantom_00000_prediction.png"))).toBe(true);
  });
});

describe("runInference: --window", () => {
  it("runs larger windows than the training patch, records them, and refuses sizes the network cannot take", async () => {
    const out = join(dir, "window");
    const done = await runInference(base(out, { window: 32, report: false }));
    expect(done.counts.done).toBe(4);
    const record = await readRecord(join(out, "Phantom_00000.json"));
    expect(record?.settings.windowSize).toEqual([32, 32, 32]);
    // Another window is another setting.
    expect(await codeOf(runInference(base(out, { window: 16, report: false })))).toBe(
      "SETTINGS_CONFLICT",
    );
    // Depth 2: windows must be divisible by 4.
    const error: unknown = await runInference(base(join(dir, "window-bad"), { window: 30 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InferError);
    expect((error as InferError).code).toBe("BAD_OPTION");
    expect((error as Error).message).toBe(
      "--window must be divisible by 2^depth = 4 for this model, got 30 (try 32)",
    );
    expect(await codeOf(runInference(base(join(dir, "window-zero"), { window: 0 })))).toBe(
      "BAD_OPTION",
    );
  });
});

describe("runInference: shards", () => {
  it("shards sharing OUT each do their cases; together every case once; metrics cover OUT", async () => {
    const out = join(dir, "shards");
    const seen: string[] = [];
    for (let index = 0; index < 3; index++) {
      const shard = { index, count: 3 };
      const s = await runInference(base(out, { shard, report: false }));
      const expected = shardCases(
        IDS.map((id) => ({ id })),
        shard,
      ).map((c) => c.id);
      expect(s.cases.map((c) => c.id)).toEqual(expected);
      expect(s.cases.every((c) => c.status === "done")).toBe(true);
      seen.push(...expected);
      // metrics.json holds every case OUT has so far.
      const report = JSON.parse(await readFile(s.metrics!.json, "utf8")) as EvaluationReport;
      expect(report.cases.map((c) => c.case)).toEqual([...seen].sort());
    }
    expect([...seen].sort()).toEqual(IDS);
    // The same segmentation as an unsharded run.
    const whole = join(dir, "idem");
    for (const id of IDS) {
      const a = await readFile(join(out, `${id}.nii.gz`));
      const b = await readFile(join(whole, `${id}.nii.gz`));
      expect(a.equals(b), id).toBe(true);
    }
    const empty = await runInference(base(out, { shard: { index: 5, count: 7 }, report: false }));
    expect(empty.counts.cases).toBe(0);
  });
});

describe("runInference: ensembles, TTA and post-processing", () => {
  const windowTotals = (events: InferenceEvent[]) =>
    events.flatMap((e) => (e.type === "windows" && e.done === e.total ? [e.total] : []));

  it("an ensemble of one model twice equals the model; two models count windows twice", async () => {
    const single = join(dir, "idem");
    const twice = join(dir, "ens-aa");
    const events: InferenceEvent[] = [];
    const s = await runInference(base(twice, { models: [modelA, modelA], report: false }), {
      onEvent: (e) => events.push(e),
    });
    expect(s.models).toHaveLength(2);
    for (const id of IDS) {
      const a = await readFile(join(single, `${id}.nii.gz`));
      expect((await readFile(join(twice, `${id}.nii.gz`))).equals(a), id).toBe(true);
    }
    const one: InferenceEvent[] = [];
    await runInference(base(join(dir, "one"), { input: join(data, IDS[0]!), report: false }), {
      onEvent: (e) => one.push(e),
    });
    expect(windowTotals(events)[0]).toBe(2 * windowTotals(one)[0]!);

    const ab = await runInference(base(join(dir, "ens-ab"), { models: [modelA, modelB] }));
    expect(ab.counts.done).toBe(4);
    expect(ab.settings.models).toHaveLength(2);
    expect(ab.settings.models[0]).not.toBe(ab.settings.models[1]);
  });

  it("TTA runs 8 passes per window", async () => {
    const events: InferenceEvent[] = [];
    const s = await runInference(
      base(join(dir, "tta"), { input: join(data, IDS[0]!), tta: true, report: false }),
      { onEvent: (e) => events.push(e) },
    );
    expect(s.settings.tta).toBe(true);
    const plain: InferenceEvent[] = [];
    await runInference(base(join(dir, "plain"), { input: join(data, IDS[0]!), report: false }), {
      onEvent: (e) => plain.push(e),
    });
    expect(windowTotals(events)[0]).toBe(8 * windowTotals(plain)[0]!);
  });

  it("a region-output model (sigmoid WT/TC/ET) gives BraTS labels", async () => {
    const regions = await tinyOnnxModel(join(dir, "models"), "regions", { outputs: "regions" });
    const out = join(dir, "regions");
    const s = await runInference(base(out, { models: [regions], input: join(data, IDS[0]!) }));
    expect(s.counts.done).toBe(1);
    const seg = await readNifti(join(out, `${IDS[0]}.nii.gz`));
    for (const v of new Set(seg.data as Uint8Array)) expect([0, 1, 2, 4]).toContain(v);
  });

  it("post-processing flags reach the labels: a huge --min-component removes everything", async () => {
    const out = join(dir, "post");
    const s = await runInference(
      base(out, {
        input: join(data, IDS[0]!),
        minComponent: 10 ** 9,
        etThreshold: 10 ** 9,
        report: false,
      }),
    );
    expect(s.cases[0]!.volumesMl).toEqual({ WT: 0, TC: 0, ET: 0 });
    const seg = await readNifti(join(out, `${IDS[0]}.nii.gz`));
    expect((seg.data as Uint8Array).every((v) => v === 0)).toBe(true);
  });
});

describe("runInference: bad input", () => {
  it("reports codes: no cases, missing model, no metadata, mismatched ensemble, bad options", async () => {
    const empty = join(dir, "empty");
    await writeFile(join(dir, "not-a-model.txt"), "x");
    await import("node:fs/promises").then((fs) => fs.mkdir(empty, { recursive: true }));
    const out = join(dir, "bad");
    expect(await codeOf(runInference(base(out, { input: empty })))).toBe("NO_CASES");
    expect(await codeOf(runInference(base(out, { input: join(dir, "nope") })))).toBe("NOT_FOUND");
    expect(await codeOf(runInference(base(out, { models: [join(dir, "nope.onnx")] })))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(runInference(base(out, { models: [join(dir, "not-a-model.txt")] })))).toBe(
      "BAD_MODEL",
    );
    expect(await codeOf(runInference(base(out, { engine: "tfjs" })))).toBe("BAD_OPTION");
    expect(await codeOf(runInference(base(out, { overlap: 1 })))).toBe("BAD_OPTION");
    expect(await codeOf(runInference(base(out, { minComponent: 0 })))).toBe("BAD_OPTION");
    expect(await codeOf(runInference(base(out, { backend: "wasm" })))).toBe("BAD_OPTION");

    // An ONNX file without brats metadata, and one with other modalities.
    await setupTfjs({ backend: "cpu" });
    const bare = createUNet3D({ depth: 2, baseFilters: 2, dropout: 0, seed: 1 });
    const barePath = join(dir, "models", "bare.onnx");
    await saveOnnx(bare, barePath);
    bare.dispose();
    expect(await codeOf(runInference(base(out, { models: [barePath] })))).toBe("BAD_MODEL");
    const two = await tinyOnnxModel(join(dir, "models"), "two", { modalities: ["flair", "t1"] });
    expect(await codeOf(runInference(base(out, { models: [modelA, two] })))).toBe("MODEL_MISMATCH");
  });

  it("a case that fails is reported and the others are still done", async () => {
    const broken = join(dir, "broken");
    await phantomDataset(broken, 2);
    await truncate(join(broken, "Phantom_00001", "Phantom_00001_t1.nii.gz"), 50);
    const s = await runInference(base(join(dir, "broken-out"), { input: broken }));
    expect(s.cases.map((c) => c.status)).toEqual(["done", "failed"]);
    // @brats/data wraps the reader's TRUNCATED in its IO code.
    expect(s.cases[1]!.error?.code).toBe("IO");
    expect(existsSync(join(dir, "broken-out", "Phantom_00001.json"))).toBe(false);
    const report = JSON.parse(await readFile(s.metrics!.json, "utf8")) as EvaluationReport;
    expect(report.cases.map((c) => c.case)).toEqual(["Phantom_00000"]);
    expect(report.failed.map((f) => [f.case, f.error.code])).toEqual([["Phantom_00001", "IO"]]);
  });
});

describe("runInference: nothing of the input is ever overwritten", () => {
  it("refuses an OUT where one case's segmentation is another case's input (OUTPUT_IS_INPUT)", async () => {
    // A flat folder with cases P (P_t1.nii.gz is its T1) and P_t1 (whose segmentation is P_t1.nii.gz).
    const flat = join(dir, "flat");
    await mkdir(flat);
    const source = join(data, IDS[0]!);
    for (const id of ["P", "P_t1"]) {
      for (const m of ["flair", "t1", "t1ce", "t2"]) {
        await copyFile(join(source, `${IDS[0]}_${m}.nii.gz`), join(flat, `${id}_${m}.nii.gz`));
      }
    }
    const before = await snapshot(flat);
    const error = await runInference(base(flat, { input: flat })).catch((e: InferError) => e);
    expect(error).toBeInstanceOf(InferError);
    expect((error as InferError).code).toBe("OUTPUT_IS_INPUT");
    expect((error as InferError).message).toMatch(/P_t1\.nii\.gz, the t1 of case P/);
    expect(await snapshot(flat)).toEqual(before);
    // The same input into its own OUT is fine.
    const elsewhere = await runInference(
      base(join(dir, "flat-out"), { input: flat, report: false }),
    );
    expect(elsewhere.counts).toEqual({ cases: 2, done: 2, skipped: 0, failed: 0 });
  });

  it("an --out that cannot be a folder fails before any work (NOT_FOUND)", async () => {
    const started = performance.now();
    expect(await codeOf(runInference(base("/proc/brats-infer-test/out")))).toBe("NOT_FOUND");
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    expect(await codeOf(runInference(base(join(file, "out"))))).toBe("NOT_FOUND");
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe("runInference: workers sharing OUT claim cases", () => {
  const fast = { heartbeatSeconds: 0.05, staleSeconds: 0.5 };

  it("two workers started alike split the cases: each case done once, both end with every case", async () => {
    const out = join(dir, "claimed");
    const started: string[][] = [[], []];
    const run = (w: 0 | 1) =>
      runInference(base(out, { report: false, claims: fast }), {
        onEvent: (e) => {
          if (e.type === "case-start") started[w]!.push(e.id);
        },
      });
    const [a, b] = await Promise.all([run(0), run(1)]);
    const all = [...started[0]!, ...started[1]!].sort();
    // Each case segmented exactly once between the two.
    expect(all).toEqual(IDS);
    for (const s of [a, b]) {
      expect(s.counts.cases).toBe(4);
      expect(s.counts.failed).toBe(0);
      expect(s.counts.done + s.counts.skipped).toBe(4);
    }
    expect(a.counts.done + b.counts.done).toBe(4);
    // Claims are released: none left behind.
    expect(await readdir(join(out, CLAIMS_DIR))).toEqual([]);
  });

  it("takes over the claim of a killed worker (dead pid) at once, of another machine once stale", async () => {
    const out = join(dir, "takeover");
    await mkdir(join(out, CLAIMS_DIR), { recursive: true });
    // A worker of this machine killed mid-case: its pid is gone.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    const claim = (host: string, pid: number) =>
      JSON.stringify({ host, pid, token: "0123456789abcdef", started: new Date().toISOString() });
    await writeFile(
      join(out, CLAIMS_DIR, `${IDS[0]}.claim`),
      claim(tempHostName(), Number(dead.stdout)),
    );
    // A worker of another machine that stopped touching its claim.
    const remote = join(out, CLAIMS_DIR, `${IDS[1]}.claim`);
    await writeFile(remote, claim("node-7.example.org", 4242));
    const t0 = performance.now();
    const summary = await runInference(base(out, { report: false, claims: fast }));
    expect(summary.counts).toEqual({ cases: 4, done: 4, skipped: 0, failed: 0 });
    // The remote claim was waited for until stale (0.5 s), not ignored.
    expect(performance.now() - t0).toBeGreaterThan(400);
    expect(await readdir(join(out, CLAIMS_DIR))).toEqual([]);
  });

  it("leaves a live worker's case alone until it is done", async () => {
    const out = join(dir, "live");
    await mkdir(join(out, CLAIMS_DIR), { recursive: true });
    const path = join(out, CLAIMS_DIR, `${IDS[2]}.claim`);
    // Held by a live process of this machine (this one's parent, say), never stale by pid.
    await writeFile(
      path,
      JSON.stringify({
        host: tempHostName(),
        pid: process.ppid,
        token: "feedfacefeedface",
        started: "",
      }),
    );
    const done = runInference(base(out, { report: false, claims: fast }));
    // Release it after a while, as its owner finishing would.
    await new Promise((r) => setTimeout(r, 800));
    expect(existsSync(path)).toBe(true); // not taken over
    await rm(path);
    const summary = await done;
    expect(summary.counts.done).toBe(4);
  });
});
