/**
 * The read-ahead VFS (native/readahead_vfs.c) never serves a page the file
 * no longer holds: a reader that reads a database sequentially (so that its
 * buffer is full), then reads it again after a writer has changed it and
 * checkpointed the change into the file, sees the new bytes, in WAL mode and
 * in rollback-journal mode alike.
 */
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAheadVfs, setReadAhead } from "../../../src/sources/sqlite/nativeLibrary.js";
import { loadRowPacking } from "../../../src/sources/sqlite/rowPacking.js";
import { openReadOnlySqlite } from "../../../src/sources/sqlite/sqliteFile.js";
import { makePanicDb } from "../../support/makePanicDb.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-readahead-"));
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const ROWS = 600;

/** One page per row (4,000 bytes): reading them in rowid order is reading the file page after page. */
function rowBytes(k: number, round: number): Buffer {
  return Buffer.alloc(4000, (k * 7 + round * 13) % 251);
}

/**
 * The rows' sums: first the last rows (whose pages a previous read left in
 * the read-ahead buffer), then all of them.
 */
function checksum(db: Database.Database): number[] {
  const sums = (rows: [number, Buffer][]) => rows.map(([k, v]) => k * 1000 + v[0]! + v[3999]!);
  const tail = sums(db.prepare("SELECT k, v FROM t WHERE k > ? ORDER BY k").raw(true).all(ROWS - 24) as [number, Buffer][]);
  const all = sums(db.prepare("SELECT k, v FROM t ORDER BY k").raw(true).all() as [number, Buffer][]);
  expect(tail).toEqual(all.slice(ROWS - 24));
  return all;
}

function expected(round: (k: number) => number): number[] {
  return Array.from({ length: ROWS }, (_, i) => {
    const v = rowBytes(i + 1, round(i + 1));
    return (i + 1) * 1000 + v[0]! + v[3999]!;
  });
}

describe("the read-ahead VFS", () => {
  it("is what a database is opened with, where the library is built", () => {
    expect(readAheadVfs(), "the extension is built by npm ci (node-gyp); run `npm rebuild` if it is missing").toBe("panic-drift-readahead");
  });

  it.each(["wal", "delete"])("serves no stale page after a writer changes the file (journal_mode=%s)", (mode) => {
    const path = join(dir, `${mode}.sqlite`);
    const writer = new Database(path);
    writer.pragma(`journal_mode = ${mode}`);
    // Another table first: t's root is not page 2, which every transaction reads right after page 1 (a read-ahead from there would refill the buffer anyway).
    writer.exec("CREATE TABLE pad (v BLOB); CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
    const pad = writer.prepare("INSERT INTO pad (v) VALUES (?)");
    const insert = writer.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    writer.transaction(() => { for (let k = 1; k <= ROWS; k++) insert.run(k, rowBytes(k, 0)); })();
    // Pages after t's: its last pages are not the file's (a read-ahead there would be cut short by the end of the file).
    writer.transaction(() => { for (let k = 0; k < 100; k++) pad.run(Buffer.alloc(4000, 1)); })();
    if (mode === "wal") writer.pragma("wal_checkpoint(TRUNCATE)");

    const reader = openReadOnlySqlite(path);
    try {
      expect(loadRowPacking(reader)).toBe(true);
      // On, for this connection's file.
      expect(setReadAhead(reader, true)).toBe(true);
      const rounds = new Map<number, number>();
      expect(checksum(reader)).toEqual(expected(() => 0));
      const update = writer.prepare("UPDATE t SET v = ? WHERE k = ?");
      const one = reader.prepare("SELECT v FROM t WHERE k = ?").pluck();
      for (let round = 1; round <= 6; round++) {
        // A stretch read in order (the buffer then holds the pages after it)…
        const from = 100 + round * 50;
        reader.prepare("SELECT v FROM t WHERE k BETWEEN ? AND ?").all(from, from + 60);
        // Every other row in a stretch, so that some pages of a read-ahead buffer change and others do not.
        writer.transaction(() => {
          for (let k = 1 + ((round * 37) % 200); k <= ROWS; k += 2 + (round % 3)) {
            update.run(rowBytes(k, round), k);
            rounds.set(k, round);
          }
        })();
        // Into the file itself, the WAL emptied: the pages a reader reads from the file are the ones that changed.
        if (mode === "wal") writer.pragma("wal_checkpoint(TRUNCATE)");
        // …then its rows one by one, backwards (no read-ahead of its own: each page comes from the buffer if anywhere).
        for (let k = from + 60; k >= from; k--) {
          expect((one.get(k) as Buffer)[0], `round ${round}, row ${k}`).toBe(rowBytes(k, rounds.get(k) ?? 0)[0]);
        }
        expect(checksum(reader), `round ${round}`).toEqual(expected((k) => rounds.get(k) ?? 0));
        // And within one read transaction, the same again (the buffer is refilled, not kept).
        reader.exec("BEGIN");
        expect(checksum(reader)).toEqual(checksum(reader));
        reader.exec("COMMIT");
      }
    } finally {
      reader.close();
      writer.close();
    }
  });

  it("is done without in a program that opened a better-sqlite3 connection of its own first (no file: URIs there)", () => {
    // better-sqlite3 reads SQLITE_USE_URI once, at its first connection: here before panic-drift could set it.
    const db = join(dir, "host.sqlite");
    makePanicDb(db, { runs: 4, steps: 20 });
    const out = join(dir, "host.drift.parquet");
    const script = join(dir, "host.mts");
    const betterSqlite3 = fileURLToPath(import.meta.resolve("better-sqlite3"));
    const pipeline = fileURLToPath(new URL("../../../src/compute/computeDrift.ts", import.meta.url));
    writeFileSync(
      script,
      `const { default: Database } = await import(${JSON.stringify(betterSqlite3)});
       new Database(":memory:").close();
       const { computeDrift } = await import(${JSON.stringify(pipeline)});
       const result = await computeDrift({ db: ${JSON.stringify(db)}, out: ${JSON.stringify(out)}, force: true });
       console.log(result.rows);`,
    );
    const env = { ...process.env };
    delete env.SQLITE_USE_URI;
    const run = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", env, timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(Number(run.stdout.trim())).toBeGreaterThan(0);
    expect(readFileSync(out).subarray(0, 4).toString()).toBe("PAR1");
  }, 90_000);
});
