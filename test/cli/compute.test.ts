import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComputeResult } from "../../src/compute/plan.js";
import { NULL_REASONS } from "../../src/kernel/nullReason.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { runCli } from "../support/runCli.js";

let dir: string;
/** A clean database: Dummy models only, no edge cases, so no warnings. */
let clean: string;
/** A database with a model that has no built-in reference. */
let unreferenced: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-cli-"));
  clean = join(dir, "clean.sqlite");
  makePanicDb(clean, { runs: 4, steps: 8, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
  unreferenced = join(dir, "unreferenced.sqlite");
  makePanicDb(unreferenced, { runs: 3, steps: 6, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Nomic", dim: 768 }] });
});

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const fresh = (name: string) => join(mkdtempSync(join(dir, "case-")), name);
const oneLine = (s: string) => s.trimEnd().split("\n");
const mtimeNs = (p: string) => statSync(p, { bigint: true }).mtimeNs;

describe("help and usage", () => {
  it("--help shows commands and examples (exit 0)", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/compute/);
    expect(top.stdout).toMatch(/Examples:/);
    const compute = await runCli(["compute", "--help"]);
    expect(compute.code).toBe(0);
    for (const flag of ["--db", "--out", "--metric", "--prompt-vectors", "--exclude-prompt", "--no-exclude", "--strict", "--force", "--quiet", "--json"]) {
      expect(compute.stdout).toContain(flag);
    }
    expect(compute.stdout).toMatch(/Examples:\n\s+\$ panic-drift compute --db/);
  });

  it("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version);
  });

  it.each([
    [["compute", "--db", "x.sqlite", "--bogus"], /unknown option '--bogus'/],
    [["compute", "--db", "x.sqlite", "--metric", "manhattan"], /argument 'manhattan' is invalid: allowed choices are euclid, cosine; see panic-drift compute --help/],
    [["compute", "--db", "x.sqlite", "--forc"], /unknown option '--forc' \(did you mean --force\?\); see panic-drift compute --help/],
    [["compute", "x.sqlite"], /unexpected argument 'x.sqlite': give the database as --db x.sqlite/],
    [["summary", "x.drift.parquet"], /give a frame as --in x.drift.parquet or a database as --db x.drift.parquet/],
    [["prompts", "--db"], /option '--db <file>' argument missing; see panic-drift prompts --help/],
    [["compute"], /missing --db FILE \(or set DATABASE_PATH\)/],
    [["compute", "--db", "x.sqlite", "--exclude-prompt", "a", "--no-exclude"], /contradict/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ])("%j is a usage error (exit 2)", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    // One format for every error: one line, the prefix, lower case, the hint on the same line.
    expect(r.stderr).toMatch(/^panic-drift: error: [a-z'-][^\n]*[^.\n]\n$/);
    expect(r.stdout).toBe("");
  });
});

describe("compute on a database", () => {
  it("writes the parquet and one summary line on stderr, nothing on stdout", async () => {
    const out = fresh("o.parquet");
    const r = await runCli(["compute", "--db", clean, "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^panic-drift: computed \d+ rows, \d+ with drift \(metric euclid\) in \d+\.\d\d s → .*o\.parquet\n$/);
    expect(existsSync(out)).toBe(true);
    expect(r.stderr).not.toContain("\x1b[");
  });

  it("reads --db from DATABASE_PATH and defaults --out beside the database", async () => {
    const db = fresh("env.sqlite");
    copyFileSync(clean, db);
    const r = await runCli(["compute"], { DATABASE_PATH: db });
    expect(r.code).toBe(0);
    expect(existsSync(db.replace(/\.sqlite$/, ".drift.parquet"))).toBe(true);
  });

  it("--json prints one object with the documented fields; then up to date", async () => {
    const out = fresh("j.parquet");
    const first = await runCli(["compute", "--db", clean, "--out", out, "--json"]);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe("");
    expect(oneLine(first.stdout)).toHaveLength(1);
    const report = JSON.parse(first.stdout);
    expect(Object.keys(report)).toEqual(["status", "output", "rows", "rows_with_drift", "null_reasons", "metric", "warnings", "seconds", "full_recompute_reason"]);
    expect(report.full_recompute_reason).toBe("no_earlier_output");
    expect(report.status).toBe("computed");
    expect(report.output).toBe(out);
    expect(report.rows).toBeGreaterThan(0);
    expect(Object.keys(report.null_reasons)).toEqual([...NULL_REASONS]);
    expect(report.metric).toBe("euclid");
    expect(report.warnings).toEqual([]);
    const second = JSON.parse((await runCli(["compute", "--db", clean, "--out", out, "--json"])).stdout);
    expect(second.status).toBe("up-to-date");
    expect(second.rows).toBe(report.rows);
    expect(second.rows_with_drift).toBe(report.rows_with_drift);
    expect(second.null_reasons).toEqual(report.null_reasons);
    expect(second.full_recompute_reason).toBeUndefined();
    // Asked to: the JSON says so, the summary line does not need to.
    const forced = await runCli(["compute", "--db", clean, "--out", out, "--json", "--force"]);
    expect(JSON.parse(forced.stdout).full_recompute_reason).toBe("forced");
    // Other settings over an earlier output: both say why it was not an update.
    const other = await runCli(["compute", "--db", clean, "--out", out, "--metric", "cosine"]);
    expect(other.stderr).toMatch(/^panic-drift: computed .*; not an update: the earlier output was made with other settings\) in /);
  });

  it("shows a spinner only when stderr is a terminal, and still ends with the summary line", async () => {
    const tty = await runCli(["compute", "--db", clean, "--out", fresh("t.parquet")], {}, true);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/opening database|computing drift/);
    // The spinner clears its line (cursor moves are no-ops in the fake terminal), then the summary follows.
    // eslint-disable-next-line no-control-regex -- the escape that shows the cursor again
    expect(tty.stderr).toMatch(/\x1b\[\?25hpanic-drift: computed [^\n]*\n$/);
    const quiet = await runCli(["compute", "--db", clean, "--out", fresh("t.parquet"), "--json"], {}, true);
    expect(quiet.stderr).toBe("");
  });

  it("--quiet prints nothing when there is nothing to warn about", async () => {
    const r = await runCli(["compute", "--db", clean, "--out", fresh("q.parquet"), "--quiet"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toBe("");
  });
});

describe("up to date, and recomputed on any change", () => {
  it("a second run says up to date and leaves the file alone; --force rewrites it", async () => {
    const out = fresh("u.parquet");
    expect((await runCli(["compute", "--db", clean, "--out", out])).code).toBe(0);
    const before = mtimeNs(out);
    const again = await runCli(["compute", "--db", clean, "--out", out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^panic-drift: up to date: /);
    expect(mtimeNs(out)).toBe(before);
    const forced = await runCli(["compute", "--db", clean, "--out", out, "--force"]);
    expect(forced.stderr).toMatch(/computed/);
    expect(mtimeNs(out)).not.toBe(before);
  });

  it("a changed metric, exclusion list or prompt-vectors file recomputes", async () => {
    const out = fresh("s.parquet");
    await runCli(["compute", "--db", clean, "--out", out]);
    expect((await runCli(["compute", "--db", clean, "--out", out, "--metric", "cosine"])).stderr).toMatch(/computed/);
    expect((await runCli(["compute", "--db", clean, "--out", out, "--metric", "cosine"])).stderr).toMatch(/up to date/);
    expect((await runCli(["compute", "--db", clean, "--out", out, "--metric", "cosine", "--no-exclude"])).stderr).toMatch(/computed/);
    const vectors = join(dir, "pv.json");
    writeFileSync(vectors, JSON.stringify([{ initial_prompt: "x", embedding_model: "Dummy", vector: [1, 2] }]));
    const args = ["compute", "--db", clean, "--out", out, "--metric", "cosine", "--no-exclude", "--prompt-vectors", vectors];
    expect((await runCli(args)).stderr).toMatch(/computed/);
    expect((await runCli(args)).stderr).toMatch(/up to date/);
    writeFileSync(vectors, JSON.stringify([{ initial_prompt: "x", embedding_model: "Dummy", vector: [1, 3] }]));
    expect((await runCli(args)).stderr).toMatch(/computed/);
  });

  it("a NULL vector filled in later by the experiment recomputes, with the new drift", async () => {
    const db = fresh("live.sqlite");
    makePanicDb(db, { runs: 2, steps: 6, unfinishedRuns: 1, embeddingModels: [{ name: "Dummy", dim: 768 }] });
    const out = fresh("live.parquet");
    const first = JSON.parse((await runCli(["compute", "--db", db, "--out", out, "--json"])).stdout) as ComputeResult;
    expect(first.null_reasons.null_vector).toBeGreaterThan(0);
    // The engine fills vectors in place: an UPDATE, no new rows.
    const writer = new Database(db);
    writer.pragma("journal_mode = WAL");
    const filled = writer.prepare("UPDATE embedding SET vector = ? WHERE vector IS NULL").run(Buffer.from(new Float32Array(768).fill(0.5).buffer));
    writer.close();
    expect(filled.changes).toBe(first.null_reasons.null_vector);
    const second = JSON.parse((await runCli(["compute", "--db", db, "--out", out, "--json"])).stdout);
    expect(second.status).toBe("computed");
    expect(second.null_reasons.null_vector).toBe(0);
    expect(second.rows_with_drift).toBe(first.rows_with_drift + first.null_reasons.null_vector);
  });
});

describe("references", () => {
  it("warns about missing references, naming the model, the rows and the fix", async () => {
    const r = await runCli(["compute", "--db", unreferenced, "--out", fresh("m.parquet")]);
    expect(r.code).toBe(0);
    const lines = oneLine(r.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^panic-drift: warning: no reference vector for embedding model Nomic \(\d+ initial prompts?, \d+ rows with NULL drift\): .*--prompt-vectors FILE/);
    expect(lines[1]).toMatch(/^panic-drift: computed .* missing_reference/);
  });

  it("--strict turns it into exit 1 and writes nothing; an existing output survives", async () => {
    const out = fresh("strict.parquet");
    // The previous complete output: a frame of another database.
    expect((await runCli(["compute", "--db", clean, "--out", out, "--quiet"])).code).toBe(0);
    const previous = readFileSync(out);
    const dbBefore = readFileSync(unreferenced);
    const r = await runCli(["compute", "--db", unreferenced, "--out", out, "--strict"]);
    expect(r.code).toBe(1);
    expect(Buffer.compare(readFileSync(unreferenced), dbBefore)).toBe(0);
    expect(r.stderr).toMatch(/^panic-drift: error: --strict: no reference vector for embedding model Nomic/m);
    expect(readFileSync(out).equals(previous)).toBe(true);
    expect(readdirSync(join(out, ".."))).toEqual(["strict.parquet"]);
  });

  it("warnings go to stderr under --json and --quiet too, and into the JSON", async () => {
    const j = await runCli(["compute", "--db", unreferenced, "--out", fresh("w.parquet"), "--json"]);
    expect(JSON.parse(j.stdout).warnings[0]).toMatch(/Nomic/);
    expect(j.stderr).toMatch(/^panic-drift: warning: .*Nomic/);
    const q = await runCli(["compute", "--db", unreferenced, "--out", fresh("w.parquet"), "--quiet"]);
    expect(oneLine(q.stderr)).toHaveLength(1);
    expect(q.stderr).toMatch(/warning/);
  });

  it("colours the warning label on a terminal unless NO_COLOR is set", async () => {
    const coloured = await runCli(["compute", "--db", unreferenced, "--out", fresh("c.parquet"), "--quiet"], { NO_COLOR: undefined }, true);
    expect(coloured.stderr).toContain("\x1b[33mwarning:");
    const plain = await runCli(["compute", "--db", unreferenced, "--out", fresh("c.parquet"), "--quiet"], { NO_COLOR: "1" }, true);
    expect(plain.stderr).not.toContain("\x1b[");
  });
});

describe("odd data is NULL drift or NULL cells with a warning, never an error", () => {
  it("vectors stored as TEXT, timestamps that are not timestamps, networks that are not JSON lists", async () => {
    const db = fresh("odd.sqlite");
    copyFileSync(clean, db);
    const w = new Database(db);
    const textVectors = w.prepare("UPDATE embedding SET vector = 'not a blob' WHERE rowid IN (SELECT rowid FROM embedding ORDER BY rowid LIMIT 3)").run().changes;
    w.prepare("UPDATE embedding SET started_at = 'yesterday' WHERE rowid = (SELECT max(rowid) FROM embedding)").run();
    w.prepare("UPDATE run SET network = 'SDXLTurbo, Moondream' WHERE rowid = 1").run();
    w.close();
    const r = await runCli(["compute", "--db", db, "--out", fresh("odd.parquet"), "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.null_reasons.not_blob).toBe(textVectors);
    expect(report.warnings.join("\n")).toMatch(/1 embedding rows .* started_at\/completed_at that is not a YYYY-MM-DD/);
    expect(report.warnings.join("\n")).toMatch(/1 runs .* network that is not a JSON list/);
  });
});

describe("bad input: one line on stderr, exit 1, nothing lost", () => {
  const notPanic = () => {
    const p = fresh("other.sqlite");
    const db = new Database(p);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    db.close();
    return p;
  };
  const missingColumn = () => {
    const p = fresh("old.sqlite");
    copyFileSync(clean, p);
    const db = new Database(p);
    db.exec("ALTER TABLE invocation DROP COLUMN output_text");
    db.close();
    return p;
  };
  const corrupt = () => {
    const p = fresh("corrupt.sqlite");
    const bytes = readFileSync(clean);
    // Flip every bit of a stretch of b-tree pages past the schema page.
    const pageSize = bytes.readUInt16BE(16) || 65536;
    for (let i = pageSize * 3; i < Math.min(bytes.length, pageSize * 40); i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(p, bytes);
    return p;
  };
  const truncated = () => {
    const p = fresh("truncated.sqlite");
    writeFileSync(p, readFileSync(clean).subarray(0, 4096 * 5));
    return p;
  };
  const file = (name: string, content: string | Buffer) => {
    const p = fresh(name);
    writeFileSync(p, content);
    return p;
  };

  const cases: [string, () => string[], RegExp][] = [
    ["missing database", () => ["--db", join(dir, "nope", "absent.sqlite")], /database not found: .*absent\.sqlite/],
    ["database is a directory", () => ["--db", dir], /is a directory, not a database file/],
    ["empty file", () => ["--db", file("empty.sqlite", "")], /is an empty file \(0 bytes\)/],
    ["not SQLite", () => ["--db", file("text.sqlite", "hello, I am a CSV,\n1,2\n")], /is not a SQLite database/],
    ["SQLite without panic-tda tables", () => ["--db", notPanic()], /not a panic-tda database: missing table run .*tables found: notes/],
    ["missing column", () => ["--db", missingColumn()], /not a panic-tda database: missing column invocation\.output_text/],
    ["corrupt database (flipped bits)", () => ["--db", corrupt()], /database .*corrupt\.sqlite is corrupt \(SQLITE_CORRUPT/],
    ["truncated database", () => ["--db", truncated()], /truncated\.sqlite is corrupt \(SQLITE_CORRUPT|truncated\.sqlite.*(malformed|not a panic-tda)/],
    ["malformed --prompt-vectors", () => ["--db", clean, "--prompt-vectors", file("pv.json", "[{")], /pv\.json/],
    ["--prompt-vectors missing", () => ["--db", clean, "--prompt-vectors", join(dir, "nope.json")], /nope\.json/],
    ["output directory missing", () => ["--db", clean, "--out", join(dir, "no-such-dir", "o.parquet")], /output directory .*no-such-dir does not exist/],
    ["output is a directory panic-drift did not make", () => ["--db", clean, "--out", dir], /--out .* is a directory panic-drift did not make .*--overwrite/],
    ["output is the database", () => ["--db", clean, "--out", clean], /--out .*clean\.sqlite is the database .*clean\.sqlite: writing it would destroy it/],
  ];

  it.each(cases)("%s", async (_name, args, message) => {
    const argv = args();
    const r = await runCli(["compute", ...argv]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^panic-drift: error: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // A failed run leaves no temporary output anywhere.
    expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).includes(".tmp-"))).toEqual([]);
  });

  it("a missing database is not created, nor its directory", async () => {
    const absent = join(dir, "ghost", "absent.sqlite");
    await runCli(["compute", "--db", absent]);
    expect(existsSync(join(dir, "ghost"))).toBe(false);
    const sibling = join(dir, "absent2.sqlite");
    await runCli(["compute", "--db", sibling]);
    expect(readdirSync(dir).filter((f) => f.startsWith("absent2"))).toEqual([]);
  });

  it("--debug adds the stack trace", async () => {
    const r = await runCli(["compute", "--db", join(dir, "absent.sqlite"), "--debug"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it("an output directory that is not writable (exit 1, no temp file left)", () => {
    const outDir = join(dir, "readonly");
    mkdirSync(outDir);
    chmodSync(outDir, 0o555);
    const r = runCliAsUnprivileged(["compute", "--db", clean, "--out", join(outDir, "o.parquet")]);
    expect(r.stderr).toMatch(/^panic-drift: error: cannot write .*o\.parquet: directory .*readonly is not writable \(EACCES\): choose another --out\n$/);
    expect(r.status).toBe(1);
    expect(readdirSync(outDir)).toEqual([]);
  });

  it("reads a database in a directory it cannot write (no -shm possible: opened immutable)", () => {
    const roDir = join(dir, "ro-db");
    mkdirSync(roDir);
    const db = join(roDir, "exp.sqlite");
    copyFileSync(clean, db);
    chmodSync(db, 0o444);
    chmodSync(roDir, 0o555);
    const outDir = join(dir, "open-out");
    mkdirSync(outDir);
    chmodSync(outDir, 0o777);
    const r = runCliAsUnprivileged(["compute", "--db", db, "--out", join(outDir, "o.parquet")]);
    expect(r.stderr).toMatch(/^panic-drift: computed /);
    expect(r.status).toBe(0);
    expect(readdirSync(roDir)).toEqual(["exp.sqlite"]);
  });

  it("a database with a -wal in a directory it cannot write: says why, and --immutable reads it (exit 1, then 0)", () => {
    const roDir = join(dir, "ro-wal");
    mkdirSync(roDir);
    const db = join(roDir, "exp.sqlite");
    copyFileSync(clean, db);
    // A -wal with a committed transaction in it, as a running experiment leaves.
    const writer = new Database(db);
    writer.pragma("journal_mode = WAL");
    writer.pragma("wal_autocheckpoint = 0");
    writer.exec("UPDATE run SET max_length = max_length");
    // Keep the -wal: close without checkpointing it away.
    writer.pragma("wal_checkpoint(PASSIVE)");
    writer.close();
    writeFileSync(`${db}-wal`, readFileSync(`${db}-wal`, { flag: "a+" }));
    rmSync(`${db}-shm`, { force: true });
    chmodSync(db, 0o444);
    chmodSync(`${db}-wal`, 0o444);
    chmodSync(roDir, 0o555);
    const outDir = join(dir, "ro-wal-out");
    mkdirSync(outDir);
    chmodSync(outDir, 0o777);
    const refused = runCliAsUnprivileged(["compute", "--db", db, "--out", join(outDir, "o.parquet")]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^panic-drift: error: cannot read .*exp\.sqlite: it has a -wal, .*-shm.*--immutable.*\n$/);
    const read = runCliAsUnprivileged(["compute", "--db", db, "--out", join(outDir, "o.parquet"), "--immutable"]);
    expect(read.stderr).toMatch(/^panic-drift: computed /);
    expect(read.status).toBe(0);
    expect(readdirSync(roDir).sort()).toEqual(["exp.sqlite", "exp.sqlite-wal"]);
  });

  it("an unreadable --prompt-vectors file (exit 1)", () => {
    const locked = fresh("locked.json");
    chmodSync(join(locked, ".."), 0o755);
    writeFileSync(locked, "[]");
    chmodSync(locked, 0o000);
    const r = runCliAsUnprivileged(["compute", "--db", clean, "--out", fresh("o.parquet"), "--prompt-vectors", locked]);
    expect(r.stderr).toMatch(/^panic-drift: error: cannot read prompt vectors file .*locked\.json.*permission denied/);
    expect(r.status).toBe(1);
  });
});

/**
 * Permission errors need an unprivileged process: root ignores file modes,
 * so under root the CLI runs as 'nobody' in a child process.
 */
function runCliAsUnprivileged(args: string[]) {
  chmodSync(dir, 0o755);
  const entry = fileURLToPath(new URL("../support/cliEntry.ts", import.meta.url));
  const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
  const asRoot = process.getuid?.() === 0;
  return spawnSync(process.execPath, [tsx, entry, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...(asRoot ? { PANIC_DRIFT_TEST_UID: "65534" } : {}) },
  });
}

describe("the frame's metadata, as a reader queries it", () => {
  it("panic_drift.result is one JSON object with numbers; every key is documented; the footer holds no padding", async () => {
    const { query } = await import("../support/readParquet.js");
    const out = fresh("demo.drift.parquet");
    const demo = fileURLToPath(new URL("../../fixtures/demo.sqlite", import.meta.url));
    expect((await runCli(["compute", "--db", demo, "--out", out, "--quiet"])).code).toBe(0);
    const nullVectors = await query(
      "SELECT json_extract(decode(value), '$.null_reasons.null_vector')::INTEGER AS n, json_extract(decode(value), '$.rows') AS rows FROM parquet_kv_metadata($1) WHERE decode(key) = 'panic_drift.result'",
      [out],
    );
    expect(nullVectors).toEqual([{ n: 4, rows: "928" }]);
    const keys = (await query("SELECT decode(key) AS key FROM parquet_kv_metadata($1)", [out])).map((r) => String(r.key));
    const docs = readFileSync(new URL("../../docs/output.md", import.meta.url), "utf8");
    for (const key of keys) expect(docs, key).toContain(`| \`${key}\` |`);
    const bytes = readFileSync(out);
    const footer = bytes.subarray(bytes.byteLength - 8 - bytes.readUInt32LE(bytes.byteLength - 8), bytes.byteLength - 8);
    const padding = [...footer.toString("latin1").matchAll(/[ ~]{8,}/g)].reduce((sum, m) => sum + m[0].length, 0);
    expect(padding).toBeLessThan(1024);
  });
});

describe("--workers", () => {
  it("gives the same frame with 1, 2 and 3 threads, is not part of the up-to-date check, and takes 1 to 16 only", async () => {
    const { query } = await import("../support/readParquet.js");
    const outs = [1, 2, 3].map((n) => fresh(`w${n}.parquet`));
    for (const [i, out] of outs.entries()) {
      const r = await runCli(["compute", "--db", clean, "--out", out, "--workers", String(i + 1), "--quiet"]);
      expect(r.code, r.stderr).toBe(0);
    }
    const rows = await Promise.all(outs.map((out) => query("SELECT * FROM read_parquet($1)", [out])));
    expect(rows[0]!.length).toBeGreaterThan(0);
    expect(rows[1]).toEqual(rows[0]);
    expect(rows[2]).toEqual(rows[0]);
    const again = await runCli(["compute", "--db", clean, "--out", outs[0]!, "--workers", "2", "--json"]);
    expect(JSON.parse(again.stdout).status).toBe("up-to-date");
    for (const bad of ["0", "17", "1.5", "two"]) {
      const r = await runCli(["compute", "--db", clean, "--workers", bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^panic-drift: error: option '--workers <n>' argument '.*' is invalid: give a whole number from 1 to 16; see panic-drift compute --help\n$/);
    }
  });
});
