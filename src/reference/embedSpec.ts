// Light: read by the up-to-date check.

/** Where missing reference vectors are fetched from (the `--embed-cmd` / `--embed-url` options). */
export type EmbedSpec =
  | { readonly kind: "command"; readonly command: string; readonly batchSize?: number }
  | {
      readonly kind: "server";
      /** The API base, as OpenAI clients take it, e.g. http://localhost:11434/v1. */
      readonly url: string;
      /** panic-tda model name → the server's model name (default: the same name). */
      readonly models?: Readonly<Record<string, string>>;
      /** Sent as a bearer token; never recorded or printed. */
      readonly apiKey?: string;
      readonly batchSize?: number;
    };

/**
 * Where one model's vectors come from, as the reference cache records it:
 * the command, or the server and the model asked for. A vector counts only
 * for the same source, so switching embedders fetches again.
 */
export function embedSourceFor(spec: EmbedSpec, model: string): string {
  if (spec.kind === "command") return `cmd:${spec.command}`;
  return `url:${spec.url.replace(/\/+$/, "")}#${spec.models?.[model] ?? model}`;
}

/** The embedder's identity for the up-to-date check (no secret in it). */
export function embedSpecDescription(spec: EmbedSpec): string {
  if (spec.kind === "command") return `cmd:${spec.command}`;
  const models = Object.entries(spec.models ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `url:${spec.url.replace(/\/+$/, "")} ${JSON.stringify(models)}`;
}
