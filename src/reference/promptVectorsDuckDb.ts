/**
 * The CSV and parquet layouts of a --prompt-vectors file, both read through
 * DuckDB (loaded only for them), with DuckDB's errors made specific.
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { DuckDBConnection, DuckDBInstance, DuckDBResultReader } from "@duckdb/node-api";
import { PanicDriftError } from "../common/errors.js";
import { whenInterrupted } from "../common/interruptCleanup.js";
import { firstLine } from "../common/text.js";
import { preview } from "./messageText.js";
import { invalid, type Located } from "./promptVectorsEntries.js";

/** DuckDB expands *, ? and [..] in file names even when one file is meant. */
const GLOB_CHARS = /[*?[]/;

/** Runs `body` on a fresh in-memory DuckDB that reads the file at `duckPath`; its failures name the file and the fix. */
export async function withDuckDb<T>(
  path: string,
  file: string,
  layout: "csv" | "parquet",
  signal: AbortSignal | undefined,
  body: (conn: DuckDBConnection, duckPath: string) => Promise<T>,
): Promise<T> {
  let duckPath = resolve(path);
  let scratch: string | undefined;
  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection | undefined;
  try {
    if (GLOB_CHARS.test(duckPath)) {
      // There is no way to quote a glob in read_csv/read_parquet, so hand
      // DuckDB a copy under a plain name.
      scratch = await mkdtemp(join(tmpdir(), "panic-drift-vectors-"));
      const copy = join(scratch, `input.${layout}`);
      await copyFile(duckPath, copy);
      duckPath = copy;
    }
    const { DuckDBInstance } = (await import("../common/duckdb.js")).duckdbApi;
    // Never reach for the network to fetch an extension: csv and parquet are built in.
    instance = await DuckDBInstance.create(":memory:", {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
    });
    conn = await instance.connect();
    const opened = conn;
    const stopListening = whenInterrupted(signal, () => { opened.interrupt(); });
    try {
      return await body(conn, duckPath);
    } finally {
      stopListening();
    }
  } catch (err) {
    if (err instanceof PanicDriftError) throw err;
    throw new PanicDriftError(
      "PROMPT_VECTORS_FORMAT",
      `cannot read prompt vectors file ${file} as ${layout === "csv" ? "CSV" : "Parquet"}: ` +
        `${duckDbMessage(err, duckPath, path)}: ${layout === "csv" ? CSV_FIX : PARQUET_FIX}`,
      { cause: err },
    );
  } finally {
    conn?.closeSync();
    instance?.closeSync();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
}

const CSV_FIX =
  "save it as UTF-8, comma-separated, with a header row naming initial_prompt, embedding_model and vector, " +
  'and RFC 4180 quoting (fields with commas, quotes or newlines in "double quotes", inner quotes doubled)';
const PARQUET_FIX = "check that it is a complete Parquet file, or write it again";

/** DuckDB's first line, made specific where that line alone says little. */
function duckDbMessage(err: unknown, duckPath: string, path: string): string {
  const lines = (err instanceof Error ? err.message : String(err)).split("\n").map((l) => l.trim());
  const first = lines[0] ?? "";
  let message = first;
  if (isSnifferFailure(err)) {
    // Only reached when even the sniffer-free read could not name a row.
    message =
      "DuckDB found no consistent rows with delimiter ',' and '\"' quotes " +
      "(a row with more or fewer fields than the header, an unclosed quote, or text after a closing quote)";
  }
  const line = /CSV Error on Line: (\d+)/.exec(first);
  if (line !== null) {
    // DuckDB counts records (quoted newlines included) from the header, so
    // record N is data row N-1. The reason comes after the offending record's
    // text and before the "Possible fixes" advice.
    const advice = lines.findIndex((l) => l.startsWith("Possible"));
    const reason = lines
      .slice(1, advice < 0 ? undefined : advice)
      .filter((l) => l !== "")
      .at(-1);
    const n = Number(line[1]);
    const where = n <= 1 ? "the header row" : `row ${n - 1}`;
    message =
      reason === undefined || reason.startsWith("Original Line") ? where : `${where}: ${reason.replace(/\.$/, "")}`;
  }
  return message.split(duckPath).join(path);
}

function isSnifferFailure(err: unknown): boolean {
  return err instanceof Error && (err.message.split("\n")[0] ?? "").includes("Error when sniffing file");
}

// The whole dialect is pinned, so the sniffer has nothing left to guess but
// the column names and the line ending. allow_quoted_nulls = false keeps a
// quoted "" as the empty string instead of NULL; nullstr = '' means only
// empty fields can be NULL, so a prompt spelled NULL stays the string "NULL".
const CSV_DIALECT = [
  "all_varchar = true",
  "delim = ','",
  "quote = '\"'",
  "escape = '\"'",
  "comment = ''",
  "skip = 0",
  "nullstr = ''",
  "allow_quoted_nulls = false",
  "ignore_errors = false",
  "encoding = 'utf-8'",
  "compression = 'none'",
].join(", ");
const CSV_STRICT = "strict_mode = true, null_padding = false";

const REQUIRED_COLUMNS = ["initial_prompt", "embedding_model", "vector"] as const;

export async function readCsvEntries(conn: DuckDBConnection, duckPath: string, file: string): Promise<Located[]> {
  let reader: DuckDBResultReader;
  try {
    reader = await conn.runAndReadAll(`SELECT * FROM read_csv($1, ${CSV_DIALECT}, ${CSV_STRICT}, header = true)`, [
      duckPath,
    ]);
  } catch (err) {
    // The sniffer fails on any malformed record in its sample without saying
    // which one; a read without the sniffer does say.
    if (isSnifferFailure(err)) throw (await locateCsvError(conn, duckPath)) ?? err;
    throw err;
  }
  requireColumns(reader.columnNames(), file, "header");
  return reader.getRowObjectsJS().map((row, i) => {
    const where = `row ${i + 1}`;
    const vectorText = row["vector"];
    return {
      where,
      // CSV has no NULL: an unquoted empty field (DuckDB's NULL) is the empty string.
      initialPrompt: row["initial_prompt"] ?? "",
      embeddingModel: row["embedding_model"] ?? "",
      vector: typeof vectorText === "string" ? parseVectorText(vectorText, file, where) : undefined,
    };
  });
}

/** More header fields than any prompt vectors file plausibly has. */
const MAX_PROBED_COLUMNS = 256;

/**
 * Reads the file strictly with auto_detect off, for DuckDB's "CSV Error on
 * Line" message only. The header's field count comes from a lenient read of
 * the first record (null_padding needs parallel = false when fields hold
 * newlines).
 */
async function locateCsvError(conn: DuckDBConnection, duckPath: string): Promise<unknown> {
  const columns = (n: number): string =>
    `columns = {${Array.from({ length: n }, (_, i) => `'c${i}': 'VARCHAR'`).join(", ")}}`;
  try {
    const probe = await conn.runAndReadAll(
      `SELECT * FROM read_csv($1, ${CSV_DIALECT}, strict_mode = false, null_padding = true, parallel = false, ` +
        `auto_detect = false, header = false, ${columns(MAX_PROBED_COLUMNS)}) LIMIT 1`,
      [duckPath],
    );
    const header = probe.getRowsJS()[0] ?? [];
    let count = header.length;
    while (count > 1 && header[count - 1] === null) count -= 1;
    await conn.runAndReadAll(
      `SELECT * FROM read_csv($1, ${CSV_DIALECT}, ${CSV_STRICT}, auto_detect = false, header = true, ${columns(count)})`,
      [duckPath],
    );
    return undefined;
  } catch (err) {
    return /CSV Error on Line/.test(firstLine(err)) ? err : undefined;
  }
}

/** A CSV vector cell is a JSON array; NaN/Infinity get a clearer error than JSON's. */
function parseVectorText(text: string, file: string, where: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    const items = text.trim().replace(/^\[/, "").replace(/\]$/, "").split(",");
    const bad = items.findIndex((item) => /^[+-]?(nan|inf|infinity)$/i.test(item.trim()));
    const problem =
      bad >= 0
        ? `vector[${bad}] is ${items[bad]?.trim()}, not a finite number`
        : `vector ${preview(text)} is not a JSON array of numbers such as "[0.1, 0.2]"`;
    throw invalid(file, where, problem, "write every vector as a JSON array of finite numbers");
  }
}

export async function readParquetEntries(conn: DuckDBConnection, duckPath: string, file: string): Promise<Located[]> {
  const schema = await conn.runAndReadAll("DESCRIBE SELECT * FROM read_parquet($1)", [duckPath]);
  const types = new Map<string, string>();
  for (const row of schema.getRowObjectsJS()) {
    // DESCRIBE's columns are VARCHAR.
    types.set(row["column_name"] as string, row["column_type"] as string);
  }
  requireColumns([...types.keys()], file, "schema");
  for (const column of ["initial_prompt", "embedding_model"] as const) {
    const type = types.get(column);
    if (type !== "VARCHAR") {
      throw new PanicDriftError(
        "PROMPT_VECTORS_INVALID",
        `invalid prompt vectors file ${file}: column ${column} has type ${type}, not a string: ` +
          "write it as a string column",
      );
    }
  }
  const vectorType = types.get("vector") ?? "";
  // FLOAT[] / DOUBLE[] lists and FLOAT[n] / DOUBLE[n] arrays; DOUBLE keeps float32 exact.
  if (!/^(FLOAT|DOUBLE)\[\d*\]$/.test(vectorType)) {
    throw new PanicDriftError(
      "PROMPT_VECTORS_INVALID",
      `invalid prompt vectors file ${file}: column vector has type ${vectorType}: ` +
        "write it as a list or fixed-size array of float or double",
    );
  }
  const reader = await conn.runAndReadAll(
    'SELECT "initial_prompt", "embedding_model", CAST("vector" AS DOUBLE[]) AS "vector" FROM read_parquet($1)',
    [duckPath],
  );
  return reader.getRowObjectsJS().map((row, i) => ({
    where: `row ${i + 1}`,
    initialPrompt: row["initial_prompt"],
    embeddingModel: row["embedding_model"],
    vector: row["vector"] ?? undefined,
  }));
}

function requireColumns(columns: readonly string[], file: string, kind: "header" | "schema"): void {
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new PanicDriftError(
      "PROMPT_VECTORS_INVALID",
      `invalid prompt vectors file ${file}: the ${kind} has no ${missing.join(" or ")} column ` +
        `(found: ${columns.join(", ") || "none"}): name the columns initial_prompt, embedding_model and vector`,
    );
  }
}
