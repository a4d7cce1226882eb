// A plot scene as standalone SVG text, written by hand (no DOM): numbers rounded to 0.01 px.
import { BASELINE_SHIFT, SVG_FONT_FAMILY, type PlotScene } from "./scene.js";

function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;",
  );
}

/** Writes a scene as a standalone SVG document. */
export function sceneToSvg(scene: PlotScene): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(scene.width)}" height="${num(scene.height)}" viewBox="0 0 ${num(scene.width)} ${num(scene.height)}" font-family="${escapeXml(SVG_FONT_FAMILY)}">`,
    `<rect x="0" y="0" width="${num(scene.width)}" height="${num(scene.height)}" fill="${scene.background}"/>`,
  ];
  for (const s of scene.shapes) {
    const dash =
      "dash" in s && s.dash && s.dash.length > 0
        ? ` stroke-dasharray="${s.dash.map(num).join(" ")}"`
        : "";
    const opacity =
      "opacity" in s && s.opacity !== undefined ? ` stroke-opacity="${num(s.opacity)}"` : "";
    switch (s.kind) {
      case "line":
        out.push(
          `<line x1="${num(s.x1)}" y1="${num(s.y1)}" x2="${num(s.x2)}" y2="${num(s.y2)}" stroke="${s.stroke}" stroke-width="${num(s.width)}"${opacity}${dash}/>`,
        );
        break;
      case "polyline":
        if (s.points.length === 0) break;
        out.push(
          `<polyline points="${s.points.map(([x, y]) => `${num(x)},${num(y)}`).join(" ")}" fill="none" stroke="${s.stroke}" stroke-width="${num(s.width)}" stroke-linejoin="round" stroke-linecap="round"${opacity}${dash}/>`,
        );
        break;
      case "rect":
        out.push(
          `<rect x="${num(s.x)}" y="${num(s.y)}" width="${num(s.w)}" height="${num(s.h)}" fill="${s.fill ?? "none"}"${s.fillOpacity !== undefined ? ` fill-opacity="${num(s.fillOpacity)}"` : ""}${s.stroke ? ` stroke="${s.stroke}" stroke-width="${num(s.width ?? 1)}"` : ""}/>`,
        );
        break;
      case "circle":
        out.push(
          `<circle cx="${num(s.cx)}" cy="${num(s.cy)}" r="${num(s.r)}" fill="${s.fill ?? "none"}"${s.stroke ? ` stroke="${s.stroke}" stroke-width="${num(s.width ?? 1)}"` : ""}/>`,
        );
        break;
      case "text": {
        const y = s.y + BASELINE_SHIFT[s.baseline] * s.size;
        const transform = s.rotate
          ? ` transform="rotate(${num(s.rotate)} ${num(s.x)} ${num(s.y)})"`
          : "";
        out.push(
          `<text x="${num(s.x)}" y="${num(y)}" font-size="${num(s.size)}"${s.bold ? ' font-weight="bold"' : ""} fill="${s.fill}" text-anchor="${s.anchor}"${transform}>${escapeXml(s.text)}</text>`,
        );
        break;
      }
    }
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
