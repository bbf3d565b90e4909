import { parquetMetadata } from "hyparquet/src/metadata.js";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

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
 * Reads the metadata of an existing output from its parquet footer alone
 * (no DuckDB: this is the whole cost of an up-to-date run), or undefined
 * when there is no file or it is not one of ours (a foreign or damaged file
 * is recomputed).
 */
export async function readCacheMetadata(path: string): Promise<Partial<CacheMetadata> | undefined> {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    if (size < 12) return undefined;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    const footerLength = tail.readUInt32LE(0) + 8;
    if (tail.toString("latin1", 4) !== "PAR1" || footerLength > size - 4) return undefined;
    const footer = Buffer.alloc(footerLength);
    readSync(fd, footer, 0, footerLength, size - footerLength);
    const found: Record<string, string> = {};
    for (const { key, value } of parquetMetadata(footer).key_value_metadata ?? []) {
      if (key.startsWith(PREFIX) && typeof value === "string") found[key.slice(PREFIX.length)] = value;
    }
    return Object.keys(found).length === 0 ? undefined : (found as Partial<CacheMetadata>);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** True when every setting recorded in the file equals the current one (`ignore` aside). */
export function settingsMatch(
  found: Partial<CacheMetadata>,
  expected: Omit<CacheSettings, "source"> & Partial<CacheSettings>,
  ignore: readonly (keyof CacheSettings)[] = [],
): boolean {
  return (Object.keys(expected) as (keyof CacheSettings)[]).every((k) => ignore.includes(k) || found[k] === expected[k]);
}
