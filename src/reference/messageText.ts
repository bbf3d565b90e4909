/** Pieces of one-line messages about other people's data: files, commands, servers. */

/** Quoted and cut to `max` code points with "…": texts may be long and multi-line. */
export function preview(text: string, max = 60): string {
  const chars = Array.from(text);
  return JSON.stringify(chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : text);
}

/** A value as a short phrase: `null`, `missing`, `an array`, `the string "…"`, a number. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${preview(value)}`;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    default:
      return `an ${typeof value}`;
  }
}

/** Whitespace (newlines included) collapsed to single spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

