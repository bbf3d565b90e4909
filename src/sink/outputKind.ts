// Light: the output guard runs before anything heavy loads.
import { closeSync, readSync, statSync } from "node:fs";
import { openRegularFileSync, readRegularFileSync } from "../common/regularFile.js";
import { crc32 } from "node:zlib";
import { readParquetFooter } from "./parquetFooter.js";

/**
 * The kinds of file panic-drift writes, and how it recognises one it wrote:
 * it replaces an existing output only when that file is one of its own of
 * the same kind (see outputGuard.ts). Every kind carries a mark where its
 * format allows one:
 *
 * - parquet: key-value metadata `panic_drift.kind` (drift frames: their
 *   `panic_drift.format` key);
 * - SVG: a first-line comment; PNG: a `tEXt` chunk `Software`; a Vega-Lite
 *   spec: `usermeta.generator`;
 * - CSV, JSON arrays and aligned text tables cannot carry a mark: their
 *   header (the column names) is recognised instead.
 */
export type OutputKind = "drift frame" | "prompts table" | "summary table" | "plot" | "reference cache";

/** The key-value metadata key naming the kind of a parquet file panic-drift wrote. */
export const KIND_KEY = "panic_drift.kind";

const KIND_VALUES: Readonly<Record<OutputKind, string>> = {
  "drift frame": "drift_frame",
  "prompts table": "prompts",
  "summary table": "summary",
  plot: "plot",
  "reference cache": "reference_cache",
};

/** The kind as parquet key-value metadata. */
export function kindMetadata(kind: OutputKind): Record<string, string> {
  return { [KIND_KEY]: KIND_VALUES[kind] };
}

const GENERATOR = "panic-drift plot";
const SVG_MARK = `<!-- ${GENERATOR} -->`;

/** An SVG picture with panic-drift's mark (an XML comment before the root element). */
export function markSvg(svg: string): string {
  return `${SVG_MARK}\n${svg}`;
}

/** A Vega-Lite spec with panic-drift's mark (`usermeta`, which Vega-Lite keeps and ignores). */
export function markSpec<T extends object>(spec: T): T & { usermeta: { generator: string } } {
  return { ...spec, usermeta: { ...((spec as { usermeta?: object }).usermeta ?? {}), generator: GENERATOR } };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Signature and the IHDR chunk (length, type, 13 bytes of data, CRC). */
const PNG_HEADER_BYTES = 8 + 4 + 4 + 13 + 4;

/** A PNG picture with panic-drift's mark: a `tEXt` chunk `Software` right after the header chunk. */
export function markPng(png: Uint8Array): Buffer {
  const bytes = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString("latin1", 12, 16) !== "IHDR") throw new Error("not a PNG picture");
  const data = Buffer.from(`Software\0${GENERATOR}`, "latin1");
  const chunk = Buffer.alloc(12 + data.byteLength);
  chunk.writeUInt32BE(data.byteLength, 0);
  chunk.write("tEXt", 4, "latin1");
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.byteLength)), 8 + data.byteLength);
  return Buffer.concat([bytes.subarray(0, PNG_HEADER_BYTES), chunk, bytes.subarray(PNG_HEADER_BYTES)]);
}

/** Column names that only panic-drift's own tables have together, by kind. */
const TABLE_SIGNATURES: readonly (readonly [OutputKind, readonly string[], "exactly" | "including"])[] = [
  ["prompts table", ["initial_prompt", "embedding_model", "resolved_by", "rows"], "exactly"],
  ["reference cache", ["initial_prompt", "embedding_model", "source", "vector"], "exactly"],
  ["summary table", ["runs", "steps_min", "steps_max"], "including"],
  ["summary table", ["run_id", "steps", "final", "max", "mean", "auc", "first_over"], "including"],
];

function tableKind(columns: readonly string[]): OutputKind | undefined {
  for (const [kind, names, how] of TABLE_SIGNATURES) {
    const matches = how === "exactly" ? columns.length === names.length && names.every((n, i) => columns[i] === n) : names.every((n) => columns.includes(n));
    if (matches) return kind;
  }
  return undefined;
}

/** How much of a text file is looked at for its header or mark. */
const HEAD_BYTES = 64 * 1024;

/**
 * What is at `path` now: nothing, an empty file (nothing to lose), one of
 * panic-drift's kinds, or a file panic-drift did not write ("foreign").
 */
export function existingOutputKind(path: string): OutputKind | "absent" | "empty" | "foreign" {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    // Nothing there, or nothing this process can see: whoever writes reports what is wrong.
    return "absent";
  }
  // A FIFO or a device is nothing panic-drift wrote (a directory is reported by the guard before this).
  if (!stats.isFile()) return "foreign";
  const size = stats.size;
  let head: Buffer;
  let fd: number | undefined;
  try {
    fd = openRegularFileSync(path);
    head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    readSync(fd, head, 0, head.byteLength, 0);
  } catch {
    return "foreign";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (size === 0 || (size <= HEAD_BYTES && /^\s*$/.test(head.toString("latin1")))) return "empty";
  if (head.toString("latin1", 0, 4) === "PAR1") return parquetKind(path);
  if (head.subarray(0, 8).equals(PNG_SIGNATURE)) return pngHasMark(head) ? "plot" : "foreign";
  const text = head.toString("utf8").replace(/^\uFEFF/, "");
  if (text.startsWith(SVG_MARK)) return "plot";
  const first = text.trimStart()[0];
  if (first === "[" || first === "{") return jsonKind(path);
  // CSV (our names need no quoting) or an aligned table (names apart by spaces), by its first line.
  const header = text.split(/\r?\n/, 1)[0] ?? "";
  return tableKind(header.includes(",") ? header.split(",") : header.trim().split(/\s+/)) ?? "foreign";
}

function parquetKind(path: string): OutputKind | "foreign" {
  const footer = readParquetFooter(path);
  if (footer === undefined) return "foreign";
  const value = footer.keyValue.get(KIND_KEY);
  const marked = (Object.keys(KIND_VALUES) as OutputKind[]).find((kind) => KIND_VALUES[kind] === value);
  if (marked !== undefined) return marked;
  if (footer.keyValue.has("panic_drift.format")) return "drift frame";
  // Written before the kind was recorded: recognised by its columns.
  return tableKind(footer.columns) ?? "foreign";
}

function jsonKind(path: string): OutputKind | "empty" | "foreign" {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readRegularFileSync(path).toString("utf8"));
  } catch {
    return "foreign";
  }
  if (Array.isArray(parsed)) {
    const first: unknown = parsed[0];
    // An empty list holds nothing to lose (what prompts or summary write when nothing matches).
    if (parsed.length === 0) return "empty";
    return first !== null && typeof first === "object" ? (tableKind(Object.keys(first)) ?? "foreign") : "foreign";
  }
  const generator = (parsed as { usermeta?: { generator?: unknown } } | null)?.usermeta?.generator;
  return generator === GENERATOR ? "plot" : "foreign";
}

/** Whether the chunks before the image data hold panic-drift's `tEXt` mark. */
function pngHasMark(head: Buffer): boolean {
  for (let at = 8; at + 8 <= head.byteLength; ) {
    const length = head.readUInt32BE(at);
    const type = head.toString("latin1", at + 4, at + 8);
    if (type === "IDAT" || type === "IEND") return false;
    if (type === "tEXt" && head.toString("latin1", at + 8, Math.min(head.byteLength, at + 8 + length)) === `Software\0${GENERATOR}`) return true;
    at += 12 + length;
  }
  return false;
}
