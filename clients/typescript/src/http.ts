/**
 * One request's attempts: sending, reading the answer, deciding after each failure between
 * waiting and trying again, `ConfigError` and `UnreachableError` — as the Python SDK's
 * `_http` and `_attempts` do.
 *
 * Retried (SPEC §11): network errors, 5xx, 429 and a success that is not a JSON object (a
 * proxy's error page is an outage, not an answer), `backoffMs × 2ⁿ` apart (1 s, 2 s, 4 s),
 * longer when `Retry-After` asks for it. Never retried: the other 4xx, which become typed
 * errors at once. A host that does not resolve is a `ConfigError`: no server was ever
 * asked, so passing the gate as "skipped" would hide a typo behind an outage (`EAI_AGAIN`,
 * a resolver that did not answer for now, is retried first).
 */
import { type ClientConfig, whereTheUrlCameFrom } from "./config.js";
import { ConfigError, errorForStatus, UnreachableError } from "./errors.js";
import type { JsonObject } from "./types.js";
import { VERSION } from "./version.js";

export interface RetryPolicy {
  maxRetries: number;
  backoffMs: number;
  maxRetryAfterMs: number;
}

/** An attempt that may succeed if repeated: `cause` in a few words, `detail` one line. */
class Transient extends Error {
  constructor(
    readonly what: string,
    readonly detail: string,
    readonly retryAfterMs: number | null = null,
    readonly dns: "none" | "temporary" | "permanent" = "none",
  ) {
    super(detail);
  }
}

export interface Request {
  method: "GET" | "POST";
  path: string;
  body?: object;
}

/** Send one request with its retries; the JSON object of the 2xx answer. */
export async function send(
  config: ClientConfig,
  policy: RetryPolicy,
  timeoutMs: number,
  request: Request,
): Promise<JsonObject> {
  const attempts = policy.maxRetries + 1;
  for (let count = 1; ; count += 1) {
    let failure: Transient;
    try {
      return await attempt(config, timeoutMs, request);
    } catch (error) {
      failure = classify(error);
    }
    if (failure.dns === "permanent") throw dnsError(config, failure);
    if (count >= attempts) {
      if (failure.dns === "temporary") throw dnsError(config, failure);
      const times = count === 1 ? "once" : `${count} times`;
      throw new UnreachableError(
        `LaunchGate API at ${config.baseUrl} unreachable: ${failure.what} — ` +
          `${request.method} ${request.path} failed ${times} (last: ${failure.detail})`,
        count,
        config.baseUrl,
        failure.what,
      );
    }
    await sleep(delay(policy, count - 1, failure.retryAfterMs));
  }
}

/** `backoffMs × 2ⁿ`, or longer when the server's `Retry-After` asks, up to
 * `maxRetryAfterMs`. */
export function delay(policy: RetryPolicy, retry: number, retryAfterMs: number | null): number {
  const wait = policy.backoffMs * 2 ** retry;
  if (retryAfterMs === null) return wait;
  return Math.max(wait, Math.min(retryAfterMs, policy.maxRetryAfterMs));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function attempt(config: ClientConfig, timeoutMs: number, request: Request): Promise<JsonObject> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${config.apiKey}`,
    Accept: "application/json",
    "User-Agent": `launchgate-typescript/${VERSION}`,
  };
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(config.baseUrl + request.path, {
    method: request.method,
    headers,
    body: request.body === undefined ? null : JSON.stringify(request.body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return readAnswer(response, text);
}

function readAnswer(response: Response, text: string): JsonObject {
  const status = response.status;
  if (status === 429 || status >= 500) {
    const { code, message } = errorFields(status, text);
    const cause = `HTTP ${status}` + (status === 429 ? " (rate limited)" : "");
    throw new Transient(cause, `HTTP ${status} ${code}: ${message}`, retryAfter(response));
  }
  if (status >= 400) {
    const { code, message, details } = errorFields(status, text);
    throw errorForStatus(status, code, message, details);
  }
  const data = parse(text);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Transient(
      "an answer that is not JSON",
      `HTTP ${status} with a body that is not a JSON object`,
    );
  }
  return data as JsonObject;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The envelope's code, message and details; an HTTP-status fallback for anything else (a
 * proxy's page, an empty body). */
function errorFields(status: number, text: string): { code: string; message: string; details: unknown } {
  const data = parse(text);
  if (typeof data === "object" && data !== null && "error" in data) {
    const error: unknown = data.error;
    if (typeof error === "object" && error !== null && "message" in error) {
      const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
      if (typeof message === "string") {
        return { code: typeof code === "string" && code ? code : `HTTP_${status}`, message, details };
      }
    }
  }
  const body = text.split(/\s+/).join(" ").trim().slice(0, 200);
  return { code: `HTTP_${status}`, message: body || `HTTP ${status}`, details: null };
}

/** Milliseconds from `Retry-After`: seconds (fractions tolerated) or an HTTP date. */
function retryAfter(response: Response): number | null {
  const value = response.headers.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (value.trim() !== "" && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, when - Date.now());
}

const DROPPED = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNABORTED"]);
const TIMEOUTS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** What one failed attempt means. `fetch` wraps the socket's error as `cause` (an
 * `AggregateError` when several addresses were tried); the code says which it was. */
function classify(error: unknown): Transient {
  if (error instanceof Transient) return error;
  if (!(error instanceof Error)) throw error;
  if (error.name === "TimeoutError" || error.name === "AbortError") {
    return new Transient("timeout", `no answer within the timeout (${error.message})`);
  }
  if (!(error instanceof TypeError) || error.message !== "fetch failed") throw error;
  const cause = error.cause;
  const code = errorCode(cause);
  const detail = cause instanceof Error ? `${code ?? cause.name}: ${cause.message}` : error.message;
  if (code === "ENOTFOUND") return new Transient("DNS failure", detail, null, "permanent");
  if (code === "EAI_AGAIN") return new Transient("DNS failure", detail, null, "temporary");
  if (code === "ECONNREFUSED") return new Transient("connection refused", detail);
  if (code === "UND_ERR_CONNECT_TIMEOUT") return new Transient("connect timeout", detail);
  if (code !== null && TIMEOUTS.has(code)) return new Transient("timeout", detail);
  if (code !== null && DROPPED.has(code)) return new Transient("connection dropped", detail);
  return new Transient(code === null ? "network error" : "connection failed", detail);
}

function errorCode(cause: unknown): string | null {
  if (typeof cause !== "object" || cause === null) return null;
  if ("code" in cause && typeof cause.code === "string") return cause.code;
  if ("errors" in cause && Array.isArray(cause.errors)) return errorCode(cause.errors[0]);
  return null;
}

function dnsError(config: ClientConfig, failure: Transient): ConfigError {
  const host = new URL(config.baseUrl).hostname;
  return new ConfigError(
    `The LaunchGate API host "${host}" does not resolve (DNS failure: ${failure.detail}); ` +
      whereTheUrlCameFrom(config),
    "DNS_FAILURE",
  );
}
