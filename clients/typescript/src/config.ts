/**
 * Where the client finds its API key and base URL (SPEC §11), exactly as the Python SDK
 * and `launchgate run` do.
 *
 * Each of the two values is looked up on its own, first hit wins: the constructor's
 * option, the environment (`LAUNCHGATE_API_KEY` / `LAUNCHGATE_API_URL`),
 * `./.launchgaterc`, then `~/.launchgaterc` (JSON `{"apiKey": …, "baseUrl": …}`); the base
 * URL falls back to the hosted API. Empty strings count as absent, so a CI template that
 * passes an empty input does not shadow the next source. Fail-open is on unless the option
 * or `LAUNCHGATE_FAIL_OPEN=false` turns it off.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

import { ConfigError } from "./errors.js";

export const DEFAULT_BASE_URL = "https://api.launchgate.ai";
export const RC_NAME = ".launchgaterc";
export const KEY_ENV = "LAUNCHGATE_API_KEY";
export const URL_ENV = "LAUNCHGATE_API_URL";
export const FAIL_OPEN_ENV = "LAUNCHGATE_FAIL_OPEN";
/** Where `launchgate serve` listens by default. */
const SELF_HOSTED_URL = "http://127.0.0.1:4001";
const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** The resolved settings, and where each came from (for messages; never the key itself). */
export interface ClientConfig {
  readonly apiKey: string;
  readonly baseUrl: string;
  /** `apiKey option`, `LAUNCHGATE_API_KEY` or the rc file's path. */
  readonly apiKeySource: string;
  /** `baseUrl option`, `LAUNCHGATE_API_URL`, the rc file's path or `default`. */
  readonly baseUrlSource: string;
  readonly failOpen: boolean;
}

/** What `resolveConfig` reads besides the options; the process's own by default. */
export interface ConfigSources {
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  home?: string;
}

/** Resolve the key, the base URL and fail-open. Throws `ConfigError` when no key is found
 * anywhere, or a source is malformed. */
export function resolveConfig(
  options: { apiKey?: string | undefined; baseUrl?: string | undefined; failOpen?: boolean | undefined } = {},
  sources: ConfigSources = {},
): ClientConfig {
  const env = sources.env ?? process.env;
  const rc = new RcFiles([
    join(sources.cwd ?? process.cwd(), RC_NAME),
    join(sources.home ?? homedir(), RC_NAME),
  ]);
  const key = first(
    [
      ["apiKey option", options.apiKey],
      [KEY_ENV, env[KEY_ENV]],
    ],
    rc,
    "apiKey",
  );
  if (key === null) {
    throw new ConfigError(
      `No LaunchGate API key: pass { apiKey }, set ${KEY_ENV}, ` +
        `or put {"apiKey": "lg_live_…"} in ./${RC_NAME} or ~/${RC_NAME}`,
      "NO_API_KEY",
    );
  }
  const url = first(
    [
      ["baseUrl option", options.baseUrl],
      [URL_ENV, env[URL_ENV]],
    ],
    rc,
    "baseUrl",
  );
  return {
    apiKey: key.value.trim(),
    baseUrl: normaliseBaseUrl(url?.value ?? DEFAULT_BASE_URL, url?.source),
    apiKeySource: key.source,
    baseUrlSource: url?.source ?? "default",
    failOpen: readFailOpen(options.failOpen, env[FAIL_OPEN_ENV]),
  };
}

/** `https://host/` and `https://host/v1` both mean `https://host`: the SDK adds `/v1`
 * itself, and users paste either. Anything that is not an http(s) URL with a host is a
 * `ConfigError` here, before any request: a gate that cannot be reached must not be
 * mistaken for an outage. */
export function normaliseBaseUrl(raw: string, source?: string): string {
  const url = raw.trim().replace(/\/+$/, "");
  const problem = urlProblem(url);
  if (problem !== null) {
    const where = source ? ` (from ${source})` : "";
    throw new ConfigError(`Invalid LaunchGate base URL "${url}"${where}: ${problem}`, "BAD_BASE_URL");
  }
  return url.endsWith("/v1") ? url.slice(0, -3) : url;
}

/** The base URL's source and how to change it, for a message about a URL that does not
 * work. The hosted default is the usual culprit for a self-hosted user. */
export function whereTheUrlCameFrom(config: ClientConfig): string {
  if (config.baseUrlSource === "default") {
    return (
      `${DEFAULT_BASE_URL} is the default, the hosted service; for a server of your own set ` +
      `${URL_ENV} (or { baseUrl }), e.g. ${SELF_HOSTED_URL}, where \`launchgate serve\` ` +
      "listens by default"
    );
  }
  return `the base URL comes from ${config.baseUrlSource}`;
}

function urlProblem(url: string): string | null {
  if (!/^https?:\/\//.test(url)) return "it must start with http:// or https://";
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return "it contains a space or a control character";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    return `it cannot be parsed (${(error as Error).message})`;
  }
  if (!parsed.hostname) return "it has no host";
  if (parsed.port === "0") return "port 0 is not a port a server listens on";
  if (parsed.search || parsed.hash || url.includes("?") || url.includes("#")) {
    return "it must not carry a query (?…) or a fragment (#…)";
  }
  return null;
}

function readFailOpen(option: boolean | undefined, value: string | undefined): boolean {
  if (option !== undefined) return option;
  const text = (value ?? "").trim().toLowerCase();
  if (!text || TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new ConfigError(`${FAIL_OPEN_ENV} must be true or false, not "${value}"`, "BAD_FAIL_OPEN");
}

interface Found {
  value: string;
  source: string;
}

function first(
  explicit: [string, string | undefined][],
  rc: RcFiles,
  field: "apiKey" | "baseUrl",
): Found | null {
  for (const [source, value] of explicit) {
    if (value !== undefined && value.trim()) return { value, source };
  }
  for (const path of rc.paths) {
    const value = rc.read(path)[field];
    if (typeof value === "string" && value.trim()) return { value, source: path };
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw new ConfigError(`${path}: ${field} must be a string`, "BAD_RC_FILE");
    }
  }
  return null;
}

/** Reads each rc file at most once, and only when an earlier source had no answer. */
class RcFiles {
  private readonly cache = new Map<string, Record<string, unknown>>();

  constructor(readonly paths: readonly string[]) {}

  read(path: string): Record<string, unknown> {
    let data = this.cache.get(path);
    if (data === undefined) {
      data = readRc(path);
      this.cache.set(path, data);
    }
    return data;
  }
}

function readRc(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return {};
    throw new ConfigError(`${path}: cannot be read (${code ?? String(error)})`, "BAD_RC_FILE");
  }
  let data: unknown;
  try {
    data = text.trim() ? JSON.parse(text) : {};
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`, "BAD_RC_FILE");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(
      `${path}: must hold a JSON object like {"apiKey": "…", "baseUrl": "…"}`,
      "BAD_RC_FILE",
    );
  }
  return data as Record<string, unknown>;
}
