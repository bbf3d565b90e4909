/**
 * Converts a first-generation panic-tda database (as makePanicDb writes it)
 * into the directory of parquet files that upstream's `mix
 * experiment.export_data` writes for the same experiments
 * (lib/panic_tda/data_export.ex): one zstd file per table, ids hyphenated,
 * `invocations.type` lower-case, `network`/`networks`/`prompts`/
 * `embedding_models` as JSON text (Jason's compact encoding), timestamps as
 * ISO 8601 strings (`DateTime.to_iso8601` of a UTC microsecond datetime:
 * `2025-03-03T09:00:00.123456Z`), `sequence_number` int64, `vector` as
 * list<float32>. With `embedPrompts`, upstream's `--embed-prompts` rows: per
 * run an invocation `'prompt-' || run_id` (sequence_number -1, type 'text',
 * model NULL, output_text = initial_prompt) and per (run, text embedding
 * model) an embedding `'prompt-' || run_id || '-' || model` holding the
 * prompt's vector.
 *
 * Independent of the product's readers: it reads the database with
 * better-sqlite3 and writes parquet with DuckDB (vectors copied into DuckDB's
 * list vectors as bytes, so big exports are quick to make). Only the
 * embedders' reference vectors come from the product
 * (src/reference/builtinEmbedders.ts), as the brief of the export asks: the
 * export stores what upstream's embedders computed.
 */
import Database from "better-sqlite3";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import duckdb from "@duckdb/node-bindings";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { builtinEmbedding } from "../../src/reference/builtinEmbedders.js";

export interface PanicExportOptions {
  /** Experiments to export (raw or hyphenated ids); default every experiment of the database. */
  experiments?: string[];
  /** Add upstream's `--embed-prompts` rows. Default false. */
  embedPrompts?: boolean;
  /**
   * With `embedPrompts`: the stored vector of (model, prompt). Default: the
   * built-in embedders for Dummy/Dummy2/DummyText/DummyText2 (what upstream's
   * embedders give), and for any other model a deterministic vector of the
   * model's dimension derived from the prompt (see `syntheticPromptVector`).
   * Return null to store a NULL vector.
   */
  promptVector?: (model: string, prompt: string, dimension: number) => Float32Array | (number | null)[] | null;
  /**
   * Order of embeddings.parquet: the database's storage order (default), or
   * "run": run by run in run_id order, each run's model by model, step by
   * step, as upstream's engine inserts them (its uuid_v7 run ids grow with
   * creation time, so that is also the output's run order).
   */
  embeddingOrder?: "storage" | "run";
  /** Raw (32-hex) embedding ids whose vector gets a NULL element at index 1 (not something upstream writes). */
  nullElements?: string[];
}

export interface PanicExportManifest {
  dir: string;
  /** Hyphenated ids of the exported runs. */
  runIds: string[];
  /** Rows of each table file. */
  rows: Record<(typeof TABLES)[number], number>;
  /**
   * Hyphenated ids of embeddings whose first-generation vector cannot be a
   * list<float32> (a blob whose length is not a multiple of 4, or not a
   * blob): written as NULL.
   */
  unrepresentable: string[];
  /** Hyphenated ids of runs left out: those without an experiment (upstream exports experiments). */
  runsWithoutExperiment: string[];
  /** The prompt vectors written, by model then prompt (with `embedPrompts`). */
  promptVectors: Map<string, Map<string, Float32Array | (number | null)[] | null>>;
}

export const TABLES = [
  "experiments",
  "runs",
  "invocations",
  "embeddings",
  "persistence_diagrams",
  "clustering_results",
  "embedding_clusters",
  "lyapunov_results",
] as const;

type ColumnType = "VARCHAR" | "BIGINT" | "DOUBLE" | "FLOAT[]" | "DOUBLE[]";
type Cell = string | number | bigint | null | Float32Array | (number | null)[];

/** The columns upstream writes, per table, in its order, with Explorer's dtypes. */
const TIMES = ["started_at", "completed_at", "inserted_at", "updated_at"].map((c) => [c, "VARCHAR"] as const);
const STAMPS = ["inserted_at", "updated_at"].map((c) => [c, "VARCHAR"] as const);
export const EXPORT_COLUMNS: Record<(typeof TABLES)[number], readonly (readonly [string, ColumnType])[]> = {
  experiments: [
    ["id", "VARCHAR"],
    ["networks", "VARCHAR"],
    ["num_runs", "BIGINT"],
    ["prompts", "VARCHAR"],
    ["embedding_models", "VARCHAR"],
    ["max_length", "BIGINT"],
    ...TIMES,
  ],
  runs: [
    ["id", "VARCHAR"],
    ["experiment_id", "VARCHAR"],
    ["network", "VARCHAR"],
    ["run_number", "BIGINT"],
    ["max_length", "BIGINT"],
    ["initial_prompt", "VARCHAR"],
    ...STAMPS,
  ],
  invocations: [
    ["id", "VARCHAR"],
    ["run_id", "VARCHAR"],
    ["input_invocation_id", "VARCHAR"],
    ["sequence_number", "BIGINT"],
    ["type", "VARCHAR"],
    ["model", "VARCHAR"],
    ["output_text", "VARCHAR"],
    ...TIMES,
  ],
  embeddings: [
    ["id", "VARCHAR"],
    ["invocation_id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["vector", "FLOAT[]"],
    ...TIMES,
  ],
  persistence_diagrams: [
    ["id", "VARCHAR"],
    ["run_id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["diagram_data", "VARCHAR"],
    ...TIMES,
  ],
  clustering_results: [
    ["id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["algorithm", "VARCHAR"],
    ["parameters", "VARCHAR"],
    ["layer", "BIGINT"],
    ...TIMES,
  ],
  embedding_clusters: [
    ["id", "VARCHAR"],
    ["embedding_id", "VARCHAR"],
    ["clustering_result_id", "VARCHAR"],
    ["medoid_embedding_id", "VARCHAR"],
    ...STAMPS,
  ],
  lyapunov_results: [
    ["id", "VARCHAR"],
    ["experiment_id", "VARCHAR"],
    ["embedding_model", "VARCHAR"],
    ["network", "VARCHAR"],
    ["prompt", "VARCHAR"],
    ["exponent", "DOUBLE"],
    ["r_squared", "DOUBLE"],
    ["num_pairs", "BIGINT"],
    ["num_timesteps", "BIGINT"],
    ["divergence_curve", "DOUBLE[]"],
    ...TIMES,
  ],
};

/** Upstream's image embedders (Embeddings.model_type == :image): they get no prompt rows. */
const IMAGE_MODELS = new Set(["NomicVision", "JinaClipVision", "DummyVision", "DummyVision2"]);

function hyphenate(id: string | null): string | null {
  if (id === null || /^[0-9a-f]{32}$/i.exec(id) === null) return id;
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

/** SQLAlchemy's naive UTC `YYYY-MM-DD HH:MM:SS.ffffff` as DateTime.to_iso8601 prints a UTC usec datetime. */
export function isoTimestamp(text: unknown): string | null {
  if (text === null || text === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/.exec(String(text));
  if (m === null) return String(text); // not a timestamp: passed through as it is
  return `${m[1]}T${m[2]}.${(m[3] ?? "").padEnd(6, "0")}Z`;
}

/** Jason.encode! of a decoded JSON value (compact); text that is not JSON passes through. */
function compactJson(text: unknown): string | null {
  if (text === null || text === undefined) return null;
  try {
    return JSON.stringify(JSON.parse(String(text)));
  } catch {
    return String(text);
  }
}

/**
 * The default stored vector of a model without a built-in embedder: a
 * deterministic function of (model, prompt), of the given dimension.
 */
export function syntheticPromptVector(model: string, prompt: string, dimension: number): Float32Array {
  let h = 2166136261;
  for (const ch of `${model}\u0000${prompt}`) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 16777619) >>> 0;
  const out = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
    out[i] = ((h >>> 8) / 16777216) * 2 - 1;
  }
  return out;
}

export async function makePanicExport(dbPath: string, dir: string, options: PanicExportOptions = {}): Promise<PanicExportManifest> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const unrepresentable: string[] = [];
  const nullElements = new Set(options.nullElements ?? []);
  const promptVectors = new Map<string, Map<string, Float32Array | (number | null)[] | null>>();
  const rows = {} as PanicExportManifest["rows"];
  let runsWithoutExperiment: string[];
  let runIds: string[];
  if (existsSync(dir)) rmSync(dir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const connection = await instance.connect();
  const write = async (table: (typeof TABLES)[number], cells: Iterable<Cell[]>) => {
    rows[table] = await writeTable(connection, join(dir, `${table}.parquet`), table, EXPORT_COLUMNS[table], cells);
  };
  try {
    const experiments = db.prepare("SELECT id, networks, seeds, prompts, embedding_models, max_length, started_at, completed_at FROM experimentconfig").raw(true).all() as unknown[][];
    const wanted = new Set((options.experiments ?? experiments.map((e) => String(e[0]))).map((id) => id.replaceAll("-", "").toLowerCase()));
    const chosen = experiments.filter((e) => wanted.has(String(e[0]).toLowerCase()));
    const allRuns = db.prepare("SELECT id, network, max_length, initial_prompt, experiment_id FROM run ORDER BY rowid").raw(true).all() as unknown[][];
    const runs = allRuns.filter((r) => r[4] !== null && wanted.has(String(r[4]).toLowerCase()));
    runsWithoutExperiment = allRuns.filter((r) => r[4] === null).map((r) => hyphenate(String(r[0]))!);
    runIds = runs.map((r) => hyphenate(String(r[0]))!);
    const runSet = new Set(runs.map((r) => String(r[0])));

    await write(
      "experiments",
      chosen.map(([id, networks, , prompts, models, maxLength, started, completed]) => {
        const count = runs.filter((r) => r[4] === id).length;
        const inserted = isoTimestamp(started) ?? isoTimestamp(completed);
        return [hyphenate(String(id)), compactJson(networks), count, compactJson(prompts), compactJson(models), Number(maxLength), isoTimestamp(started), isoTimestamp(completed), inserted, isoTimestamp(completed) ?? inserted];
      }),
    );
    const runNumber = new Map<unknown, number>();
    await write(
      "runs",
      runs.map(([id, network, maxLength, prompt, experimentId]) => {
        const n = runNumber.get(experimentId) ?? 0;
        runNumber.set(experimentId, n + 1);
        const stamp = isoTimestamp(chosen.find((e) => e[0] === experimentId)?.[6] ?? null);
        return [hyphenate(String(id)), hyphenate(String(experimentId)), compactJson(network), n, Number(maxLength), String(prompt), stamp, stamp];
      }),
    );

    // Upstream reads invocations sorted by (run_id, sequence_number); the prompt rows come last.
    const invocationRows: Cell[][] = [];
    const exported = new Map<string, { runId: string; seq: number }>();
    for (const [id, runId, input, seq, type, model, text, started, completed] of db
      .prepare("SELECT id, run_id, input_invocation_id, sequence_number, type, model, output_text, started_at, completed_at FROM invocation")
      .raw(true)
      .iterate() as IterableIterator<unknown[]>) {
      if (!runSet.has(String(runId))) continue;
      exported.set(String(id), { runId: hyphenate(String(runId))!, seq: Number(seq) });
      const inserted = isoTimestamp(started);
      invocationRows.push([
        hyphenate(String(id)),
        hyphenate(String(runId)),
        input === null ? null : hyphenate(String(input)),
        Number(seq),
        String(type).toLowerCase(),
        model === null ? null : String(model),
        text === null ? null : String(text),
        inserted,
        isoTimestamp(completed),
        inserted,
        isoTimestamp(completed) ?? inserted,
      ]);
    }
    invocationRows.sort((a, b) => compare(String(a[1]), String(b[1])) || Number(a[3]) - Number(b[3]));
    if (options.embedPrompts === true) {
      for (const [id, , , prompt] of runs) {
        const runId = hyphenate(String(id))!;
        invocationRows.push([`prompt-${runId}`, runId, null, -1, "text", null, String(prompt), null, null, null, null]);
      }
    }
    await write("invocations", invocationRows);

    // Embeddings in the database's storage order (upstream reads them unsorted), or run by run.
    const order = db.prepare("SELECT rowid, invocation_id, embedding_model FROM embedding ORDER BY rowid").raw(true).all() as [number, string, string][];
    const kept = order.filter(([, invocationId]) => exported.has(String(invocationId))); // embedding → invocation → run, as upstream's filter
    if (options.embeddingOrder === "run") {
      kept.sort(([ra, ia, ma], [rb, ib, mb]) => {
        const a = exported.get(String(ia))!;
        const b = exported.get(String(ib))!;
        return compare(a.runId, b.runId) || compare(String(ma), String(mb)) || a.seq - b.seq || ra - rb;
      });
    }
    const byRowid = db.prepare("SELECT id, invocation_id, embedding_model, vector, started_at, completed_at FROM embedding WHERE rowid = ?").raw(true);
    const dimensions = new Map<string, number>();
    const models = [...new Set(chosen.flatMap((e) => JSON.parse(String(e[4])) as string[]))].filter((m) => !IMAGE_MODELS.has(m));
    function* embeddingRows(): Generator<Cell[]> {
      for (const [rowid] of kept) {
        const [id, invocationId, model, vector, started, completed] = byRowid.get(rowid) as unknown[];
        const hyphenated = hyphenate(String(id))!;
        let list: Float32Array | (number | null)[] | null = null;
        if (vector instanceof Uint8Array && vector.byteLength % 4 === 0) {
          list = new Float32Array(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
          if (list.length > 0 && !dimensions.has(String(model))) dimensions.set(String(model), list.length);
          if (nullElements.has(String(id)) && list.length > 1) {
            const withNull: (number | null)[] = Array.from(list);
            withNull[1] = null;
            list = withNull;
          }
        } else if (vector !== null) {
          unrepresentable.push(hyphenated);
        }
        const inserted = isoTimestamp(started);
        yield [hyphenated, hyphenate(String(invocationId)), String(model), list, inserted, isoTimestamp(completed), inserted, isoTimestamp(completed) ?? inserted];
      }
      if (options.embedPrompts !== true) return;
      // One embedding per (run, text model of the exported experiments), model-major, as upstream appends them.
      for (const model of models) {
        const byPrompt = new Map<string, Float32Array | (number | null)[] | null>();
        promptVectors.set(model, byPrompt);
        const dimension = builtinEmbedding(model, "")?.length ?? dimensions.get(model) ?? 768;
        for (const [id, , , rawPrompt] of runs) {
          const prompt = String(rawPrompt);
          if (!byPrompt.has(prompt)) {
            const vector = options.promptVector ? options.promptVector(model, prompt, dimension) : (builtinEmbedding(model, prompt) ?? syntheticPromptVector(model, prompt, dimension));
            byPrompt.set(prompt, vector);
          }
          const runId = hyphenate(String(id))!;
          yield [`prompt-${runId}-${model}`, `prompt-${runId}`, model, byPrompt.get(prompt)!, null, null, null, null];
        }
      }
    }
    await write("embeddings", embeddingRows());
    for (const table of ["persistence_diagrams", "clustering_results", "embedding_clusters", "lyapunov_results"] as const) await write(table, []);
  } finally {
    connection.closeSync();
    instance.closeSync();
    db.close();
  }
  return { dir, runIds, rows, unrepresentable, runsWithoutExperiment, promptVectors };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Fills a DuckDB table chunk by chunk (lists copied as float32 bytes), then COPYs it to zstd parquet. */
async function writeTable(
  connection: DuckDBConnection,
  path: string,
  name: string,
  columns: readonly (readonly [string, ColumnType])[],
  rows: Iterable<Cell[]>,
): Promise<number> {
  await connection.run(`CREATE OR REPLACE TABLE "${name}" (${columns.map(([c, t]) => `"${c}" ${t}`).join(", ")})`);
  const raw = (connection as unknown as { connection: duckdb.Connection }).connection;
  const appender = duckdb.appender_create(raw, null, name);
  const types = columns.map((_, i) => duckdb.appender_column_type(appender, i));
  let count = 0;
  let slice: Cell[][] = [];
  const append = () => {
    const chunk = duckdb.create_data_chunk(types);
    duckdb.data_chunk_set_size(chunk, slice.length);
    columns.forEach(([, type], c) => { fillVector(duckdb.data_chunk_get_vector(chunk, c), type, slice.map((r) => r[c] ?? null)); });
    duckdb.append_data_chunk(appender, chunk);
    count += slice.length;
    slice = [];
  };
  for (const row of rows) {
    slice.push(row);
    if (slice.length === 2048) append();
  }
  if (slice.length > 0) append();
  duckdb.appender_close_sync(appender);
  const quoted = path.replaceAll("'", "''");
  await connection.run(`COPY "${name}" TO '${quoted}' (FORMAT parquet, COMPRESSION zstd)`);
  await connection.run(`DROP TABLE "${name}"`);
  return count;
}

function fillVector(vector: duckdb.Vector, type: ColumnType, values: Cell[]): void {
  const n = values.length;
  const valid = new Uint8Array(Math.ceil(n / 64) * 8);
  const setValid = (mask: Uint8Array, i: number) => (mask[i >> 3]! |= 1 << (i & 7));
  if (type === "VARCHAR") {
    values.forEach((v, i) => {
      if (v === null) return;
      duckdb.vector_assign_string_element(vector, i, String(v));
      setValid(valid, i);
    });
  } else if (type === "BIGINT" || type === "DOUBLE") {
    const data = type === "BIGINT" ? new BigInt64Array(n) : new Float64Array(n);
    values.forEach((v, i) => {
      if (v === null) return;
      if (data instanceof BigInt64Array) data[i] = BigInt(v as number);
      else data[i] = Number(v);
      setValid(valid, i);
    });
    duckdb.copy_data_to_vector(vector, 0, data.buffer, 0, data.byteLength);
  } else {
    const width = type === "FLOAT[]" ? 4 : 8;
    const entries = new BigUint64Array(2 * n);
    let total = 0;
    values.forEach((v, i) => {
      const length = v === null ? 0 : (v as ArrayLike<number | null>).length;
      entries[2 * i] = BigInt(total);
      entries[2 * i + 1] = BigInt(length);
      total += length;
    });
    const floats = width === 4 ? new Float32Array(total) : new Float64Array(total);
    const childValid = new Uint8Array(Math.ceil(total / 64) * 8).fill(0xff);
    let childNulls = false;
    values.forEach((v, i) => {
      if (v === null) return;
      setValid(valid, i);
      const at = Number(entries[2 * i]);
      if (v instanceof Float32Array) floats.set(v, at);
      else {
        (v as (number | null)[]).forEach((x, k) => {
          if (x === null) {
            childValid[(at + k) >> 3]! &= ~(1 << ((at + k) & 7));
            childNulls = true;
          } else floats[at + k] = x;
        });
      }
    });
    duckdb.list_vector_reserve(vector, total);
    duckdb.list_vector_set_size(vector, total);
    duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
    const child = duckdb.list_vector_get_child(vector);
    if (total > 0) duckdb.copy_data_to_vector(child, 0, floats.buffer, 0, floats.byteLength);
    if (childNulls) {
      duckdb.vector_ensure_validity_writable(child);
      duckdb.copy_data_to_vector_validity(child, 0, childValid.buffer, 0, childValid.byteLength);
    }
  }
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, valid.buffer, 0, valid.byteLength);
}
