import Database from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { DuckDBInstance } from "@duckdb/node-api";

/** A dataset directory as DuckDB reads it: every part file, hive partitioning on. */
export function datasetScan(dir: string): string {
  return `read_parquet('${dir.replaceAll("'", "''")}/**/*.parquet', hive_partitioning = true)`;
}

/** Runs `sql` statements in one DuckDB connection; the last one's rows as JSON-friendly objects. */
export async function duck(...sql: string[]): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    let rows: Record<string, unknown>[] = [];
    for (const statement of sql) rows = (await connection.runAndReadAll(statement)).getRowObjectsJson();
    return rows;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Rows of `a` not in `b` and of `b` not in `a` (as multisets), and both sides' column types. */
export async function compareTables(a: string, b: string): Promise<{ onlyA: number; onlyB: number; typesA: string; typesB: string; rows: number }> {
  const [counts] = await duck(`SELECT
      (SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}))::INTEGER AS only_a,
      (SELECT count(*) FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a}))::INTEGER AS only_b,
      (SELECT count(*) FROM ${a})::INTEGER AS n`);
  const types = async (t: string) => (await duck(`SELECT string_agg(column_name || ' ' || column_type, ', ') AS t FROM (DESCRIBE SELECT * FROM ${t})`))[0]!.t as string;
  return { onlyA: counts!.only_a as number, onlyB: counts!.only_b as number, rows: counts!.n as number, typesA: await types(a), typesB: await types(b) };
}

/** A first-generation run copied under new ids (its invocations and embeddings too): a run added to the same experiment. */
export function addCopyOfRun(path: string): string {
  const db = new Database(path);
  try {
    const hex = () => randomUUID().replaceAll("-", "");
    const run = db.prepare("SELECT id FROM run WHERE initial_prompt NOT IN ('yeah', 'nah') ORDER BY id LIMIT 1").pluck().get() as string;
    const runId = hex();
    db.transaction(() => {
      db.prepare("INSERT INTO run SELECT ?, network, seed + 1000, max_length, initial_prompt, experiment_id FROM run WHERE id = ?").run(runId, run);
      for (const invocation of db.prepare("SELECT id FROM invocation WHERE run_id = ? ORDER BY sequence_number").pluck().all(run) as string[]) {
        const id = hex();
        db.prepare("INSERT INTO invocation SELECT ?, started_at, completed_at, model, type, seed, ?, sequence_number, NULL, output_text, output_image_data FROM invocation WHERE id = ?").run(id, runId, invocation);
        for (const embedding of db.prepare("SELECT id FROM embedding WHERE invocation_id = ?").pluck().all(invocation) as string[]) {
          db.prepare("INSERT INTO embedding SELECT ?, started_at, completed_at, ?, embedding_model, vector FROM embedding WHERE id = ?").run(hex(), id, embedding);
        }
      }
    })();
    return runId;
  } finally {
    db.close();
  }
}

/** Fills every NULL vector of a first-generation database with a vector of the same model (what the engine does later). */
export function fillNullVectors(path: string): number {
  const db = new Database(path);
  try {
    return db
      .prepare("UPDATE embedding SET vector = (SELECT e.vector FROM embedding AS e WHERE e.embedding_model = embedding.embedding_model AND e.vector IS NOT NULL ORDER BY e.rowid LIMIT 1) WHERE vector IS NULL")
      .run().changes;
  } finally {
    db.close();
  }
}

/** Deletes one run of a second-generation database (its embeddings and invocations first); returns its id. */
export function deleteRunGen2(path: string): string {
  const db = new Database(path);
  try {
    const run = db.prepare("SELECT id FROM runs WHERE initial_prompt NOT IN ('yeah', 'nah') ORDER BY id DESC LIMIT 1").pluck().get() as string;
    db.transaction(() => {
      db.prepare("DELETE FROM embeddings WHERE invocation_id IN (SELECT id FROM invocations WHERE run_id = ?)").run(run);
      db.prepare("DELETE FROM invocations WHERE run_id = ?").run(run);
      db.prepare("DELETE FROM runs WHERE id = ?").run(run);
    })();
    return run;
  } finally {
    db.close();
  }
}
