import { PanicDriftError, type ErrorCode } from "./errors.js";

/**
 * An error as a thread posts it (structured-clone safe). A thread's errors
 * cross to the main thread by one rule, errorToMessage there and
 * errorFromMessage here: a PanicDriftError keeps its code and message (its
 * exit code follows); anything else is a bug and stays one, an internal
 * error with its message. Either way the thread's stack comes along as the
 * error's cause, for --debug.
 */
export interface ErrorMessage {
  /** Set for a PanicDriftError only. */
  readonly code?: ErrorCode | undefined;
  readonly message: string;
  readonly stack?: string | undefined;
}

export function errorToMessage(error: unknown): ErrorMessage {
  if (error instanceof PanicDriftError) return { code: error.code, message: error.message, stack: error.stack };
  if (error instanceof Error) return { message: error.message, stack: error.stack };
  return { message: String(error) };
}

export function errorFromMessage(message: ErrorMessage): Error {
  const cause = new Error(message.message);
  cause.name = "ThreadError";
  cause.stack = message.stack ?? `ThreadError: ${message.message}`;
  if (message.code !== undefined) return new PanicDriftError(message.code, message.message, { cause });
  return new Error(message.message, { cause });
}
