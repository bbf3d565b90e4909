import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIO } from "../../src/cli/cliIO.js";
import { createProgress, MIN_SPINNER_COLUMNS, progressMode } from "../../src/cli/progress.js";
import { CLI_ENTRY } from "../support/faultTrials.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pd-progress-"));
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const person = { quiet: false, json: false };
const tty = (columns: number | undefined, rows: number | undefined = 24) => ({ isTTY: true, columns, rows });

describe("progressMode", () => {
  it("a spinner for a person at an ordinary terminal", () => {
    expect(progressMode(tty(80), {}, person)).toBe("spinner");
    expect(progressMode(tty(80), { TERM: "xterm-256color" }, person)).toBe("spinner");
    expect(progressMode(tty(MIN_SPINNER_COLUMNS), {}, person)).toBe("spinner");
    // A terminal that does not say how many rows it has.
    expect(progressMode(tty(80, undefined), {}, person)).toBe("spinner");
  });

  it("none with --quiet or --json, or when stderr is no terminal", () => {
    expect(progressMode(tty(80), {}, { quiet: true, json: false })).toBe("none");
    expect(progressMode(tty(80), {}, { quiet: false, json: true })).toBe("none");
    expect(progressMode({ isTTY: false, columns: 80, rows: 24 }, {}, person)).toBe("none");
    expect(progressMode({}, {}, person)).toBe("none");
  });

  it("none on a terminal that cannot show one: 0 or 1 columns, too narrow, tiny or no rows, TERM=dumb", () => {
    for (const columns of [0, 1, MIN_SPINNER_COLUMNS - 1, undefined, Number.NaN, Number.POSITIVE_INFINITY, -3]) {
      expect(progressMode(tty(columns), {}, person), `columns ${columns}`).toBe("none");
    }
    for (const rows of [0, 1, Number.NaN]) expect(progressMode(tty(80, rows), {}, person), `rows ${rows}`).toBe("none");
    expect(progressMode(tty(80), { TERM: "dumb" }, person)).toBe("none");
  });
});

describe("the spinner", () => {
  /** A fake terminal: what ora draws is only counted. */
  function terminal(columns: number): { io: CliIO; stream: PassThrough & { columns: number; isTTY: boolean }; writes: string[]; written: () => number } {
    const writes: string[] = [];
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns, rows: 24, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const write = (s: string) => (writes.push(s), true);
    Object.assign(stream, { write });
    const written = () => writes.reduce((n, s) => n + s.length, 0);
    return { io: { stdout: { write, isTTY: false }, stderr: stream, env: {} }, stream, writes, written };
  }

  it("stops for good when the terminal is resized to nothing, and its text never wraps", async () => {
    const { io, stream, writes, written } = terminal(30);
    const progress = await createProgress(io, { ...person, color: false });
    progress.start("opening database");
    progress.update({ done: 5, total: 10, rows: 123_456_789 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // eslint-disable-next-line no-control-regex -- terminal escapes are what is stripped
    const frames = writes.map((w) => w.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")).filter((w) => w.includes("computing"));
    expect(frames.length).toBeGreaterThan(0);
    // "computing drift: 50% 123,456,789 rows" is 37 characters: cut to the 30 columns, less the spinner's.
    for (const frame of frames) expect(frame.trimEnd().length, frame).toBeLessThan(30);
    stream.columns = 0;
    stream.emit("resize");
    const before = written();
    // ora would clear Infinity lines per frame here: the spinner must be off already.
    progress.update({ done: 6, total: 10, rows: 123_456_790 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(written()).toBe(before);
    progress.stop();
  });
});

const hasScript = spawnSync("script", ["--version"]).status === 0;

describe.skipIf(!hasScript)("compute on a pseudo-terminal (script)", () => {
  // Under `script`: stderr is a terminal of the given size; TERM=xterm so that it is not taken for a dumb one.
  async function onTerminal(size: string): Promise<{ code: number | null; output: string; timedOut: boolean }> {
    const demo = fileURLToPath(new URL("../../fixtures/demo.sqlite", import.meta.url));
    const out = join(dir, `demo-${size.replace(/\W+/g, "-")}.parquet`);
    const command = `stty ${size}; exec "${process.execPath}" --import tsx "${CLI_ENTRY}" compute --db "${demo}" --out "${out}" --force`;
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: { ...process.env, TERM: "xterm" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    let timedOut = false;
    // A spinner that loops takes the whole process (signals included): generous, then SIGKILL.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, 60_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => { resolve(c); }));
    clearTimeout(timer);
    return { code, output, timedOut };
  }

  for (const size of ["cols 0 rows 24", "cols 1 rows 24", "cols 80 rows 0"]) {
    it(`${size}: no spinner, the run ends with its summary line`, async () => {
      const run = await onTerminal(size);
      expect(run.timedOut, "the run did not end").toBe(false);
      expect(run.code).toBe(0);
      expect(run.output).toMatch(/^panic-drift: computed 928 rows/m);
      expect(run.output).not.toMatch(/opening database/);
    }, 90_000);
  }

  it("cols 80 rows 24: the spinner, then the summary line", async () => {
    const run = await onTerminal("cols 80 rows 24");
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/opening database|computing drift/);
    expect(run.output).toMatch(/panic-drift: computed 928 rows/);
  }, 90_000);
});
