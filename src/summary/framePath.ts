import { resolve } from "node:path";
import { usageError } from "../common/errors.js";
import { defaultOutputPath } from "../sink/defaultFramePath.js";
import { inputFiles } from "../sources/inputFiles.js";
import type { ProtectedInput } from "../sink/outputGuard.js";

/** Where a drift frame comes from: the file itself, or the database whose default compute output it is. */
export interface FrameSource {
  /** A parquet file written by `compute` (or any frame with its columns). */
  frame?: string;
  /** A database: its frame is the file `compute --db` writes by default. */
  db?: string;
}

export interface FramePath {
  path: string;
  /** The database it was derived from, for the "run compute first" hint. */
  db?: string;
}

/** The frame's absolute path: `frame`, or compute's default output for `db`; one of the two. */
export function framePath(source: FrameSource): FramePath {
  if (source.frame !== undefined && source.db !== undefined) {
    throw usageError("--in and --db contradict each other: give the frame with --in, or the database whose frame it is with --db");
  }
  if (source.frame !== undefined) return { path: resolve(source.frame) };
  if (source.db !== undefined) return { path: resolve(defaultOutputPath(source.db)), db: source.db };
  throw usageError("missing --in FILE.parquet (or --db FILE, or set DATABASE_PATH, for the frame compute writes beside it)");
}

/** What a summary or plot reads, which its outputs must never replace: the frame, and the database it was named by. */
export function frameInputs(source: FramePath): ProtectedInput[] {
  return [{ path: source.path, what: "the drift frame" }, ...(source.db === undefined ? [] : inputFiles(source.db))];
}
