import { readParquetFooter, type ParquetFooter } from "./parquetFooter.js";

/**
 * What a cached file records about how it was made, as parquet key-value
 * metadata under `panic_drift.*` keys. The "settings" half decides whether
 * the file is up to date; the "result" half lets an up-to-date run report
 * the same summary without reading the rows.
 */
export const FORMAT_VERSION = "2";

export interface CacheSettings {
  /** Bumped when the frame's meaning changes, so older caches are recomputed. */
  format: string;
  tool_version: string;
  source: string;
  metric: string;
  /** What drift is measured against: prompt, first or previous. */
  reference: string;
  /** The --experiment/--run/--model filters, canonical ("" for none). */
  filters: string;
  /** JSON array of excluded prompts, sorted. */
  exclusions: string;
  /** sha256 over every reference the run may use (file bytes, built-in embedder version). */
  reference_digest: string;
  /** JSON of the input fingerprint (sizes and mtimes). */
  input_fingerprint: string;
}

export interface CacheResult {
  rows: string;
  rows_with_drift: string;
  /** JSON object: reason → count. */
  null_reasons: string;
  /** JSON array of warning strings from the run that wrote the file. */
  warnings: string;
  /** JSON object: run index (in `snapshot`'s runs) → that run's RunTally; absent when it did not fit. */
  run_tallies?: string;
}

/** JSON of the SnapshotState the file was computed from (what an incremental update compares). */
export const SNAPSHOT_KEY = "snapshot";

export type CacheMetadata = CacheSettings & CacheResult & { snapshot?: string };

const PREFIX = "panic_drift.";

/** The settings as key-value metadata (written when the COPY starts). */
export function settingsKeyValue(settings: CacheSettings): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [PREFIX + k, v]));
}

/** The key of the result, one JSON object written into a reserved slot once the rows are out (see resultSlot.ts). */
export const RESULT_KEY = `${PREFIX}result`;

/**
 * The result as the slot's JSON. If it would not fit in `maxBytes`, the run
 * tallies go first (the next update is then a full one), then warnings are
 * cut short (and counted).
 */
export function resultJson(result: CacheResult, maxBytes: number): string {
  if (result.run_tallies !== undefined) {
    const json = JSON.stringify(result);
    if (Buffer.byteLength(json, "utf8") <= maxBytes) return json;
    const { run_tallies: _dropped, ...rest } = result;
    result = rest;
  }
  const warnings = JSON.parse(result.warnings) as string[];
  for (let kept = warnings.length; ; kept--) {
    const shown = kept === warnings.length ? warnings : [...warnings.slice(0, kept), `(${warnings.length - kept} more warnings not recorded)`];
    const json = JSON.stringify({ ...result, warnings: JSON.stringify(shown) });
    if (Buffer.byteLength(json, "utf8") <= maxBytes || kept === 0) return json;
  }
}

/**
 * Reads the metadata of an existing output from its parquet footer alone
 * (no DuckDB: this is the whole cost of an up-to-date run), or undefined
 * when there is no file or it is not one of ours (a foreign or damaged file
 * is recomputed).
 */
export async function readCacheMetadata(path: string): Promise<Partial<CacheMetadata> | undefined> {
  return cacheMetadataOf(readParquetFooter(path));
}

/** The `panic_drift.*` metadata of a footer already read (see readCacheMetadata). */
export function cacheMetadataOf(footer: ParquetFooter | undefined): Partial<CacheMetadata> | undefined {
  if (footer === undefined) return undefined;
  const found: Record<string, string> = {};
  for (const [key, value] of footer.keyValue) {
    if (key === RESULT_KEY) Object.assign(found, parseResult(value));
    else if (key.startsWith(PREFIX)) found[key.slice(PREFIX.length)] = value;
  }
  // Without its result (an older layout, or damaged) the file is recomputed.
  return found.rows === undefined ? undefined : (found as Partial<CacheMetadata>);
}

/** True when every setting recorded in the file equals the current one (`ignore` aside). */
export function settingsMatch(
  found: Partial<CacheMetadata>,
  expected: Omit<CacheSettings, "source"> & Partial<CacheSettings>,
  ignore: readonly (keyof CacheSettings)[] = [],
): boolean {
  return (Object.keys(expected) as (keyof CacheSettings)[]).every((k) => ignore.includes(k) || found[k] === expected[k]);
}

/** The result slot's fields, or nothing when it is not a filled-in slot (a file cut short while writing). */
function parseResult(value: string): Partial<CacheResult> {
  try {
    const parsed = JSON.parse(value) as Record<string, unknown>;
    const fields = ["rows", "rows_with_drift", "null_reasons", "warnings"] as const;
    if (parsed === null || typeof parsed !== "object" || !fields.every((f) => typeof parsed[f] === "string")) return {};
    const found: Partial<CacheResult> = Object.fromEntries(fields.map((f) => [f, parsed[f] as string]));
    if (typeof parsed.run_tallies === "string") found.run_tallies = parsed.run_tallies;
    return found;
  } catch {
    return {};
  }
}
