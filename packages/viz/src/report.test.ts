import { describe, expect, it } from "vitest";
import { encodePng } from "./png.js";
import { createRgba } from "./rgba.js";
import {
  base64Encode,
  escapeHtml,
  renderReportHtml,
  reportHref,
  type InferenceReport,
} from "./report.js";
import { TRICKY_ID, base64, sampleReport } from "./report-test-utils.js";

/** The text of the <td> cells of one <tr> selected by an attribute, keyed "metric/region". */
function rowCells(html: string, rowAttr: string): Record<string, string> {
  const row = new RegExp(`<tr ${rowAttr}>(.*?)</tr>`).exec(html);
  if (row === null) throw new Error(`no row ${rowAttr}`);
  const out: Record<string, string> = {};
  for (const m of row[1]!.matchAll(
    /<td data-metric="(\w+)" data-region="(\w+)"[^>]*>([^<]*)<\/td>/g,
  )) {
    out[`${m[1]}/${m[2]}`] = m[3]!;
  }
  return out;
}

function minimal(overrides: Partial<InferenceReport> = {}): InferenceReport {
  return {
    date: "2026-11-26",
    engine: "tfjs",
    backend: "wasm",
    models: [{ name: "m" }],
    cases: [{ id: "c1" }],
    ...overrides,
  };
}

describe("escapeHtml", () => {
  it.each([
    ["plain", "plain"],
    ["a<b>c", "a&#60;b&#62;c"],
    ["x & y", "x &#38; y"],
    [`"double" 'single'`, "&#34;double&#34; &#39;single&#39;"],
    ["&#60;", "&#38;#60;"],
    ["é ✓ 中", "é ✓ 中"],
  ])("%j → %j", (text, html) => {
    expect(escapeHtml(text)).toBe(html);
  });
});

describe("reportHref", () => {
  it.each([
    ["BraTS2021_00001.nii.gz", "BraTS2021_00001.nii.gz"],
    ["runs/fold 0/MODEL_CARD.md", "runs/fold%200/MODEL_CARD.md"],
    ["../runs/a#b?c%d.md", "../runs/a%23b%3Fc%25d.md"],
    ["/models/run 1/MODEL_CARD.md", "file:///models/run%201/MODEL_CARD.md"],
    ["C:\\runs\\x y\\MODEL_CARD.md", "file:///C:/runs/x%20y/MODEL_CARD.md"],
    ["https://example.org/a b", "https://example.org/a%20b"],
    ["file:///tmp/x.nii.gz", "file:///tmp/x.nii.gz"],
    // not a URL scheme we link: kept as a (relative) file name with the colon encoded
    ["javascript:alert(1)", "javascript%3Aalert(1)"],
    ["data:text/html,<b>", "data%3Atext/html%2C%3Cb%3E"],
    ["", null],
    ["a\nb", null],
  ])("%j → %j", (target, href) => {
    expect(reportHref(target)).toBe(href);
  });
});

describe("base64Encode", () => {
  it.each([0, 1, 2, 3, 4, 5, 255, 256, 10_000])("matches Buffer for %i bytes", (n) => {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
    expect(base64Encode(bytes)).toBe(Buffer.from(bytes).toString("base64"));
  });
});

describe("renderReportHtml", () => {
  const html = renderReportHtml(sampleReport());

  it("is one self-contained page: a CSP that forbids requests, every image a data: PNG", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain(
      `content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"`,
    );
    const srcs = [...html.matchAll(/\ssrc="([^"]*)"/g)].map((m) => m[1]!);
    expect(srcs).toHaveLength(3);
    for (const src of srcs) expect(src.startsWith("data:image/png;base64,")).toBe(true);
    expect(html).not.toMatch(/<script|<link|url\(|@import/i);
  });

  it("escapes every text: ids, titles, settings, errors", () => {
    expect(html).not.toContain(TRICKY_ID);
    expect(html).not.toContain("<b>x");
    expect(html).not.toContain("<1>");
    expect(html).not.toContain("<file>");
    const escaped = escapeHtml(TRICKY_ID);
    expect(html).toContain(`<h2>${escaped}</h2>`);
    expect(html).toContain(`data-case="${escaped}"`);
    expect(html).toContain(`<title>Run &#60;1&#62; &#38; co</title>`);
    expect(html).toContain("missing t1ce &#60;file&#62;");
  });

  it("has one metrics row per case with ground truth, linking to its section", () => {
    const rows = [
      ...html.matchAll(/<tr data-case="([^"]*)"><th scope="row"><a href="#(case-\d+)">/g),
    ];
    expect(rows.map((m) => [m[1], m[2]])).toEqual([
      ["BraTS2021_00001", "case-0"],
      ["BraTS2021_00002", "case-1"],
      ["BraTS2021_00003", "case-2"],
    ]);
    for (const [, , anchor] of rows) expect(html).toContain(`<section class="case" id="${anchor}"`);
    expect(html).toContain(
      `<section class="case" id="case-3" data-case="${escapeHtml(TRICKY_ID)}">`,
    );
    expect(rowCells(html, 'data-case="BraTS2021_00001"')).toMatchObject({
      "dice/WT": "0.9000",
      "dice/TC": "0.8000",
      "dice/ET": "n/a",
      "hd95/WT": "2.00",
      "sensitivity/TC": "0.6000",
      "specificity/ET": "0.9995",
      "precision/ET": "n/a",
    });
    expect(Object.keys(rowCells(html, 'data-case="BraTS2021_00003"'))).toHaveLength(15);
  });

  it("summarises each column over its defined values: mean and median (numpy)", () => {
    expect(rowCells(html, 'data-summary="mean"')).toMatchObject({
      "dice/WT": "0.6000",
      "dice/TC": "0.6500",
      "dice/ET": "0.4000",
      "hd95/WT": "126.88",
      "hd95/TC": "5.50",
      "sensitivity/WT": "0.5000",
      "sensitivity/ET": "0.7000",
      "precision/TC": "0.5000",
      "specificity/WT": "0.9995",
    });
    expect(rowCells(html, 'data-summary="median"')).toMatchObject({
      "dice/WT": "0.8000",
      "dice/TC": "0.6500",
      "hd95/WT": "5.50",
      "hd95/ET": "6.50",
    });
    expect(html).toMatch(/data-metric="dice" data-region="WT" data-n="3"/);
    expect(html).toMatch(/data-metric="dice" data-region="TC" data-n="2"/);
  });

  it("links the model cards and segmentation files, percent-encoded", () => {
    expect(html).toContain(`<a href="runs/fold%200/MODEL_CARD.md">model card</a>`);
    expect(html).toMatch(/<tr data-model="model.onnx">.*?<td class="card">none<\/td>/);
    expect(html).toContain(`<a href="BraTS2021_00002.nii.gz">BraTS2021_00002.nii.gz</a>`);
    const tricky = `out/${TRICKY_ID}.nii.gz`;
    expect(html).toContain(
      `<a href="${escapeHtml(reportHref(tricky)!)}">${escapeHtml(tricky)}</a>`,
    );
    expect(reportHref(tricky)).toBe("out/%3Cb%3Ex%3C/b%3E%20%26%20%22q%22%20'a'%231.nii.gz");
  });

  it("shows run info, settings, volumes, times and reuse", () => {
    expect(html).toContain('<tr><th scope="row">Engine</th><td>onnx</td></tr>');
    expect(html).toContain('<tr><th scope="row">Backend</th><td>cpu</td></tr>');
    expect(html).toContain("4 segmented (1 reused from an earlier run), 1 failed");
    expect(html).toContain(`<tr data-setting="tta"><th scope="row">tta</th><td>true</td></tr>`);
    expect(html).toContain(
      `<tr data-setting="min component"><th scope="row">min component</th><td>none</td></tr>`,
    );
    expect(html).toContain(`<dd class="time">12.3 s</dd>`);
    expect(html).toContain(`<dd class="time">9.5 s (done by an earlier run)</dd>`);
    expect(html).toContain(`<dd class="time">n/a</dd>`);
    expect(html).toContain(
      `<tr data-region="ET"><th scope="row">ET</th><td class="pred">5.13</td><td class="gt">6.00</td></tr>`,
    );
    // no ground truth: no ground-truth column
    expect(html).toMatch(
      /id="case-3"[^]*<tr data-region="TC"><th scope="row">TC<\/th><td class="pred">n\/a<\/td><\/tr>/,
    );
    expect(html).toContain("Necrotic / non-enhancing core (NCR)");
  });

  it("gives each image its PNG size; base64 text and bytes give the same data URI", () => {
    const png = encodePng(createRgba(7, 3, [10, 200, 30, 255]));
    const fromBytes = renderReportHtml(
      minimal({ cases: [{ id: "a", images: [{ title: "t", png }] }] }),
    );
    const fromText = renderReportHtml(
      minimal({ cases: [{ id: "a", images: [{ title: "t", png: base64(png) }] }] }),
    );
    expect(fromBytes).toBe(fromText);
    expect(fromBytes).toContain(`src="data:image/png;base64,${base64(png)}" width="7" height="3"`);
  });

  it("says when no case has ground truth and leaves out empty parts", () => {
    const page = renderReportHtml(minimal());
    expect(page).toContain(`id="no-metrics"`);
    expect(page).not.toContain(`<table class="metrics"`);
    expect(page).not.toContain(`id="settings"`);
    expect(page).not.toContain("Failed cases");
    expect(page).toContain(`<dd class="segmentation">none</dd>`);
  });

  it.each<[string, unknown]>([
    ["not an object", null],
    ["no cases array", { ...minimal(), cases: "x" }],
    ["no models array", { ...minimal(), models: undefined }],
    ["a case without id", minimal({ cases: [{} as never] })],
    [
      "bytes that are not a PNG",
      minimal({ cases: [{ id: "a", images: [{ title: "t", png: new Uint8Array(40) }] }] }),
    ],
    ["text that is not base64", minimal({ figures: [{ title: "t", png: "not base64!" }] })],
    [
      "base64 that is not a PNG",
      minimal({ figures: [{ title: "t", png: base64(new Uint8Array(30)) }] }),
    ],
    ["an image that is a number", minimal({ figures: [{ title: "t", png: 5 as never }] })],
    ["an unknown label convention", minimal({ labelConvention: "brats1999" as never })],
    ["a date that is not text", minimal({ date: 5 as never })],
  ])("throws TypeError for %s", (_what, report) => {
    expect(() => renderReportHtml(report as InferenceReport)).toThrow(TypeError);
  });
});
