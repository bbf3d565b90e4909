/**
 * The (initial prompt, embedding model) pairs of a database's text
 * embeddings, with their rows and rows with a vector, counted in one scan of
 * the embedding table in storage order (see the `pairs` query).
 */
import type Database from "better-sqlite3";
import type { PairCount } from "../driftSource.js";
import type { SqliteValue } from "./sqliteFile.js";

export function sqlitePairCounts(
  db: Database.Database,
  query: string,
  parameters: readonly string[],
  promptOfRun: ReadonlyMap<unknown, string>,
  excludePrompts: ReadonlySet<string>,
): PairCount[] {
  const pairs = new Map<string, Map<string, { rows: number; rowsWithVector: number }>>();
  for (const [runId, model, withVector] of db.prepare(query).raw(true).iterate(...parameters) as IterableIterator<SqliteValue[]>) {
    const initialPrompt = promptOfRun.get(runId);
    if (initialPrompt === undefined || excludePrompts.has(initialPrompt)) continue;
    let byModel = pairs.get(initialPrompt);
    if (byModel === undefined) pairs.set(initialPrompt, (byModel = new Map<string, { rows: number; rowsWithVector: number }>()));
    const embeddingModel = String(model);
    const count = byModel.get(embeddingModel) ?? { rows: 0, rowsWithVector: 0 };
    count.rows++;
    count.rowsWithVector += Number(withVector);
    byModel.set(embeddingModel, count);
  }
  return [...pairs].flatMap(([initialPrompt, byModel]) =>
    [...byModel].map(([embeddingModel, count]) => ({ initialPrompt, embeddingModel, ...count })),
  );
}
