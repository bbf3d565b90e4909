import { statSync } from "node:fs";

/**
 * A cheap identity of the database's current content: size and nanosecond
 * mtime of the file and of its `-wal`. Any commit changes one of them (a WAL
 * commit appends to the -wal; a checkpoint rewrites the file), including a
 * NULL vector filled in later, and reading them costs two stat calls.
 */
export interface FileStamp {
  size: string;
  mtimeNs: string;
}

export interface InputFingerprint {
  database: FileStamp;
  wal: FileStamp | null;
}

function stamp(path: string): FileStamp | null {
  try {
    const s = statSync(path, { bigint: true });
    return { size: s.size.toString(), mtimeNs: s.mtimeNs.toString() };
  } catch {
    return null;
  }
}

export function sqliteFingerprint(path: string): InputFingerprint {
  const database = stamp(path);
  if (database === null) throw new Error(`cannot stat ${path}`);
  return { database, wal: stamp(`${path}-wal`) };
}
