import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { listParts } from "../sink/datasetFiles.js";
import { usageError } from "../common/errors.js";
import { defaultOutputPath } from "../sink/defaultFramePath.js";
import { inputFiles } from "../sources/inputFiles.js";
import type { ProtectedInput } from "../sink/outputGuard.js";

/** Where a drift frame comes from: the file itself, or the database whose default compute output it is. */
export interface FrameSource {
  /**
   * A parquet file written by `compute` (or any frame with its columns), a
   * dataset directory `compute --out DIR/` wrote, or several of either
   * (their runs together; a run in two of them is an error).
   */
  frame?: string | readonly string[];
  /** A database: its frame is the file `compute --db` writes by default. */
  db?: string;
}

export interface FramePath {
  /** The frame as messages name it: its path, or the paths given, comma-separated. */
  path: string;
  /** Each frame file or dataset directory given, absolute. */
  paths: string[];
  /** The database it was derived from, for the "run compute first" hint. */
  db?: string;
}

/** The frame's absolute path: `frame`, or compute's default output for `db`; one of the two. */
export function framePath(source: FrameSource): FramePath {
  if (source.frame !== undefined && source.db !== undefined) {
    throw usageError("--in and --db contradict each other: give the frame with --in, or the database whose frame it is with --db");
  }
  if (source.frame !== undefined) {
    const paths = (typeof source.frame === "string" ? [source.frame] : [...source.frame]).map((p) => resolve(p));
    if (paths.length === 0) throw usageError("missing --in FILE.parquet (or --db FILE)");
    return { path: paths.join(", "), paths };
  }
  if (source.db !== undefined) {
    const path = resolve(defaultOutputPath(source.db));
    return { path, paths: [path], db: source.db };
  }
  throw usageError("missing --in FILE.parquet (or --db FILE, or set DATABASE_PATH, for the frame compute writes beside it)");
}

/** What a summary or plot reads, which its outputs must never replace: the frame, and the database it was named by. */
export function frameInputs(source: FramePath): ProtectedInput[] {
  return [
    ...source.paths.flatMap((path) =>
      isDirectory(path) ? listParts(path).map((part) => ({ path: join(path, part.name), what: "a part file of the drift dataset" })) : [{ path, what: "the drift frame" }],
    ),
    ...(source.db === undefined ? [] : inputFiles(source.db)),
  ];
}

/** The parquet files a frame source reads: each file given, and every part file of each dataset directory given. */
export function frameFiles(source: FramePath): string[] {
  return source.paths.flatMap((path) => (isDirectory(path) ? listParts(path).map((part) => join(path, part.name)) : [path]));
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
