import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import type { ResvgRenderOptions } from "@resvg/resvg-js";

/**
 * The fonts a PNG is drawn with, and which of its texts they cannot draw.
 *
 * resvg uses the fonts it is given: Noto Emoji (an outline font, bundled as
 * @expo-google-fonts/noto-emoji, loaded first), then the system's. It draws
 * no colour emoji font, which is what systems ship. For a character the
 * first family lacks it falls back to the first font that has it, so a CJK
 * font installed on the system is used as it is. Its fallback (resvg 0.x,
 * usvg's text layout) has two limits: it gives up on a text at the first
 * character no font has, and on a text that the fallback font shapes into
 * another number of glyphs (a ligature such as "fl" in the first font).
 */

/** Fonts a viewer and resvg are likely to have, in order; any sans-serif will do. */
export const FONT_FAMILY = "Helvetica, Arial, DejaVu Sans, Liberation Sans, sans-serif";

const BUNDLED_FONTS = ["@expo-google-fonts/noto-emoji/400Regular/NotoEmoji_400Regular.ttf"];

/** The bundled font files that are installed (an install without them still draws, with fewer glyphs). */
export function bundledFontFiles(): string[] {
  const require = createRequire(import.meta.url);
  return BUNDLED_FONTS.flatMap((file) => {
    try {
      return [require.resolve(file)];
    } catch {
      return [];
    }
  });
}

export function resvgFontOptions(): NonNullable<ResvgRenderOptions["font"]> {
  return { loadSystemFonts: true, fontFiles: bundledFontFiles() };
}

const TEXT_ELEMENT = /(<text\b[^>]*>)([\s\S]*?)(<\/text>)/g;
/** A character past Latin-1: a text that may need a fallback font. */
const NEEDS_FALLBACK = /[\u{100}-\u{10FFFF}]/u;

/**
 * The SVG as resvg should get it: in every text that may need a fallback
 * font, a zero-width non-joiner after each "f" that could start a ligature
 * (ff, fi, fj, fl, ft), so that every font shapes it into as many glyphs.
 * The SVG file keeps its text as it is.
 */
export function forResvg(svg: string): string {
  return svg.replace(TEXT_ELEMENT, (all, open: string, content: string, close: string) =>
    NEEDS_FALLBACK.test(content) ? open + content.replace(/f(?=[fijlt])/g, "f\u200C") + close : all,
  );
}

/** A private-use character of plane 16: no font has it. Put before every text, its log line tells the texts apart. */
const MARKER = "\u{10FFFD}";
const MISSING_LOG = /No fonts with a .*\/U\+([0-9A-F]+) character were found/;

/** A text of the picture and the characters of it that are drawn as boxes. */
export interface UndrawableText {
  text: string;
  missing: string[];
}

/**
 * The texts of `svg` (as `forResvg` made it) that resvg cannot draw whole,
 * with the characters it draws as boxes. Asked of resvg itself: it logs each
 * character it finds no glyph for ("No fonts with a 東/U+6771 character were
 * found"), in the order of the texts, and a marker text before each one
 * tells them apart. Logging goes to stderr from native code, so the check
 * runs in a child process (about 0.1 s); if that fails or hangs, nothing is
 * reported.
 */
export function undrawableTexts(svg: string): UndrawableText[] {
  const texts = [...svg.matchAll(TEXT_ELEMENT)].map((m) => plainText(m[2]!));
  if (texts.length === 0) return [];
  const marked = svg.replace(/<text\b/g, `<text font-family="${FONT_FAMILY}">${MARKER}</text><text`);
  const resvg = createRequire(import.meta.url).resolve("@resvg/resvg-js");
  const script = `const { Resvg } = require(${JSON.stringify(resvg)});
const { svg, font } = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
new Resvg(svg, { font, logLevel: "warn" });`;
  const child = spawnSync(process.execPath, ["-e", script], {
    input: JSON.stringify({ svg: marked, font: resvgFontOptions() }),
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", RUST_LOG_STYLE: "never" },
    maxBuffer: 64 * 1024 * 1024,
    // Laying out a picture's text takes well under a second; a check that hangs is given up.
    timeout: 60_000,
  });
  if (child.status !== 0) return [];
  const missing = texts.map(() => new Set<string>());
  let at = -1;
  for (const line of child.stderr.split("\n")) {
    const hex = MISSING_LOG.exec(line)?.[1];
    if (hex === undefined) continue;
    const character = String.fromCodePoint(parseInt(hex, 16));
    if (character === MARKER) at++;
    else if (at >= 0 && at < texts.length) missing[at]!.add(character);
  }
  return texts.flatMap((text, i) => (missing[i]!.size === 0 ? [] : [{ text: text.replaceAll("\u200C", ""), missing: [...missing[i]!] }]));
}

/** The text content of an SVG <text>: tspans' tags left out, entities read. */
function plainText(content: string): string {
  return content
    .replace(/<[^>]*>/g, "")
    .replace(/&#x([0-9a-fA-F]+);/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}
