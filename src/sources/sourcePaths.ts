import { existsSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { globSync, isDynamicPattern } from "tinyglobby";
import { PanicDriftError } from "../common/errors.js";

/** What SQLite keeps beside a database: never a source of its own, even when a glob meets it. */
const SIDE_FILE = /-(wal|shm|journal)$/;

/**
 * The inputs named by `--db` values: each a path, or a glob (`runs/*.sqlite`,
 * `exports/*_parquet`) matching databases and export directories, expanded
 * in sorted order. The same input named twice (by two globs, or through a
 * symbolic link) counts once. A glob that matches nothing is an error: a
 * nightly job that silently reads nothing is worse than one that fails.
 */
export function sourcePaths(values: readonly string[], cwd = process.cwd()): string[] {
  const found: string[] = [];
  for (const value of values) {
    // A name that exists is that input, even with glob characters in it ("runs [old].sqlite").
    if (!isDynamicPattern(value) || existsSync(resolve(cwd, value))) {
      found.push(value); // as given: messages name it as the user did
      continue;
    }
    const matches = globSync(value, { cwd, absolute: true, onlyFiles: false, dot: false, expandDirectories: false })
      .map((path) => path.replace(/\/$/, ""))
      .filter((path) => !SIDE_FILE.test(path) && !path.endsWith(".drift.parquet") && isSource(path))
      .sort();
    if (matches.length === 0) {
      throw new PanicDriftError("DB_NOT_FOUND", `--db ${value} matches no database or export directory (from ${cwd}): check the pattern, and quote it so that the shell does not expand it`);
    }
    found.push(...matches);
  }
  const seen = new Set<string>();
  return found.filter((path) => {
    const key = realPath(resolve(cwd, path));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * How an input is known in what a compute records of it (a dataset's
 * manifest, a file's fingerprint list): its absolute path, so that
 * `--db runs/a.sqlite`, `--db ./runs/a.sqlite` and a glob that finds it name
 * one input, whatever the working directory.
 */
export function sourceKey(path: string): string {
  return resolve(path);
}

/** A regular file or a directory (what a glob may name as an input). */
function isSource(path: string): boolean {
  try {
    const stats = statSync(path);
    return stats.isFile() || stats.isDirectory();
  } catch {
    return false;
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
