/** Captions that drift: each TEXT step mutates one or two slots of the previous one. */
import type { TextContext } from "./types.js";

const ADJECTIVES = ["small", "large", "red", "weathered", "glowing", "quiet", "ancient", "blurry", "golden", "wet", "striped", "lonely"];
const SUBJECTS = ["cat", "dog", "lighthouse", "bicycle", "woman", "robot", "tree", "boat", "clock", "horse", "teapot", "castle"];
const ACTIONS = ["sitting on", "standing near", "floating above", "walking along", "leaning against", "hidden in", "reflected in"];
const PLACES = ["a windowsill", "a beach at sunset", "a snowy field", "a busy street", "a forest clearing", "an empty room", "a river bank", "a neon-lit alley"];
const STYLES = ["in soft light", "in black and white", "with a shallow depth of field", "in the style of a watercolour", "at night", "on a foggy morning"];

const NOUNS = new Set([...SUBJECTS, "bicycle", "umbrella", "people", "coast", "market", "square", "city", "garden", "mountain"]);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const alt = (words: readonly string[]): string => `(${words.map(escapeRe).join("|")})`;
// Parses a caption this generator wrote back into its five slots.
const CAPTION_RE = new RegExp(`^a ${alt(ADJECTIVES)} (\\S+) ${alt(ACTIONS)} ${alt(PLACES)} ${alt(STYLES)}$`, "u");

/** The default `textFor`: a caption that starts near the prompt and mutates one or two slots per step. */
export function driftingCaption(ctx: TextContext): string {
  const { rng } = ctx;
  const slots: readonly (readonly string[])[] = [ADJECTIVES, SUBJECTS, ACTIONS, PLACES, STYLES];
  const prev = CAPTION_RE.exec(ctx.previousText);
  let words: string[];
  if (prev) {
    words = prev.slice(1, 6);
    const changes = 1 + rng.int(2);
    for (let c = 0; c < changes; c++) {
      const slot = rng.int(slots.length);
      words[slot] = rng.pick(slots[slot] ?? ADJECTIVES);
    }
  } else {
    // First caption: keep the prompt's subject when it names one we know.
    words = slots.map((s) => rng.pick(s));
    const nouns = ctx.previousText.toLowerCase().split(/[^\p{L}]+/u).filter((w) => NOUNS.has(w));
    if (nouns.length > 0) words[1] = rng.pick(nouns);
  }
  return `a ${words.join(" ")}`;
}
