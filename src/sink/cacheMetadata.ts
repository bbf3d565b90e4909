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
  /** Embedding rows with an unreadable timestamp, over all readers; recorded with run_tallies. */
  bad_timestamps?: string;
}

/** JSON of the SnapshotState the file was computed from (what an incremental update compares). */
export const SNAPSHOT_KEY = "snapshot";

export type CacheMetadata = CacheSettings & CacheResult & { snapshot?: string };

const PREFIX = "panic_drift.";

/** The settings as key-value metadata (written when the COPY starts). */
export function settingsKeyValue(settings: CacheSettings): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [PREFIX + k, v]));
}

/** The key of the result, one JSON object written into the footer once the rows are out (see resultSlot.ts). */
export const RESULT_KEY = `${PREFIX}result`;

/**
 * The result as one JSON object a reader can query as it is: numbers as
 * numbers, the NULL reasons, warnings and run tallies as nested values
 * (`json_extract(decode(value), '$.null_reasons.null_vector')` in DuckDB).
 */
export function resultJson(result: CacheResult): string {
  return JSON.stringify({
    rows: Number(result.rows),
    rows_with_drift: Number(result.rows_with_drift),
    null_reasons: JSON.parse(result.null_reasons) as unknown,
    warnings: JSON.parse(result.warnings) as unknown,
    ...(result.run_tallies === undefined ? {} : { run_tallies: JSON.parse(result.run_tallies) as unknown }),
    ...(result.bad_timestamps === undefined ? {} : { bad_timestamps: Number(result.bad_timestamps) }),
  });
}

/**
 * Reads the metadata of an existing output from its parquet footer alone
 * (no DuckDB: this is the whole cost of an up-to-date run), or undefined
 * when there is no file or it is not one of ours (a foreign or damaged file
 * is recomputed).
 */
export function readCacheMetadata(path: string): Partial<CacheMetadata> | undefined {
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
  return found.rows === undefined ? undefined : (found);
}

/** True when every setting recorded in the file equals the current one (`ignore` aside). */
export function settingsMatch(
  found: Partial<CacheMetadata>,
  expected: Omit<CacheSettings, "source"> & Partial<CacheSettings>,
  ignore: readonly (keyof CacheSettings)[] = [],
): boolean {
  return (Object.keys(expected) as (keyof CacheSettings)[]).every((k) => ignore.includes(k) || found[k] === expected[k]);
}

/**
 * The result's fields in their internal (text) form, or nothing when it is
 * not a filled-in result (a file cut short while writing). Files written
 * before the result was one JSON object held every field as JSON text.
 */
function parseResult(value: string): Partial<CacheResult> {
  try {
    const json: unknown = JSON.parse(value);
    if (json === null || typeof json !== "object") return {};
    const parsed = json as Record<string, unknown>;
    const text = (field: unknown, kind: "number" | "object"): string | undefined => {
      if (typeof field === "string") return field;
      if (kind === "number" && typeof field === "number" && Number.isSafeInteger(field)) return String(field);
      if (kind === "object" && typeof field === "object" && field !== null) return JSON.stringify(field);
      return undefined;
    };
    const found = {
      rows: text(parsed.rows, "number"),
      rows_with_drift: text(parsed.rows_with_drift, "number"),
      null_reasons: text(parsed.null_reasons, "object"),
      warnings: text(parsed.warnings, "object"),
    };
    if (Object.values(found).some((v) => v === undefined)) return {};
    const tallies = text(parsed.run_tallies, "object");
    const badTimestamps = text(parsed.bad_timestamps, "number");
    return { ...(found as CacheResult), ...(tallies === undefined ? {} : { run_tallies: tallies }), ...(badTimestamps === undefined ? {} : { bad_timestamps: badTimestamps }) };
  } catch {
    return {};
  }
}
