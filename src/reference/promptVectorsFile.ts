/**
 * Reads the user's `--prompt-vectors` file (.json, .csv or .parquet) into
 * PromptVectors. The file is the user's own, so anything odd in it is an error
 * that names the file, the entry and what to do, never a silent repair.
 */
import { constants } from "node:fs";
import { access, copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";

// DuckDB is loaded only for .csv and .parquet files (it takes a while to load).
import type { DuckDBConnection, DuckDBInstance, DuckDBResultReader } from "@duckdb/node-api";

import { PanicDriftError } from "../common/errors.js";
import { whenInterrupted } from "../common/interruptCleanup.js";
import { NotRegularFileError, notRegularFile, readRegularFile } from "../common/regularFile.js";
import { pairKey, type PromptVector } from "../frame/promptVector.js";
import { describeValue, preview } from "./messageText.js";
import { firstLine } from "../common/text.js";

type Layout = "json" | "csv" | "parquet";

const LAYOUTS: ReadonlyMap<string, Layout> = new Map([
  [".json", "json"],
  [".csv", "csv"],
  [".parquet", "parquet"],
]);

/** An entry as the file holds it, before any check. */
interface Located {
  /** For messages: "entry 3" (JSON) or "row 3" (CSV, parquet), 1-based. */
  where: string;
  initialPrompt: unknown;
  embeddingModel: unknown;
  vector: unknown;
}

const ENTRY_FIX =
  'every entry needs a string "initial_prompt", a non-empty string "embedding_model" ' +
  'and a non-empty "vector" of finite numbers';

/** `signal`: a CSV or parquet file being read through DuckDB stops at once (the caller sees why). */
export async function readPromptVectorsFile(path: string, signal?: AbortSignal): Promise<PromptVector[]> {
  const file = JSON.stringify(path);
  const info = await statFile(path, file);
  const layout = layoutOf(path, file);
  await assertReadable(path, file);
  if (info.size === 0) return [];

  let entries: Located[];
  if (layout === "json") {
    entries = await readJsonEntries(path, file);
  } else {
    // Whitespace-only CSV would otherwise come back as one NULL "column0" row.
    if (layout === "csv" && info.size <= 4096 && isBlank(await readRegular(path, file))) return [];
    entries = await withDuckDb(path, file, layout, signal, (conn, duckPath) =>
      layout === "csv" ? readCsvEntries(conn, duckPath, file) : readParquetEntries(conn, duckPath, file),
    );
  }
  return validate(entries, file);
}

// ---------------------------------------------------------------------------
// File checks

async function statFile(path: string, file: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new PanicDriftError(
        "PROMPT_VECTORS_NOT_FOUND",
        `prompt vectors file ${file} does not exist: check the --prompt-vectors path`,
        { cause: err },
      );
    }
    throw new PanicDriftError(
      "PROMPT_VECTORS_FORMAT",
      `cannot read prompt vectors file ${file}: ${firstLine(err)}: check the path and its permissions`,
      { cause: err },
    );
  }
  const kind = notRegularFile(info);
  if (kind !== undefined) throw notAFile(file, kind);
  return info;
}

/**
 * A FIFO, a device or a socket is never read: a read of a FIFO blocks until
 * someone writes to it, and the file is read more than once (its digest).
 */
function notAFile(file: string, kind: string): PanicDriftError {
  return new PanicDriftError(
    "PROMPT_VECTORS_FORMAT",
    `prompt vectors file ${file} is ${kind}, not a regular file: write the vectors to a .json, .csv or .parquet file and pass that to --prompt-vectors`,
  );
}

/** The file's bytes, refusing what is no longer a regular file (it was replaced since the check). */
async function readRegular(path: string, file: string): Promise<Buffer> {
  try {
    return await readRegularFile(path);
  } catch (err) {
    if (err instanceof NotRegularFileError) throw notAFile(file, err.kind);
    throw new PanicDriftError("PROMPT_VECTORS_FORMAT", `cannot read prompt vectors file ${file}: ${firstLine(err)}: check the path and its permissions`, { cause: err });
  }
}

function layoutOf(path: string, file: string): Layout {
  const ext = extname(path).toLowerCase();
  const layout = LAYOUTS.get(ext);
  if (layout === undefined) {
    const got = ext === "" ? "no extension" : `the extension "${extname(path)}"`;
    throw new PanicDriftError(
      "PROMPT_VECTORS_FORMAT",
      `prompt vectors file ${file} has ${got}: supported extensions are .json, .csv and .parquet (any case), ` +
        "so rename or convert it",
    );
  }
  return layout;
}

async function assertReadable(path: string, file: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new PanicDriftError(
      "PROMPT_VECTORS_FORMAT",
      `cannot read prompt vectors file ${file}: ${firstLine(err)}: check its permissions`,
      { cause: err },
    );
  }
}

function isBlank(bytes: Uint8Array): boolean {
  // ASCII whitespace plus a UTF-8 byte-order mark.
  const text = new TextDecoder("utf-8").decode(bytes);
  return /^[\s\uFEFF]*$/.test(text);
}

// ---------------------------------------------------------------------------
// JSON

async function readJsonEntries(path: string, file: string): Promise<Located[]> {
  const bytes = await readRegular(path, file);
  let text: string;
  try {
    // fatal: Node would otherwise swap bad bytes for U+FFFD inside prompts.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new PanicDriftError(
      "PROMPT_VECTORS_FORMAT",
      `prompt vectors file ${file} is not valid UTF-8: save it as UTF-8 JSON`,
      { cause: err },
    );
  }
  if (text.trim() === "") return [];

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PanicDriftError(
      "PROMPT_VECTORS_FORMAT",
      `prompt vectors file ${file} is not valid JSON (${firstLine(err)}): fix the syntax or export the file again`,
      { cause: err },
    );
  }
  if (!Array.isArray(parsed)) {
    throw new PanicDriftError(
      "PROMPT_VECTORS_INVALID",
      `invalid prompt vectors file ${file}: the top level is ${describeValue(parsed)}, not an array: ` +
        'write a JSON array of {"initial_prompt", "embedding_model", "vector"} objects',
    );
  }
  return parsed.map((item: unknown, i) => {
    const where = `entry ${i + 1}`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw invalid(file, where, `${describeValue(item)} is not an object`, ENTRY_FIX);
    }
    const record = item as Record<string, unknown>;
    return {
      where,
      initialPrompt: record["initial_prompt"],
      embeddingModel: record["embedding_model"],
      vector: record["vector"],
    };
  });
}

// ---------------------------------------------------------------------------
// CSV and parquet, both through DuckDB

/** DuckDB expands *, ? and [..] in file names even when one file is meant. */
const GLOB_CHARS = /[*?[]/;

async function withDuckDb<T>(
  path: string,
  file: string,
  layout: Exclude<Layout, "json">,
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

async function readCsvEntries(conn: DuckDBConnection, duckPath: string, file: string): Promise<Located[]> {
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

async function readParquetEntries(conn: DuckDBConnection, duckPath: string, file: string): Promise<Located[]> {
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

// ---------------------------------------------------------------------------
// Validation shared by all layouts

function validate(entries: readonly Located[], file: string): PromptVector[] {
  const out: PromptVector[] = [];
  const dims = new Map<string, { dim: number; where: string }>();
  const seen = new Map<string, { vector: Float64Array; where: string }>();
  for (const entry of entries) {
    const pv = toPromptVector(entry, file);
    const where = entry.where;

    const dim = dims.get(pv.embeddingModel);
    if (dim === undefined) {
      dims.set(pv.embeddingModel, { dim: pv.vector.length, where });
    } else if (dim.dim !== pv.vector.length) {
      throw invalid(
        file,
        where,
        `embedding model ${preview(pv.embeddingModel)} has a vector of dimension ${pv.vector.length} ` +
          `but ${dim.where} has dimension ${dim.dim}`,
        "all vectors of one embedding model must have the same dimension",
      );
    }

    const key = pairKey(pv.initialPrompt, pv.embeddingModel);
    const prior = seen.get(key);
    if (prior === undefined) {
      seen.set(key, { vector: pv.vector, where });
      out.push(pv);
    } else if (!sameVector(prior.vector, pv.vector)) {
      throw invalid(
        file,
        where,
        `initial_prompt ${preview(pv.initialPrompt)} with embedding_model ${preview(pv.embeddingModel)} ` +
          `has a different vector than ${prior.where}`,
        "keep one vector per (initial_prompt, embedding_model)",
      );
    }
    // An identical repeat adds nothing: keep the first.
  }
  return out;
}

function requireString(value: unknown, key: string, file: string, where: string): asserts value is string {
  if (typeof value === "string") return;
  const problem = value === undefined ? `${key} is missing` : `${key} is ${describeValue(value)}, not a string`;
  throw invalid(file, where, problem, ENTRY_FIX);
}

function toPromptVector(entry: Located, file: string): PromptVector {
  const { where, initialPrompt, embeddingModel, vector } = entry;
  requireString(initialPrompt, "initial_prompt", file, where);
  requireString(embeddingModel, "embedding_model", file, where);
  // A nameless model could never match a run's embeddings.
  if (embeddingModel === "") throw invalid(file, where, "embedding_model is empty", ENTRY_FIX);
  if (vector === undefined || vector === null) throw invalid(file, where, "vector is missing", ENTRY_FIX);
  if (!Array.isArray(vector)) throw invalid(file, where, `vector is ${describeValue(vector)}, not an array`, ENTRY_FIX);
  if (vector.length === 0) throw invalid(file, where, "vector is empty", ENTRY_FIX);

  const values = new Float64Array(vector.length);
  vector.forEach((x: unknown, i) => {
    if (typeof x !== "number") {
      throw invalid(file, where, `vector[${i}] is ${describeValue(x)}, not a number`, ENTRY_FIX);
    }
    // JSON turns 1e400 into Infinity, so this also catches out-of-range numbers.
    if (!Number.isFinite(x)) throw invalid(file, where, `vector[${i}] is ${x}, not a finite number`, ENTRY_FIX);
    values[i] = x;
  });
  return { initialPrompt, embeddingModel, vector: values };
}

function sameVector(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------------------------------------------------------------------------
// Messages

function invalid(file: string, where: string, problem: string, fix: string): PanicDriftError {
  return new PanicDriftError(
    "PROMPT_VECTORS_INVALID",
    `invalid prompt vectors file ${file}, ${where}: ${problem}: ${fix}`,
  );
}

