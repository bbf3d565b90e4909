import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { bump, taken, waitForSignal } from "../../src/common/threadSignal.js";

/**
 * A helper thread that, every `every` ms, bumps [0] (a sign of life), and
 * after `after` ms stores 42 in [1] and bumps [0]: what a thread posting a
 * message does.
 */
function helper(shared: SharedArrayBuffer, every: number, after: number): Worker {
  const code = `
    const { workerData } = require("node:worker_threads");
    const a = new Int32Array(workerData.shared);
    const bump = () => { Atomics.add(a, 0, 1); Atomics.notify(a, 0); };
    const beat = setInterval(bump, workerData.every);
    setTimeout(() => { Atomics.store(a, 1, 42); bump(); clearInterval(beat); }, workerData.after);
  `;
  return new Worker(code, { eval: true, workerData: { shared, every, after } });
}

const started: Worker[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.terminate()));
});

const stalled = () => new Error("stalled");

describe("signals between threads", () => {
  it("returns at once what is there already", () => {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    expect(waitForSignal(signal, 0, () => "here", 10, stalled)).toBe("here");
  });

  it("wakes when the other thread bumps the signal, not at the end of a sleep", () => {
    const shared = new SharedArrayBuffer(8);
    const a = new Int32Array(shared);
    started.push(helper(shared, 10_000, 100));
    const start = performance.now();
    expect(waitForSignal(a, 0, () => (Atomics.load(a, 1) === 42 ? 42 : undefined), 5000, stalled)).toBe(42);
    expect(performance.now() - start).toBeLessThan(900);
  });

  it("takes signs of life as such: a thread that keeps bumping is waited for past the stall time", () => {
    const shared = new SharedArrayBuffer(8);
    const a = new Int32Array(shared);
    started.push(helper(shared, 20, 600));
    expect(waitForSignal(a, 0, () => (Atomics.load(a, 1) === 42 ? 42 : undefined), 300, stalled)).toBe(42);
  });

  it("gives up after a silence of the stall time", () => {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const start = performance.now();
    expect(() => {
      waitForSignal(signal, 0, () => undefined, 100, stalled);
    }).toThrow("stalled");
    expect(performance.now() - start).toBeGreaterThanOrEqual(100);
  });

  it("bump and taken move the counters", () => {
    const a = new Int32Array(new SharedArrayBuffer(8));
    bump(a, 0);
    bump(a, 0);
    Atomics.store(a, 1, 3);
    taken(a, 1);
    expect([...a]).toEqual([2, 2]);
  });
});
