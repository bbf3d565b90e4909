import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { totalmem } from "node:os";
import { join } from "node:path";
import { duckdbApi } from "../../common/duckdb.js";
import { PanicDriftError } from "../../common/errors.js";
import { firstLine, sqlString } from "../../common/text.js";
import type { SourceFilters } from "../sourceFilters.js";
import { EXPORT_TABLES, type ExportTable } from "./exportTables.js";

/**
 * DuckDB's memory: a quarter of the machine, between 1 and 4 GB. Reading a
 * list column holds a good part of a row group's pages; past the limit, a
 * sort (exports not in run order) spills to the temporary directory.
 */
function memoryLimit(): string {
  const quarter = totalmem() / 4 / 2 ** 20;
  return `${Math.round(Math.min(4096, Math.max(1024, quarter)))}MB`;
}

/**
 * An export's files as the DuckDB thread queries them: its one DuckDB
 * connection, the check that every needed column is there, and the SQL
 * pieces every query shares (the columns as text, the vectors as FLOAT[],
 * the --model filter). Read failures become EXPORT_UNREADABLE.
 */
export class ExportFiles {
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;
  /** Column name → DuckDB type, per table (set by check()). */
  private types: Record<ExportTable, Map<string, string>> | undefined;

  constructor(
    readonly dir: string,
    readonly filters: SourceFilters,
    private readonly tempDir: string,
  ) {}

  get checked(): boolean {
    return this.types !== undefined;
  }

  file(table: ExportTable): string {
    return join(this.dir, `${table}.parquet`);
  }

  async connect(): Promise<DuckDBConnection> {
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

  async rows(sql: string, table?: ExportTable): Promise<unknown[][]> {
    const connection = await this.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRows();
    } catch (error) {
      throw this.readFailure(error, table);
    }
  }

  readFailure(error: unknown, table?: ExportTable): Error {
    if (error instanceof PanicDriftError) return error;
    const where = table === undefined ? this.dir : this.file(table);
    return new PanicDriftError("EXPORT_UNREADABLE", `cannot read ${where}: ${firstLine(error)}: check that the export is complete (export it again with mix experiment.export_data if not)`);
  }

  /** Every needed column of every file is there (and the vector column holds numbers). */
  async check(): Promise<void> {
    const types = {} as Record<ExportTable, Map<string, string>>;
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
    this.types = types;
  }

  /** A column as text (a no-op for upstream's string columns). */
  text(table: ExportTable, alias: string, column: string): string {
    const expression = `${alias}."${column}"`;
    return this.types![table].get(column) === "VARCHAR" ? expression : `CAST(${expression} AS VARCHAR)`;
  }

  vectorExpression(): string {
    return this.types!.embeddings.get("vector") === "FLOAT[]" ? `e."vector"` : `CAST(e."vector" AS FLOAT[])`;
  }

  modelCondition(): string {
    const models = this.filters.models ?? [];
    return models.length === 0 ? "" : ` AND ${this.text("embeddings", "e", "embedding_model")} IN (${models.map(sqlString).join(", ")})`;
  }

  close(): void {
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
  }
}
