import { describe, expect, it } from "vitest";
import { evaluateCase, METRIC_NAMES } from "./index.js";
import { evaluationReport, reportToCsv, reportToJson, scoredCase } from "./report.js";

// 4×1×1 volumes: pred WT = {0,1}, gt WT = {1,2} → Dice WT = 2·1/(2+2) = 0.5.
const shape = [4, 1, 1] as const;
const spacing = [1, 1, 1] as const;
const pred = new Uint8Array([2, 2, 0, 0]);
const gt = new Uint8Array([0, 2, 2, 0]);

describe("evaluationReport", () => {
  it("fills defaults and summarises the cases", () => {
    const c = scoredCase("A", evaluateCase(pred, gt, [...shape], [...spacing]));
    const report = evaluationReport([c]);
    expect(report.convention).toBe("brats2021");
    expect(report.labelMap).toBeNull();
    expect(report.unpaired).toEqual({ pred: [], gt: [] });
    expect(report.failed).toEqual([]);
    expect(report.cases[0]!.regions.WT.dice).toBeCloseTo(0.5, 12);
    expect(report.summary.WT.dice.mean).toBeCloseTo(0.5, 12);
    expect(report.summary.WT.dice.n).toBe(1);
    expect("unknownLabels" in c).toBe(false);
  });

  it("keeps label maps with string keys and unknown labels when present", () => {
    const withThree = new Uint8Array([3, 2, 0, 0]);
    const c = scoredCase("B", evaluateCase(withThree, gt, [...shape], [...spacing]));
    expect(c.unknownLabels).toEqual({ pred: [3], gt: [] });
    const report = evaluationReport([c], { labelMap: { 3: 4 }, convention: "brats2023" });
    expect(report.labelMap).toEqual({ "3": 4 });
    expect(report.convention).toBe("brats2023");
  });
});

describe("reportToJson / reportToCsv", () => {
  it("writes non-finite numbers as null in JSON and as empty CSV cells", () => {
    // Set non-finite values by hand: the writers must not depend on which metric produced them.
    const c = scoredCase("C,1", evaluateCase(pred, gt, [...shape], [...spacing]));
    c.regions.WT.hd95 = Number.NaN;
    c.regions.TC.hd = Number.POSITIVE_INFINITY;
    const json = reportToJson(evaluationReport([c]));
    expect(json.endsWith("}\n")).toBe(true);
    const parsed = JSON.parse(json) as {
      cases: { regions: Record<string, { hd95: unknown; hd: unknown }> }[];
    };
    expect(parsed.cases[0]!.regions.WT!.hd95).toBeNull();
    expect(parsed.cases[0]!.regions.TC!.hd).toBeNull();

    const lines = reportToCsv([c]).trimEnd().split("\n");
    expect(lines[0]).toBe(["case", "kind", "name", ...METRIC_NAMES].join(","));
    // 3 regions + the labels of brats2021 (1, 2, 4).
    expect(lines).toHaveLength(1 + 3 + 3);
    const wt = lines[1]!;
    expect(wt.startsWith('"C,1",region,WT,0.5,')).toBe(true);
    const hd95Column = 3 + METRIC_NAMES.indexOf("hd95");
    // Split after the quoted id: the remaining cells have no commas.
    const cells = wt.slice('"C,1",'.length).split(",");
    expect(cells[hd95Column - 1]).toBe("");
    expect(lines[4]!.startsWith('"C,1",label,1,')).toBe(true);
  });
});
