/**
 * The DuckDB thread of a parquet export source (see parquetExport.ts). It
 * owns the DuckDB instance that reads the export's files, answers the main
 * thread's requests one at a time, and for a scan streams source batches
 * (vectors included, moved, not copied) unit by unit in the output's run
 * order. Vectors go from DuckDB's list vectors into the batches as bytes:
 * no number is ever a JavaScript value on the way.
 */
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type duckdb from "@duckdb/node-bindings";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { workerData } from "node:worker_threads";
import { duckdbApi, duckdbBindings } from "../../common/duckdb.js";
import { BatchesByDimension } from "../../frame/batchesByDimension.js";
import { ReferencePairs } from "../../frame/referencePairs.js";
import { RunTable, type RunRecord } from "../../frame/runTable.js";
import type { SourceRow } from "../../frame/sourceBatch.js";
import type { RecordBatch } from "../../frame/arrow.js";
import { VectorStatus } from "../../frame/vectorStatus.js";
import type { PairCount } from "../driftSource.js";
import type { SourceFilters } from "../sourceFilters.js";
import { badNetworksWarning, filterRuns, inRunOrder, storedRun, type StoredRun, type UnmatchedFilter } from "../runRecords.js";
import { toSourceBatchTransfer } from "../../frame/batchTransfer.js";
import { waitAsync } from "../../common/waitAsync.js";
import { type ExportWorkerSetup, type FromExportWorker, type PinnedExport, type ScanRequest, type ToExportWorker } from "./parquetExportProtocol.js";
import { EXPORT_TABLES, type ExportTable } from "./exportTables.js";
import { pairKey } from "../../frame/promptVector.js";
import { firstLine, sqlString } from "../../common/text.js";
import { PanicDriftError } from "../../common/errors.js";
import { errorToMessage } from "../../common/threadErrors.js";

/**
 * DuckDB's memory: a quarter of the machine, between 1 and 4 GB. Reading a
 * list column holds a good part of a row group's pages; past the limit, a
 * sort (exports not in run order) spills to the temporary directory.
 */
function memoryLimit(): string {
  const quarter = totalmem() / 4 / 2 ** 20;
  return `${Math.round(Math.min(4096, Math.max(1024, quarter)))}MB`;
}

interface Described {
  /** Column name → DuckDB type, per table. */
  types: Record<ExportTable, Map<string, string>>;
}

interface RunState {
  readonly prompt: string;
  /** Reference-pair key per embedding model, filled as models are met. */
  readonly keys: Map<string, number>;
}

/** One column of a fetched chunk, read in bulk. */
class StringColumn {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly bytes: Buffer;
  private readonly validity: Uint8Array | null;

  constructor(vector: duckdb.Vector, rows: number) {
    this.data = duckdbBindings.vector_get_data(vector, rows * 16);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.bytes = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.validity = duckdbBindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  }

  get(row: number): string | null {
    if (!isValid(this.validity, row)) return null;
    const at = row * 16;
    const length = this.view.getUint32(at, true);
    // DuckDB's string_t: up to 12 bytes inline, otherwise a pointer to them.
    if (length <= 12) return this.bytes.toString("utf8", at + 4, at + 4 + length);
    const bytes = duckdbBindings.get_data_from_pointer(this.data.buffer as ArrayBuffer, this.data.byteOffset + at + 8, length);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  }
}

/** A BIGINT column as numbers (exact below 2^53: timestamps in µs, sequence numbers). */
class BigIntColumn {
  private readonly halves: Int32Array;
  private readonly validity: Uint8Array | null;

  constructor(vector: duckdb.Vector, rows: number) {
    const data = duckdbBindings.vector_get_data(vector, rows * 8);
    this.halves = new Int32Array(data.buffer, data.byteOffset, rows * 2);
    this.validity = duckdbBindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  }

  get(row: number): number | null {
    if (!isValid(this.validity, row)) return null;
    return this.halves[2 * row + 1]! * 4294967296 + (this.halves[2 * row]! >>> 0);
  }
}

function isValid(validity: Uint8Array | null, row: number): boolean {
  return validity === null || ((validity[row >> 3]! >> (row & 7)) & 1) === 1;
}

/** A LIST<FLOAT> column: each row's floats as a view of the chunk's child bytes. */
class FloatListColumn {
  private readonly entries: Uint32Array;
  private readonly validity: Uint8Array | null;
  private readonly floats: Uint8Array;
  private readonly childValidity: Uint8Array | null;
  private scratch = new Float32Array(0);

  constructor(vector: duckdb.Vector, rows: number) {
    const entries = duckdbBindings.vector_get_data(vector, rows * 16);
    this.entries = new Uint32Array(entries.buffer, entries.byteOffset, rows * 4);
    this.validity = duckdbBindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
    const size = duckdbBindings.list_vector_get_size(vector);
    const child = duckdbBindings.list_vector_get_child(vector);
    this.floats = size === 0 ? new Uint8Array(0) : duckdbBindings.vector_get_data(child, size * 4);
    this.childValidity = size === 0 ? null : duckdbBindings.vector_get_validity(child, Math.ceil(size / 64) * 8);
  }

  /** The row's floats as bytes, or null for a NULL list. A NULL element becomes NaN (the row's drift is then NULL: non_finite). */
  get(row: number): Uint8Array | null {
    if (!isValid(this.validity, row)) return null;
    const offset = this.entries[4 * row]! + this.entries[4 * row + 1]! * 4294967296;
    const length = this.entries[4 * row + 2]!;
    const bytes = this.floats.subarray(offset * 4, (offset + length) * 4);
    if (this.childValidity === null) return bytes;
    let copied: Float32Array | undefined;
    for (let k = 0; k < length; k++) {
      if (isValid(this.childValidity, offset + k)) continue;
      if (copied === undefined) {
        if (this.scratch.length < length) this.scratch = new Float32Array(length);
        copied = this.scratch.subarray(0, length);
        new Uint8Array(copied.buffer, 0, length * 4).set(bytes);
      }
      copied[k] = NaN;
    }
    return copied === undefined ? bytes : new Uint8Array(copied.buffer, 0, length * 4);
  }
}

/** The needed columns, in this order, in every scan query. */
const SCAN_COLUMNS = 11;

class ExportReader {
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;
  private described: Described | undefined;
  private pinned: PinnedExport | undefined;
  private runStates: RunState[] = [];
  private runTable = new RunTable();
  /** Set by "cancel": the scan with this id stops at its next step. */
  readonly cancelled = new Set<number>();

  constructor(
    private readonly dir: string,
    private readonly filters: SourceFilters,
    private readonly tempDir: string,
    private readonly post: (message: FromExportWorker, transfer?: ArrayBuffer[]) => void,
    private readonly inFlight: Int32Array,
  ) {}

  private file(table: ExportTable): string {
    return join(this.dir, `${table}.parquet`);
  }

  private async connect(): Promise<DuckDBConnection> {
    if (this.connection !== undefined) return this.connection;
    this.instance = await duckdbApi.DuckDBInstance.create(":memory:", {
      threads: "1",
      memory_limit: memoryLimit(),
      temp_directory: this.tempDir,
    });
    this.connection = await this.instance.connect();
    // Timestamps with an offset are converted to UTC; those without one are taken as UTC (never the machine's zone).
    await this.connection.run("SET TimeZone = 'UTC'");
    return this.connection;
  }

  private async rows(sql: string, table?: ExportTable): Promise<unknown[][]> {
    const connection = await this.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRows();
    } catch (error) {
      throw this.readFailure(error, table);
    }
  }

  private readFailure(error: unknown, table?: ExportTable): Error {
    if (error instanceof PanicDriftError) return error;
    const where = table === undefined ? this.dir : this.file(table);
    return new PanicDriftError("EXPORT_UNREADABLE", `cannot read ${where}: ${firstLine(error)}: check that the export is complete (export it again with mix experiment.export_data if not)`);
  }

  /** Every needed column of every file is there (and the vector column holds numbers). */
  async check(): Promise<void> {
    const types = {} as Described["types"];
    for (const table of Object.keys(EXPORT_TABLES) as ExportTable[]) {
      const columns = new Map<string, string>();
      for (const [name, type] of await this.rows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(this.file(table))})`, table)) columns.set(String(name), String(type));
      types[table] = columns;
      const missing = EXPORT_TABLES[table].filter((c) => !columns.has(c));
      if (missing.length > 0) {
        throw new PanicDriftError(
          "EXPORT_MISSING_COLUMN",
          `not a panic-tda export: ${this.file(table)} has no column ${missing.join(", ")} (columns: ${[...columns.keys()].join(", ")}): export it with mix experiment.export_data, which writes them`,
        );
      }
    }
    const vector = types.embeddings.get("vector")!;
    if (!/^(FLOAT|DOUBLE|REAL|DECIMAL\(\d+,\d+\)|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)\[\d*\]$/.test(vector)) {
      throw new PanicDriftError(
        "EXPORT_MISSING_COLUMN",
        `not a panic-tda export: the vector column of ${this.file("embeddings")} is ${vector}, not a list of numbers (upstream writes list<float32>): export it with mix experiment.export_data`,
      );
    }
    this.described = { types };
  }

  /** A column as text (a no-op for upstream's string columns). */
  private text(table: ExportTable, alias: string, column: string): string {
    const expression = `${alias}."${column}"`;
    return this.described!.types[table].get(column) === "VARCHAR" ? expression : `CAST(${expression} AS VARCHAR)`;
  }

  private vectorExpression(): string {
    return this.described!.types.embeddings.get("vector") === "FLOAT[]" ? `e."vector"` : `CAST(e."vector" AS FLOAT[])`;
  }

  private modelCondition(): string {
    const models = this.filters.models ?? [];
    return models.length === 0 ? "" : ` AND ${this.text("embeddings", "e", "embedding_model")} IN (${models.map(sqlString).join(", ")})`;
  }

  /**
   * Reads the runs (sorted, filtered), the text invocations of the kept
   * runs into a temporary table, each run's row count and where its rows
   * lie in embeddings.parquet, and the prompt rows' vectors.
   */
  async pin(): Promise<PinnedExport> {
    if (this.pinned !== undefined) return this.pinned;
    if (this.described === undefined) await this.check();
    const warnings: string[] = [];
    const runs = await this.readRuns(warnings);
    const connection = await this.connect();
    try {
      await connection.run("CREATE OR REPLACE TABLE pd_runs (run_index INTEGER, id VARCHAR)");
      const appender = await connection.createAppender("pd_runs");
      runs.forEach((run, index) => {
        appender.appendInteger(index);
        appender.appendVarchar(run.storedId);
        appender.endRow();
      });
      appender.closeSync();
    } catch (error) {
      throw this.readFailure(error);
    }
    const invocationId = this.text("invocations", "i", "id");
    const isPrompt = `(CAST(i.sequence_number AS BIGINT) = -1 AND starts_with(${invocationId}, 'prompt-'))`;
    await this.rows(
      `CREATE OR REPLACE TABLE pd_inv AS
       SELECT ${invocationId} AS id, r.run_index, CAST(i.sequence_number AS BIGINT) AS sequence_number,
              ${this.text("invocations", "i", "model")} AS model, ${this.text("invocations", "i", "output_text")} AS output_text,
              ${isPrompt} AS is_prompt
       FROM read_parquet(${sqlString(this.file("invocations"))}) AS i JOIN pd_runs AS r ON ${this.text("invocations", "i", "run_id")} = r.id
       WHERE ${isPrompt} OR lower(${this.text("invocations", "i", "type")}) = 'text'`,
      "invocations",
    );
    const count = runs.length;
    const rows = new Array<number>(count).fill(0);
    const firstRow = new Array<number>(count).fill(-1);
    const lastRow = new Array<number>(count).fill(-1);
    for (const [run, n, first, last] of await this.rows(
      `SELECT i.run_index, count(*)::BIGINT, min(e.file_row_number)::BIGINT, max(e.file_row_number)::BIGINT
       FROM read_parquet(${sqlString(this.file("embeddings"))}, file_row_number = true) AS e
       JOIN pd_inv AS i ON ${this.text("embeddings", "e", "invocation_id")} = i.id
       WHERE NOT i.is_prompt${this.modelCondition()}
       GROUP BY i.run_index`,
      "embeddings",
    )) {
      const index = Number(run);
      rows[index] = Number(n);
      firstRow[index] = Number(first);
      lastRow[index] = Number(last);
    }
    const stored = await this.storedReferences(warnings);
    const unmatched = [...this.unmatched, ...(await this.unmatchedModels())];
    this.pinned = { runs: runs.map((r) => r.record), rows, firstRow, lastRow, stored, warnings, unmatched };
    return this.pinned;
  }

  /** The --run/--experiment values no run has (set by readRuns). */
  private unmatched: UnmatchedFilter[] = [];

  /** The --model values no embedding has, with the models there are (one column of one file: cheap). */
  private async unmatchedModels(): Promise<UnmatchedFilter[]> {
    const models = this.filters.models ?? [];
    if (models.length === 0) return [];
    const known = (
      await this.rows(
        `SELECT DISTINCT ${this.text("embeddings", "e", "embedding_model")} AS m FROM read_parquet(${sqlString(this.file("embeddings"))}) AS e WHERE m IS NOT NULL ORDER BY m`,
        "embeddings",
      )
    ).map(([model]) => String(model));
    return models.filter((model) => !known.includes(model)).map((value) => ({ option: "--model" as const, value, known }));
  }

  /** The runs, in the output's order (run_id as the frame shows it, compared as UTF-8 bytes like DuckDB), filters applied. */
  private async readRuns(warnings: string[]): Promise<{ storedId: string; record: RunRecord }[]> {
    let duplicates = 0;
    const seen = new Set<string>();
    const records: StoredRun<string>[] = [];
    for (const [id, prompt, network, experimentId] of await this.rows(
      `SELECT ${this.text("runs", "r", "id")}, ${this.text("runs", "r", "initial_prompt")}, ${this.text("runs", "r", "network")}, ${this.text("runs", "r", "experiment_id")}
       FROM read_parquet(${sqlString(this.file("runs"))}) AS r WHERE r.id IS NOT NULL`,
      "runs",
    )) {
      const storedId = String(id);
      if (seen.has(storedId)) {
        duplicates++;
        continue;
      }
      seen.add(storedId);
      records.push(storedRun(storedId, prompt, network, experimentId));
    }
    const { kept, unmatched } = filterRuns(inRunOrder(records), this.filters);
    this.unmatched = unmatched;
    this.runTable = new RunTable();
    this.runStates = kept.map(({ record }) => {
      this.runTable.add(record);
      return { prompt: record.initial_prompt, keys: new Map<string, number>() };
    });
    const badNetworks = badNetworksWarning(records, this.dir);
    if (badNetworks !== undefined) warnings.push(badNetworks);
    if (duplicates > 0) warnings.push(`${this.file("runs")} lists ${duplicates} run ids more than once; each run is read once`);
    return kept;
  }

  /** The --run and --experiment filters; a value that matches no run is worth a warning. */

  /**
   * The reference vectors the prompt rows hold (upstream's --embed-prompts):
   * per (initial prompt, model), the first kept run's in run order. Unusable
   * ones (NULL, empty, NULL/NaN/Inf elements) are left out, and runs that
   * disagree noted, each with a warning.
   */
  private async storedReferences(warnings: string[]): Promise<PinnedExport["stored"]> {
    const invocationId = this.text("embeddings", "e", "invocation_id");
    const connection = await this.connect();
    const byPair = new Map<string, PinnedExport["stored"][number]>();
    const unusable = new Map<string, number>();
    const disagreeing = new Map<string, number>();
    try {
      // First the prompt rows alone: the range lets DuckDB skip row groups without them (uuids start
      // with a hex digit), which a join would not; then their runs.
      await connection.run(
        `CREATE OR REPLACE TABLE pd_prompt_vectors AS
         SELECT ${invocationId} AS invocation_id, ${this.text("embeddings", "e", "embedding_model")} AS embedding_model, ${this.vectorExpression()} AS vector
         FROM read_parquet(${sqlString(this.file("embeddings"))}) AS e
         WHERE ${invocationId} >= 'prompt-' AND ${invocationId} < 'prompt.'${this.modelCondition()}`,
      );
      const result = await connection.stream(
        `SELECT p.run_index, v.embedding_model, v.vector
         FROM pd_prompt_vectors AS v JOIN pd_inv AS p ON v.invocation_id = p.id
         WHERE p.is_prompt
         ORDER BY p.run_index, v.embedding_model`,
      );
      for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        const n = chunk.rowCount;
        const raw = chunk.chunk;
        const runIndex = int32Column(duckdbBindings.data_chunk_get_vector(raw, 0), n);
        const models = new StringColumn(duckdbBindings.data_chunk_get_vector(raw, 1), n);
        const vectors = new FloatListColumn(duckdbBindings.data_chunk_get_vector(raw, 2), n);
        for (let r = 0; r < n; r++) {
          const model = models.get(r) ?? "";
          const prompt = this.runStates[runIndex[r]!]!.prompt;
          const bytes = vectors.get(r);
          // A copy of just the row's bytes (the bindings hand out Buffers, whose slice() is a view).
          const floats = bytes === null ? null : new Float32Array(new Uint8Array(bytes).buffer);
          if (floats === null || floats.length === 0 || !floats.every(Number.isFinite)) {
            unusable.set(model, (unusable.get(model) ?? 0) + 1);
            continue;
          }
          const key = pairKey(prompt, model);
          const found = byPair.get(key);
          if (found === undefined) byPair.set(key, { initialPrompt: prompt, embeddingModel: model, vector: floats });
          else if (found.vector.length !== floats.length || found.vector.some((x, k) => !Object.is(x, floats[k]))) disagreeing.set(model, (disagreeing.get(model) ?? 0) + 1);
        }
      }
    } catch (error) {
      throw this.readFailure(error, "embeddings");
    }
    for (const [model, n] of unusable) {
      warnings.push(`${n} prompt rows of ${this.dir} for embedding model ${model} hold no usable vector (NULL, empty, or with NULL/NaN/Inf elements); those prompts take their reference from elsewhere`);
    }
    for (const [model, n] of disagreeing) {
      warnings.push(`${n} prompt rows of ${this.dir} for embedding model ${model} hold another vector than an earlier run with the same initial prompt; the first run's (in run_id order) is used`);
    }
    return [...byPair.values()];
  }

  async pairCounts(excludedRuns: readonly number[]): Promise<PairCount[]> {
    await this.pin();
    const excluded = new Set(excludedRuns);
    const pairs = new Map<string, PairCount & { rows: number; rowsWithVector: number }>();
    for (const [run, model, n, withVector] of await this.rows(
      `SELECT i.run_index, ${this.text("embeddings", "e", "embedding_model")}, count(*)::BIGINT, count(e."vector")::BIGINT
       FROM read_parquet(${sqlString(this.file("embeddings"))}) AS e JOIN pd_inv AS i ON ${this.text("embeddings", "e", "invocation_id")} = i.id
       WHERE NOT i.is_prompt${this.modelCondition()}
       GROUP BY ALL`,
      "embeddings",
    )) {
      if (excluded.has(Number(run))) continue;
      const initialPrompt = this.runStates[Number(run)]!.prompt;
      // A VARCHAR (text() casts it): a string, or NULL.
      const embeddingModel = typeof model === "string" ? model : "";
      const key = pairKey(initialPrompt, embeddingModel);
      const count = pairs.get(key) ?? { initialPrompt, embeddingModel, rows: 0, rowsWithVector: 0 };
      count.rows += Number(n);
      count.rowsWithVector += Number(withVector);
      pairs.set(key, count);
    }
    return [...pairs.values()];
  }

  /**
   * Streams units `fromUnit`, `fromUnit + 1`, … to the main thread: each
   * unit's batches, then its marker. When embeddings.parquet already holds
   * the units' rows one unit after another (upstream's exports are written
   * run by run, and uuid_v7 run ids grow with time), DuckDB reads it in
   * file order; otherwise it sorts the rows by run (spilling to the
   * temporary directory past its memory limit). Either way a unit is handed
   * on once all its rows (counted at pin()) are in, and rows of later units
   * that come early wait in their own batches: DuckDB's order need not be
   * exact.
   */
  async scan(request: ScanRequest): Promise<void> {
    const pinned = await this.pin();
    const { unitStarts, fromUnit, scanId } = request;
    const units = unitStarts.length;
    const excluded = new Set(request.excludedRuns);
    const unitOfRun = new Int32Array(pinned.runs.length);
    const expected = new Array<number>(units).fill(0);
    for (let u = 0; u < units; u++) {
      const end = u + 1 < units ? unitStarts[u + 1]! : pinned.runs.length;
      unitOfRun.fill(u, unitStarts[u], end);
      for (let run = unitStarts[u]!; run < end; run++) if (!excluded.has(run)) expected[u]! += pinned.rows[run]!;
    }
    const inFileOrder = this.fileInUnitOrder(unitOfRun, units);
    const from = fromUnit < units ? unitStarts[fromUnit]! : pinned.runs.length;
    const connection = await this.connect();
    await connection.run(`SET threads = ${inFileOrder ? 1 : Math.max(1, Math.min(2, availableParallelism()))}`);
    const embeddings = this.file("embeddings");
    const sql = `SELECT ${this.text("embeddings", "e", "id")}, ${this.text("embeddings", "e", "invocation_id")}, ${this.text("embeddings", "e", "embedding_model")},
        epoch_us(TRY_CAST(e.started_at AS TIMESTAMPTZ)), epoch_us(TRY_CAST(e.completed_at AS TIMESTAMPTZ)),
        ((e.started_at IS NOT NULL AND TRY_CAST(e.started_at AS TIMESTAMPTZ) IS NULL) OR (e.completed_at IS NOT NULL AND TRY_CAST(e.completed_at AS TIMESTAMPTZ) IS NULL))::UTINYINT,
        i.run_index, i.sequence_number, i.model, i.output_text, ${this.vectorExpression()}
      FROM read_parquet(${sqlString(embeddings)}) AS e JOIN pd_inv AS i ON ${this.text("embeddings", "e", "invocation_id")} = i.id
      WHERE NOT i.is_prompt AND i.run_index >= ${from}${this.modelCondition()}${excluded.size > 0 ? ` AND i.run_index NOT IN (${[...excluded].join(", ")})` : ""}
      ${inFileOrder ? "" : "ORDER BY i.run_index"}`;

    const pairs = new ReferencePairs();
    let pairsSent = 0;
    const row: SourceRow = { id: "", invocation_id: "", embedding_model: "", started_at: null, completed_at: null, run_index: 0, sequence_number: 0, text_model: null, text: null };
    /** Units with rows in, not handed on yet: their batches so far, and counts. */
    const open = new Map<number, { router: BatchesByDimension; held: RecordBatch[]; rows: number; badTimestamps: number }>();
    let next = fromUnit;
    /** What to post after the chunk (waiting for the main thread when it is behind). */
    const outbox: ({ batch: RecordBatch; unit: number } | FromExportWorker)[] = [];
    const newPairs = (): [string, string][] => {
      const added: [string, string][] = [];
      for (; pairsSent < pairs.size; pairsSent++) {
        const pair = pairs.pair(pairsSent);
        added.push([pair.initialPrompt, pair.embeddingModel]);
      }
      return added;
    };
    const openUnit = (unit: number) => {
      let entry = open.get(unit);
      if (entry === undefined) {
        entry = { router: new BatchesByDimension(request.batchRows, this.runTable, false), held: [], rows: 0, badTimestamps: 0 };
        open.set(unit, entry);
      }
      return entry;
    };
    /** Hands on the next units whose rows are all in (all of them at the end). */
    const handOn = (end: boolean) => {
      while (next < units) {
        const entry = open.get(next);
        if (!end && (entry?.rows ?? 0) < expected[next]!) return;
        if (entry !== undefined) {
          for (const batch of [...entry.held, ...entry.router.ready.splice(0), ...entry.router.drain()]) outbox.push({ batch, unit: next });
          open.delete(next);
        }
        outbox.push({ type: "unit", scanId, unit: next, rows: entry?.rows ?? 0, badTimestamps: entry?.badTimestamps ?? 0 });
        next++;
      }
    };
    const flush = async () => {
      for (const message of outbox.splice(0)) {
        if (this.cancelled.has(scanId)) return;
        if ("batch" in message && !("type" in message)) {
          // Back-pressure: at most maxInFlight batches wait for the main thread.
          while (Atomics.load(this.inFlight, 0) >= request.maxInFlight) {
            await waitAsync(this.inFlight, 0, Atomics.load(this.inFlight, 0), 200);
            if (this.cancelled.has(scanId)) return;
          }
          const { message: batch, transfer } = toSourceBatchTransfer(message.batch);
          Atomics.add(this.inFlight, 0, 1);
          this.post({ type: "batch", scanId, unit: message.unit, batch, pairs: newPairs() }, transfer);
        } else {
          this.post(message);
        }
      }
    };

    handOn(false);
    let result;
    try {
      result = await connection.stream(sql);
    } catch (error) {
      throw this.readFailure(error, "embeddings");
    }
    // The next chunk is fetched (DuckDB decoding, off this thread) while this one is turned into rows.
    let fetching = result.fetchChunk();
    for (;;) {
      let chunk;
      try {
        chunk = await fetching;
      } catch (error) {
        throw this.readFailure(error, "embeddings");
      }
      if (this.cancelled.has(scanId)) return;
      if (chunk === null || chunk.rowCount === 0) break;
      fetching = result.fetchChunk();
      const n = chunk.rowCount;
      const raw = chunk.chunk;
      if (duckdbBindings.data_chunk_get_column_count(raw) !== SCAN_COLUMNS) throw new Error("the scan query returned other columns than asked for");
      const vector = (c: number) => duckdbBindings.data_chunk_get_vector(raw, c);
      const ids = new StringColumn(vector(0), n);
      const invocationIds = new StringColumn(vector(1), n);
      const models = new StringColumn(vector(2), n);
      const started = new BigIntColumn(vector(3), n);
      const completed = new BigIntColumn(vector(4), n);
      const badTime = duckdbBindings.vector_get_data(vector(5), n);
      const runIndex = int32Column(vector(6), n);
      const sequence = new BigIntColumn(vector(7), n);
      const textModels = new StringColumn(vector(8), n);
      const texts = new StringColumn(vector(9), n);
      const vectors = new FloatListColumn(vector(10), n);
      for (let r = 0; r < n; r++) {
        const run = runIndex[r]!;
        const unit = unitOfRun[run]!;
        if (unit < next) throw new PanicDriftError("EXPORT_CHANGED", `${embeddings} changed while it was read (a run has more rows than it had): rerun once the export is written completely`);
        const entry = openUnit(unit);
        const model = models.get(r) ?? "";
        const state = this.runStates[run]!;
        let key = state.keys.get(model);
        if (key === undefined) {
          key = pairs.keyFor(state.prompt, model);
          state.keys.set(model, key);
        }
        row.id = ids.get(r) ?? "";
        row.invocation_id = invocationIds.get(r) ?? "";
        row.embedding_model = model;
        row.started_at = started.get(r);
        row.completed_at = completed.get(r);
        row.run_index = run;
        row.sequence_number = sequence.get(r) ?? 0;
        row.text_model = textModels.get(r);
        row.text = texts.get(r);
        const blob = vectors.get(r);
        entry.router.push(row, key, blob === null ? VectorStatus.null : VectorStatus.ok, blob);
        entry.rows++;
        entry.badTimestamps += badTime[r]!;
        if (unit === next) {
          for (const batch of entry.router.ready.splice(0)) outbox.push({ batch, unit });
          if (entry.rows >= expected[unit]!) handOn(false);
        } else {
          entry.held.push(...entry.router.ready.splice(0));
        }
      }
      await flush();
      if (this.cancelled.has(scanId)) return;
    }
    handOn(true);
    await flush();
  }

  /** Whether embeddings.parquet holds the units' rows one unit after another (each unit's rows before the next unit's). */
  private fileInUnitOrder(unitOfRun: Int32Array, units: number): boolean {
    const { firstRow, lastRow } = this.pinned!;
    const first = new Array<number>(units).fill(Infinity);
    const last = new Array<number>(units).fill(-1);
    unitOfRun.forEach((unit, run) => {
      if (firstRow[run]! < 0) return;
      first[unit] = Math.min(first[unit]!, firstRow[run]!);
      last[unit] = Math.max(last[unit]!, lastRow[run]!);
    });
    let previous = -1;
    for (let u = 0; u < units; u++) {
      if (last[u]! < 0) continue;
      if (first[u]! <= previous) return false;
      previous = last[u]!;
    }
    return true;
  }

  close(): void {
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
  }
}

function int32Column(vector: duckdb.Vector, rows: number): Int32Array {
  const data = duckdbBindings.vector_get_data(vector, rows * 4);
  return new Int32Array(data.buffer, data.byteOffset, rows);
}

// --- the thread's message loop

const setup = workerData as ExportWorkerSetup;
const signal = new Int32Array(setup.signal);

/** Tells the main thread something happened (a post, or a sign of life). */
function bump(): void {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function post(message: FromExportWorker, transfer: ArrayBuffer[] = []): void {
  setup.port.postMessage(message, transfer);
  bump();
}

const reader = new ExportReader(setup.dir, setup.filters, setup.tempDir, post, new Int32Array(setup.signal, 4, 1));
// A sign of life while DuckDB works (the main thread waits synchronously and would otherwise take silence for death).
const heartbeat = setInterval(bump, 250);
let queue: Promise<void> = Promise.resolve();

setup.port.on("message", (message: ToExportWorker) => {
  if (message.type === "cancel") {
    reader.cancelled.add(message.scanId);
    post({ id: message.id, type: "reply", value: null });
    return;
  }
  queue = queue.then(async () => {
    try {
      switch (message.type) {
        case "check":
          await reader.check();
          post({ id: message.id, type: "reply", value: null });
          break;
        case "pin":
          post({ id: message.id, type: "reply", value: await reader.pin() });
          break;
        case "pairCounts":
          post({ id: message.id, type: "reply", value: await reader.pairCounts(message.excludedRuns) });
          break;
        case "scan":
          // Answered at once; the batches follow, then an end or an error of this scan.
          post({ id: message.id, type: "reply", value: null });
          try {
            await reader.scan(message.scan);
          } catch (error) {
            post({ type: "scanError", scanId: message.scan.scanId, error: errorToMessage(error) });
          }
          break;
        case "close":
          reader.close();
          clearInterval(heartbeat);
          post({ id: message.id, type: "reply", value: null });
          setup.port.close();
          break;
      }
    } catch (error) {
      post({ id: message.id, type: "error", error: errorToMessage(error) });
    }
  });
});
