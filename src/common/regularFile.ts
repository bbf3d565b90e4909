// Light: used by the up-to-date check and the output guard.
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";

/**
 * Every file panic-drift reads is read whole, or from its end, and more than
 * once: only a regular file can be. Anything else at an input's path (a
 * FIFO, a device, a socket, a directory) is refused with a message, never
 * read: reading a FIFO blocks until someone writes to it, and a blocked
 * synchronous read holds the whole process, signals included.
 */

/** What `stats` is when it is not a regular file, in words ("a named pipe (FIFO)"); undefined for a regular file. */
export function notRegularFile(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/** Refused: `kind` says what was there instead of a regular file. */
export class NotRegularFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is ${kind}, not a regular file`);
    this.name = "NotRegularFileError";
  }
}

/**
 * Opens `path` for reading and returns its descriptor, or throws
 * NotRegularFileError when it is not a regular file (and errors of open()
 * as they are). O_NONBLOCK: opening a FIFO returns at once instead of
 * waiting for a writer; on a regular file it changes nothing.
 */
export function openRegularFileSync(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const kind = notRegularFile(fstatSync(fd));
    if (kind !== undefined) throw new NotRegularFileError(path, kind);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** readFileSync for a regular file only (see openRegularFileSync). */
export function readRegularFileSync(path: string): Buffer {
  const fd = openRegularFileSync(path);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The async readFile for a regular file only: the same checks, on a file handle. */
export async function readRegularFile(path: string): Promise<Buffer> {
  const { open } = await import("node:fs/promises");
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const kind = notRegularFile(await handle.stat());
    if (kind !== undefined) throw new NotRegularFileError(path, kind);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
