import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeSignalScenarios, secondSignalTrial, signalTrials, type SignalScenarios } from "../support/signalTrials.js";

/**
 * SIGINT and SIGTERM at any moment of a run (a few trials each; `npm run
 * faults` draws many at random): exit 130/143 within 5 s (or 0 when the run
 * had finished), no temporary file, lock or spill directory left, the old
 * output byte for byte, no process of the embedding command left, and the
 * next run succeeds. Only the 5 s bound is a time limit: everything else
 * may take as long as a busy machine needs.
 */
let dir: string;
let scenarios: SignalScenarios;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pd-signals-"));
  scenarios = await makeSignalScenarios(dir);
}, 300_000);
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** Moments spread evenly over the window, from 1/2n to (2n-1)/2n of it. */
const spread = (n: number) => {
  let step = 0;
  return () => (step++ + 0.5) / n;
};

describe("SIGINT and SIGTERM at any moment", () => {
  it("a full compute with reader threads (50,000 embeddings)", async () => {
    const report = await signalTrials(scenarios.compute, 3, spread(3));
    expect(report.failures).toEqual([]);
  }, 300_000);

  it("an incremental update", async () => {
    const report = await signalTrials(scenarios.update, 2, spread(2));
    expect(report.failures).toEqual([]);
  }, 300_000);

  it("while the embedding command (--embed-cmd) works: it is killed with its process group", async () => {
    const report = await signalTrials(scenarios.embedder, 2, spread(2));
    expect(report.failures).toEqual([]);
    // Both were signalled while the command was still working on its answer.
    expect(report.latencies.length, JSON.stringify(report.outcomes)).toBe(2);
  }, 300_000);

  it("while waiting (--wait) for another run's lock, which stays", async () => {
    const report = await signalTrials(scenarios.lockWait, 1, spread(1));
    expect(report.failures).toEqual([]);
    expect(report.latencies.length, JSON.stringify(report.outcomes)).toBe(1);
  }, 300_000);

  it("a second signal ends the process at once, even with an embedding command that ignores SIGTERM", async () => {
    const { failures } = await secondSignalTrial(scenarios.stubbornEmbedder, "SIGTERM");
    expect(failures).toEqual([]);
  }, 300_000);
});
