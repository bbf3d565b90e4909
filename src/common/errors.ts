/**
 * Every failure the library reports on purpose is a PanicDriftError: a stable
 * `code` for programs, a one-line `message` for people (what, where, what to
 * do); the exit code the CLI uses follows from the code. Anything else is a bug.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Another run holds the output's lock (and --wait ran out). */
export const EXIT_LOCKED = 3;
/** Stopped by SIGINT / SIGTERM (128 + the signal's number, as shells report it). */
export const EXIT_INTERRUPTED = 130;
export const EXIT_TERMINATED = 143;

export type ErrorCode =
  | "DB_NOT_FOUND"
  | "DB_IS_DIRECTORY"
  | "DB_EMPTY"
  | "DB_NOT_FILE"
  | "DB_NOT_SQLITE"
  | "DB_UNREADABLE"
  | "DB_NOT_PANIC_TDA"
  | "DB_AMBIGUOUS_SCHEMA"
  | "DB_MISSING_COLUMN"
  | "DB_READERS_STALLED"
  | "DB_MISSING_INDEX"
  | "EXPORT_INCOMPLETE"
  | "EXPORT_MISSING_COLUMN"
  | "EXPORT_UNREADABLE"
  | "EXPORT_CHANGED"
  /** One run id in two inputs that are not copies of one file. */
  | "RUN_IN_TWO_SOURCES"
  /** A dataset directory written with other settings, or by another --shard count. */
  | "DATASET_SETTINGS_DIFFER"
  | "PROMPT_VECTORS_NOT_FOUND"
  | "PROMPT_VECTORS_FORMAT"
  | "PROMPT_VECTORS_INVALID"
  | "EMBED_COMMAND_FAILED"
  | "EMBED_SERVER_FAILED"
  | "REFERENCE_CACHE_INVALID"
  | "OUTPUT_DIR_MISSING"
  | "OUTPUT_NOT_WRITABLE"
  | "OUTPUT_IS_DIRECTORY"
  | "OUTPUT_WRITE_FAILED"
  | "OUTPUT_IS_INPUT"
  | "OUTPUT_FOREIGN"
  | "OUTPUT_INSIDE_DATASET"
  | "OUTPUT_FILTERS_DIFFER"
  | "FILTER_MATCHES_NOTHING"
  | "MISSING_REFERENCES"
  | "BAD_REFERENCES"
  | "OUTPUT_LOCKED"
  | "OUTPUT_LOCK_UNUSABLE"
  | "FRAME_NOT_FOUND"
  | "FRAME_INVALID"
  | "PLOT_NO_DATA"
  | "USAGE"
  /** Stopped by SIGINT (or a library caller's AbortSignal); exit 130. */
  | "INTERRUPTED"
  /** Stopped by SIGTERM (or an AbortSignal aborted with the reason "SIGTERM"); exit 143. */
  | "TERMINATED";

/** The exit code of each error code: the one rule (no call site chooses its own). */
export function exitCodeOf(code: ErrorCode): number {
  switch (code) {
    case "USAGE":
      return EXIT_USAGE;
    case "OUTPUT_LOCKED":
      return EXIT_LOCKED;
    case "INTERRUPTED":
      return EXIT_INTERRUPTED;
    case "TERMINATED":
      return EXIT_TERMINATED;
    default:
      return EXIT_FAILURE;
  }
}

export class PanicDriftError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PanicDriftError";
    this.code = code;
  }

  /** What the CLI exits with: follows from `code` (see exitCodeOf). */
  get exitCode(): number {
    return exitCodeOf(this.code);
  }
}

/** A command line that cannot be used as given (exit 2). */
export function usageError(message: string): PanicDriftError {
  return new PanicDriftError("USAGE", message);
}
