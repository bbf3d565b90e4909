/**
 * What the DuckDB thread of a parquet export source (parquetExportWorker.ts)
 * reads: the runs and what each holds (pin), the pair counts, and scans
 * (exportScan.ts), over the export's files (exportFiles.ts).
 */
import { duckdbBindings } from "../../common/duckdb.js";
import { sqlString } from "../../common/text.js";
import { pairKey } from "../../frame/promptVector.js";
import { RunTable, type RunRecord } from "../../frame/runTable.js";
import type { PairCount } from "../driftSource.js";
import type { SourceFilters } from "../sourceFilters.js";
import { badNetworksWarning, filterRuns, inRunOrder, storedRun, type StoredRun, type UnmatchedFilter } from "../runRecords.js";
import { FloatListColumn, int32Column, StringColumn } from "./duckdbVectors.js";
import { ExportFiles } from "./exportFiles.js";
import { ExportScan, type RunState, type ScanContext } from "./exportScan.js";
import type { FromExportWorker, PinnedExport, ScanRequest } from "./parquetExportProtocol.js";

export class ExportReader {
  /** Set by "cancel": the scan with this id stops at its next step. */
  readonly cancelled = new Set<number>();
  private readonly files: ExportFiles;
  private pinned: PinnedExport | undefined;
  private runStates: RunState[] = [];
  private runTable = new RunTable();

  constructor(
    dir: string,
    filters: SourceFilters,
    tempDir: string,
    private readonly post: (message: FromExportWorker, transfer?: ArrayBuffer[]) => void,
    private readonly inFlight: Int32Array,
  ) {
    this.files = new ExportFiles(dir, filters, tempDir);
  }

  /** Every needed column of every file is there (and the vector column holds numbers). */
  check(): Promise<void> {
    return this.files.check();
  }

  /**
   * Reads the runs (sorted, filtered), the text invocations of the kept
   * runs into a temporary table, each run's row count and where its rows
   * lie in embeddings.parquet, and the prompt rows' vectors.
   */
  async pin(): Promise<PinnedExport> {
    if (this.pinned !== undefined) return this.pinned;
    if (!this.files.checked) await this.files.check();
    const warnings: string[] = [];
    const runs = await this.readRuns(warnings);
    const connection = await this.files.connect();
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
      throw this.files.readFailure(error);
    }
    const invocationId = this.files.text("invocations", "i", "id");
    const isPrompt = `(CAST(i.sequence_number AS BIGINT) = -1 AND starts_with(${invocationId}, 'prompt-'))`;
    await this.files.rows(
      `CREATE OR REPLACE TABLE pd_inv AS
       SELECT ${invocationId} AS id, r.run_index, CAST(i.sequence_number AS BIGINT) AS sequence_number,
              ${this.files.text("invocations", "i", "model")} AS model, ${this.files.text("invocations", "i", "output_text")} AS output_text,
              ${isPrompt} AS is_prompt
       FROM read_parquet(${sqlString(this.files.file("invocations"))}) AS i JOIN pd_runs AS r ON ${this.files.text("invocations", "i", "run_id")} = r.id
       WHERE ${isPrompt} OR lower(${this.files.text("invocations", "i", "type")}) = 'text'`,
      "invocations",
    );
    const count = runs.length;
    const rows = new Array<number>(count).fill(0);
    const firstRow = new Array<number>(count).fill(-1);
    const lastRow = new Array<number>(count).fill(-1);
    for (const [run, n, first, last] of await this.files.rows(
      `SELECT i.run_index, count(*)::BIGINT, min(e.file_row_number)::BIGINT, max(e.file_row_number)::BIGINT
       FROM read_parquet(${sqlString(this.files.file("embeddings"))}, file_row_number = true) AS e
       JOIN pd_inv AS i ON ${this.files.text("embeddings", "e", "invocation_id")} = i.id
       WHERE NOT i.is_prompt${this.files.modelCondition()}
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
    const models = this.files.filters.models ?? [];
    if (models.length === 0) return [];
    const known = (
      await this.files.rows(
        `SELECT DISTINCT ${this.files.text("embeddings", "e", "embedding_model")} AS m FROM read_parquet(${sqlString(this.files.file("embeddings"))}) AS e WHERE m IS NOT NULL ORDER BY m`,
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
    for (const [id, prompt, network, experimentId] of await this.files.rows(
      `SELECT ${this.files.text("runs", "r", "id")}, ${this.files.text("runs", "r", "initial_prompt")}, ${this.files.text("runs", "r", "network")}, ${this.files.text("runs", "r", "experiment_id")}
       FROM read_parquet(${sqlString(this.files.file("runs"))}) AS r WHERE r.id IS NOT NULL`,
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
    const { kept, unmatched } = filterRuns(inRunOrder(records), this.files.filters);
    this.unmatched = unmatched;
    this.runTable = new RunTable();
    this.runStates = kept.map(({ record }) => {
      this.runTable.add(record);
      return { prompt: record.initial_prompt, keys: new Map<string, number>() };
    });
    const badNetworks = badNetworksWarning(records, this.files.dir);
    if (badNetworks !== undefined) warnings.push(badNetworks);
    if (duplicates > 0) warnings.push(`${this.files.file("runs")} lists ${duplicates} run ids more than once; each run is read once`);
    return kept;
  }

  /**
   * The reference vectors the prompt rows hold (upstream's --embed-prompts):
   * per (initial prompt, model), the first kept run's in run order. Unusable
   * ones (NULL, empty, NULL/NaN/Inf elements) are left out, and runs that
   * disagree noted, each with a warning.
   */
  private async storedReferences(warnings: string[]): Promise<PinnedExport["stored"]> {
    const invocationId = this.files.text("embeddings", "e", "invocation_id");
    const connection = await this.files.connect();
    const byPair = new Map<string, PinnedExport["stored"][number]>();
    const unusable = new Map<string, number>();
    const disagreeing = new Map<string, number>();
    try {
      // First the prompt rows alone: the range lets DuckDB skip row groups without them (uuids start
      // with a hex digit), which a join would not; then their runs.
      await connection.run(
        `CREATE OR REPLACE TABLE pd_prompt_vectors AS
         SELECT ${invocationId} AS invocation_id, ${this.files.text("embeddings", "e", "embedding_model")} AS embedding_model, ${this.files.vectorExpression()} AS vector
         FROM read_parquet(${sqlString(this.files.file("embeddings"))}) AS e
         WHERE ${invocationId} >= 'prompt-' AND ${invocationId} < 'prompt.'${this.files.modelCondition()}`,
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
      throw this.files.readFailure(error, "embeddings");
    }
    for (const [model, n] of unusable) {
      warnings.push(`${n} prompt rows of ${this.files.dir} for embedding model ${model} hold no usable vector (NULL, empty, or with NULL/NaN/Inf elements); those prompts take their reference from elsewhere`);
    }
    for (const [model, n] of disagreeing) {
      warnings.push(`${n} prompt rows of ${this.files.dir} for embedding model ${model} hold another vector than an earlier run with the same initial prompt; the first run's (in run_id order) is used`);
    }
    return [...byPair.values()];
  }

  async pairCounts(excludedRuns: readonly number[]): Promise<PairCount[]> {
    await this.pin();
    const excluded = new Set(excludedRuns);
    const pairs = new Map<string, PairCount & { rows: number; rowsWithVector: number }>();
    for (const [run, model, n, withVector] of await this.files.rows(
      `SELECT i.run_index, ${this.files.text("embeddings", "e", "embedding_model")}, count(*)::BIGINT, count(e."vector")::BIGINT
       FROM read_parquet(${sqlString(this.files.file("embeddings"))}) AS e JOIN pd_inv AS i ON ${this.files.text("embeddings", "e", "invocation_id")} = i.id
       WHERE NOT i.is_prompt${this.files.modelCondition()}
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

  /** Streams the units the request asks for to the main thread (see ExportScan). */
  async scan(request: ScanRequest): Promise<void> {
    const pinned = await this.pin();
    const context: ScanContext = { files: this.files, pinned, runStates: this.runStates, runTable: this.runTable, post: this.post, inFlight: this.inFlight, cancelled: this.cancelled };
    await new ExportScan(context, request).run();
  }

  close(): void {
    this.files.close();
  }
}
