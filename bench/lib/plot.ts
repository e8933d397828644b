// PNG charts for benchmark results: a Vega-Lite spec compiled to Vega, rendered to SVG headless,
// then rasterised with resvg (system fonts; DejaVu is what Debian ships).
import { writeFileSync } from "node:fs";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Pixels per SVG unit: a sharper picture for the docs. */
const PNG_SCALE = 2;

export async function writePng(spec: TopLevelSpec, path: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG(PNG_SCALE);
    const png = new Resvg(svg, {
      background: "white",
      font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    })
      .render()
      .asPng();
    writeFileSync(path, png);
  } finally {
    view.finalize();
  }
}
