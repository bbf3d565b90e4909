/**
 * The SQLite extension of our own (native/, built at install by
 * native/build.mjs): the row-packing aggregate (rowPacking.ts) and a
 * read-ahead VFS for the database file (native/readahead_vfs.c).
 *
 * Without the built library (no compiler at install, `--ignore-scripts`,
 * another platform) or with PANIC_DRIFT_ROW_PACKING=0, neither is used:
 * the same output, more CPU. PANIC_DRIFT_READ_AHEAD=0 turns off the VFS alone.
 */
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Where node-gyp puts the library: build/Release at the package's root (this file is three folders below it, in src/ or dist/). */
export const LIBRARY = fileURLToPath(new URL("../../../build/Release/panic_drift_sqlite.node", import.meta.url));

let libraryPresent: boolean | undefined;

/** Whether the library is built and not turned off. */
export function libraryUsable(): boolean {
  if (process.env.PANIC_DRIFT_ROW_PACKING === "0") return false;
  libraryPresent ??= existsSync(LIBRARY);
  return libraryPresent;
}

let vfs: string | null | undefined;

/**
 * The name of the read-ahead VFS to open a database with, or undefined
 * (then the default VFS). Loading the library once registers the VFS for the
 * whole process (every thread's connections); the library keeps itself loaded.
 */
export function readAheadVfs(): string | undefined {
  if (vfs === undefined) {
    vfs = null;
    if (libraryUsable() && process.env.PANIC_DRIFT_READ_AHEAD !== "0") {
      const db = new Database(":memory:");
      try {
        db.loadExtension(LIBRARY);
        vfs = db.prepare("SELECT panic_drift_readahead_vfs()").pluck().get() as string | null;
      } catch {
        // Built for another platform, or from other sources (no such function): the default VFS.
      } finally {
        db.close();
      }
    }
  }
  return vfs ?? undefined;
}

/**
 * Turns the read-ahead VFS on or off for `db`'s database file (a connection
 * with the library loaded); false if the connection does not use it.
 */
export function setReadAhead(db: Database.Database, on: boolean): boolean {
  return db.prepare("SELECT panic_drift_readahead(?)").pluck().get(on ? 1 : 0) !== null;
}

/** The addon half of the library (native/packed_output.c). */
interface OutputBinding {
  bindOutput(buffer: ArrayBuffer): void;
}

/**
 * This thread's buffer that `panic_drift_rows_into` writes packed rows into
 * (see rowPacking.ts): one per thread, grown on demand, never transferred.
 */
export class PackedOutput {
  private buffer: Buffer;

  constructor(private readonly binding: OutputBinding, bytes: number) {
    this.buffer = this.bind(bytes);
  }

  /** The first `length` bytes the last packed query wrote. */
  view(length: number): Buffer {
    return this.buffer.subarray(0, length);
  }

  /** Makes room for a slice of `bytes` (one that came back as a blob because it did not fit). */
  grow(bytes: number): void {
    if (bytes > this.buffer.byteLength) this.buffer = this.bind(Math.ceil(bytes * 1.25));
  }

  private bind(bytes: number): Buffer {
    const buffer = new ArrayBuffer(bytes);
    this.binding.bindOutput(buffer);
    return Buffer.from(buffer);
  }
}

let output: PackedOutput | null | undefined;

/**
 * This thread's packed output, or undefined where the library cannot be
 * loaded as a Node addon (then each slice comes back as a blob: a copy more).
 * `bytes` is the size it starts with.
 */
export function packedOutput(bytes: number): PackedOutput | undefined {
  if (output === undefined) {
    output = null;
    if (libraryUsable() && process.env.PANIC_DRIFT_PACKED_OUTPUT !== "0") {
      try {
        const binding = createRequire(import.meta.url)(LIBRARY) as Partial<OutputBinding>;
        if (typeof binding.bindOutput === "function") output = new PackedOutput(binding as OutputBinding, bytes);
      } catch {
        // Not loadable as an addon here: slices come back as blobs.
      }
    }
  }
  return output ?? undefined;
}
