/**
 * The options of the embedding server client that come from the user: the
 * API base URL, the API key and NAME=SERVER_MODEL mappings. Each mistake is a
 * usage error that says what to write instead.
 */
import { usageError } from "../common/errors.js";
import { preview } from "./messageText.js";

/**
 * Parses repeated `NAME=SERVER_MODEL` option values (panic-tda model name,
 * then the name the server knows it by).
 */
export function parseModelMappings(values: readonly string[]): Map<string, string> {
  const mappings = new Map<string, string>();
  for (const value of values) {
    const eq = value.indexOf("=");
    const name = eq < 0 ? "" : value.slice(0, eq).trim();
    const serverModel = eq < 0 ? "" : value.slice(eq + 1).trim();
    if (eq < 0 || name === "" || serverModel === "") {
      const problem = eq < 0 ? 'has no "="' : name === "" ? "has no model name before the =" : "has no server model after the =";
      throw usageError(
        `model mapping ${preview(value, 60)} ${problem}: write NAME=SERVER_MODEL, e.g. nomic-embed-text=nomic-embed-text:v1.5`,
      );
    }
    const prior = mappings.get(name);
    if (prior !== undefined && prior !== serverModel) {
      throw usageError(
        `model ${JSON.stringify(name)} is mapped to both ${JSON.stringify(prior)} and ${JSON.stringify(serverModel)}: keep one mapping`,
      );
    }
    mappings.set(name, serverModel);
  }
  return mappings;
}

interface BaseUrl {
  origin: string;
  /** Without trailing slashes; "" for the root. */
  path: string;
  search: string;
}

export function parseBaseUrl(baseUrl: string): BaseUrl {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw usageError(`embedding server URL ${preview(baseUrl, 60)} is not a URL: pass the API base, e.g. http://localhost:11434/v1`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`embedding server URL ${preview(baseUrl, 60)} is not http or https: pass the API base, e.g. http://localhost:11434/v1`);
  }
  // fetch refuses such URLs, and the source string would carry the password into the cache.
  if (url.username !== "" || url.password !== "") {
    throw usageError("embedding server URL has a user name or password in it: remove it and pass the key as the API key instead");
  }
  return { origin: url.origin, path: url.pathname.replace(/\/+$/, ""), search: url.search };
}

export function checkApiKey(apiKey: string | undefined): string | undefined {
  // A key read from a file usually ends in a newline; an empty one (unset variable) means none.
  const key = apiKey?.trim();
  if (key === undefined || key === "") return undefined;
  // fetch would reject the header with the key quoted in its error.
  if (!/^[\x21-\x7e]+$/.test(key)) {
    throw usageError("The embedding server API key has a space, control or non-ASCII character in it; check the key.");
  }
  return key;
}
