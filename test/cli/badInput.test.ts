import Database from "better-sqlite3";
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePanicDb } from "../support/makePanicDb.js";
import { runCli } from "../support/runCli.js";

/**
 * Bad input, wide: every case is one row (what is wrong, the command line,
 * the exit code, what stderr must say). The database's bytes are the same
 * after every case, nothing is left behind, and there is never a stack trace.
 * Cases that need another user or a process of their own are in
 * compute.test.ts and faults.test.ts; docs/cli.md's errors table lists them all.
 */
let dir: string;
let clean: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-bad-"));
  clean = join(dir, "clean.sqlite");
  makePanicDb(clean, { runs: 3, steps: 8, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const fresh = (name: string) => join(mkdtempSync(join(dir, "case-")), name);
const file = (name: string, content: string | Buffer) => {
  const p = fresh(name);
  writeFileSync(p, content);
  return p;
};
/** A copy of the clean database changed by `sql`. */
const changed = (name: string, sql: string) => {
  const p = fresh(name);
  copyFileSync(clean, p);
  const db = new Database(p);
  db.exec(sql);
  db.close();
  return p;
};
const vectors = (entries: { prompt: string; model: string; vector: number[] }[]) =>
  JSON.stringify(entries.map((e) => ({ initial_prompt: e.prompt, embedding_model: e.model, vector: e.vector })));

type Case = [name: string, args: () => string[], code: number, stderr: RegExp];

const cases: Case[] = [
  // exit 1: the input cannot be used
  ["a -wal file without its database", () => { const p = fresh("gone.sqlite"); writeFileSync(`${p}-wal`, "x"); return ["compute", "--db", p]; }, 1, /database not found: .*gone\.sqlite.*-wal/],
  ["--prompt-vectors with two dimensions for one model", () => ["compute", "--db", clean, "--prompt-vectors", file("dims.json", vectors([{ prompt: "a", model: "Nomic", vector: [1, 2] }, { prompt: "b", model: "Nomic", vector: [1, 2, 3] }]))], 1, /dims\.json.*dimension/i],
  ["--prompt-vectors holding NaN", () => ["compute", "--db", clean, "--prompt-vectors", file("nan.csv", 'initial_prompt,embedding_model,vector\na,Nomic,"[1, NaN]"\n')], 1, /nan\.csv/],
  ["--prompt-vectors with another extension", () => ["compute", "--db", clean, "--prompt-vectors", file("vectors.txt", "[]")], 1, /vectors\.txt/],
  ["--prompt-vectors JSON that is not a list", () => ["compute", "--db", clean, "--prompt-vectors", file("object.json", '{"a": 1}')], 1, /object\.json/],
  ["output directory is a file", () => ["compute", "--db", clean, "--out", join(file("plain.txt", "x"), "o.parquet")], 1, /output directory .*plain\.txt is not a directory/],
  ["--reference first without the run_id index", () => ["compute", "--db", changed("noindex.sqlite", "DROP INDEX ix_invocation_run_id"), "--reference", "first"], 1, /CREATE INDEX ix_invocation_run_id/],
  ["--embed-cmd that fails", () => ["compute", "--db", changed("nomic.sqlite", "UPDATE embedding SET embedding_model = 'Nomic'"), "--embed-cmd", "echo broken >&2; exit 4"], 1, /Nomic.*broken/],
  ["a damaged reference cache", () => { const out = fresh("cached.parquet"); writeFileSync(out.replace(/\.parquet$/, ".prompts.parquet"), "not parquet"); return ["compute", "--db", changed("nomic2.sqlite", "UPDATE embedding SET embedding_model = 'Nomic'"), "--out", out, "--embed-cmd", "cat"]; }, 1, /the reference cache .*prompts\.parquet already exists and panic-drift did not write it: choose another --out \(the cache is kept beside it\), or pass --overwrite/],
  ["prompts on a missing database", () => ["prompts", "--db", join(dir, "absent.sqlite")], 1, /database not found/],
  // exit 0: data in the database is never an error, it makes NULL drift on its rows
  ["a vector stored as TEXT", () => ["compute", "--db", changed("text.sqlite", "UPDATE embedding SET vector = 'oops' WHERE rowid = 3")], 0, /NULL: 1 not_blob/],
  ["mixed dimensions in one model", () => ["compute", "--db", changed("mixed.sqlite", "UPDATE embedding SET vector = x'0000803F0000803F0000803F0000803F' WHERE rowid IN (2, 4)")], 0, /warning: .*dimension.*\n.*NULL: .*2 dimension_mismatch/s],
  // exit 2: a command line that cannot be parsed
  ["an unknown option", () => ["compute", "--db", clean, "--frobnicate"], 2, /unknown option '--frobnicate'/],
  ["a bad --metric", () => ["compute", "--db", clean, "--metric", "manhattan"], 2, /manhattan/],
  ["a bad --reference", () => ["compute", "--db", clean, "--reference", "last"], 2, /last/],
  ["no --db and no DATABASE_PATH", () => ["compute"], 2, /missing --db FILE/],
  ["--exclude-prompt with --no-exclude", () => ["compute", "--db", clean, "--exclude-prompt", "x", "--no-exclude"], 2, /contradict/],
  ["--embed-cmd with --embed-url", () => ["compute", "--db", clean, "--embed-cmd", "x", "--embed-url", "http://localhost:1/v1"], 2, /contradict/],
  ["--embed-model without --embed-url", () => ["compute", "--db", clean, "--embed-model", "a=b"], 2, /go with --embed-url/],
  ["a bad --embed-model mapping", () => ["compute", "--db", clean, "--embed-url", "http://localhost:1/v1", "--embed-model", "nomic"], 2, /NAME=SERVER_MODEL/],
  ["--embed-url that is not a URL", () => ["compute", "--db", clean, "--embed-url", "localhost"], 2, /not a URL/],
  ["--reference first with --prompt-vectors", () => ["compute", "--db", clean, "--reference", "first", "--prompt-vectors", "x.json"], 2, /do not apply/],
  ["a negative --wait", () => ["compute", "--db", clean, "--wait", "-5"], 2, /seconds/],
  ["prompts --format parquet without --out", () => ["prompts", "--db", clean, "--format", "parquet"], 2, /needs --out/],
  ["an unknown command", () => ["comptue", "--db", clean], 2, /unknown command 'comptue'/],
  // exit 3: the output is being written by another run
  ["another run holds the output's lock", () => { const out = fresh("locked.parquet"); writeFileSync(`${out}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), started: "now" })); return ["compute", "--db", clean, "--out", out]; }, 3, /is writing .*locked\.parquet.*--wait SECONDS/],
];

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const cleanHash = () => sha256(clean);

describe("bad input, wide: each case one line on stderr, its exit code, nothing lost", () => {
  const before = { hash: "" };
  beforeAll(() => {
    before.hash = cleanHash();
  });

  it.each(cases)("%s → exit %s", async (_name, args, code, stderr) => {
    const argv = args();
    const db = argv[argv.indexOf("--db") + 1];
    const dbHash = db !== undefined && argv.includes("--db") && (() => { try { return sha256(db); } catch { return undefined; } })();
    const r = await runCli(argv);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // One format for every error, commander's included: one line, the prefix, the hint on the same line.
    if (code !== 0) {
      const lines = r.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("panic-drift: warning:"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^panic-drift: (error: [a-z'-]|interrupted)/);
      expect(lines[0]).not.toMatch(/\.$/);
    }
    if (dbHash) expect(sha256(db)).toBe(dbHash);
    expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).includes(".tmp-"))).toEqual([]);
  });

  it("the shared clean database is byte-identical after all of them", () => {
    expect(cleanHash()).toBe(before.hash);
  });
});

describe("bad input that needs a process of its own", () => {
  it("a full disk (a file-size limit, through the sink): one line, exit 1, no temporary file, the old output kept", async () => {
    const db = fresh("big.sqlite");
    makePanicDb(db, { runs: 20, steps: 100, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
    const out = fresh("full.parquet");
    // The previous complete output: a frame of a small database.
    expect((await runCli(["compute", "--db", clean, "--out", out, "--quiet"])).code).toBe(0);
    const previous = readFileSync(out);
    const entry = fileURLToPath(new URL("../support/cliEntry.ts", import.meta.url));
    // 200 blocks of 512 bytes: enough for any module cache, less than the output.
    const run = spawnSync("sh", ["-c", `ulimit -f 200 && exec "${process.execPath}" --import tsx "${entry}" compute --db "${db}" --out "${out}" --force`], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^panic-drift: error: cannot write .*full\.parquet: .*File too large: free space on that disk .*choose another --out\n$/);
    expect(readFileSync(out).equals(previous)).toBe(true);
    expect(readdirSync(join(out, "..")).filter((f) => f.includes(".tmp-"))).toEqual([]);

    // With reader threads too: the same error, and the process ends (a failed sink stops the readers).
    const script = fresh("parallel.mts");
    const pipeline = fileURLToPath(new URL("../../src/compute/computeDrift.ts", import.meta.url));
    writeFileSync(
      script,
      `process.on("SIGXFSZ", () => {});
       const { computeDrift } = await import(${JSON.stringify(pipeline)});
       try { await computeDrift({ db: ${JSON.stringify(db)}, out: ${JSON.stringify(out)}, force: true, workers: 2 }); }
       catch (error) { console.error(error.code, error.message); process.exitCode = 1; }`,
    );
    const parallel = spawnSync("sh", ["-c", `ulimit -f 200 && exec "${process.execPath}" --import tsx "${script}"`], { encoding: "utf8", timeout: 30_000 });
    expect(parallel.signal, "the process did not end").toBeNull();
    expect(parallel.status, parallel.stderr).toBe(1);
    expect(parallel.stderr).toMatch(/^OUTPUT_WRITE_FAILED .*File too large/);
    expect(readFileSync(out).equals(previous)).toBe(true);
  }, 90_000);

  it("a database another process holds an exclusive lock on: busy, then one clear line (exit 1)", async () => {
    const db = fresh("exclusive.sqlite");
    copyFileSync(clean, db);
    const holder = spawn(process.execPath, [
      "-e",
      `const D=require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});const d=new D(process.argv[1]);d.pragma("locking_mode=EXCLUSIVE");d.exec("BEGIN EXCLUSIVE");process.stdout.write("held\\n");setInterval(()=>{},1000);`,
      db,
    ]);
    await new Promise((resolve) => holder.stdout.once("data", resolve));
    try {
      const r = await runCli(["compute", "--db", db, "--out", fresh("x.parquet")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^panic-drift: error: .*exclusive\.sqlite.*(locked|busy)/i);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    } finally {
      holder.kill();
    }
  }, 30_000);
});
