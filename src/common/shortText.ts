import stringWidth from "string-width";

/**
 * Text shortened to a width in terminal columns (string-width: CJK and
 * emoji count 2), cut where a word ends (Intl.Segmenter's word boundaries,
 * which also split "FluxDev→BLIP2" at the arrow and Japanese or Chinese
 * into words), with "…" where text was left out. For legends, facet
 * headers and table cells; the full text goes into a tooltip, a <title> or
 * the CSV.
 */
export const displayWidth: (text: string) => number = stringWidth;

const ELLIPSIS = "…";
const words = new Intl.Segmenter(undefined, { granularity: "word" });
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** Left at the cut: spaces, and separators that would dangle ("a, b,…", "x ·…", "02e45db8-…"). */
const DANGLING_END = /[\s,;:·-]+$/u;
const DANGLING_START = /^[\s,;:·-]+/u;

/** Positions where a cut may fall: word boundaries, or (in one long word) any grapheme boundary. */
function boundaries(text: string, segmenter: Intl.Segmenter): number[] {
  return [...segmenter.segment(text)].map((s) => s.index).concat(text.length);
}

/** The longest beginning of `text` (cut at a word boundary, trimmed) at most `width` wide. */
function head(text: string, width: number): string {
  let best = "";
  for (const end of boundaries(text, words)) {
    const candidate = text.slice(0, end).replace(DANGLING_END, "");
    if (displayWidth(candidate) <= width) best = candidate;
    else break;
  }
  // One long word (a hash, a name without spaces): cut inside it rather than keep almost nothing.
  if (displayWidth(best) < width / 2) {
    for (const end of boundaries(text, graphemes)) {
      const candidate = text.slice(0, end);
      if (displayWidth(candidate) <= width) best = candidate;
      else break;
    }
  }
  return best;
}

/** The ends of `text` that start at a word boundary, shortest first, trimmed, at most `width` wide. */
function tails(text: string, width: number): string[] {
  const found: string[] = [];
  for (const start of boundaries(text, words).reverse()) {
    const candidate = text.slice(start).replace(DANGLING_START, "");
    if (candidate === "" || found.includes(candidate)) continue;
    if (displayWidth(candidate) > width) break;
    found.push(candidate);
  }
  return found;
}

/** `text` if it fits in `width` columns, else its beginning up to a word boundary and "…". */
export function shortText(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  return head(text, width - 1) + ELLIPSIS;
}

/** The beginning and end of `text` around "…", `tail` kept whole, `width` columns at most. */
function beginningAndEnd(text: string, tail: string, width: number): string {
  return head(text.slice(0, text.length - tail.length), width - 1 - displayWidth(tail)) + ELLIPSIS + tail;
}

/**
 * Each distinct text shortened to `width` columns, the short forms all
 * different (they name series in a legend). Texts that would collide keep
 * their ends too ("a cat on the sill num…14"), as few words of them as
 * tell them apart; failing that they are numbered ("…#2").
 */
export function shortTexts(texts: readonly string[], width: number): Map<string, string> {
  const distinct = [...new Set(texts)];
  const short = new Map(distinct.map((t) => [t, shortText(t, width)]));
  const taken = (value: string, except: readonly string[]) => distinct.some((t) => !except.includes(t) && (short.get(t) === value || t === value));
  const clashes = () => {
    const byShort = new Map<string, string[]>();
    for (const t of distinct) byShort.set(short.get(t)!, [...(byShort.get(short.get(t)!) ?? []), t]);
    return [...byShort.values()].filter((group) => group.length > 1);
  };
  for (const group of clashes()) {
    const options = group.map((t) => tails(t, Math.floor(width / 2)));
    const longest = Math.max(...options.map((o) => o.length));
    let settled = false;
    for (let k = 0; k < longest && !settled; k++) {
      const candidates = group.map((t, i) => {
        const tail = options[i]![Math.min(k, options[i]!.length - 1)];
        return tail === undefined || displayWidth(t) <= width ? shortText(t, width) : beginningAndEnd(t, tail, width);
      });
      if (new Set(candidates).size === group.length && candidates.every((c) => !taken(c, group))) {
        group.forEach((t, i) => short.set(t, candidates[i]!));
        settled = true;
      }
    }
    if (!settled) {
      group.forEach((t, i) => {
        if (i === 0 && displayWidth(t) <= width) return;
        const tag = `#${i + 1}`;
        short.set(t, head(t, width - 1 - tag.length) + ELLIPSIS + tag);
      });
    }
  }
  return short;
}
