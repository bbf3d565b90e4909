import type { TopLevelSpec } from "vega-lite";
import { resvgFontOptions } from "./fonts.js";

/**
 * Vega-Lite → Vega → SVG, headless (a View with renderer "none"), and SVG →
 * PNG with resvg. All three are loaded here, on use: commands that do not
 * plot never pay for them.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vegaLite, vega] = await Promise.all([import("vega-lite"), import("vega")]);
  // Warnings (e.g. a band with no interval at some step) are expected; errors throw.
  const compiled = vegaLite.compile(spec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The SVG as PNG, `scale` device pixels per SVG pixel, with the system's fonts and the bundled ones (see fonts.ts). */
export async function svgToPng(svg: string, scale: number): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const image = new Resvg(svg, { fitTo: { mode: "zoom", value: scale }, font: resvgFontOptions() }).render();
  return image.asPng();
}

/**
 * Gives every text element that shows a shortened label its full text as a
 * <title> (a viewer's tooltip): `titles` maps the short form to the full.
 * For the SVG file only; resvg would draw the title's text.
 */
export function addTitles(svg: string, titles: ReadonlyMap<string, string>): string {
  let titled = svg;
  for (const [short, full] of titles) {
    if (short === full) continue;
    // As Vega writes text content (vega-scenegraph's markup): &, < and > escaped.
    titled = titled.replaceAll(`>${innerText(short)}</text>`, `><title>${innerText(full)}</title>${innerText(short)}</text>`);
  }
  return titled;
}

function innerText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
