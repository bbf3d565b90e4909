import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutputLock } from "../../src/sink/outputLock.js";
import { makePanicDb } from "../support/makePanicDb.js";
import { runCli } from "../support/runCli.js";

let dir: string;
let db: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-lock-"));
  db = join(dir, "tiny.sqlite");
  makePanicDb(db, { runs: 2, steps: 4 });
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const entry = fileURLToPath(new URL("../support/cliOnSignal.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/esm/index.mjs", import.meta.url));

/** Runs the CLI in a process of its own, once the file `go` exists; resolves with its exit code and output. */
function cliOnSignal(go: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", tsx, entry, go, ...args], { env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => { resolve({ code, stdout, stderr }); });
  });
}

/** A pid that no process has now: one that just ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("the output lock", () => {
  // 8 trials in npm test (each starts four processes); PANIC_DRIFT_LOCK_TRIALS=100 npx vitest run test/sink/outputLock.test.ts for a longer hunt.
  const TRIALS = Number(process.env.PANIC_DRIFT_LOCK_TRIALS ?? 8);
  it(`a stale lock and four runs at once: exactly one computes, every time (${TRIALS} trials)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const place = join(dir, `trial-${trial}`);
      mkdirSync(place);
      const out = join(place, "drift.parquet");
      // Left by a run that was killed (kill -9): its process is gone.
      writeFileSync(`${out}.lock`, `${JSON.stringify({ pid: deadPid(), host: hostname(), started: "2020-01-01T00:00:00.000Z" })}\n`);
      // All four reach the lock together: each loads, says it is ready, and starts when the go file appears.
      const go = join(dir, `go-${trial}`);
      const running = Promise.all(Array.from({ length: 4 }, () => cliOnSignal(go, ["compute", "--db", db, "--out", out, "--json"])));
      while (readdirSync(dir).filter((f) => f.startsWith(`go-${trial}.ready-`)).length < 4) await new Promise((r) => setTimeout(r, 20));
      writeFileSync(go, "");
      const runs = await running;
      const statuses = runs.map((r) => (r.code === 0 ? (JSON.parse(r.stdout) as { status: string }).status : `exit ${r.code}`));
      expect(statuses.filter((s) => s === "computed"), `trial ${trial}: ${statuses.join(", ")}`).toHaveLength(1);
      // The others found it locked (exit 3) or, once it was done, up to date.
      for (const [i, status] of statuses.entries()) {
        expect(["computed", "up-to-date", "exit 3"], runs[i]!.stderr).toContain(status);
        if (status === "exit 3") expect(runs[i]!.stderr).toMatch(/^panic-drift: error: another panic-drift \(pid \d+ on .*\) is writing .*drift\.parquet|^panic-drift: error: another run is writing/);
      }
      expect(readdirSync(place).sort()).toEqual(["drift.parquet"]);
    }
  }, 600_000);

  it("a directory at the lock path is an error at once (exit 1), never a wait or a busy loop", async () => {
    const out = join(dir, "dir-lock.parquet");
    mkdirSync(`${out}.lock`);
    const started = performance.now();
    const r = await runCli(["compute", "--db", db, "--out", out, "--wait", "30"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`panic-drift: error: the lock path ${out}.lock of ${out} is a directory, not panic-drift's lock file: move it away, or choose another --out\n`);
    // Far less than the 30 s it was allowed to wait.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(existsSync(out)).toBe(false);
  });

  it("one process cannot take a lock it holds twice; released, it can", async () => {
    const out = join(dir, "twice.parquet");
    const first = await OutputLock.acquire(out, 0);
    expect(first).toBeDefined();
    await expect(OutputLock.acquire(out, 0)).rejects.toMatchObject({ code: "OUTPUT_LOCKED" });
    first!.release();
    expect(existsSync(`${out}.lock`)).toBe(false);
    const second = await OutputLock.acquire(out, 0);
    expect(second).toBeDefined();
    second!.release();
  });

  it("a lock file of a live process on this host is never taken over, even when its holder does not hold the host's name", async () => {
    const out = join(dir, "live.parquet");
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), started: "now" }));
    await expect(OutputLock.acquire(out, 0.3)).rejects.toMatchObject({ code: "OUTPUT_LOCKED", exitCode: 3 });
    rmSync(`${out}.lock`);
  });

  it("the lock file appears whole; what a run killed while taking it leaves beside it is removed by the next", async () => {
    const out = join(dir, "aside.parquet");
    const lock = await OutputLock.acquire(out, 0);
    // Never empty or half-written, whenever another run looks (it was written aside, then linked into place).
    expect(JSON.parse(readFileSync(`${out}.lock`, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    expect(readdirSync(dir).filter((name) => name.startsWith("aside.parquet.lock."))).toEqual([]);
    lock!.release();
    // A run of this host killed after writing its file aside and before linking it: gone, so its file goes.
    const dead = deadPid();
    const left = `${out}.lock.${hostname()}.${dead}.tmp`;
    writeFileSync(left, JSON.stringify({ pid: dead, host: hostname(), started: "then" }));
    // One of a live process stays (it may be linking it right now).
    const live = `${out}.lock.${hostname()}.${process.ppid}.tmp`;
    writeFileSync(live, "{}");
    const next = await OutputLock.acquire(out, 0);
    expect(next).toBeDefined();
    expect(existsSync(left)).toBe(false);
    expect(existsSync(live)).toBe(true);
    next!.release();
    rmSync(live);
  });
});
