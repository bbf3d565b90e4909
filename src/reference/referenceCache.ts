import { existsSync } from "node:fs";
import { PanicDriftError } from "../common/errors.js";
import type { OutputPolicy } from "../sink/outputGuard.js";
import { writeTableFile } from "../sink/tableFile.js";
import { sqlString } from "../common/text.js";
import type { PromptVector } from "../frame/promptVector.js";

/**
 * A reference vector obtained from an embedder, with where it came from
 * (embedSourceFor); the cache file's place: referenceCacheFile.ts.
 */
export interface CachedVector extends PromptVector {
  readonly source: string;
}

export async function readReferenceCache(path: string): Promise<CachedVector[]> {
  if (!existsSync(path)) return [];
  // Loaded on use: a library importing panic-drift does not pay for DuckDB until it needs it.
  const { DuckDBInstance } = (await import("../common/duckdb.js")).duckdbApi;
  const instance = await DuckDBInstance.create(":memory:", { threads: "1", autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT initial_prompt, embedding_model, source, CAST(vector AS DOUBLE[]) FROM read_parquet(${sqlString(path)})`,
    );
    return reader.getRows().map(([prompt, model, source, vector]) => {
      const items = (vector as { items?: unknown[] } | null)?.items;
      if (typeof prompt !== "string" || typeof model !== "string" || typeof source !== "string" || items === undefined) {
        throw new Error("a row lacks initial_prompt, embedding_model, source or vector");
      }
      return { initialPrompt: prompt, embeddingModel: model, source, vector: Float64Array.from(items as number[]) };
    });
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    throw new PanicDriftError(
      "REFERENCE_CACHE_INVALID",
      `cannot read the reference cache ${path}: ${reason}: compute --overwrite fetches its vectors again and replaces it`,
      { cause: error },
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Replaces the cache with `entries` (sorted, so that the same vectors make the same file). */
export async function writeReferenceCache(path: string, entries: readonly CachedVector[], policy: OutputPolicy): Promise<void> {
  const rows = [...entries]
    .sort((a, b) => compare(a.source, b.source) || compare(a.embeddingModel, b.embeddingModel) || compare(a.initialPrompt, b.initialPrompt))
    .map((e) => [e.initialPrompt, e.embeddingModel, e.source, Array.from(e.vector)]);
  await writeTableFile(
    path,
    "parquet",
    [
      { name: "initial_prompt", type: "VARCHAR" },
      { name: "embedding_model", type: "VARCHAR" },
      { name: "source", type: "VARCHAR" },
      { name: "vector", type: "DOUBLE[]" },
    ],
    rows,
    policy,
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
