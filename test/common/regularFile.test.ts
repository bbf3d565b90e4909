import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotRegularFileError, notRegularFile, openRegularFileSync, readRegularFileSync } from "../../src/common/regularFile.js";
import { CLI_ENTRY, leftovers } from "../support/faultTrials.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { makePanicExport } from "../support/makePanicExport.js";

/**
 * No input is read that can block: a FIFO (or a device, a socket) where a
 * file is expected is refused with one line, at once. Each case runs in a
 * process of its own, killed if it blocks: a blocked synchronous read holds
 * the whole process, the test's too.
 */
let dir: string;
let db: string;
const demo = fileURLToPath(new URL("../../fixtures/demo.sqlite", import.meta.url));
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-fifo-"));
  db = join(dir, "demo.sqlite");
  copyFileSync(demo, db);
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const hasMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;

function fifo(name: string): string {
  const path = join(dir, name);
  rmSync(path, { force: true });
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  return path;
}

/** The CLI in a process of its own; SIGKILL after 30 s (a blocked read ignores SIGTERM). */
function cli(args: string[]): { code: number | null; stderr: string; blocked: boolean } {
  const run = spawnSync(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], { encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
  return { code: run.status, stderr: run.stderr, blocked: run.signal === "SIGKILL" };
}

describe.skipIf(!hasMkfifo)("regularFile", () => {
  it("names what is not a regular file, and opens a FIFO without waiting for a writer, to refuse it", () => {
    const path = fifo("unit.fifo");
    expect(notRegularFile(statSync(path))).toBe("a named pipe (FIFO)");
    expect(notRegularFile(statSync(dir))).toBe("a directory");
    expect(notRegularFile(statSync("/dev/null"))).toBe("a character device");
    expect(notRegularFile(statSync(db))).toBeUndefined();
    expect(() => openRegularFileSync(path)).toThrow(NotRegularFileError);
    expect(() => readRegularFileSync("/dev/zero")).toThrow(/is a character device, not a regular file/);
    expect(readRegularFileSync(db).equals(readFileSync(db))).toBe(true);
  });
});

describe.skipIf(!hasMkfifo)("a FIFO where an input file is expected: one line, exit 1, at once", () => {
  it("--prompt-vectors, with and without --force", () => {
    const vectors = fifo("vectors.json");
    const out = join(dir, "pv.parquet");
    for (const force of [[], ["--force"]]) {
      const run = cli(["compute", "--db", db, "--out", out, "--prompt-vectors", vectors, ...force]);
      expect(run.blocked, "blocked on the FIFO").toBe(false);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `panic-drift: error: prompt vectors file ${JSON.stringify(vectors)} is a named pipe (FIFO), not a regular file: write the vectors to a .json, .csv or .parquet file and pass that to --prompt-vectors\n`,
      );
      expect(existsSync(out)).toBe(false);
      expect(leftovers(out)).toEqual([]);
    }
  }, 120_000);

  it("--db: a FIFO or a character device is no database", () => {
    const pipe = fifo("db.sqlite");
    const run = cli(["compute", "--db", pipe, "--out", join(dir, "db.parquet")]);
    expect(run.blocked, "blocked on the FIFO").toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `panic-drift: error: database ${pipe} is a named pipe (FIFO), not a file: point --db at the experiment's .sqlite file (copy it to a file first if it comes through a pipe)\n`,
    );
    expect(cli(["prompts", "--db", "/dev/zero"]).stderr).toMatch(/^panic-drift: error: database \/dev\/zero is a character device, not a file: /);
  }, 120_000);

  it("summary and plot --in", () => {
    const frame = fifo("frame.parquet");
    for (const args of [["summary", "--in", frame], ["plot", "--in", frame, "--out", join(dir, "p.svg")]]) {
      const run = cli(args);
      expect(run.blocked, "blocked on the FIFO").toBe(false);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`panic-drift: error: ${frame} is a named pipe (FIFO), not a drift frame: give --in the .drift.parquet file that panic-drift compute writes\n`);
    }
  }, 120_000);

  it("--out: a FIFO there is no output of ours (replaced only with --overwrite)", () => {
    const out = fifo("out.parquet");
    const run = cli(["compute", "--db", db, "--out", out]);
    expect(run.blocked, "blocked on the FIFO").toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already exists and panic-drift did not write it: choose another --out, or pass --overwrite/);
    expect(statSync(out).isFIFO()).toBe(true);
  }, 120_000);

  it("a parquet export with a FIFO for one of its files", async () => {
    const source = join(dir, "export-source.sqlite");
    makePanicDb(source, { runs: 3, steps: 8 });
    const exported = join(dir, "export");
    await makePanicExport(source, exported);
    rmSync(join(exported, "embeddings.parquet"));
    fifo(join("export", "embeddings.parquet"));
    const run = cli(["compute", "--db", exported, "--out", join(dir, "export.parquet")]);
    expect(run.blocked, "blocked on the FIFO").toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^panic-drift: error: .*export\/embeddings\.parquet is a named pipe \(FIFO\), not a file: /);
  }, 120_000);

  it("the reference cache beside --out, with --overwrite", () => {
    const small = join(dir, "embed.sqlite");
    makePanicDb(small, { runs: 2, steps: 8, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Synthetic768", dim: 768 }] });
    mkdirSync(join(dir, "cache"), { recursive: true });
    const out = join(dir, "cache", "embed.parquet");
    const cache = fifo(join("cache", "embed.prompts.parquet"));
    const embedder = fileURLToPath(new URL("../support/synthetic-embedder.mjs", import.meta.url));
    const args = ["compute", "--db", small, "--out", out, "--embed-cmd", `"${process.execPath}" "${embedder}"`];
    // Without --overwrite it is a file panic-drift did not write; with it, it is replaced (never read).
    const refused = cli(args);
    expect(refused.blocked, "blocked on the FIFO").toBe(false);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the reference cache .* already exists and panic-drift did not write it/);
    const run = cli([...args, "--overwrite"]);
    expect(run.blocked, "blocked on the FIFO").toBe(false);
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(cache).isFile()).toBe(true);
  }, 120_000);
});
