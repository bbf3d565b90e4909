import { DuckDBInstance } from "@duckdb/node-api";
import { existsSync } from "node:fs";

/**
 * What a cached file records about how it was made, as parquet key-value
 * metadata under `panic_drift.*` keys. The "settings" half decides whether
 * the file is up to date; the "result" half lets an up-to-date run report
 * the same summary without reading the rows.
 */
export const FORMAT_VERSION = "1";

export interface CacheSettings {
  /** Bumped when the frame's meaning changes, so older caches are recomputed. */
  format: string;
  tool_version: string;
  source: string;
  metric: string;
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
}

export type CacheMetadata = CacheSettings & CacheResult;

const PREFIX = "panic_drift.";

export function toKeyValue(metadata: CacheMetadata): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [PREFIX + k, v]));
}

/**
 * Reads the metadata of an existing output, or undefined when there is no
 * file or it is not one of ours (a foreign or damaged file is recomputed).
 */
export async function readCacheMetadata(path: string): Promise<Partial<CacheMetadata> | undefined> {
  if (!existsSync(path)) return undefined;
  let instance: DuckDBInstance | undefined;
  try {
    instance = await DuckDBInstance.create(":memory:", { threads: "1" });
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        "SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata($1)",
        [path],
      );
      const found: Record<string, string> = {};
      for (const [key, value] of reader.getRows()) {
        if (typeof key === "string" && key.startsWith(PREFIX) && typeof value === "string") {
          found[key.slice(PREFIX.length)] = value;
        }
      }
      return Object.keys(found).length === 0 ? undefined : (found as Partial<CacheMetadata>);
    } finally {
      connection.closeSync();
    }
  } catch {
    return undefined;
  } finally {
    instance?.closeSync();
  }
}

/** True when every setting recorded in the file equals the current one. */
export function settingsMatch(found: Partial<CacheMetadata>, expected: CacheSettings): boolean {
  return (Object.keys(expected) as (keyof CacheSettings)[]).every((k) => found[k] === expected[k]);
}
