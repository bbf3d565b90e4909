/** How first-generation values become upstream's export values: ids, timestamps, JSON; and the default prompt vector. */

export function hyphenate(id: string | null): string | null {
  if (id === null || /^[0-9a-f]{32}$/i.exec(id) === null) return id;
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

/** SQLAlchemy's naive UTC `YYYY-MM-DD HH:MM:SS.ffffff` as DateTime.to_iso8601 prints a UTC usec datetime. */
export function isoTimestamp(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/.exec(text);
  if (m === null) return text; // not a timestamp: passed through as it is
  return `${m[1]}T${m[2]}.${(m[3] ?? "").padEnd(6, "0")}Z`;
}

/** Jason.encode! of a decoded JSON value (compact); text that is not JSON passes through. */
export function compactJson(text: string | null): string | null {
  if (text === null) return null;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/**
 * The default stored vector of a model without a built-in embedder: a
 * deterministic function of (model, prompt), of the given dimension.
 */
export function syntheticPromptVector(model: string, prompt: string, dimension: number): Float32Array {
  let h = 2166136261;
  for (const ch of `${model}\u0000${prompt}`) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 16777619) >>> 0;
  const out = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
    out[i] = ((h >>> 8) / 16777216) * 2 - 1;
  }
  return out;
}

/** Plain string order (UTF-16 code units; the ids and model names sorted here are ASCII, so byte order too). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
