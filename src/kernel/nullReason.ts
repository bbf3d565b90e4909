/**
 * Why a row has no drift. Every NULL drift carries exactly one reason; when
 * several apply, the first in this list is reported (problems of the vector
 * itself before problems of its reference).
 */
export const NULL_REASONS = [
  "null_vector",
  "bad_blob_length",
  "not_blob",
  "non_finite",
  "zero_vector",
  "first_step",
  "missing_reference",
  "zero_reference",
  "dimension_mismatch",
] as const;
export type NullReason = (typeof NULL_REASONS)[number];

/** Reason codes as stored per row: 0 means the row has a drift. */
export const REASON_CODE: Readonly<Record<NullReason, number>> = Object.freeze(
  Object.fromEntries(NULL_REASONS.map((r, i) => [r, i + 1])) as Record<NullReason, number>,
);

export function reasonOfCode(code: number): NullReason {
  const reason = NULL_REASONS[code - 1];
  if (reason === undefined) throw new RangeError(`no null reason with code ${code}`);
  return reason;
}

export function emptyReasonCounts(): Record<NullReason, number> {
  return Object.fromEntries(NULL_REASONS.map((r) => [r, 0])) as Record<NullReason, number>;
}
