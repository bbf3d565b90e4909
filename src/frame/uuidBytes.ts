/**
 * Ids as 16 bytes instead of 36-character strings: cheaper to build, to move
 * between threads and to hand to DuckDB (one bulk copy, no per-row call).
 * The layout is DuckDB's UUID: a little-endian int128 of the big-endian UUID
 * with its top bit flipped (so that it sorts like the text).
 *
 * Only lowercase text is taken, 32 hex digits (first generation) or
 * hyphenated 8-4-4-4-12 (second), because DuckDB prints a UUID back in
 * lowercase hyphenated form; anything else stays text (see `*_other`).
 */
export function writeUuid(text: string, words: Uint32Array, row: number): boolean {
  let at = 0;
  const base = row * 4;
  if (text.length === 32) {
    for (let word = 0; word < 4; word++, at += 8) {
      const value = hexWord(text, at);
      if (value < 0) return false;
      setWord(words, base, word, value);
    }
    return true;
  }
  if (text.length === 36 && text.charCodeAt(8) === 45 && text.charCodeAt(13) === 45 && text.charCodeAt(18) === 45 && text.charCodeAt(23) === 45) {
    const w0 = hexWord(text, 0);
    const w1 = hexWord(text, 9, 4) * 0x10000 + hexWord(text, 14, 4);
    const w2 = hexWord(text, 19, 4) * 0x10000 + hexWord(text, 24, 4);
    const w3 = hexWord(text, 28);
    if (w0 < 0 || w1 < 0 || w2 < 0 || w3 < 0 || hexWord(text, 9, 4) < 0 || hexWord(text, 14, 4) < 0 || hexWord(text, 19, 4) < 0 || hexWord(text, 24, 4) < 0) {
      return false;
    }
    setWord(words, base, 0, w0);
    setWord(words, base, 1, w1);
    setWord(words, base, 2, w2);
    setWord(words, base, 3, w3);
    return true;
  }
  return false;
}

/** Big-endian word k (0 = most significant) of the UUID into DuckDB's int128 layout. */
function setWord(words: Uint32Array, base: number, k: number, value: number): void {
  switch (k) {
    case 0:
      words[base + 3] = (value ^ 0x80000000) >>> 0;
      break;
    case 1:
      words[base + 2] = value;
      break;
    case 2:
      words[base + 1] = value;
      break;
    default:
      words[base] = value;
  }
}

/** `length` lowercase hex digits at `at` as a number, or -1. */
function hexWord(text: string, at: number, length = 8): number {
  let value = 0;
  for (let i = at; i < at + length; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else return -1;
    value = value * 16 + d;
  }
  return value;
}
