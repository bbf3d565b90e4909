/**
 * First-generation databases store UUIDs as 32 hex characters; upstream's
 * frame shows them hyphenated 8-4-4-4-12. Anything that is not 32 hex
 * characters (already hyphenated, or foreign) is passed through unchanged
 * rather than sliced into nonsense.
 */
const HEX32 = /^[0-9a-fA-F]{32}$/;

export function hyphenateUuid(id: string): string;
export function hyphenateUuid(id: string | null): string | null;
export function hyphenateUuid(id: string | null): string | null {
  if (id === null || id.length !== 32 || !HEX32.test(id)) return id;
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}
