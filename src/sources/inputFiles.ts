import { realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXPORT_FILES } from "./export/exportTables.js";

/** A file an input consists of, for the output guard (sink/outputGuard.ts: ProtectedInput). */
export interface InputFile {
  readonly path: string;
  readonly what: string;
}

/** What SQLite may keep beside a database file. */
const SQLITE_SIDE_FILES = ["-wal", "-shm", "-journal"] as const;

/**
 * Every file that makes up the input at `path`: a parquet export's table
 * files, or a SQLite database with the -wal, -shm and -journal SQLite keeps
 * beside it (beside the name given and beside the file a symbolic link leads
 * to: SQLite puts them by the real file), whether they exist yet or not.
 */
export function inputFiles(path: string): InputFile[] {
  const absolute = resolve(path);
  let directory = false;
  try {
    directory = statSync(absolute).isDirectory();
  } catch {
    /* missing: the source reports it; its side files are still protected */
  }
  if (directory) return EXPORT_FILES.map((name) => ({ path: join(absolute, name), what: "a file of the parquet export" }));
  const names = new Set([absolute]);
  try {
    names.add(realpathSync(absolute));
  } catch {
    /* missing */
  }
  return [
    { path: absolute, what: "the database" },
    ...[...names].flatMap((name) => SQLITE_SIDE_FILES.map((suffix) => ({ path: `${name}${suffix}`, what: `the database's ${suffix.slice(1)} file` }))),
  ];
}
