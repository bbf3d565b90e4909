/** Opening, schema and closing of the file: fast to fill, and a complete WAL database once closed. */
import { existsSync, rmSync } from "node:fs";
import Database from "better-sqlite3";
import { ECTO_MIGRATIONS_DDL, ELIXIR_DDL, OTHER_DDL, PANIC_DDL } from "./schema.js";

/** Replaces whatever is at `path` (and its journal files) with a new database of the layout's schema, filled by `fill`. */
export function writeDatabase<T>(path: string, gen2: boolean, fill: (db: Database.Database) => T): T {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) if (existsSync(path + suffix)) rmSync(path + suffix);
  if (gen2) {
    // Upstream's migrations, on a connection of their own (as ecto's migrator runs them): a
    // connection that ran ALTER TABLE … DROP COLUMN fails the final checkpoint ("database table
    // is locked").
    const migrator = new Database(path);
    try {
      for (const sql of [ECTO_MIGRATIONS_DDL, ...ELIXIR_DDL]) migrator.exec(sql);
    } finally {
      migrator.close();
    }
  }
  const db = new Database(path);
  try {
    // Built without a journal (a WAL would write every page twice: ~40% slower),
    // switched to WAL once filled: the file ends up exactly as a WAL database.
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    // better-sqlite3 enforces foreign keys by default; the first generation's orphan row needs
    // them off (as SQLite's default). ecto_sqlite3 turns them on: the second generation keeps them.
    db.pragma(`foreign_keys = ${gen2 ? "ON" : "OFF"}`);
    db.pragma("cache_size = -65536");
    if (!gen2) for (const sql of [...PANIC_DDL, ...OTHER_DDL]) db.exec(sql);
    const result = fill(db);
    db.pragma("journal_mode = WAL");
    db.pragma("wal_checkpoint(TRUNCATE)"); // the file must be complete without its -wal
    return result;
  } finally {
    db.close();
  }
}
