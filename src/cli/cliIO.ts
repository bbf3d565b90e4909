/**
 * The process's streams and environment as the CLI sees them, injectable so
 * that tests drive the CLI in-process and assert exact output.
 */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** A terminal's width in columns. */
  columns?: number;
}

export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream & NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** NO_COLOR (any non-empty value) wins; otherwise colour only on a terminal. */
export function colorEnabled(io: CliIO): boolean {
  const noColor = io.env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  return io.stderr.isTTY === true;
}
