import { describe, expect, it } from "vitest";
import { FONT_FAMILY, forResvg, undrawableTexts } from "../../src/plot/fonts.js";
import { svgToPng } from "../../src/plot/render.js";
import { readPng } from "../support/plot/pngPixels.js";

/**
 * What the PNG renderer (resvg) can draw, judged by its pixels: a character
 * drawn as the missing-glyph box looks exactly like U+10FFFD, which no font
 * has.
 */
const NO_FONT_HAS = "\u{10FFFD}";

const picture = (...lines: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="${lines.length * 24 + 8}"><rect width="100%" height="100%" fill="white"/>${lines
    .map((l, i) => `<text x="4" y="${20 + i * 24}" font-size="16px" font-family="${FONT_FAMILY}">${l}</text>`)
    .join("")}</svg>`;
const pixels = async (svg: string) => readPng(await svgToPng(svg, 1)).pixels;
/** `text` with these characters drawn as boxes. */
// eslint-disable-next-line @typescript-eslint/no-misused-spread -- code points, as undrawableTexts reports them
const boxed = (text: string, characters: readonly string[]) => [...text].map((c) => (characters.includes(c) ? NO_FONT_HAS : c)).join("");

describe("PNG fonts", () => {
  it("emoji are drawn (the bundled Noto Emoji), also in a text with a ligature, which resvg's fallback gives up on", async () => {
    const label = "🐉🌸 dragon and flowers";
    const asBoxes = boxed(label, ["🐉", "🌸"]);
    expect(Buffer.compare(await pixels(forResvg(picture(label))), await pixels(forResvg(picture(asBoxes))))).not.toBe(0);
    // As Vega writes it: "fl" is one glyph in the first font and two in Noto Emoji, and resvg then draws boxes.
    expect(Buffer.compare(await pixels(picture(label)), await pixels(picture(asBoxes)))).toBe(0);
  });

  it("undrawableTexts names exactly the characters drawn as boxes, text by text", async () => {
    const labels = ["東京の夜景", "🐉 dragon", "Ελληνικά και русский", "a plain label", "한국어 final"];
    const svg = forResvg(picture(...labels));
    const report = undrawableTexts(svg);
    expect(report.map((r) => r.text).every((t) => labels.includes(t))).toBe(true);
    for (const label of labels) {
      const missing = report.find((r) => r.text === label)?.missing ?? [];
      const alone = await pixels(forResvg(picture(label)));
      if (missing.length > 0) {
        // Drawn as boxes: the same picture as with a character no font has.
        expect(Buffer.compare(alone, await pixels(forResvg(picture(boxed(label, missing))))), label).toBe(0);
      } else {
        // Drawn: its first character is not a box.
        // eslint-disable-next-line @typescript-eslint/no-misused-spread -- code points, as undrawableTexts reports them
        expect(Buffer.compare(alone, await pixels(forResvg(picture(boxed(label, [[...label][0]!]))))), label).not.toBe(0);
      }
    }
    for (const drawn of ["🐉 dragon", "Ελληνικά και русский", "a plain label"]) expect(report.find((r) => r.text === drawn)).toBeUndefined();
  });

  it("forResvg changes only texts past Latin-1, and only in their text", () => {
    const svg = picture("fine flowers", "東京 fine", "café fl");
    const changed = forResvg(svg);
    expect(changed).toContain(">fine flowers</text>");
    expect(changed).toContain(">café fl</text>");
    expect(changed).toContain(">東京 f\u200Cine</text>");
    expect(changed.replaceAll("\u200C", "")).toBe(svg);
  });
});
