import { PanicDriftError } from "../../common/errors.js";

/**
 * The two generations of panic-tda SQLite databases differ, for what
 * panic-drift reads, only in names and literals: the tables are called
 * `run`/`invocation`/`embedding` (Python era, SQLModel) or
 * `runs`/`invocations`/`embeddings` (Elixir era, Ash/ecto_sqlite3); the
 * columns read have the same names in both; `invocation.type` holds
 * `'TEXT'` or `'text'`. Ids are bare 32-hex or hyphenated UUID text, and
 * timestamps naive `YYYY-MM-DD HH:MM:SS.ffffff` or ISO `…THH:MM:SS.ffffffZ`:
 * both spellings are read by the same code (hyphenateUuid passes hyphenated
 * ids through, the timestamp parser takes both), so a layout does not need
 * to name them.
 */
export interface SqliteLayout {
  /** For messages and the output's metadata (the cache's `source`). */
  readonly description: string;
  /** Short name for messages: "first generation". */
  readonly generation: string;
  readonly tables: { readonly run: string; readonly invocation: string; readonly embedding: string };
  /** `invocation.type` of a text invocation. */
  readonly textType: string;
  /**
   * A condition on `i` (the invocation) that every text invocation meets and
   * that SQLite decides from the record header alone, tested before `type`.
   * Second-generation invocations hold the image blob *before* `type`,
   * `model` and `id`; reading any of those on an image row walks the blob's
   * overflow pages, so image rows must be turned away by `output_image IS
   * NULL` first (a NULL test reads only the header). First-generation rows
   * hold the blob last and need none.
   */
  readonly textPrecondition: string | null;
  /** The indexes the run-by-run read needs (upstream creates them), as statements that recreate them. */
  readonly indexes: readonly string[];
}

/** First generation: Python era (SQLModel on SQLite). */
export const PYTHON_ERA: SqliteLayout = {
  description: "first-generation (Python era) panic-tda SQLite database",
  generation: "first generation",
  tables: { run: "run", invocation: "invocation", embedding: "embedding" },
  textType: "TEXT",
  textPrecondition: null,
  indexes: ["CREATE INDEX ix_invocation_run_id ON invocation (run_id)", "CREATE INDEX ix_embedding_invocation_id ON embedding (invocation_id)"],
};

/** Second generation: Elixir era (Ash, ecto_sqlite3). */
export const ELIXIR_ERA: SqliteLayout = {
  description: "second-generation (Elixir era) panic-tda SQLite database",
  generation: "second generation",
  tables: { run: "runs", invocation: "invocations", embedding: "embeddings" },
  textType: "text",
  // upstream validates it: a text invocation never holds an image.
  textPrecondition: "i.output_image IS NULL",
  indexes: [
    "CREATE UNIQUE INDEX invocations_unique_run_sequence_index ON invocations (run_id, sequence_number)",
    "CREATE UNIQUE INDEX embeddings_unique_invocation_model_index ON embeddings (invocation_id, embedding_model)",
  ],
};

export const SQLITE_LAYOUTS: readonly SqliteLayout[] = [PYTHON_ERA, ELIXIR_ERA];

/**
 * The WHERE condition that keeps text invocations (`i` is the invocation),
 * for every query that joins invocations: SQLite tests terms on `i` in the
 * order written, so the header-only precondition comes first.
 */
export function textCondition(layout: SqliteLayout): string {
  const isText = `i.type = '${layout.textType}'`;
  return layout.textPrecondition === null ? isText : `${layout.textPrecondition} AND ${isText}`;
}

/** The columns panic-drift reads, per role (the same names in both generations). */
export const READ_COLUMNS = {
  run: ["id", "network", "initial_prompt", "experiment_id"],
  invocation: ["id", "run_id", "sequence_number", "model", "type", "output_text"],
  embedding: ["id", "invocation_id", "embedding_model", "started_at", "completed_at", "vector"],
} as const;

function tableList(layout: SqliteLayout): string[] {
  return [layout.tables.run, layout.tables.invocation, layout.tables.embedding];
}

/**
 * Which layout a database holds, from its table names: the one whose three
 * tables are all there. Both (a database someone merged or migrated in
 * place) or neither is an error that lists the tables found.
 */
export function detectLayout(tables: ReadonlySet<string>, path: string): SqliteLayout {
  const complete = SQLITE_LAYOUTS.filter((layout) => tableList(layout).every((t) => tables.has(t)));
  const found = tables.size === 0 ? "no tables" : `tables found: ${[...tables].sort().join(", ")}`;
  if (complete.length === 1) return complete[0]!;
  if (complete.length > 1) {
    const sets = complete.map((layout) => `the ${layout.generation} tables (${tableList(layout).join(", ")})`).join(" and ");
    throw new PanicDriftError(
      "DB_AMBIGUOUS_SCHEMA",
      `ambiguous panic-tda database: ${path} has ${sets} (${found}): point --db at a database of one generation (e.g. a copy with the other generation's tables dropped)`,
    );
  }
  // Name what is missing of the layout that is most nearly there (the first generation on a tie).
  const present = (layout: SqliteLayout): number => tableList(layout).filter((t) => tables.has(t)).length;
  const best = Math.max(...SQLITE_LAYOUTS.map(present));
  const missing = SQLITE_LAYOUTS.filter((layout) => present(layout) === best).map(
    (layout) => `${tableList(layout).find((t) => !tables.has(t))} (${layout.generation})`,
  );
  throw new PanicDriftError(
    "DB_NOT_PANIC_TDA",
    `not a panic-tda database: missing table ${missing.join(" or ")} in ${path} (${found}): point --db at a panic-tda experiment database`,
  );
}
