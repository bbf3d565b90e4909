import { describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_LOCKED, PanicDriftError } from "../../src/common/errors.js";
import { errorFromMessage, errorToMessage } from "../../src/common/threadErrors.js";

/** What the other thread gets: the message as postMessage clones it. */
function across(error: unknown): Error {
  return errorFromMessage(structuredClone(errorToMessage(error)));
}

describe("errors from threads", () => {
  it("a PanicDriftError keeps its code, message and exit code; the thread's stack is its cause", () => {
    const thrown = new PanicDriftError("OUTPUT_LOCKED", "locked by another run");
    const error = across(thrown);
    if (!(error instanceof PanicDriftError)) throw new Error(`not a PanicDriftError: ${String(error)}`);
    expect(error.code).toBe("OUTPUT_LOCKED");
    expect(error.exitCode).toBe(EXIT_LOCKED);
    expect(error.message).toBe("locked by another run");
    expect((error.cause as Error).stack).toBe(thrown.stack);
  });

  it("anything else is an internal error: its message, the thread's stack as cause, no code even if it had one", () => {
    const thrown = Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
    const error = across(thrown);
    expect(error).not.toBeInstanceOf(PanicDriftError);
    expect(error.message).toBe("disk I/O error");
    expect((error as { code?: unknown }).code).toBeUndefined();
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).stack).toBe(thrown.stack);
    expect((error.cause as Error).message).toBe("disk I/O error");
  });

  it("an error with a code-like property that is not a PanicDriftError is still internal", () => {
    const error = across(Object.assign(new Error("no such file"), { code: "EXPORT_UNREADABLE" }));
    expect(error).not.toBeInstanceOf(PanicDriftError);
  });

  it("a thrown non-Error becomes an internal error with its text", () => {
    const error = across("plain text");
    expect(error).not.toBeInstanceOf(PanicDriftError);
    expect(error.message).toBe("plain text");
    expect((error.cause as Error).stack).toContain("plain text");
    expect(new PanicDriftError("DB_EMPTY", "x").exitCode).toBe(EXIT_FAILURE);
  });
});
