import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import {
  argValue,
  childResult,
  emit,
  jsonLines,
  loadAverage,
  loadNote,
  median,
  peakRssMiB,
  reportResult,
  rssMiB,
  runScript,
} from "./bench.js";

/** What `fn` writes to process.stdout. */
function stdoutOf(fn: () => void): string {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe("emit", () => {
  it.each([
    [
      { name: "a.b", impl: "brats", unit: "ms", value: 1.5 },
      '{"name":"a.b","impl":"brats","unit":"ms","value":1.5}\n',
    ],
    [
      { name: "x", impl: "scipy", unit: "s", value: NaN, case: "c1", note: "skipped" },
      '{"name":"x","impl":"scipy","unit":"s","value":null,"case":"c1","note":"skipped"}\n',
    ],
    [
      { name: "p", impl: "brats", unit: "ms", value: 2, shape: [64, 64, 64], runs: [2, 3] },
      '{"name":"p","impl":"brats","unit":"ms","value":2,"shape":[64,64,64],"runs":[2,3]}\n',
    ],
    [
      { name: "n", impl: "pytorch", unit: "GFLOP/s", value: null, note: "no torch" },
      '{"name":"n","impl":"pytorch","unit":"GFLOP/s","value":null,"note":"no torch"}\n',
    ],
  ])("prints %j as one JSON line, keys in order", (line, text) => {
    expect(stdoutOf(() => emit(line))).toBe(text);
  });
});

describe("median", () => {
  it.each([
    [[3], 3],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5, 5, 1, 9], 5],
    [[-1, -3], -2],
  ])("median(%j) = %d", (values, m) => {
    expect(median(values)).toBe(m);
  });

  it("is NaN for no values and leaves its input alone", () => {
    expect(median([])).toBeNaN();
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe("memory and load", () => {
  it("reports this process's peak and current RSS in MiB", () => {
    const peak = peakRssMiB();
    const now = rssMiB();
    expect(now).toBeGreaterThan(10);
    expect(peak).toBeGreaterThanOrEqual(now - 1); // sampled at different moments
    expect(peak).toBeLessThan(64 * 1024);
  });

  it("formats the load average for notes", () => {
    expect(loadAverage()).toMatch(/^\d+\.\d\d$/);
    expect(loadNote()).toMatch(/^load average \d+\.\d\d on a shared 2-core machine$/);
  });
});

describe("argValue", () => {
  it.each([
    [["--seconds", "4"], "--seconds", "4"],
    [["--a", "1", "--seconds", "9"], "--seconds", "9"],
    [["--seconds"], "--seconds", undefined],
    [[], "--seconds", undefined],
  ])("%j %s → %s", (args, flag, value) => {
    expect(argValue(args, flag)).toBe(value);
  });
});

describe("children", () => {
  const dir = mkdtempSync(join(tmpdir(), "brats-kit-bench-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };
  const reporting = script(
    "child.mjs",
    `const [a, b] = process.argv.slice(2);
console.log("noise before");
console.log(JSON.stringify({ name: "x", impl: "brats", unit: "s", value: 1 }));
process.stdout.write("RESULT " + JSON.stringify({ sum: Number(a) + Number(b) }) + "\\n");`,
  );

  it("childResult returns the RESULT of a child", () => {
    expect(childResult<{ sum: number }>("adder", reporting, ["2", "3"])).toEqual({ sum: 5 });
  });

  it("runScript returns the lines, and jsonLines the measurements among them", () => {
    const run = runScript(reporting, ["1", "1"]);
    expect(run.status).toBe(0);
    expect(run.lines[0]).toBe("noise before");
    expect(jsonLines(run.stdout)).toEqual([{ name: "x", impl: "brats", unit: "s", value: 1 }]);
  });

  it.each([
    [
      "exits non-zero",
      'console.error("it broke"); process.exit(3);',
      /^fails failed \(status 3\): it broke/,
    ],
    ["reports nothing", 'console.log("no result");', /^fails failed \(status 0\): $/],
  ])("childResult throws when the child %s", (_, body, message) => {
    const path = script(`bad-${body.length}.mjs`, body);
    expect(() => childResult("fails", path, [])).toThrow(message);
  });

  it("runs other programs with just the script and its arguments", () => {
    const run = runScript("-e", ['process.stdout.write(process.argv.slice(1).join(","))', "z"], {
      command: process.execPath,
    });
    expect(run.stdout).toBe("z");
  });

  it("gives a Node child the execArgv asked for", () => {
    const echo = script("argv.mjs", "console.log(JSON.stringify(process.execArgv));");
    expect(runScript(echo, [], { execArgv: ["--no-warnings"] }).lines[0]).toBe('["--no-warnings"]');
  });

  it("reportResult prints the line childResult reads", () => {
    expect(stdoutOf(() => reportResult({ a: [1, 2] }))).toBe('RESULT {"a":[1,2]}\n');
  });
});
