/**
 * `LaunchGate`: score an output (or a dataset of outputs) against an eval suite.
 *
 * Fail-open is never silent: a skipped run or batch writes one warning (stderr unless
 * `onWarning` says otherwise) and carries a `message` naming the URL tried and the cause; a
 * host that does not resolve is a `ConfigError`, never a skip; `failOpen: false` (or
 * `LAUNCHGATE_FAIL_OPEN=false`) makes `run` and `batch` throw `UnreachableError` instead.
 */
import { type ClientConfig, FAIL_OPEN_ENV, resolveConfig } from "./config.js";
import { LaunchGateError, UnreachableError, ValidationError, WaitTimeout } from "./errors.js";
import { type Request, type RetryPolicy, send, sleep } from "./http.js";
import {
  type BatchResult,
  batchFromWire,
  isFinal,
  type JsonObject,
  type RunResult,
  type Trigger,
  runFromWire,
  skippedBatch,
  skippedRun,
  type WireBatchItem,
  type WireBatchRequest,
  type WireRunRequest,
} from "./types.js";

/** Polling starts quickly (a small deterministic batch is done in a fraction of a second)
 * and slows down to the caller's interval. */
const FIRST_POLL_MS = 100;

export interface LaunchGateOptions {
  /** Default: `LAUNCHGATE_API_KEY`, then `./.launchgaterc`, then `~/.launchgaterc`. */
  apiKey?: string;
  /** Default: `LAUNCHGATE_API_URL`, the rc files, then `https://api.launchgate.ai`. */
  baseUrl?: string;
  /** Milliseconds to wait for each HTTP answer (default 30000). */
  timeout?: number;
  /** Retries after the first attempt for network errors, 5xx and 429 (default 3). */
  maxRetries?: number;
  /** The first retry's wait in milliseconds, doubled for each next one (default 1000:
   * 1 s, 2 s, 4 s). Tests and impatient callers shrink it. */
  backoffMs?: number;
  /** The longest `Retry-After` honoured, in milliseconds (default 60000). */
  maxRetryAfterMs?: number;
  /** Skip (pass) when the API stays unreachable (default: `LAUNCHGATE_FAIL_OPEN`, else
   * true); `false` throws `UnreachableError` instead. */
  failOpen?: boolean;
  /** Where the one warning of a skip goes (default: a line on stderr). */
  onWarning?: (message: string) => void;
}

export interface RunOptions {
  /** The output of your AI feature to score. */
  output: string;
  /** Merged into each case's input. */
  input?: JsonObject;
  /** Stored with the run (default `"sdk"`). */
  trigger?: Trigger;
  /** Any JSON object (≤ 16 KiB) stored with the run: a build, a commit, a request id. */
  triggerMeta?: JsonObject;
  /** Return at once with status `pending`; `waitForRun` gets the verdict. */
  async?: boolean;
  /** The project's slug, when the suite's slug exists in several projects. */
  project?: string;
  /** Score an empty or whitespace-only output instead of refusing it. */
  allowEmptyOutput?: boolean;
}

export interface WaitOptions {
  /** The longest pause between two polls in milliseconds (default 2000). */
  intervalMs?: number;
  /** Give up with `WaitTimeout` after this many milliseconds (runs 60000, batches
   * 600000). */
  timeoutMs?: number;
}

export interface BatchWaitOptions extends WaitOptions {
  /** Called with every batch polled (`items.done` of `items.total`). */
  onProgress?: (batch: BatchResult) => void;
}

/** One output of a batch; `key` is your stable name for its input (a dataset row id),
 * unique in the batch: items with the same key in the baseline are compared paired. */
export interface BatchItem {
  output: string;
  input?: JsonObject;
  key?: string;
}

export interface BatchOptions extends BatchWaitOptions {
  items: readonly BatchItem[];
  /** `"auto"` (the latest batch of the suite on its baseline branch), a batch id, or
   * none. */
  baseline?: string;
  /** The share of items that must clear, 0–1 (default: the suite's batch threshold). */
  minCleared?: number;
  /** Abort a batch with a regressed case even when enough items cleared (default: the
   * suite's setting). */
  failOnRegression?: boolean;
  trigger?: Trigger;
  triggerMeta?: JsonObject;
  project?: string;
  /** Return the `running` batch at once instead of waiting for its verdict. */
  async?: boolean;
  allowEmptyOutput?: boolean;
}

export class LaunchGate {
  /** The resolved key source, base URL and fail-open setting. */
  readonly config: ClientConfig;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly warn: (message: string) => void;

  /** Throws `ConfigError` when no API key can be found or the base URL is not a URL. */
  constructor(options: LaunchGateOptions = {}) {
    this.config = resolveConfig(options);
    this.retry = {
      maxRetries: options.maxRetries ?? 3,
      backoffMs: options.backoffMs ?? 1000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    };
    this.timeoutMs = options.timeout ?? 30_000;
    this.warn = options.onWarning ?? ((message) => process.stderr.write(`launchgate: ${message}\n`));
  }

  get baseUrl(): string {
    return this.config.baseUrl;
  }

  /**
   * Score `output` against every active case of the suite with slug `suite`.
   *
   * Resolves to the verdict (`pending` with `async: true`; `waitForRun` gets it), or to a
   * `skipped` result that counts as passed when the API stays unreachable. Throws
   * `AuthError`, `PaymentError`, `ValidationError` (also for an empty output unless
   * `allowEmptyOutput`), `NotFoundError`, `ConfigError`; `UnreachableError` instead of a
   * skip when fail-open is off.
   */
  async run(suite: string, options: RunOptions): Promise<RunResult> {
    refuseEmpty(options.output, options.allowEmptyOutput, "");
    const body: WireRunRequest = {
      suite,
      output: options.output,
      input: { ...options.input },
      trigger: options.trigger ?? "sdk",
      trigger_meta: { ...options.triggerMeta },
      async: options.async ?? false,
    };
    if (options.project) body.project = options.project;
    if (options.allowEmptyOutput) body.allow_empty_output = true;
    try {
      return runFromWire(await this.request({ method: "POST", path: "/v1/run", body }));
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      return skippedRun(this.skip(error, `The run of suite "${suite}"`));
    }
  }

  /** The stored run, with its trigger, input, output and timestamps, as `{ data }`.
   * Throws `UnreachableError` after the retries (there is no run to invent),
   * `NotFoundError` for an unknown id. */
  async getRun(run: string | RunResult): Promise<{ data: RunResult }> {
    const answer = await this.request({ method: "GET", path: `/v1/runs/${idOf(run, "run")}` });
    return { data: runFromWire(dataOf(answer, "run")) };
  }

  /** Poll a run until it is final — soon at first, then every `intervalMs`; `WaitTimeout`
   * (carrying the last run seen as `last`) after `timeoutMs`. */
  async waitForRun(run: string | RunResult, options: WaitOptions = {}): Promise<RunResult> {
    return poll(() => this.getRun(run).then((found) => found.data), options, 60_000, (last, s) =>
      new WaitTimeout(`Run ${last.id} still ${last.status} after ${s} s`, last),
    );
  }

  /**
   * Score every item against the suite with slug `suite`, as one batch: sent
   * asynchronously, then polled until final (unless `async: true`). An outage, before or
   * after the batch was accepted, is a `skipped` result that counts as passed and warns
   * once, unless fail-open is off (`UnreachableError`). Throws `ValidationError` for bad
   * items, `NotFoundError` for an unknown suite or baseline, as `run` does otherwise.
   */
  async batch(suite: string, options: BatchOptions): Promise<BatchResult> {
    const items = options.items.map((item, index): WireBatchItem => {
      refuseEmpty(item.output, options.allowEmptyOutput, `item ${index + 1} (key ${item.key ?? "none"}): `);
      const sent: WireBatchItem = { output: item.output };
      if (item.input) sent.input = { ...item.input };
      if (item.key !== undefined) sent.key = item.key;
      return sent;
    });
    // Always async: the client polls, so a long batch never holds an HTTP request open and
    // a retried POST never scores the whole dataset twice.
    const body: WireBatchRequest = {
      suite,
      items,
      trigger: options.trigger ?? "sdk",
      trigger_meta: { ...options.triggerMeta },
      async: true,
    };
    if (options.project) body.project = options.project;
    if (options.baseline !== undefined) body.baseline = options.baseline;
    if (options.minCleared !== undefined) body.min_cleared = options.minCleared;
    if (options.failOnRegression !== undefined) body.fail_on_regression = options.failOnRegression;
    if (options.allowEmptyOutput) body.allow_empty_output = true;
    let accepted: BatchResult;
    try {
      accepted = batchFromWire(dataOf(await this.request({ method: "POST", path: "/v1/batches", body }), "batch"));
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      return skippedBatch(this.skip(error, `The batch of suite "${suite}"`));
    }
    if (options.async || isFinal(accepted)) return accepted;
    try {
      return await this.waitForBatch(accepted, options);
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      return skippedBatch(this.skip(error, `The batch ${accepted.id} of suite "${suite}"`), accepted.id);
    }
  }

  /** The batch as it stands, as `{ data }`: progress while running, the verdict, per-case
   * figures and comparison once complete. Throws `UnreachableError` after the retries,
   * `NotFoundError` for an unknown id. */
  async getBatch(batch: string | BatchResult): Promise<{ data: BatchResult }> {
    const answer = await this.request({ method: "GET", path: `/v1/batches/${idOf(batch, "batch")}` });
    return { data: batchFromWire(dataOf(answer, "batch")) };
  }

  /** Poll a batch until it is final; `WaitTimeout` (carrying the last batch seen) after
   * `timeoutMs` (default ten minutes). */
  async waitForBatch(batch: string | BatchResult, options: BatchWaitOptions = {}): Promise<BatchResult> {
    const fetchOnce = async (): Promise<BatchResult> => {
      const { data } = await this.getBatch(batch);
      options.onProgress?.(data);
      return data;
    };
    return poll(fetchOnce, options, 600_000, (last, s) =>
      new WaitTimeout(
        `Batch ${last.id} still ${last.status} after ${s} s (${last.items.done}/${last.items.total} items done)`,
        last,
      ),
    );
  }

  private request(request: Request): Promise<JsonObject> {
    return send(this.config, this.retry, this.timeoutMs, request);
  }

  /** Fail-open: the message of a skip, said once; or the error, when fail-open is off. */
  private skip(error: UnreachableError, what: string): string {
    if (!this.config.failOpen) throw error;
    const message =
      `${error.message}. ${what} was skipped and counts as passed ` +
      `(fail-open; failOpen: false or ${FAIL_OPEN_ENV}=false makes it a failure)`;
    this.warn(message);
    return message;
  }
}

async function poll<T extends { status: string }>(
  once: () => Promise<T>,
  options: WaitOptions,
  defaultTimeoutMs: number,
  timedOut: (last: T, seconds: number) => WaitTimeout<T>,
): Promise<T> {
  const interval = options.intervalMs ?? 2000;
  const timeout = options.timeoutMs ?? defaultTimeoutMs;
  const deadline = Date.now() + timeout;
  let pause = Math.min(FIRST_POLL_MS, interval);
  for (;;) {
    const found = await once();
    const remaining = deadline - Date.now();
    if (isFinal(found)) return found;
    if (remaining <= 0) throw timedOut(found, timeout / 1000);
    await sleep(Math.min(pause, remaining));
    pause = Math.min(pause * 2, interval);
  }
}

function refuseEmpty(output: string, allowed: boolean | undefined, where: string): void {
  if (typeof output !== "string") {
    throw new ValidationError(`${where}output must be a string`, "VALIDATION_ERROR");
  }
  if (output.trim() || allowed) return;
  const what = output ? "only whitespace" : "empty";
  throw new ValidationError(
    `${where}output is ${what}: an empty output almost always means the pipeline that ` +
      "produced it broke; pass allowEmptyOutput: true to score it anyway",
    "VALIDATION_ERROR",
  );
}

function idOf(value: string | { id: string | null }, what: "run" | "batch"): string {
  const id = typeof value === "string" ? value : value.id;
  if (!id) throw new LaunchGateError(`A skipped ${what} has no id to fetch`, `NO_${what.toUpperCase()}_ID`);
  return encodeURIComponent(id);
}

function dataOf(answer: JsonObject, what: string): JsonObject {
  const data = answer["data"];
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new LaunchGateError(`The API answered without a ${what} in 'data'`, "BAD_ANSWER");
  }
  return data as JsonObject;
}
