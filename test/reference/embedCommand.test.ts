import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { PanicDriftError } from "../../src/common/errors.js";
import { runInterruptCleanup } from "../../src/common/interruptCleanup.js";
import { CommandEmbedder } from "../../src/reference/embedCommand.js";
import type { CommandEmbedderOptions } from "../../src/reference/embedCommand.js";

// Helper embedders are node scripts (or plain sh), so the tests need nothing
// but node and /bin/sh. ARG is a per-test scratch directory or file; vectorOf
// is mirrored below.
const PRELUDE = `
import { appendFileSync, closeSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
const ARG = process.argv[2] ?? "";
const vectorOf = (t) => [t.length, [...t].reduce((s, c) => s + c.codePointAt(0), 0), (t.length % 7) / 8 - 0.25];
const reply = (value) => process.stdout.write(JSON.stringify(value) + "\\n");
const lines = () => createInterface({ input: process.stdin, crlfDelay: Infinity });
`;

function vectorOf(text: string): number[] {
  return [text.length, Array.from(text).reduce((s, c) => s + (c.codePointAt(0) ?? 0), 0), (text.length % 7) / 8 - 0.25];
}

/** Answers every request correctly; logs its starts and the request lines it got into the directory ARG. */
const GOOD = `
if (ARG) appendFileSync(ARG + "/starts", "start\\n");
lines().on("line", (line) => {
  if (ARG) appendFileSync(ARG + "/requests", line + "\\n");
  const { texts } = JSON.parse(line);
  if (ARG) appendFileSync(ARG + "/texts", JSON.stringify(texts) + "\\n");
  reply({ vectors: texts.map(vectorOf) });
});
`;

/**
 * Ignores requests (except for model "warm-up") and the end of its input; on
 * SIGTERM leaves the file ARG behind to show that the kill reached it.
 */
const SILENT = `
process.on("SIGTERM", () => { writeFileSync(ARG, "terminated"); process.exit(0); });
setInterval(() => undefined, 1000);
lines().on("line", (line) => {
  const { model, texts } = JSON.parse(line);
  if (model === "warm-up") reply({ vectors: texts.map(vectorOf) });
});
writeFileSync(ARG + ".ready", "");
`;

let dir: string;
let scripts = 0;
const made: CommandEmbedder[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "panic-drift-embed-cmd-test-"));
});

afterEach(async () => {
  await Promise.allSettled(made.splice(0).map((e) => e.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Writes a node script (PRELUDE + body) and returns the shell command running it with `arg`. */
async function script(body: string, arg = ""): Promise<string> {
  scripts += 1;
  const path = join(dir, `embed-${scripts}.mjs`);
  await writeFile(path, PRELUDE + body);
  return `${quote(process.execPath)} ${quote(path)}${arg === "" ? "" : ` ${quote(arg)}`}`;
}

/**
 * A command answering every request line with `answer`, whatever the request:
 * plain sh, as starting node for each of many such cases would be slow.
 */
async function answering(answer: string): Promise<string> {
  const path = join(await scratch(), "answer");
  await writeFile(path, answer);
  return `while IFS= read -r _; do cat ${quote(path)}; echo; done`;
}

async function scratch(): Promise<string> {
  return mkdtemp(join(dir, "run-"));
}

function make(command: string, options?: CommandEmbedderOptions): CommandEmbedder {
  const embedder = new CommandEmbedder(command, options);
  made.push(embedder);
  return embedder;
}

/** Waits until a script has written `path` (up to 30 s: node may start slowly on a busy machine). */
async function waitFor(path: string): Promise<void> {
  for (let waited = 0; !existsSync(path) && waited < 30_000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(existsSync(path), path).toBe(true);
}

async function readLines(path: string): Promise<string[]> {
  return existsSync(path) ? (await readFile(path, "utf8")).split("\n").filter((l) => l !== "") : [];
}

async function expectFailure(
  promise: Promise<unknown>,
  pattern: RegExp,
  model: string,
  firstText: string,
): Promise<PanicDriftError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PanicDriftError);
  const e = err as PanicDriftError;
  expect(e.code).toBe("EMBED_COMMAND_FAILED");
  expect(e.message).toMatch(/^embedding command ".+" failed /);
  expect(e.message).toMatch(pattern);
  expect(e.message).toContain(`model ${JSON.stringify(model)}`);
  expect(e.message).toContain(`starting with ${JSON.stringify(firstText)}`);
  expect(e.message).not.toMatch(/[\r\n]/);
  return e;
}

const plain = (vectors: readonly Float64Array[]): number[][] => {
  for (const v of vectors) expect(v).toBeInstanceOf(Float64Array);
  return vectors.map((v) => Array.from(v));
};

const FIVE = ["a cat", "a dog on a mat", "", "the rocket", "z"];

describe("CommandEmbedder: a working command", () => {
  it("embeds texts across several batches, in order, as Float64Arrays", async () => {
    const command = await script(GOOD);
    const embedder = make(command, { batchSize: 2 });
    expect(embedder.source).toBe(`cmd:${command}`);
    expect(plain(await embedder.embed("nomic-embed-text", FIVE))).toEqual(FIVE.map(vectorOf));
    await embedder.close();
  });

  it("sends one ASCII JSON line per batch with the model name and that batch's texts", async () => {
    const out = await scratch();
    const embedder = make(await script(GOOD, out), { batchSize: 2 });
    const model = 'jina "clip" v2 — ü';
    await embedder.embed(model, FIVE);
    await embedder.close();
    const requests = await readLines(join(out, "requests"));
    for (const line of requests) expect(line).toMatch(/^[\x20-\x7e]+$/);
    expect(requests.map((l) => JSON.parse(l) as unknown)).toEqual([
      { model, texts: FIVE.slice(0, 2) },
      { model, texts: FIVE.slice(2, 4) },
      { model, texts: FIVE.slice(4) },
    ]);
  });

  it("round-trips unicode, newlines, quotes and backslashes in texts", async () => {
    const texts = [
      "line one\nline two\r\nline three\rfour",
      'she said "hello", then \\left\\',
      "日本語のプロンプト、猫",
      "rocket 🚀 and scientist 👩‍🔬",
      "tab\there, nul\u0000, separators \u2028 \u2029, bom \ufeff, del \u007f",
      "lone surrogate \ud800 here",
      "x".repeat(100_000),
    ];
    const out = await scratch();
    const embedder = make(await script(GOOD, out), { batchSize: 3 });
    expect(plain(await embedder.embed("m", texts))).toEqual(texts.map(vectorOf));
    await embedder.close();
    const received = (await readLines(join(out, "texts"))).flatMap((l) => JSON.parse(l) as string[]);
    expect(received).toEqual(texts);
  });

  it("starts the command lazily, once, for every batch and model of the run", async () => {
    const out = await scratch();
    const embedder = make(await script(GOOD, out), { batchSize: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await readLines(join(out, "starts"))).toEqual([]);
    expect(await embedder.embed("m", [])).toEqual([]);
    expect(await readLines(join(out, "starts"))).toEqual([]);

    expect(plain(await embedder.embed("m", FIVE))).toEqual(FIVE.map(vectorOf));
    expect(plain(await embedder.embed("other", FIVE.slice(0, 3)))).toEqual(FIVE.slice(0, 3).map(vectorOf));
    await embedder.close();
    expect(await readLines(join(out, "starts"))).toEqual(["start"]);
    expect(await readLines(join(out, "requests"))).toHaveLength(5);
  });

  it("sends the requests of concurrent embed calls one at a time", async () => {
    // Answers late, and wrongly if a request arrives before the previous answer.
    const command = await script(`
      let busy = false;
      lines().on("line", (line) => {
        if (busy) return reply({ vectors: [] });
        busy = true;
        const { texts } = JSON.parse(line);
        setTimeout(() => { busy = false; reply({ vectors: texts.map(vectorOf) }); }, 20);
      });
    `);
    const embedder = make(command, { batchSize: 2 });
    const [a, b] = await Promise.all([embedder.embed("m", FIVE), embedder.embed("m", ["p", "q", "r"])]);
    expect(plain(a)).toEqual(FIVE.map(vectorOf));
    expect(plain(b)).toEqual(["p", "q", "r"].map(vectorOf));
  });

  it("reads answers split across chunks, even inside a UTF-8 character, and ignores blank lines and CRs", async () => {
    const command = await script(`
      let n = 0;
      lines().on("line", async (line) => {
        const { texts } = JSON.parse(line);
        const answer = JSON.stringify({ note: "日本", vectors: texts.map(vectorOf) });
        n += 1;
        if (n === 1) {
          // "日" is three bytes in UTF-8; cut it and a number in two.
          const bytes = Buffer.from(answer + "\\n");
          const cut = bytes.indexOf(Buffer.from("日")) + 1;
          const cuts = [0, cut, cut + 20, bytes.length];
          for (let i = 0; i + 1 < cuts.length; i++) {
            process.stdout.write(bytes.subarray(cuts[i], cuts[i + 1]));
            await new Promise((resolve) => setTimeout(resolve, 30));
          }
        } else {
          // Several lines in one chunk: blank ones, and a Windows line end.
          process.stdout.write("\\n  \\n" + answer + "\\r\\n");
        }
      });
    `);
    const embedder = make(command, { batchSize: 3 });
    expect(plain(await embedder.embed("m", FIVE))).toEqual(FIVE.map(vectorOf));
    await embedder.close();
  });

  it("keeps one dimension per model, so different models may differ", async () => {
    const command = await script(`
      lines().on("line", (line) => {
        const { model, texts } = JSON.parse(line);
        reply({ vectors: texts.map(() => (model === "small" ? [1, 2] : [1, 2, 3, 4])) });
      });
    `);
    const embedder = make(command);
    expect(plain(await embedder.embed("small", ["a"]))).toEqual([[1, 2]]);
    expect(plain(await embedder.embed("large", ["a"]))).toEqual([[1, 2, 3, 4]]);
    expect(plain(await embedder.embed("small", ["b"]))).toEqual([[1, 2]]);
  });

  it("works with a python3 one-liner", async () => {
    const command =
      'python3 -c "import sys, json; ' +
      "[print(json.dumps({'vectors': [[len(t), 0.5] for t in json.loads(l)['texts']]}), flush=True) " +
      'for l in sys.stdin]"';
    const embedder = make(command, { batchSize: 2 });
    expect(plain(await embedder.embed("m", ["ab", "日本語", "x\ny"]))).toEqual([
      [2, 0.5],
      [3, 0.5],
      [3, 0.5],
    ]);
    await embedder.close();
  });
});

describe("CommandEmbedder: closing", () => {
  it("close() waits for the command to exit", async () => {
    const marker = join(await scratch(), "exited");
    const body = `
      lines().on("line", (line) => reply({ vectors: JSON.parse(line).texts.map(vectorOf) }));
      process.stdin.on("end", () => setTimeout(() => { writeFileSync(ARG, "done"); process.exit(0); }, 200));
    `;
    const command = await script(body, marker);
    const embedder = make(command);
    await embedder.embed("m", ["a"]);
    await embedder.close();
    expect(existsSync(marker)).toBe(true);
  });

  it("close() before any embed starts nothing and resolves; embed after close is a bug", async () => {
    const out = await scratch();
    const embedder = make(await script(GOOD, out));
    await embedder.close();
    await embedder.close();
    await expect(embedder.embed("m", ["a"])).rejects.toThrow(/after close/);
    await expect(embedder.embed("m", ["a"])).rejects.not.toBeInstanceOf(PanicDriftError);
    expect(await readLines(join(out, "starts"))).toEqual([]);
  });

  it("a non-zero exit at close is an error naming the last batch", async () => {
    const command = await script(`
      lines().on("line", (line) => reply({ vectors: JSON.parse(line).texts.map(vectorOf) }));
      process.stdin.on("end", () => {
        process.stderr.write("saving cache\\nerror: disk full\\n\\n");
        process.exit(4);
      });
    `);
    const embedder = make(command, { batchSize: 2 });
    await embedder.embed("m", FIVE);
    const e = await expectFailure(embedder.close(), /after its last answer/, "m", "z");
    expect(e.message).toMatch(/exited with code 4; its stderr ends with "error: disk full"/);
  });

  it("close() kills a command that ignores the end of its input, after the grace period", async () => {
    const marker = join(await scratch(), "terminated");
    // The grace is what is under test; 2 s each for the end of input and for
    // SIGTERM, so that a busy machine still lets the command's handler run.
    const embedder = make(await script(SILENT, marker), { closeGraceMs: 2000 });
    await embedder.embed("warm-up", ["a"]);
    const started = Date.now();
    await embedder.close();
    // It waited the grace and no more than two of them (then SIGKILL).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(30_000);
    // The SIGTERM reached the node process behind the shell.
    expect(existsSync(marker)).toBe(true);
  });

  /** Never answers, ignores SIGTERM (only SIGKILL ends it), and writes its pid to ARG. */
  const STUBBORN = `
    process.on("SIGTERM", () => undefined);
    setInterval(() => undefined, 1000);
    lines().on("line", () => undefined);
    writeFileSync(ARG, String(process.pid));
  `;
  /** A zombie (killed, not yet reaped by whoever inherited it) counts as gone. */
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "latin1"));
    } catch {
      return true;
    }
  };

  it("close({ now: true }) (an interrupted run) does not wait the grace period: SIGKILL after 0.5 s", async () => {
    const pidFile = join(await scratch(), "pid");
    const embedder = make(await script(STUBBORN, pidFile), { closeGraceMs: 30_000 });
    const pending = embedder.embed("m", ["a"]);
    await waitFor(pidFile);
    const started = Date.now();
    await embedder.close({ now: true });
    // Generous for a busy machine: without `now` it would be the 30 s grace.
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectFailure(pending, /closed while the command was working/, "m", "a");
    // The shell died of the SIGTERM; what it started gets the SIGKILL 0.5 s after it.
    const pid = Number(await readFile(pidFile, "utf8"));
    for (let waited = 0; alive(pid) && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive(pid)).toBe(false);
  });

  it("the process's last-resort clean-up (a second Ctrl-C) kills the command's process group at once", async () => {
    const pidFile = join(await scratch(), "pid");
    const embedder = make(await script(STUBBORN, pidFile), { closeGraceMs: 30_000 });
    const pending = embedder.embed("m", ["a"]).catch((error: unknown) => error);
    await waitFor(pidFile);
    const pid = Number(await readFile(pidFile, "utf8"));
    runInterruptCleanup();
    expect(await pending).toBeInstanceOf(PanicDriftError);
    for (let waited = 0; alive(pid) && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive(pid)).toBe(false);
  });

  it("close() while a batch is pending fails that batch and stops the command", async () => {
    const marker = join(await scratch(), "terminated");
    const embedder = make(await script(SILENT, marker));
    const pending = embedder.embed("m", ["first", "second"]);
    await waitFor(`${marker}.ready`);
    await embedder.close();
    await expectFailure(pending, /closed while the command was working/, "m", "first");
    expect(existsSync(marker)).toBe(true);
  });
});

describe("CommandEmbedder: a command that cannot run or stops", () => {
  it("reports a command the shell cannot find (exit 127)", async () => {
    const embedder = make("panic-drift-no-such-embedder --flag");
    const e = await expectFailure(
      embedder.embed("m", ["first text"]),
      /exited with code 127 before answering/,
      "m",
      "first text",
    );
    expect(e.message).toContain("panic-drift-no-such-embedder --flag");
    expect(e.message).toMatch(/its stderr ends with ".*not found"/);
    expect(e.message).toMatch(/no such program; check the command's spelling and your PATH$/);
  });

  it("reports an exit before answering, with the last line of stderr", async () => {
    const embedder = make("echo loading >&2; echo 'ValueError: no model nomic' >&2; exit 3");
    const pending = embedder.embed("nomic", ["p1", "p2"]);
    const e = await expectFailure(pending, /exited with code 3 before answering/, "nomic", "p1");
    expect(e.message).toContain('its stderr ends with "ValueError: no model nomic"');
  });

  it("reports a command killed by a signal", async () => {
    const embedder = make("kill -9 $$");
    await expectFailure(embedder.embed("m", ["a"]), /killed by SIGKILL before answering/, "m", "a");
  });

  it("names the signal behind the shell's exit code 128 + N", async () => {
    const embedder = make(await script('lines().on("line", () => process.kill(process.pid, "SIGKILL"));'));
    const pattern = /exited with code 137 \(killed by SIGKILL\) before answering/;
    await expectFailure(embedder.embed("m", ["a"]), pattern, "m", "a");
  });

  it("reports an exit between batches at the next batch", async () => {
    const command = await script(`
      lines().on("line", (line) => { reply({ vectors: JSON.parse(line).texts.map(vectorOf) }); process.exit(0); });
    `);
    const embedder = make(command, { batchSize: 2 });
    const e = await expectFailure(embedder.embed("m", FIVE), /exited with code 0 before answering/, "m", FIVE[2] ?? "");
    expect(e.message).toContain("texts 3-4 of 5");
    expect(e.message).toMatch(/exit only when its stdin closes$/);
  });

  it("turns EPIPE on a large request to a dying command into the same clean error", async () => {
    // It never reads its stdin, so 4 MB cannot all fit in the pipe before it exits.
    const embedder = make("sleep 0.2; exit 5");
    const big = "y".repeat(2_000_000);
    const pattern = /exited with code 5 before answering/;
    await expectFailure(embedder.embed("m", [big, big]), pattern, "m", `${"y".repeat(59)}…`);
  });

  it("reports a command that stops reading its stdin but lives on", async () => {
    // exec: otherwise the shell, waiting for node, still holds the other end of the pipe.
    const marker = join(await scratch(), "terminated");
    const body = `
      process.on("SIGTERM", () => { writeFileSync(ARG, "t"); process.exit(0); });
      setInterval(() => undefined, 1000);
      lines().once("line", (line) => { reply({ vectors: JSON.parse(line).texts.map(vectorOf) });
        // destroy() alone leaves fd 0 open.
        process.stdin.destroy();
        closeSync(0);
      });
    `;
    const embedder = make(`exec ${await script(body, marker)}`, { timeoutMs: 10_000 });
    await embedder.embed("m", ["a"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const texts = ["x".repeat(1_000_000), "y"];
    await expectFailure(embedder.embed("m", texts), /stopped reading its stdin \(EPIPE\)/, "m", `${"x".repeat(59)}…`);
    await embedder.close();
    expect(existsSync(marker)).toBe(true);
  });

  it("stops a command that does not answer in time", async () => {
    const marker = join(await scratch(), "terminated");
    // The time limit covers every request, the first (start-up) included: 4 s
    // so that starting node on a busy machine is never what runs out.
    const embedder = make(await script(SILENT, marker), { timeoutMs: 4000 });
    await embedder.embed("warm-up", ["w"]); // so that its SIGTERM handler is in place
    const pattern = /no answer within 4000 ms, so it was stopped/;
    const e = await expectFailure(embedder.embed("m", ["slow text"]), pattern, "m", "slow text");
    expect(e.message).toContain("print(..., flush=True)");
    await embedder.close();
    expect(existsSync(marker)).toBe(true);
  });

  it("says when a timed-out command printed an answer without a newline", async () => {
    const command = await script('lines().on("line", () => process.stdout.write(JSON.stringify({ vectors: [[1]] })));');
    const embedder = make(command, { timeoutMs: 4000 });
    const pattern = /its stdout ends with "\{\\"vectors\\":\[\[1\]\]\}" and no newline/;
    await expectFailure(embedder.embed("m", ["a"]), pattern, "m", "a");
  });
});

describe("CommandEmbedder: malformed answers", () => {
  const TEXTS = ["first text", "second"];
  const cases: [string, string, RegExp][] = [
    ["not JSON", "loading model...", /it answered "loading model\.\.\.", which is not JSON/],
    ["NaN", '{"vectors": [[1, NaN], [1, 2]]}', /NaN or Infinity/],
    ["a JSON array", "[[1, 2], [3, 4]]", /it answered an array, not a JSON object/],
    ["a JSON string", '"hello"', /it answered the string "hello", not a JSON object/],
    ["no vectors", '{"embeddings": [[1, 2], [3, 4]]}', /which has no "vectors"/],
    ["vectors not an array", '{"vectors": {"0": [1]}}', /"vectors" is an object, not an array/],
    [
      "an error",
      '{"error": "CUDA out of memory.\\nTried to allocate"}',
      /answered the error "CUDA out of memory\. Tried to allocate"/,
    ],
    ["too few vectors", '{"vectors": [[1, 2]]}', /answered 1 vector for 2 texts/],
    ["too many vectors", '{"vectors": [[1, 2], [3, 4], [5, 6]]}', /answered 3 vectors for 2 texts/],
    [
      "a vector that is null",
      '{"vectors": [[1, 2], null]}',
      /vectors\[1\] \(for text "second"\) is null, not an array/,
    ],
    ["a vector that is a number", '{"vectors": [1, 2]}', /vectors\[0\] \(for text "first text"\) is 1, not an array/],
    [
      "a string element",
      '{"vectors": [[1, 2], [1, "2"]]}',
      /vectors\[1\] \(for text "second"\)\[1\] is the string "2", not a number/,
    ],
    [
      "a null element",
      '{"vectors": [[1, null], [1, 2]]}',
      /vectors\[0\] \(for text "first text"\)\[1\] is null, not a number/,
    ],
    [
      "an overflowing element",
      '{"vectors": [[1, 2], [1, 1e400]]}',
      /vectors\[1\] .*\[1\] is Infinity, not a finite number/,
    ],
    ["an empty vector", '{"vectors": [[], []]}', /vectors\[0\] \(for text "first text"\) is empty/],
    [
      "mixed dimensions",
      '{"vectors": [[1, 2], [1, 2, 3]]}',
      /vectors\[1\] .* has dimension 3 but vectors\[0\] has dimension 2/,
    ],
  ];

  it.each(cases)("reports %s", async (_name, answer, pattern) => {
    const embedder = make(await answering(answer));
    await expectFailure(embedder.embed("m", TEXTS), pattern, "m", "first text");
  });

  it("reports a dimension that changes across batches of one model, within and across embed calls", async () => {
    const command = await script(`
      let n = 0;
      lines().on("line", (line) => {
        n += 1;
        reply({ vectors: JSON.parse(line).texts.map(() => (n === 1 ? [1, 2] : [1, 2, 3])) });
      });
    `);
    const within = make(command, { batchSize: 2 });
    const pattern = /earlier answers for this model have dimension 2/;
    const e = await expectFailure(within.embed("m", FIVE), pattern, "m", FIVE[2] ?? "");
    expect(e.message).toMatch(/vectors\[0\] \(for text ""\) has dimension 3/);

    const across = make(command);
    await across.embed("m", ["a"]);
    await expectFailure(across.embed("m", ["b"]), /has dimension 3 but earlier answers .* dimension 2/, "m", "b");
  });

  it("truncates a long first text in the message", async () => {
    const embedder = make(await answering("oops"));
    const long = `${"é".repeat(59)}and then some more`;
    const e = await expectFailure(embedder.embed("m", [long]), /not JSON/, "m", `${"é".repeat(59)}…`);
    expect(e.message).not.toContain("then some");
  });
});

describe("CommandEmbedder: after a failure", () => {
  it("is unusable: later calls report the same error without restarting the command", async () => {
    const out = await scratch();
    const command = await script(
      `appendFileSync(ARG + "/starts", "start\\n"); lines().on("line", () => process.stdout.write("nope\\n"));`,
      out,
    );
    const embedder = make(command);
    const first = await expectFailure(embedder.embed("m", ["a"]), /not JSON/, "m", "a");
    await expect(embedder.embed("other", ["b"])).rejects.toBe(first);
    await expect(embedder.embed("m", [])).rejects.toBe(first);
    await embedder.close(); // already reported: nothing more to say
    expect(await readLines(join(out, "starts"))).toEqual(["start"]);
  });

  it("reports a line that answers no request at the next call", async () => {
    const command = await script(`
      lines().on("line", (line) => {
        const answer = JSON.stringify({ vectors: JSON.parse(line).texts.map(vectorOf) });
        process.stdout.write(answer + "\\n" + answer + "\\n");
      });
    `);
    const embedder = make(command);
    expect(plain(await embedder.embed("m", ["a"]))).toEqual([vectorOf("a")]);
    await expectFailure(embedder.embed("m", ["b"]), /printed a line that answers no request/, "m", "a");
    await embedder.close();
  });

  it("reports a line that answers no request at close when no call came after it", async () => {
    const command = await script(`
      lines().on("line", (line) => {
        reply({ vectors: JSON.parse(line).texts.map(vectorOf) });
        setTimeout(() => process.stdout.write("done\\n"), 20);
      });
    `);
    const embedder = make(command);
    await embedder.embed("m", ["a"]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expectFailure(embedder.close(), /printed a line that answers no request \("done"\)/, "m", "a");
  });
});

describe("CommandEmbedder: options", () => {
  it.each([
    ["", {}],
    ["  ", {}],
    ["cat", { batchSize: 0 }],
    ["cat", { batchSize: 1.5 }],
    ["cat", { timeoutMs: 0 }],
    ["cat", { timeoutMs: Number.NaN }],
    ["cat", { closeGraceMs: -1 }],
  ] as [string, CommandEmbedderOptions][])("rejects command %j with options %j as a usage error", (cmd, options) => {
    let err: unknown;
    try {
      new CommandEmbedder(cmd, options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PanicDriftError);
    expect((err as PanicDriftError).code).toBe("USAGE");
  });
});
