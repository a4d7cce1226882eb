import { describe, expect, it } from "vitest";
import { composeFigure, composeFigureWithLayout, type Box, type Panel } from "./compose.js";
import { countPixels, rgbAt } from "./render-test-utils.js";
import { createRgba, fillRect, type Rgb, type RgbaImage } from "./rgba.js";

/** A grey panel with a coloured square in its top-left quarter (to find the panel's orientation). */
function panel(width: number, height: number, color: Rgb): RgbaImage {
  const image = createRgba(width, height, [90, 90, 90, 255]);
  fillRect(image, 0, 0, Math.floor(width / 2), Math.floor(height / 2), [
    color[0],
    color[1],
    color[2],
    255,
  ]);
  return image;
}

const bright = (r: number, g: number, b: number) => r > 150 && g > 150 && b > 150;
const notBackground = (r: number, g: number, b: number) => r + g + b > 60;

function inside(a: Box, b: Box): boolean {
  return a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;
}

describe("composeFigureWithLayout", () => {
  const panels: Panel[] = [
    {
      image: panel(60, 40, [255, 0, 0]),
      title: "Axial slice 3",
      markers: { left: "R", right: "L", top: "A", bottom: "P" },
    },
    {
      image: panel(50, 80, [0, 0, 255]),
      title: "Sagittal slice 9",
      markers: { left: "A", right: "P", top: "S", bottom: "I" },
    },
    { image: panel(30, 30, [0, 255, 0]) },
  ];
  const { image, layout } = composeFigureWithLayout(panels, {
    columns: 2,
    title: "Figure",
    legend: [
      { label: "Oedema (2)", color: [0, 255, 0] },
      { label: "Enhancing tumour (4)", color: [255, 255, 0] },
    ],
  });

  it("places every panel's pixels unchanged at its layout box, in grid order", () => {
    expect([image.width, image.height]).toEqual([layout.width, layout.height]);
    const boxes = layout.panels as Box[];
    expect(boxes.map((b) => [b.w, b.h])).toEqual([
      [60, 40],
      [50, 80],
      [30, 30],
    ]);
    // row 1: panel 0 left of panel 1; row 2: panel 2 below both
    expect(boxes[0]!.x + 60).toBeLessThan(boxes[1]!.x);
    expect(boxes[2]!.y).toBeGreaterThan(boxes[1]!.y + 80);
    // panels of one row share a vertical centre
    expect(boxes[0]!.y + 20).toBeCloseTo(boxes[1]!.y + 40, 0);
    // the coloured quarter is at each panel's top left, the grey elsewhere (clear of the markers)
    expect(rgbAt(image, boxes[0]!.x + 10, boxes[0]!.y + 12)).toEqual([255, 0, 0]);
    expect(rgbAt(image, boxes[0]!.x + 45, boxes[0]!.y + 35)).toEqual([90, 90, 90]);
    expect(rgbAt(image, boxes[1]!.x + 8, boxes[1]!.y + 30)).toEqual([0, 0, 255]);
    expect(rgbAt(image, boxes[2]!.x + 3, boxes[2]!.y + 3)).toEqual([0, 255, 0]);
    expect(rgbAt(image, boxes[2]!.x + 25, boxes[2]!.y + 25)).toEqual([90, 90, 90]);
  });

  it("draws the markers as light letters inside each panel at the middle of its edges", () => {
    const [m0, m1, m2] = layout.markers;
    expect(m2).toBeNull();
    for (const [markers, box] of [
      [m0!, layout.panels[0]!],
      [m1!, layout.panels[1]!],
    ] as const) {
      for (const edge of ["left", "right", "top", "bottom"] as const) {
        const b = markers[edge];
        expect(inside(b, box)).toBe(true);
        expect(countPixels(image, b, bright)).toBeGreaterThan(3);
      }
      // at the edges: left/right hug the sides, top/bottom the top and bottom
      expect(markers.left.x - box.x).toBeLessThan(8);
      expect(box.x + box.w - (markers.right.x + markers.right.w)).toBeLessThan(8);
      expect(markers.top.y - box.y).toBeLessThan(8);
      expect(box.y + box.h - (markers.bottom.y + markers.bottom.h)).toBeLessThan(8);
      expect(markers.left.y + markers.left.h / 2).toBeCloseTo(box.y + box.h / 2, 0);
      expect(markers.top.x + markers.top.w / 2).toBeCloseTo(box.x + box.w / 2, 0);
    }
    // away from the markers the panel is untouched
    const box = layout.panels[0]!;
    expect(
      countPixels(
        image,
        { x: box.x + 40, y: box.y + 24, w: 8, h: 6 },
        (r, g, b) => r !== 90 || g !== 90 || b !== 90,
      ),
    ).toBe(0);
  });

  it("draws the legend: swatches in the item colours and text beside them", () => {
    expect(layout.legend).toHaveLength(2);
    const [ed, et] = layout.legend;
    const swatchCentre = (b: Box) => rgbAt(image, b.x + b.w / 2, b.y + b.h / 2);
    expect(swatchCentre(ed!.swatch)).toEqual([0, 255, 0]);
    expect(swatchCentre(et!.swatch)).toEqual([255, 255, 0]);
    // the swatch is filled: all its inner pixels have the colour
    const inner = {
      x: et!.swatch.x + 2,
      y: et!.swatch.y + 2,
      w: et!.swatch.w - 4,
      h: et!.swatch.h - 4,
    };
    expect(countPixels(image, inner, (r, g, b) => r === 255 && g === 255 && b === 0)).toBe(
      inner.w * inner.h,
    );
    for (const item of layout.legend) {
      expect(item.text.x).toBeGreaterThan(item.swatch.x + item.swatch.w);
      expect(countPixels(image, item.text, bright)).toBeGreaterThan(20);
    }
    // the longer label has more ink
    expect(countPixels(image, et!.text, bright)).toBeGreaterThan(
      countPixels(image, ed!.text, bright),
    );
    // legend below the panels
    expect(ed!.swatch.y).toBeGreaterThan(layout.panels[2]!.y + 30);
  });

  it("draws the figure title and panel titles above the panels", () => {
    const box0 = layout.panels[0]!;
    expect(
      countPixels(image, { x: 0, y: 0, w: image.width, h: 20 }, notBackground),
    ).toBeGreaterThan(20);
    expect(
      countPixels(image, { x: box0.x - 10, y: box0.y - 20, w: 80, h: 20 }, notBackground),
    ).toBeGreaterThan(20);
    // the panel without a title has nothing above it but the background
    const box2 = layout.panels[2]!;
    expect(countPixels(image, { x: box2.x, y: box2.y - 10, w: 30, h: 9 }, notBackground)).toBe(0);
  });
});

describe("composeFigure", () => {
  it("lays out column and row titles, and leaves gaps for null panels", () => {
    const { image, layout } = composeFigureWithLayout(
      [{ image: panel(20, 20, [255, 0, 0]) }, null, { image: panel(20, 20, [0, 0, 255]) }],
      {
        columns: 3,
        columnTitles: ["a", "b", "c"],
        rowTitles: ["FLAIR"],
        background: [255, 255, 255],
      },
    );
    expect(layout.panels[1]).toBeNull();
    const [a, , c] = layout.panels as Box[];
    expect(c!.x - a!.x).toBeGreaterThan(2 * 20);
    // dark text on a light background: the row title is left of the first panel
    expect(countPixels(image, { x: 0, y: a!.y, w: a!.x, h: 20 }, (r) => r < 128)).toBeGreaterThan(
      10,
    );
    expect(rgbAt(image, 1, 1)).toEqual([255, 255, 255]);
  });

  it("wraps a long legend onto more lines within the figure width", () => {
    const { layout } = composeFigureWithLayout([{ image: panel(40, 40, [255, 0, 0]) }], {
      legend: Array.from({ length: 4 }, (_, i) => ({
        label: `label number ${i}`,
        color: [255, 0, 0] as const,
      })),
    });
    const ys = new Set(layout.legend.map((l) => l.swatch.y));
    expect(ys.size).toBeGreaterThan(1);
  });

  it.each([
    { name: "columns 0", opts: { columns: 0 } },
    { name: "too many column titles", opts: { columns: 1, columnTitles: ["a", "b"] } },
    { name: "too many row titles", opts: { columns: 1, rowTitles: ["a", "b", "c"] } },
  ])("rejects $name with a RangeError", ({ opts }) => {
    expect(() =>
      composeFigure([{ image: panel(4, 4, [1, 2, 3]) }, { image: panel(4, 4, [1, 2, 3]) }], opts),
    ).toThrow(RangeError);
  });
});
