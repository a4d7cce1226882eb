// Agreement with an independent reference: scripts/reference_metrics.py computes every metric with
// scipy (binary_erosion, distance_transform_edt, np.percentile, as medpy/nnU-Net do) for seeded
// random label volumes and for real peer predictions; its output is src/__golden__/reference.json.
// Overlap ratios must agree within 1e-9, distances within 1e-6 mm.
// The real predictions are research data that is never committed: they are read from
// <repo>/../shared/data and that part skips, saying so, when the folder is absent.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { labelConvention, REGION_NAMES, type LabelConvention } from "@brats/conventions";
import { describe, expect, it } from "vitest";
import { readLabelVolume } from "./read.js";
import {
  computeMetrics,
  evaluateCase,
  type CaseMetrics,
  type EvaluateOptions,
  type LabelVolume,
  type MetricSet,
  type ScalarMetricName,
} from "./index.js";

/** A MetricSet as JSON holds it: NaN is null. */
type JsonMetricSet = Record<ScalarMetricName, number | null>;

interface ReferenceCase {
  regions: Record<string, JsonMetricSet>;
  labels: Record<string, JsonMetricSet>;
  unknownLabels?: { pred: number[]; gt: number[] };
  shape: [number, number, number];
  spacing: [number, number, number];
  options: {
    convention: LabelConvention;
    labelMap?: Record<string, number>;
    emptyPolicy?: "brats" | "nan";
    emptyDistance?: number;
  };
}

interface RandomCase extends ReferenceCase {
  name: string;
  /** [value, run, value, run, ...] over the Fortran-order flattening. */
  pred: number[];
  gt: number[];
}

interface RealCase extends ReferenceCase {
  case: string;
  /** Relative to <repo>/../shared/data. */
  pred: string;
  gt: string;
}

interface Reference {
  emptyDistance: number;
  random: RandomCase[];
  real: RealCase[];
  realSkipped?: string;
}

const reference = JSON.parse(
  readFileSync(new URL("./__golden__/reference.json", import.meta.url), "utf8"),
) as Reference;

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sharedData = join(repoRoot, "..", "shared", "data");

/** Overlap ratios and volumes: 1e-9; distances (mm): 1e-6. */
const TOLERANCE: Record<ScalarMetricName, number> = {
  dice: 1e-9,
  jaccard: 1e-9,
  precision: 1e-9,
  sensitivity: 1e-9,
  specificity: 1e-9,
  volumePredMl: 1e-9,
  volumeGtMl: 1e-9,
  hd95: 1e-6,
  hd: 1e-6,
  assd: 1e-6,
};
const METRICS = Object.keys(TOLERANCE) as ScalarMetricName[];

/** Every metric that disagrees, as readable lines (an empty list when all agree). */
function disagreements(where: string, got: MetricSet, want: JsonMetricSet): string[] {
  const out: string[] = [];
  for (const metric of METRICS) {
    const g = got[metric];
    const w = want[metric];
    const ok = w === null ? Number.isNaN(g) : Math.abs(g - w) <= TOLERANCE[metric];
    if (!ok) out.push(`${where}.${metric}: got ${g}, reference ${w}`);
  }
  return out;
}

function compareCase(got: CaseMetrics, want: ReferenceCase): string[] {
  const out: string[] = [];
  for (const region of REGION_NAMES) {
    out.push(...disagreements(region, got.regions[region], want.regions[region]!));
  }
  expect(Object.keys(got.labels).sort()).toEqual(Object.keys(want.labels).sort());
  for (const [label, metrics] of Object.entries(want.labels)) {
    out.push(...disagreements(`label ${label}`, got.labels[label]!, metrics));
  }
  return out;
}

function optionsOf(c: ReferenceCase): EvaluateOptions {
  const { labelMap, ...rest } = c.options;
  if (labelMap === undefined) return rest;
  const map: Record<number, number> = {};
  for (const [from, to] of Object.entries(labelMap)) map[Number(from)] = to;
  return { ...rest, labelMap: map };
}

/** The volume stored as run-lengths, in the array type the test asks for. */
function decodeRuns(runs: number[], type: (typeof ARRAY_TYPES)[number]): LabelVolume {
  let n = 0;
  for (let i = 1; i < runs.length; i += 2) n += runs[i]!;
  const values = new Float64Array(n);
  let at = 0;
  for (let i = 0; i < runs.length; i += 2) {
    values.fill(runs[i]!, at, at + runs[i + 1]!);
    at += runs[i + 1]!;
  }
  switch (type) {
    case "Uint8Array":
      return Uint8Array.from(values);
    case "Int16Array":
      return Int16Array.from(values);
    case "Int32Array":
      return Int32Array.from(values);
    case "Float32Array":
      return Float32Array.from(values);
    case "Float64Array":
      return values;
    case "number[]":
      return Array.from(values);
  }
}

// evaluateCase takes any integer-valued array; the cases rotate through the common ones.
const ARRAY_TYPES = [
  "Uint8Array",
  "Int16Array",
  "Float32Array",
  "number[]",
  "Int32Array",
  "Float64Array",
] as const;

/** Binary masks of a label set, with the label map applied to the prediction as evaluateCase does. */
function regionMasks(
  pred: LabelVolume,
  gt: LabelVolume,
  members: readonly number[],
  labelMap: Record<number, number> | undefined,
): { pred: Uint8Array; gt: Uint8Array } {
  const inside = new Set(members);
  const p = new Uint8Array(pred.length);
  const g = new Uint8Array(gt.length);
  for (let i = 0; i < pred.length; i++) {
    const mapped = labelMap?.[pred[i]!] ?? pred[i]!;
    p[i] = inside.has(mapped) ? 1 : 0;
    g[i] = inside.has(gt[i]!) ? 1 : 0;
  }
  return { pred: p, gt: g };
}

describe("reference.json", () => {
  it("covers every convention, both policies, label maps, empty masks and degenerate shapes", () => {
    const names = reference.random.map((c) => c.name);
    expect(names.length).toBeGreaterThanOrEqual(40);
    const conventions = new Set(reference.random.map((c) => c.options.convention));
    expect([...conventions].sort()).toEqual(["brats2015", "brats2021", "brats2023"]);
    expect(reference.random.some((c) => c.options.emptyPolicy === "nan")).toBe(true);
    expect(reference.random.some((c) => c.options.labelMap !== undefined)).toBe(true);
    expect(reference.random.some((c) => c.shape.includes(1))).toBe(true);
    expect(reference.random.some((c) => new Set(c.spacing).size === 3)).toBe(true);
    expect(reference.emptyDistance).toBe(373.12866);
  });
});

describe("evaluateCase agrees with the scipy reference on random label volumes", () => {
  it.each(
    reference.random.map((c, i) => [c.name, c, ARRAY_TYPES[i % ARRAY_TYPES.length]!] as const),
  )("%s", (_name, c, type) => {
    const pred = decodeRuns(c.pred, type);
    const gt = decodeRuns(c.gt, type);
    expect(pred.length).toBe(c.shape[0] * c.shape[1] * c.shape[2]);
    const got = evaluateCase(pred, gt, c.shape, c.spacing, optionsOf(c));
    expect(compareCase(got, c)).toEqual([]);
    expect(got.unknownLabels).toEqual(c.unknownLabels);
  });
});

describe("computeMetrics agrees with the scipy reference on each region's binary masks", () => {
  it.each(reference.random.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const options = optionsOf(c);
    const { labelMap, convention, ...metricOptions } = options;
    const info = labelConvention(convention ?? "brats2021");
    const pred = decodeRuns(c.pred, "Uint8Array");
    const gt = decodeRuns(c.gt, "Uint8Array");
    const problems: string[] = [];
    for (const region of REGION_NAMES) {
      const masks = regionMasks(pred, gt, info.regions[region], labelMap);
      const got = computeMetrics(masks.pred, masks.gt, c.shape, c.spacing, metricOptions);
      problems.push(...disagreements(region, got, c.regions[region]!));
    }
    expect(problems).toEqual([]);
  });
});

const realPresent =
  existsSync(join(sharedData, "peer-predictions")) && existsSync(join(sharedData, "brats"));
if (!realPresent) {
  console.warn(
    `reference.test.ts: real-prediction comparison skipped, ${sharedData} is absent ` +
      "(the BraTS volumes and peer predictions are not redistributed)",
  );
}

describe.skipIf(!realPresent)(
  "evaluateCase agrees with the scipy reference on real predictions",
  () => {
    it("the reference holds the four deepbrainseg cases, raw and with 3→4", () => {
      expect(reference.realSkipped).toBeUndefined();
      expect(reference.real).toHaveLength(8);
    });

    // Read each pair once; the raw and the 3→4 entries share it.
    const loaded = new Map<
      string,
      Promise<
        [Awaited<ReturnType<typeof readLabelVolume>>, Awaited<ReturnType<typeof readLabelVolume>>]
      >
    >();
    const load = (c: RealCase) => {
      let pair = loaded.get(c.case);
      if (pair === undefined) {
        pair = Promise.all([
          readLabelVolume(join(sharedData, c.pred)),
          readLabelVolume(join(sharedData, c.gt)),
        ]);
        loaded.set(c.case, pair);
      }
      return pair;
    };

    it.each(
      reference.real.map(
        (c) => [`${c.case}${c.options.labelMap ? " (3→4)" : " (raw)"}`, c] as const,
      ),
    )("%s", async (_name, c) => {
      const [pred, gt] = await load(c);
      expect([...gt.shape]).toEqual(c.shape);
      expect([...pred.shape]).toEqual(c.shape);
      expect([...gt.spacing]).toEqual(c.spacing);
      const got = evaluateCase(pred.data, gt.data, gt.shape, gt.spacing, optionsOf(c));
      expect(compareCase(got, c)).toEqual([]);
      expect(got.unknownLabels).toEqual(c.unknownLabels);
    });
  },
);
