import { basename, dirname, extname, join } from "node:path";

/** Where a database's frame goes by default: `<db dir>/<db stem>.drift.parquet`. */
export function defaultOutputPath(db: string): string {
  const stem = basename(db, extname(db));
  return join(dirname(db), `${stem}.drift.parquet`);
}
