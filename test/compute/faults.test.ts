import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { killTrials, leftovers, spawnCli } from "../support/faultTrials.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { runCli } from "../support/runCli.js";

let dir: string;
let db: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-faults-"));
  db = join(dir, "runs.sqlite");
  makePanicDb(db, { runs: 40, steps: 100, embeddingModels: [{ name: "Dummy", dim: 768 }, { name: "Dummy2", dim: 768 }] });
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** A pid that surely belongs to no process any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

describe("kill -9 at any moment", () => {
  it("leaves the previous or the new complete output, and the next run cleans up (10 trials)", async () => {
    const out = join(dir, "killed.parquet");
    let step = 0;
    // Spread evenly over the run (npm run faults draws 100 at random).
    const report = await killTrials(db, out, 10, () => (step++ + 0.5) / 10);
    expect(report.failures).toEqual([]);
    expect(report.killedBeforeWrite + report.killedAfterWrite).toBe(10);
  }, 120_000);
});

describe("SIGINT and SIGTERM", () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`${signal}: exit ${code}, nothing left behind, the output as it was`, async () => {
      const out = join(dir, `${signal}.parquet`);
      await computeDrift({ db, out });
      const before = sha256(out);
      const run = spawnCli(["compute", "--db", db, "--out", out, "--force", "--wait", "5"]);
      // Once it holds the lock it is computing: interrupt it then.
      const lock = `${out}.lock`;
      for (let i = 0; i < 400 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(lock)).toBe(true);
      run.child.kill(signal);
      const ended = await run.done;
      expect(ended.code).toBe(code);
      expect(ended.stderr).toMatch(signal === "SIGINT" ? /interrupted/ : /terminated/);
      expect(leftovers(out)).toEqual([]);
      expect(sha256(out)).toBe(before);
    }, 60_000);
  }
});

describe("the output's lock", () => {
  it("a live holder makes a second run exit 3 with who holds it; --wait outlasts a holder that finishes", async () => {
    const out = join(dir, "locked.parquet");
    const lock = `${out}.lock`;
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), started: "2026-01-01T00:00:00Z" }));
    const blocked = await runCli(["compute", "--db", db, "--out", out]);
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toMatch(new RegExp(`pid ${process.pid}.*--wait SECONDS`));
    expect(existsSync(out)).toBe(false);
    expect(existsSync(lock)).toBe(true);
    setTimeout(() => { rmSync(lock); }, 300);
    const waited = await runCli(["compute", "--db", db, "--out", out, "--wait", "10", "--quiet"]);
    expect(waited.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it("a lock left by a process that no longer exists is taken over", async () => {
    const out = join(dir, "stale.parquet");
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: await deadPid(), host: hostname(), started: "2026-01-01T00:00:00Z" }));
    const run = await runCli(["compute", "--db", db, "--out", out, "--quiet"]);
    expect(run.code).toBe(0);
    expect(leftovers(out)).toEqual([]);
  });

  it("--wait takes seconds, 0 or more", async () => {
    expect((await runCli(["compute", "--db", db, "--wait", "soon"])).code).toBe(2);
    expect((await runCli(["compute", "--db", db, "--wait", "-1"])).code).toBe(2);
  });
});
