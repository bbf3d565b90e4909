/**
 * Reads the user's `--prompt-vectors` file (.json, .csv or .parquet) into
 * PromptVectors. The file is the user's own, so anything odd in it is an error
 * that names the file, the entry and what to do, never a silent repair.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { extname } from "node:path";

import { PanicDriftError } from "../common/errors.js";
import { NotRegularFileError, notRegularFile, readRegularFile } from "../common/regularFile.js";
import type { PromptVector } from "../frame/promptVector.js";
import { describeValue } from "./messageText.js";
import { firstLine } from "../common/text.js";
import { ENTRY_FIX, invalid, validate, type Located } from "./promptVectorsEntries.js";
// CSV and parquet go through DuckDB, which that module loads only when one is read (it takes a while to load).
import { readCsvEntries, readParquetEntries, withDuckDb } from "./promptVectorsDuckDb.js";

type Layout = "json" | "csv" | "parquet";

const LAYOUTS: ReadonlyMap<string, Layout> = new Map([
  [".json", "json"],
  [".csv", "csv"],
  [".parquet", "parquet"],
]);

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
