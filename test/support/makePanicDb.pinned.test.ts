import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE_DB_OPTIONS, makePanicDb, type PanicDbOptions } from "./makePanicDb.js";

/**
 * The generator's output, pinned: tests, fixtures and the bench's cached
 * databases all assume that the same options give the same rows. A digest of
 * every table's rows in storage order (values, not file bytes, so that a new
 * SQLite version does not matter) and of the manifest. A change to the
 * generator that moves any random draw changes these; if that is intended,
 * regenerate fixtures/demo.sqlite and update the digests.
 */
const PINNED: [name: string, options: PanicDbOptions, digest: string][] = [
  ["defaults", {}, "cb7f27f16a69247de0831a93bc52ff93e5946670b6859ce291d59ec2105b8e53"],
  ["edge cases, gen1", EDGE_DB_OPTIONS, "840c44e40ccf52c1ca0428ed68ab7021d474bd1ce27571e492c07adb912c5397"],
  ["edge cases, gen2", { ...EDGE_DB_OPTIONS, layout: "gen2" }, "0510556f865895d120de54e510e288c0b9c8a7b0e05b13685e1ab19ff65008f5"],
  ["unfinished runs, unshuffled, gen2", { runs: 5, steps: 8, seed: 7, unfinishedRuns: 2, shuffle: false, layout: "gen2", imageBytes: 16 }, "794f85f3a883621c1cb6c909b1568ef5e8997b77f230f25020f2035b3b90946d"],
  ["custom texts and vectors", {
    runs: 3,
    steps: 6,
    seed: 3,
    embeddingModels: [{ name: "Tiny", dim: 3 }],
    textFor: (c) => `t${c.runIndex}-${c.sequenceNumber}-${c.rng.int(1000)}`,
    vectorFor: (_m, _t, rng, ctx) => (ctx.sequenceNumber === 3 ? null : Float32Array.of(rng.float(), ctx.runIndex, -1)),
  }, "b3e51e5b29d514af05867452a8c0df64157cbf94baa20674a663c6643b1af879"],
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "makePanicDb-pinned-"));
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** sha256 of the schema, every table's rows in rowid order (blobs as hex), and the manifest without its path. */
function digestOf(path: string, manifest: object): string {
  const hash = createHash("sha256");
  const db = new Database(path, { readonly: true });
  try {
    db.defaultSafeIntegers(true);
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").all() as { name: string; sql: string }[];
    for (const { name, sql } of tables) {
      hash.update(`${sql}\n`);
      for (const row of db.prepare(`SELECT rowid, * FROM "${name}" ORDER BY rowid`).raw().iterate() as IterableIterator<unknown[]>) {
        hash.update(`${JSON.stringify(row.map((v) => (Buffer.isBuffer(v) ? `x'${v.toString("hex")}'` : typeof v === "bigint" ? v.toString() : v)))}\n`);
      }
    }
  } finally {
    db.close();
  }
  hash.update(JSON.stringify({ ...manifest, path: undefined }));
  return hash.digest("hex");
}

describe("makePanicDb's output is pinned", () => {
  it.each(PINNED)("%s", (name, options, digest) => {
    const path = join(dir, `${name.replaceAll(/\W+/g, "-")}.sqlite`);
    const manifest = makePanicDb(path, options);
    expect(digestOf(path, manifest)).toBe(digest);
  });
});
