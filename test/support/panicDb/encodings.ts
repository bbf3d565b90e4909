/** How values are stored: each generation's JSON, timestamps and ids, and vectors as little-endian float32. */

/** Python's json.dumps defaults (", " separators, ensure_ascii), as SQLAlchemy's JSON type stores. */
export function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (typeof value === "string") {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  return JSON.stringify(value);
}

/** When the first run starts: every timestamp is an offset from it, so that output never depends on the clock. */
export const BASE_MICROS = Date.UTC(2025, 2, 3, 9, 0, 0) * 1000;

/** SQLAlchemy's SQLite DATETIME storage format, naive UTC with microseconds. */
export function datetimeText(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const frac = p(micros - Math.floor(micros / 1e6) * 1e6, 6);
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${frac}`;
}

/** ecto_sqlite3's `:utc_datetime_usec` storage: `DateTime.to_iso8601`, e.g. `2025-03-03T09:00:00.123456Z`. */
export function isoText(micros: number): string {
  const text = datetimeText(micros);
  return `${text.slice(0, 10)}T${text.slice(11)}Z`;
}

/** Jason's encoding of a list (ecto_sqlite3's arrays): compact, non-ASCII as is. */
export function jasonJson(value: unknown): string {
  return JSON.stringify(value);
}

/** A 32-hex id as a hyphenated UUID (8-4-4-4-12), as the second generation stores ids. */
export function hyphenated(id: string): string {
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

export function f32Bytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
