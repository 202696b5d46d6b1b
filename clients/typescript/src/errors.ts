/**
 * The SDK's errors: one small tree under `LaunchGateError`, each carrying the server's
 * `code`, `message`, HTTP `status` and `details` when it sent them.
 *
 * `run` and `batch` raise the request errors (the caller must fix something) and
 * `ConfigError` (no key, a bad URL, a host that does not resolve: nothing was ever
 * checked). A configured server that cannot be reached is not the caller's fault, so they
 * answer `skipped` instead (fail-open) unless the client was made with `failOpen: false`;
 * then, like `getRun` and the waits, which cannot invent a result, they throw
 * `UnreachableError`.
 */

/** Base of every SDK error. */
export class LaunchGateError extends Error {
  /** The server's error code (`UNAUTHORIZED`, `NOT_FOUND`…) or the SDK's own. */
  readonly code: string;
  /** The HTTP status of the answer; `null` for the SDK's own errors. */
  readonly status: number | null;
  /** The server's `details`, as sent. */
  readonly details: unknown;

  constructor(message: string, code = "ERROR", status: number | null = null, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details ?? null;
  }
}

/** No API key was found, a `.launchgaterc` or the base URL is malformed, or the base URL's
 * host does not resolve (code `DNS_FAILURE`). */
export class ConfigError extends LaunchGateError {}

/** 401 or 403: the API key is missing, unknown, expired or revoked. */
export class AuthError extends LaunchGateError {}

/** 402: the organisation used its monthly runs. */
export class PaymentError extends LaunchGateError {}

/** 400, 409, 422 (or another 4xx): the request breaks a rule, e.g. a suite with no active
 * case, an empty output, a slug in two projects. */
export class ValidationError extends LaunchGateError {}

/** 404: no such suite, project, run or batch in this organisation. A `ValidationError`,
 * so one `catch` handles every refused request. */
export class NotFoundError extends ValidationError {}

/** The API did not answer usefully after every retry (network error, 5xx or 429). */
export class UnreachableError extends LaunchGateError {
  /** How many attempts were made. */
  readonly attempts: number;
  /** The base URL tried. */
  readonly url: string;
  /** The last failure in a few words: `connection refused`, `timeout`, `HTTP 503`… */
  override readonly cause: string;

  constructor(message: string, attempts: number, url: string, cause: string) {
    super(message, "UNREACHABLE");
    this.attempts = attempts;
    this.url = url;
    this.cause = cause;
  }
}

/** A wait gave up before the run or batch reached a final status; `last` is the last one
 * seen. */
export class WaitTimeout<T> extends LaunchGateError {
  readonly last: T;

  constructor(message: string, last: T) {
    super(message, "WAIT_TIMEOUT");
    this.last = last;
  }
}

/** The error for a 4xx answer that must not be retried. */
export function errorForStatus(
  status: number,
  code: string,
  message: string,
  details: unknown,
): LaunchGateError {
  if (status === 401 || status === 403) return new AuthError(message, code, status, details);
  if (status === 402) return new PaymentError(message, code, status, details);
  if (status === 404) return new NotFoundError(message, code, status, details);
  return new ValidationError(message, code, status, details);
}
