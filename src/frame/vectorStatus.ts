/**
 * Why a row's vector could not be handed to the kernel as numbers. Decided by
 * the source, which is the only place that sees the raw blob.
 */
export const VectorStatus = {
  ok: 0,
  /** The vector column is NULL (the engine fills vectors in after inserting rows). */
  null: 1,
  /** The blob's byte length is not a multiple of 4, so it is not float32s. */
  badLength: 2,
  /** The vector column holds TEXT, a number or anything else that is not a BLOB. */
  notBlob: 3,
} as const;
export type VectorStatus = (typeof VectorStatus)[keyof typeof VectorStatus];
