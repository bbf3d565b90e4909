import { closeSync, statSync } from "node:fs";
import { notRegularFile, openRegularFileSync } from "../common/regularFile.js";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { PanicDriftError } from "../common/errors.js";
import { sqlString } from "../common/text.js";
import { frameFiles, type FramePath } from "./framePath.js";
import { OUTPUT_COLUMN_NAMES } from "../frame/frameColumns.js";
import { firstLine } from "../common/text.js";

/** A drift frame opened in DuckDB as the view `frame`, checked to have the frame's columns. */
export interface DriftFrame {
  readonly path: string;
  readonly connection: DuckDBConnection;
  close(): void;
}

const INTEGER_TYPES = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"];
/** The columns the arithmetic needs, and the types it can use. */
const NUMERIC_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  semantic_drift: ["DOUBLE", "FLOAT"],
  sequence_number: INTEGER_TYPES,
};

/**
 * Opens `source.path` for summaries and plots. Failures are one line each:
 * missing (with "run compute first" when it came from --db), unreadable, not
 * parquet, or parquet without the frame's columns.
 */
export async function openDriftFrame(source: FramePath): Promise<DriftFrame> {
  const { path } = source;
  for (const one of source.paths) checkReadable(one, source.db);
  const files = frameFiles(source);
  const { DuckDBInstance: Instance } = (await import("../common/duckdb.js")).duckdbApi;
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  try {
    // One thread: sums in one order, so the same frame always gives the same last digits.
    instance = await Instance.create(":memory:", { threads: "1", autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
    connection = await instance.connect();
    const read = `read_parquet([${files.map(sqlString).join(", ")}])`;
    let described;
    try {
      described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${read}`)).getRowObjectsJson();
    } catch (error) {
      throw new PanicDriftError("FRAME_INVALID", `${path} is not a parquet file (${firstLine(error)}): give --in the .drift.parquet file that panic-drift compute writes`, { cause: error });
    }
    // DESCRIBE's columns are VARCHAR.
    const types = new Map(described.map((row) => [row.column_name as string, row.column_type as string]));
    const missing = OUTPUT_COLUMN_NAMES.filter((c) => !types.has(c));
    if (missing.length > 0) {
      throw new PanicDriftError(
        "FRAME_INVALID",
        `${path} is not a panic-drift frame: missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")} (it has ${[...types.keys()].join(", ") || "none"}): give --in a file written by panic-drift compute`,
      );
    }
    for (const [column, allowed] of Object.entries(NUMERIC_COLUMNS)) {
      const type = types.get(column)!;
      if (!allowed.includes(type)) {
        throw new PanicDriftError("FRAME_INVALID", `${path} is not a panic-drift frame: column ${column} is ${type}, not ${allowed.join(" or ")}: give --in a file written by panic-drift compute`);
      }
    }
    if (files.length > 1) await refuseRunsInTwoFiles(connection, files);
    await connection.run(`CREATE TEMP VIEW frame AS SELECT * FROM ${read}`);
    const opened = connection;
    const owner = instance;
    return {
      path,
      connection: opened,
      close: () => {
        opened.closeSync();
        owner.closeSync();
      },
    };
  } catch (error) {
    connection?.closeSync();
    instance?.closeSync();
    throw error;
  }
}

/** Frames given together must not share a run (two frames of one database, say): its rows would count twice. */
async function refuseRunsInTwoFiles(connection: DuckDBConnection, files: readonly string[]): Promise<void> {
  const reader = await connection.runAndReadAll(
    `SELECT run_id, min(filename) AS a, max(filename) AS b FROM read_parquet([${files.map(sqlString).join(", ")}], filename = true)
     GROUP BY run_id HAVING count(DISTINCT filename) > 1 LIMIT 1`,
  );
  const [clash] = reader.getRows() as [string, string, string][];
  if (clash !== undefined) {
    const [runId, a, b] = clash;
    throw new PanicDriftError("FRAME_INVALID", `run ${runId} is in both ${a} and ${b}: give frames of different runs (a dataset holds each run once)`);
  }
}

function checkReadable(path: string, db: string | undefined): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    if (db !== undefined) {
      throw new PanicDriftError("FRAME_NOT_FOUND", `drift frame not found: ${path} (what compute writes for --db ${db}): run panic-drift compute --db ${db} first, or give --in FILE`);
    }
    throw new PanicDriftError("FRAME_NOT_FOUND", `drift frame not found: ${path}: check the --in path (panic-drift compute writes <db stem>.drift.parquet beside the database)`);
  }
  if (stats.isDirectory()) {
    if (frameFiles({ path, paths: [path] }).length > 0) return;
    throw new PanicDriftError("FRAME_INVALID", `${path} is a directory with no part files (experiment_id=…/part-….parquet): give --in a .drift.parquet file, or a dataset directory compute --out DIR/ wrote`);
  }
  // A FIFO would block the read (and a frame is read more than once), a device or a socket is no frame.
  const kind = notRegularFile(stats);
  if (kind !== undefined) throw new PanicDriftError("FRAME_INVALID", `${path} is ${kind}, not a drift frame: give --in the .drift.parquet file that panic-drift compute writes`);
  try {
    closeSync(openRegularFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new PanicDriftError("FRAME_INVALID", `cannot read the drift frame ${path} (${code}): check its permissions`, { cause: error });
  }
}

