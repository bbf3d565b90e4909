import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PanicDriftError } from "../common/errors.js";
import { onInterrupt, throwIfInterrupted, whenInterrupted } from "../common/interruptCleanup.js";
import { duckdbApi } from "../common/duckdb.js";
import { firstLine, sqlString } from "../common/text.js";
import { OUTPUT_COLUMN_NAMES as OUTPUT_COLUMNS, type OutputColumn } from "../frame/frameColumns.js";
import { AtomicOutput } from "./atomicOutput.js";
import { COMPRESSION, ROW_GROUP_ROWS } from "./parquetSink.js";
import type { OutputPolicy } from "./outputGuard.js";

/** The output's column types, as DuckDB names them (see docs/output.md). */
const OUTPUT_TYPES: Readonly<Record<OutputColumn, string>> = {
  id: "VARCHAR",
  invocation_id: "VARCHAR",
  embedding_model: "VARCHAR",
  started_at: "TIMESTAMP",
  completed_at: "TIMESTAMP",
  run_id: "VARCHAR",
  sequence_number: "BIGINT",
  text_model: "VARCHAR",
  text: "VARCHAR",
  initial_prompt: "VARCHAR",
  network: "VARCHAR",
  experiment_id: "VARCHAR",
  semantic_drift: "DOUBLE",
};

/**
 * Frames already written (one per input, each in the output's order) cut
 * into new files by group: every run belongs to one group, and a file holds
 * one group's rows in the output's order (runs by run_id, a run's rows as
 * its frame has them). The rows are loaded once into a DuckDB table sorted
 * by group, so writing a group reads only its own row groups; past the
 * memory limit the table spills to a directory of its own.
 */
export class FrameFiles {
  private readonly unregister: () => void;
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly spillDir: string,
  ) {
    this.unregister = onInterrupt(() => { rmSync(spillDir, { recursive: true, force: true }); });
  }

  /** `workDir`: where DuckDB may spill (a directory the caller owns and removes). */
  static async open(workDir: string): Promise<FrameFiles> {
    const spillDir = mkdtempSync(join(workDir, "spill-"));
    try {
      const instance = await duckdbApi.DuckDBInstance.create(":memory:", {
        memory_limit: "256MB",
        threads: "1",
        temp_directory: spillDir,
        preserve_insertion_order: "true",
      });
      return new FrameFiles(instance, await instance.connect(), spillDir);
    } catch (error) {
      rmSync(spillDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Loads `frames` (in place of what was loaded before); `groups` gives each run's group (runs left out of it are dropped). */
  async load(frames: readonly string[], groups: ReadonlyMap<string, number>, signal?: AbortSignal): Promise<void> {
    await this.run(signal, async () => {
      await this.connection.run("DROP TABLE IF EXISTS panic_drift_rows; DROP TABLE IF EXISTS panic_drift_groups");
      await this.connection.run("CREATE TABLE panic_drift_groups (run_id VARCHAR NOT NULL, grp INTEGER NOT NULL)");
      const appender = await this.connection.createAppender("panic_drift_groups");
      try {
        for (const [runId, group] of groups) {
          appender.appendVarchar(runId);
          appender.appendInteger(group);
          appender.endRow();
        }
      } finally {
        appender.closeSync();
      }
      const columns = OUTPUT_COLUMNS.map((c) => `f."${c}"`).join(", ");
      // No frame (every file to write is one whose runs are all gone): no rows, the frame's column types.
      const from =
        frames.length === 0
          ? `(SELECT ${OUTPUT_COLUMNS.map((c) => `NULL::${OUTPUT_TYPES[c]} AS "${c}"`).join(", ")}, 0::BIGINT AS file_row_number, '' AS filename LIMIT 0)`
          : `read_parquet([${frames.map(sqlString).join(", ")}], file_row_number = true, filename = true)`;
      await this.connection.run(
        `CREATE TABLE panic_drift_rows AS
         SELECT g.grp, ${columns}, f.filename AS frame, f.file_row_number AS position
         FROM ${from} AS f JOIN panic_drift_groups AS g ON g.run_id = f.run_id
         ORDER BY g.grp, f.run_id, f.filename, f.file_row_number`,
      );
    });
  }

  /**
   * Writes one group's rows (or all of them) to `target`, atomically, with
   * `metadata` as key-value metadata. Returns the rows written and how many
   * have a drift value.
   */
  async write(
    target: string,
    policy: OutputPolicy,
    group: number | "all",
    metadata: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<{ rows: number; rowsWithDrift: number }> {
    const where = group === "all" ? "" : `WHERE grp = ${group}`;
    const counts = await this.run(signal, async () => {
      const reader = await this.connection.runAndReadAll(`SELECT count(*)::BIGINT, count(semantic_drift)::BIGINT FROM panic_drift_rows ${where}`);
      const [rows, withDrift] = reader.getRows()[0] ?? [0, 0];
      return { rows: Number(rows), rowsWithDrift: Number(withDrift) };
    });
    const output = AtomicOutput.begin(target, policy);
    try {
      const kv = Object.entries(metadata).map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(", ");
      const select = OUTPUT_COLUMNS.map((c) => `"${c}"`).join(", ");
      await this.run(signal, () =>
        this.connection.run(
          `COPY (SELECT ${select} FROM panic_drift_rows ${where} ORDER BY run_id, frame, position)
           TO ${sqlString(output.temporary)} (FORMAT parquet, ${COMPRESSION}, ROW_GROUP_SIZE ${ROW_GROUP_ROWS}, USE_TMP_FILE false, KV_METADATA {${kv}})`,
        ),
      );
      throwIfInterrupted(signal);
      output.commit();
    } catch (error) {
      output.abort();
      throwIfInterrupted(signal);
      if (error instanceof PanicDriftError) throw error;
      throw new PanicDriftError("OUTPUT_WRITE_FAILED", `cannot write ${target}: ${firstLine(error)}`, { cause: error });
    }
    return counts;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } finally {
      rmSync(this.spillDir, { recursive: true, force: true });
      this.unregister();
    }
  }

  private async run<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    throwIfInterrupted(signal);
    const stop = whenInterrupted(signal, () => { this.connection.interrupt(); });
    try {
      return await work();
    } finally {
      stop();
    }
  }
}
