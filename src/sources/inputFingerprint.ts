import { statSync } from "node:fs";
import { join } from "node:path";
import { EXPORT_FILES } from "./export/exportTables.js";

/**
 * A cheap identity of the input's current content, stored in the output
 * (the up-to-date check) and compared before anything is read.
 *
 * A SQLite database: size and nanosecond mtime of the file and of its
 * `-wal`. Any commit changes one of them (a WAL commit appends to the -wal;
 * a checkpoint rewrites the file), including a NULL vector filled in later,
 * and reading them costs two stat calls.
 *
 * A parquet export directory: size and nanosecond mtime of each file read
 * (four stat calls); rewriting any of them, the prompt rows included,
 * changes it.
 */
export interface FileStamp {
  size: string;
  mtimeNs: string;
}

export interface SqliteFingerprint {
  database: FileStamp;
  wal: FileStamp | null;
}

export interface ExportFingerprint {
  /** File name (e.g. `runs.parquet`) → its stamp, null when it is missing. */
  files: Record<string, FileStamp | null>;
}

export type InputFingerprint = SqliteFingerprint | ExportFingerprint;

function stamp(path: string): FileStamp | null {
  try {
    const s = statSync(path, { bigint: true });
    return { size: s.size.toString(), mtimeNs: s.mtimeNs.toString() };
  } catch {
    return null;
  }
}

export function sqliteFingerprint(path: string): SqliteFingerprint {
  const database = stamp(path);
  if (database === null) throw new Error(`cannot stat ${path}`);
  return { database, wal: stamp(`${path}-wal`) };
}

/** The stamps of `files` in the directory `dir`, in the given order. */
export function exportFingerprint(dir: string, files: readonly string[]): ExportFingerprint {
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  return { files: Object.fromEntries(files.map((name) => [name, stamp(join(dir, name))])) };
}

/** The fingerprint of whatever `path` is: an export directory or a SQLite database. */
export function inputFingerprint(path: string): InputFingerprint {
  return statSync(path).isDirectory() ? exportFingerprint(path, EXPORT_FILES) : sqliteFingerprint(path);
}
