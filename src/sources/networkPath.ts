/**
 * Upstream's frame shows a run's network, a JSON list of model names, joined
 * with "→" (e.g. `SDXLTurbo→Moondream`). NULL stays NULL; anything that is
 * not a JSON list of strings gives undefined so the caller can count it.
 */
export function networkPath(json: unknown): string | null | undefined {
  if (json === null || json === undefined) return null;
  if (typeof json !== "string") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((m) => typeof m === "string")) return undefined;
  return parsed.join("→");
}
