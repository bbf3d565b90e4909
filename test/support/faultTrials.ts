/**
 * Kills `compute` (SIGKILL) at random moments and checks what is left: the
 * output is the previous complete file or a new complete one, never partial,
 * and the next run cleans up after the killed one (temporary files, lock).
 * Used by test/faults.test.ts (a few trials) and `npm run faults` (many).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { computeDrift } from "../../src/compute/computeDrift.js";
import { readCacheMetadata } from "../../src/sink/cacheMetadata.js";
import { query } from "./readParquet.js";

export const CLI_ENTRY = fileURLToPath(new URL("./cliEntry.ts", import.meta.url));

/** Runs the CLI from source in a child process; resolves with its exit code or signal. */
export function spawnCli(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => { resolve({ code, signal, stderr }); }),
  );
  return { child, done };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** Files a run leaves only while it runs: temporary outputs and the lock. */
export function leftovers(out: string): string[] {
  const name = basename(out);
  return readdirSync(dirname(out)).filter((f) => f.includes(`${name}.tmp-`) || f === `${name}.lock`);
}

export interface TrialReport {
  trials: number;
  killedBeforeWrite: number;
  killedAfterWrite: number;
  failures: string[];
}

/** `trials` kills of `compute --force` on `db` writing `out` (which must already hold a complete output). */
export async function killTrials(db: string, out: string, trials: number, random: () => number = Math.random): Promise<TrialReport> {
  const report: TrialReport = { trials, killedBeforeWrite: 0, killedAfterWrite: 0, failures: [] };
  const expectedRows = (await computeDrift({ db, out, force: true })).rows;
  // How long a whole run takes from spawn, so that kills land anywhere in it: the slowest of
  // three, as runs vary by 15% on a busy machine and the moments after the rename must be hit too.
  let duration = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const full = await spawnCli(["compute", "--db", db, "--out", out, "--force", "--quiet"]).done;
    duration = Math.max(duration, performance.now() - started);
    if (full.code !== 0) throw new Error(`a full run failed: ${full.stderr}`);
  }

  for (let trial = 1; trial <= trials; trial++) {
    const previous = sha256(out);
    // A new file (the same bytes, often: the output is deterministic) replaces the old one's inode.
    const previousInode = statSync(out, { bigint: true }).ino;
    const delay = random() * duration * 1.1;
    const run = spawnCli(["compute", "--db", db, "--out", out, "--force", "--quiet"]);
    const timer = setTimeout(() => run.child.kill("SIGKILL"), delay);
    const ended = await run.done;
    clearTimeout(timer);
    const where = `trial ${trial} (kill after ${delay.toFixed(0)} ms, ${ended.signal ?? `exit ${ended.code}`})`;
    if (!existsSync(out)) {
      report.failures.push(`${where}: the output is gone`);
      continue;
    }
    if (statSync(out, { bigint: true }).ino === previousInode) {
      report.killedBeforeWrite++;
      if (sha256(out) !== previous) report.failures.push(`${where}: the previous output was changed in place`);
    } else {
      report.killedAfterWrite++;
      // A new file: it must be complete (every row, the result recorded).
      try {
        const rows = Number((await query("SELECT count(*) AS n FROM read_parquet($1)", [out]))[0]!.n);
        const meta = readCacheMetadata(out);
        if (rows !== expectedRows || meta?.rows !== String(expectedRows)) report.failures.push(`${where}: a new output with ${rows} rows (expected ${expectedRows})`);
      } catch (error) {
        report.failures.push(`${where}: the output is not a readable parquet file (${String(error).split("\n")[0]})`);
      }
    }
    // The next run cleans up after the killed one and succeeds.
    try {
      await computeDrift({ db, out, force: true });
    } catch (error) {
      report.failures.push(`${where}: the next run failed: ${String(error).split("\n")[0]}`);
    }
    const left = leftovers(out);
    if (left.length > 0) report.failures.push(`${where}: left behind after the next run: ${left.join(", ")}`);
  }
  return report;
}
