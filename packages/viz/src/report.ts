// One self-contained HTML page per inference run: run information, a metrics table with mean and
// median rows, and one section per case with its overlay pictures, volumes, time and output link.
// Browser-safe (no Node APIs): images are inlined as data: URIs and a Content-Security-Policy
// forbids every external request, so the page can be mailed or archived as one file.
import {
  isLabelConvention,
  REGION_NAMES,
  type LabelConvention,
  type RegionName,
} from "@brats/conventions";
import { labelStyles } from "./colors.js";

/** The metrics shown in the report's table, per region. */
export type ReportMetricName = "dice" | "hd95" | "sensitivity" | "specificity" | "precision";

const REPORT_METRICS: readonly ReportMetricName[] = [
  "dice",
  "hd95",
  "sensitivity",
  "specificity",
  "precision",
];

/**
 * Metrics of one case per region: a `brats-eval --json` case's `regions` fits as is (other fields are
 * ignored; `volumeGtMl` is shown beside the predicted volume). null or non-finite = undefined value.
 */
export type ReportMetrics = Partial<
  Record<RegionName, Partial<Record<ReportMetricName | "volumeGtMl", number | null>>>
>;

/** A PNG picture: the bytes, or their base64 text (no data: prefix). */
export interface ReportImage {
  title: string;
  png: Uint8Array | string;
  /** Alternative text; default the title. */
  alt?: string;
}

export interface ReportModel {
  /** Display name, e.g. the run folder's name or "model.onnx". */
  name: string;
  /** Where the model is (shown as text). */
  path?: string;
  /** Link to the model's MODEL_CARD.md: a path relative to the report, an absolute path or an http(s)/file URL. */
  modelCard?: string | null;
}

export interface ReportCase {
  id: string;
  /** The segmentation file: a path relative to the report (usually `<ID>.nii.gz`), absolute path or URL. */
  segmentation?: string | null;
  /** Wall time of the case in seconds. */
  seconds?: number | null;
  /** Predicted volume per region in mL. */
  volumesMl?: Partial<Record<RegionName, number | null>> | null;
  /** Present when the case has ground truth. */
  metrics?: ReportMetrics | null;
  /** Overlay pictures, in order. */
  images?: ReportImage[];
  /** Done by an earlier run and reused by this one. */
  skipped?: boolean;
}

/** Everything the report shows; plain JSON-like data (image bytes as Uint8Array or base64). */
export interface InferenceReport {
  /** Page title; default "Segmentation report". */
  title?: string;
  /** When the run happened (ISO 8601 text is shown as is). */
  date: string;
  /** "onnx" or "tfjs". */
  engine: string;
  /** TF.js backend or onnxruntime execution providers, e.g. "wasm" or "cpu". */
  backend: string;
  models: ReportModel[];
  /** Settings such as TTA, overlap, post-processing; shown as a key/value table in this order. */
  settings?: Record<string, string | number | boolean | null>;
  /** Label convention of the segmentations (for the legend); default "brats2021". */
  labelConvention?: LabelConvention;
  cases: ReportCase[];
  /** Cases that failed, with the error text. */
  failed?: Array<{ id: string; error: string }>;
  /** Run-level pictures (e.g. training curves, box plots), shown after the metrics table. */
  figures?: ReportImage[];
  /** Producing software, e.g. "brats-infer 0.1.0". */
  software?: string;
}

const METRIC_HEADINGS: Record<ReportMetricName, string> = {
  dice: "Dice",
  hd95: "HD95 (mm)",
  sensitivity: "Sensitivity",
  specificity: "Specificity",
  precision: "Precision",
};

/** Text as HTML (element content and quoted attribute values): & < > " ' escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * An href for a path or URL, or null for empty text or control characters. http(s) and file URLs are
 * kept; anything else is a path: absolute POSIX and Windows paths become file:// URLs, relative paths
 * are percent-encoded per segment, so "#", "?", "%" and ":" in names stay names and a "javascript:"
 * text is only a (harmless) relative file name.
 */
export function reportHref(target: string): string | null {
  if (target === "" || hasControlCharacter(target)) return null;
  if (/^(https?|file):/i.test(target)) {
    try {
      return new URL(target).href;
    } catch {
      return null;
    }
  }
  const slashed = target.replace(/\\/g, "/");
  const encoded = slashed.split("/").map(encodeURIComponent).join("/");
  if (slashed.startsWith("/")) return `file://${encoded}`;
  // encoded starts with "C%3A" for "C:/..."
  if (/^[a-zA-Z]:\//.test(slashed)) return `file:///${slashed.slice(0, 2)}${encoded.slice(4)}`;
  return encoded;
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 (with padding) of bytes; no Buffer or btoa, so it runs anywhere. */
export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  let line = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    const n = (a << 16) | (b << 8) | c;
    line +=
      BASE64_ALPHABET[(n >> 18) & 63]! +
      BASE64_ALPHABET[(n >> 12) & 63]! +
      (i + 1 < bytes.length ? BASE64_ALPHABET[(n >> 6) & 63]! : "=") +
      (i + 2 < bytes.length ? BASE64_ALPHABET[n & 63]! : "=");
    // Joining chunks keeps string building linear for megabyte images.
    if (line.length >= 8192) {
      parts.push(line);
      line = "";
    }
  }
  parts.push(line);
  return parts.join("");
}

function base64Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let n = 0;
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    if (ch === "=") break;
    value = (value << 6) | BASE64_ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (value >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR; TypeError when the bytes are not a PNG. */
function pngSize(head: Uint8Array, what: string): { width: number; height: number } {
  const ok =
    head.length >= 24 &&
    PNG_MAGIC.every((b, i) => head[i] === b) &&
    String.fromCharCode(head[12]!, head[13]!, head[14]!, head[15]!) === "IHDR";
  if (!ok) throw new TypeError(`${what} is not a PNG image`);
  const u32 = (o: number) =>
    ((head[o]! << 24) | (head[o + 1]! << 16) | (head[o + 2]! << 8) | head[o + 3]!) >>> 0;
  const width = u32(16);
  const height = u32(20);
  if (width === 0 || height === 0) throw new TypeError(`${what} is an empty PNG image`);
  return { width, height };
}

interface InlineImage {
  src: string;
  width: number;
  height: number;
}

function inlinePng(png: unknown, what: string): InlineImage {
  let base64: string;
  let head: Uint8Array;
  if (png instanceof Uint8Array) {
    base64 = base64Encode(png);
    head = png.subarray(0, 24);
  } else if (typeof png === "string") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(png) || png.length % 4 !== 0) {
      throw new TypeError(`${what} is not base64 text`);
    }
    base64 = png;
    head = base64Decode(png.slice(0, 32));
  } else {
    throw new TypeError(`${what} must be PNG bytes (Uint8Array) or base64 text`);
  }
  const { width, height } = pngSize(head, what);
  return { src: `data:image/png;base64,${base64}`, width, height };
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string`);
  return value;
}

function finite(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function formatMetric(metric: ReportMetricName, value: number | null): string {
  if (value === null) return "n/a";
  return metric === "hd95" ? value.toFixed(2) : value.toFixed(4);
}

function formatNumber(value: unknown, digits: number, unit = ""): string {
  const v = finite(value);
  return v === null ? "n/a" : `${v.toFixed(digits)}${unit}`;
}

/** numpy's default (linear) median of finite values, or null. */
function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  const lo = sorted[Math.floor(mid)]!;
  const hi = sorted[Math.ceil(mid)]!;
  return lo + (hi - lo) * (mid - Math.floor(mid));
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function link(target: string | null | undefined, text: string): string {
  if (target === null || target === undefined) return escapeHtml(text);
  const href = reportHref(target);
  return href === null ? escapeHtml(text) : `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

function metricValue(c: ReportCase, region: RegionName, metric: ReportMetricName): number | null {
  return finite(c.metrics?.[region]?.[metric]);
}

function metricsTable(cases: readonly ReportCase[]): string {
  // Index-based anchors (case-<i>): case ids may hold any character.
  const scored = cases
    .map((c, i) => ({ c, anchor: `case-${i}` }))
    .filter(({ c }) => c.metrics !== null && c.metrics !== undefined);
  if (scored.length === 0) {
    return `<p class="note" id="no-metrics">No case has ground truth: no metrics.</p>`;
  }
  const head1 = REPORT_METRICS.map(
    (m) => `<th colspan="${REGION_NAMES.length}" scope="colgroup">${METRIC_HEADINGS[m]}</th>`,
  ).join("");
  const head2 = REPORT_METRICS.map(() =>
    REGION_NAMES.map((r) => `<th scope="col">${r}</th>`).join(""),
  ).join("");
  const cell = (metric: ReportMetricName, region: RegionName, value: number | null, extra = "") =>
    `<td data-metric="${metric}" data-region="${region}"${extra}>${formatMetric(metric, value)}</td>`;
  const rows = scored.map(({ c, anchor }) => {
    const cells = REPORT_METRICS.map((m) =>
      REGION_NAMES.map((r) => cell(m, r, metricValue(c, r, m))).join(""),
    ).join("");
    const name = `<a href="#${anchor}">${escapeHtml(c.id)}</a>`;
    return `<tr data-case="${escapeHtml(c.id)}"><th scope="row">${name}</th>${cells}</tr>`;
  });
  const summaryRow = (name: "mean" | "median", f: (v: number[]) => number | null) => {
    const cells = REPORT_METRICS.map((m) =>
      REGION_NAMES.map((r) => {
        const values = scored.map(({ c }) => metricValue(c, r, m)).filter((v) => v !== null);
        return cell(m, r, f(values), ` data-n="${values.length}"`);
      }).join(""),
    ).join("");
    return `<tr data-summary="${name}"><th scope="row">${name === "mean" ? "Mean" : "Median"}</th>${cells}</tr>`;
  };
  return (
    `<div class="scroll"><table class="metrics" id="metrics">` +
    `<thead><tr><th rowspan="2" scope="col">Case</th>${head1}</tr><tr>${head2}</tr></thead>` +
    `<tbody>${rows.join("")}</tbody>` +
    `<tfoot>${summaryRow("mean", mean)}${summaryRow("median", median)}</tfoot>` +
    `</table></div>` +
    `<p class="note">${scored.length} of ${cases.length} case${cases.length === 1 ? "" : "s"} with ground truth; ` +
    `summary rows over the defined values (n/a = undefined, e.g. an empty region).</p>`
  );
}

function figure(image: ReportImage, what: string): string {
  const title = requireString(image.title, `${what} title`);
  const inline = inlinePng(image.png, `${what} (${title})`);
  const alt = image.alt ?? title;
  return (
    `<figure><img src="${inline.src}" width="${inline.width}" height="${inline.height}" ` +
    `alt="${escapeHtml(alt)}"><figcaption>${escapeHtml(title)}</figcaption></figure>`
  );
}

function caseSection(c: ReportCase, id: string, index: number): string {
  const what = `case ${index} (${c.id})`;
  const facts: string[] = [];
  facts.push(
    `<dt>Segmentation</dt><dd class="segmentation">${
      c.segmentation === null || c.segmentation === undefined
        ? "none"
        : link(requireString(c.segmentation, `${what} segmentation`), c.segmentation)
    }</dd>`,
  );
  facts.push(
    `<dt>Time</dt><dd class="time">${formatNumber(c.seconds, 1, " s")}${
      c.skipped === true ? " (done by an earlier run)" : ""
    }</dd>`,
  );
  const hasGt = REGION_NAMES.some((r) => finite(c.metrics?.[r]?.volumeGtMl) !== null);
  const volumeRows = REGION_NAMES.map(
    (r) =>
      `<tr data-region="${r}"><th scope="row">${r}</th><td class="pred">${formatNumber(
        c.volumesMl?.[r],
        2,
      )}</td>${hasGt ? `<td class="gt">${formatNumber(c.metrics?.[r]?.volumeGtMl, 2)}</td>` : ""}</tr>`,
  ).join("");
  const volumes =
    `<table class="volumes"><thead><tr><th scope="col">Region</th><th scope="col">Predicted (mL)</th>` +
    `${hasGt ? `<th scope="col">Ground truth (mL)</th>` : ""}</tr></thead><tbody>${volumeRows}</tbody></table>`;
  const images = (c.images ?? []).map((im, k) => figure(im, `${what} image ${k}`)).join("");
  return (
    `<section class="case" id="${id}" data-case="${escapeHtml(c.id)}">` +
    `<h2>${escapeHtml(c.id)}</h2><div class="facts"><dl>${facts.join("")}</dl>${volumes}</div>` +
    (images === "" ? "" : `<div class="images">${images}</div>`) +
    `</section>`
  );
}

const STYLE = `
:root{color-scheme:light;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--head:#f3f5f7}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:#fff}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
a{color:#0969da}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:right;white-space:nowrap}
th{background:var(--head);font-weight:600}
th[scope=row]{text-align:left}
table.info th{text-align:left}table.info td{text-align:left;white-space:normal}
tfoot tr:first-child th,tfoot tr:first-child td{border-top:2px solid var(--muted)}
tfoot th,tfoot td{font-weight:600}
.scroll{overflow-x:auto}
table.metrics{font-size:13px;font-variant-numeric:tabular-nums}table.metrics th,table.metrics td{padding:2px 6px}
.note{color:var(--muted);font-size:13px}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border:1px solid #0004}
.facts{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
dl{display:grid;grid-template-columns:max-content auto;gap:4px 12px;margin:8px 0}
dt{font-weight:600}dd{margin:0}
.images{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:8px 0}
figure img{display:block;box-sizing:content-box;max-width:calc(100% - 2px);height:auto;border:1px solid var(--line);background:#000}
figcaption{color:var(--muted);font-size:13px;margin-top:4px}
.failed{color:#b42318}
`;

/**
 * The HTML page of one inference run. All text is escaped; links to model cards and segmentations are
 * percent-encoded (unsafe schemes are shown as text); images are checked to be PNGs and inlined.
 * TypeError for malformed input (not an object, a missing id, an image that is not a PNG).
 */
export function renderReportHtml(report: InferenceReport): string {
  if (typeof report !== "object" || report === null) {
    throw new TypeError("the report must be an object");
  }
  if (!Array.isArray(report.cases)) throw new TypeError("report.cases must be an array");
  if (!Array.isArray(report.models)) throw new TypeError("report.models must be an array");
  const convention = report.labelConvention ?? "brats2021";
  if (!isLabelConvention(convention)) {
    throw new TypeError(`unknown label convention ${JSON.stringify(convention)}`);
  }
  const title = report.title ?? "Segmentation report";
  report.cases.forEach((c, i) => {
    if (typeof c !== "object" || c === null) throw new TypeError(`case ${i} must be an object`);
    requireString(c.id, `case ${i} id`);
  });

  const models = report.models
    .map((m, i) => {
      const name = requireString(m.name, `model ${i} name`);
      const card =
        m.modelCard === null || m.modelCard === undefined
          ? `<td class="card">none</td>`
          : `<td class="card">${link(requireString(m.modelCard, `model ${i} modelCard`), "model card")}</td>`;
      const path = m.path === undefined ? "" : escapeHtml(requireString(m.path, `model ${i} path`));
      return `<tr data-model="${escapeHtml(name)}"><th scope="row">${escapeHtml(name)}</th><td class="path">${path}</td>${card}</tr>`;
    })
    .join("");
  const settings = Object.entries(report.settings ?? {})
    .map(
      ([k, v]) =>
        `<tr data-setting="${escapeHtml(k)}"><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(
          v === null ? "none" : String(v),
        )}</td></tr>`,
    )
    .join("");
  const skipped = report.cases.filter((c) => c.skipped === true).length;
  const failed = report.failed ?? [];
  const info = [
    ["Date", requireString(report.date, "report.date")],
    ["Engine", requireString(report.engine, "report.engine")],
    ["Backend", requireString(report.backend, "report.backend")],
    [
      "Cases",
      `${report.cases.length} segmented${skipped > 0 ? ` (${skipped} reused from an earlier run)` : ""}` +
        `${failed.length > 0 ? `, ${failed.length} failed` : ""}`,
    ],
    ...(report.software === undefined
      ? []
      : [["Software", requireString(report.software, "report.software")]]),
  ]
    .map(([k, v]) => `<tr><th scope="row">${k!}</th><td>${escapeHtml(v!)}</td></tr>`)
    .join("");
  const legend = labelStyles(convention)
    .map(
      (s) =>
        `<span><i style="background:rgb(${s.color.join(",")})"></i>${s.value} ${escapeHtml(s.name)} (${s.short})</span>`,
    )
    .join("");
  const figures = (report.figures ?? []).map((f, i) => figure(f, `figure ${i}`)).join("");
  const failedList =
    failed.length === 0
      ? ""
      : `<h2>Failed cases</h2><ul class="failed">${failed
          .map(
            (f, i) =>
              `<li data-case="${escapeHtml(requireString(f.id, `failed ${i} id`))}"><b>${escapeHtml(f.id)}</b>: ${escapeHtml(
                requireString(f.error, `failed ${i} error`),
              )}</li>`,
          )
          .join("")}</ul>`;
  const sections = report.cases.map((c, i) => caseSection(c, `case-${i}`, i)).join("");

  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    // No request may leave the page: everything it shows is inline.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>` +
    `<h1>${escapeHtml(title)}</h1>` +
    `<table class="info" id="run">${info}</table>` +
    `<h2>Models</h2><table class="info" id="models"><thead><tr><th scope="col">Model</th><th scope="col">Path</th><th scope="col">Card</th></tr></thead><tbody>${models}</tbody></table>` +
    (settings === ""
      ? ""
      : `<h2>Settings</h2><table class="info" id="settings"><tbody>${settings}</tbody></table>`) +
    `<h2>Metrics</h2>${metricsTable(report.cases)}` +
    (figures === "" ? "" : `<div class="images figures">${figures}</div>`) +
    failedList +
    `<h2>Cases</h2><p class="legend">${legend}</p>` +
    sections +
    `<p class="note">For research only; not for clinical use.</p>` +
    `</body></html>\n`
  );
}
