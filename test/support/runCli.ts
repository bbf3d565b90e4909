import { PassThrough } from "node:stream";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/cliIO.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Drives the CLI in-process, like sqlite-utils' CliRunner: argv without the
 * program name, captured streams, a pinned environment (not a TTY, no colour).
 */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, tty = false): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const err = new PassThrough();
  err.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: Object.assign(err, {
      isTTY: tty,
      write: (s: string) => ((stderr += s), true),
      // What a terminal's WriteStream offers a spinner; the output is only captured.
      ...(tty ? { columns: 80, cursorTo: () => true, clearLine: () => true, moveCursor: () => true } : {}),
    }),
    env: { NO_COLOR: "1", ...env },
  };
  const code = await main(["node", "panic-drift", ...args], io);
  return { code, stdout, stderr };
}
