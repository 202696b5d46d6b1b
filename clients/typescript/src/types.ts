/**
 * The SDK's public results, in camelCase, and their mapping from the wire types that
 * openapi-typescript generates from the API's schema (`openapi.ts`). A field renamed or
 * retyped on the server breaks this file at compile time, not a user at run time.
 *
 * Answers are read leniently, as the Python SDK reads them: a missing optional field gets
 * its default, so an older or newer server still parses; unknown fields stay in `raw`.
 */
import type { components } from "./openapi.js";

type Schemas = components["schemas"];
/** The API's request and answer bodies, as generated from its OpenAPI schema. */
export type WireRunRequest = Schemas["RunRequest"];
export type WireRunResult = Schemas["RunResult"];
export type WireRunAccepted = Schemas["RunAccepted"];
export type WireRunOut = Schemas["RunOut"];
export type WireCaseScore = Schemas["CaseScore"];
export type WireSampling = Schemas["Sampling"];
export type WireVerdictDetail = Schemas["VerdictDetail"];
export type WireBatchRequest = Schemas["BatchRequest"];
export type WireBatchItem = Schemas["BatchItem"];
export type WireBatchOut = Schemas["BatchOut"];
export type WireItemCounts = Schemas["ItemCounts"];
export type WireCaseFigures = Schemas["CaseFigures"];
export type WireComparison = Schemas["Comparison"];
export type WireCaseComparison = Schemas["CaseComparison"];
export type WireSide = Schemas["Side"];
export type WireBatchVerdictDetail = Schemas["BatchVerdictDetail"];
export type WireErrorEnvelope = Schemas["ErrorEnvelope"];

/** Every field of `POST /v1/run`'s answer is one of `GET /v1/runs/{id}`'s: one mapping
 * reads both (this fails to compile if the schema ever says otherwise). */
type Covers<Wide, Narrow> = Exclude<keyof Narrow, keyof Wide> extends never ? true : never;
const runOutCoversRunResult: Covers<WireRunOut, WireRunResult> = true;
void runOutCoversRunResult;

/** A JSON object as received. */
export type JsonObject = { readonly [key: string]: unknown };

/** What started a run: `sdk` unless you say otherwise. */
export type Trigger = NonNullable<WireRunRequest["trigger"]>;
export type RunStatus = WireRunResult["status"] | "skipped";
export type CaseStatus = WireCaseScore["status"];
export type BatchStatus = WireBatchOut["status"] | "skipped";
export type Classification = WireCaseComparison["classification"];
const FINAL = new Set(["cleared", "aborted", "error", "inconclusive", "skipped"]);

/** How an `llm_judge` case was judged: every judgement's score, their mean, the confidence
 * interval of that mean and why the judging stopped — `decided` (the interval cleared the
 * threshold) or `max_samples` (all were spent). */
export interface Sampling {
  samples: number[];
  mean: number;
  interval: [number, number];
  confidence: number;
  stopped: WireSampling["stopped"];
}

/** The raw verdict of a run with inconclusive cases, before the suite's `onInconclusive`
 * mapped it; the pass rates count the undecided cases as failed (`low`) and passed
 * (`high`). `mapped` is true when `onInconclusive` turned an inconclusive run into a
 * verdict. */
export interface VerdictDetail {
  status: WireVerdictDetail["status"];
  onInconclusive: WireVerdictDetail["on_inconclusive"];
  passRateLow: number;
  passRateHigh: number;
  inconclusiveCases: number;
  mapped: boolean;
}

/** One case scored against the output; it passed when `score >= threshold`. */
export interface CaseResult {
  case: string;
  caseId: string;
  passed: boolean;
  score: number;
  threshold: number;
  status: CaseStatus;
  reason: string;
  weight: number;
  durationMs: number;
  scorerType: string | null;
  precision: number | null;
  recall: number | null;
  judge: JsonObject | null;
  /** Set for an `llm_judge` case that got judgements. */
  sampling: Sampling | null;
}

/**
 * A run: the verdict of one output against a suite.
 *
 * `status` is `cleared`, `aborted` or `error` once scored, `inconclusive` when the judge
 * could not decide enough cases (`passed` false), `pending`/`running` for an async run not
 * finished, and `skipped` when the API could not be reached — then `passed` is true so an
 * outage never blocks a release, `id` is null and `message` says why. The fields after
 * `message` come from `getRun` (null from `run`).
 */
export interface RunResult {
  id: string | null;
  status: RunStatus;
  passed: boolean;
  passRate: number | null;
  totalCases: number;
  passedCases: number;
  failedCases: number;
  errorCases: number;
  inconclusiveCases: number;
  durationMs: number | null;
  scores: CaseResult[];
  failures: CaseResult[];
  /** Set whenever a case was inconclusive. */
  verdictDetail: VerdictDetail | null;
  /** Why a run was skipped, or the server's note on an accepted async run. */
  message: string | null;
  suite: JsonObject | null;
  trigger: string | null;
  triggerMeta: JsonObject | null;
  output: string | null;
  input: JsonObject | null;
  batchId: string | null;
  key: string | null;
  createdAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  /** The JSON as received (empty for a skip). */
  raw: JsonObject;
}

/** Items of a batch per final status; `done` of `total` is the progress while running. */
export interface ItemCounts {
  total: number;
  done: number;
  cleared: number;
  aborted: number;
  inconclusive: number;
  error: number;
}

/** One case across the items: `passed` of `items` (errors left out), its pass rate and
 * the 95% Wilson interval of that rate. */
export interface BatchCase {
  caseId: string;
  case: string;
  threshold: number;
  items: number;
  passed: number;
  errors: number;
  passRate: number | null;
  interval: [number, number];
}

/** A case's figures in one of the two batches compared. */
export interface Side {
  passed: number;
  items: number;
  passRate: number | null;
}

/** One case against the baseline: both pass rates, their `difference` (current −
 * baseline) with its 95% interval, the test's p-value and its Benjamini-Hochberg
 * q-value, and the classification. */
export interface CaseComparison {
  caseId: string;
  case: string;
  current: Side | null;
  baseline: Side | null;
  difference: number | null;
  interval: [number, number] | null;
  pValue: number | null;
  qValue: number | null;
  test: WireCaseComparison["test"];
  pairs: number;
  classification: Classification;
}

/** The batch against its baseline, case by case (suite order). */
export interface BatchComparison {
  baselineId: string;
  currentId: string;
  falseDiscoveryRate: number;
  regressedCases: number;
  improvedCases: number;
  cases: CaseComparison[];
}

/** The raw verdict behind a batch's `status`: before `on_inconclusive` mapped it, and
 * whether `failOnRegression` made it `aborted`. */
export interface BatchVerdictDetail {
  status: WireBatchVerdictDetail["status"];
  onInconclusive: string;
  passRateLow: number;
  passRateHigh: number;
  inconclusiveItems: number;
  abortedByRegression: boolean;
}

/**
 * A batch: the verdict of a dataset of outputs against a suite.
 *
 * `status` is `running` until every item is final, then `cleared` (the share of items
 * cleared, `passRate`, reached `minCleared`), `aborted`, `inconclusive` or `error`;
 * `skipped` when the API could not be reached — then `passed` is true (fail-open), `id`
 * is null unless the batch was accepted before the outage, and `message` says why.
 * `cases` and `comparison` are null while running; `regressions` lists the cases
 * classified `regressed` against the baseline.
 */
export interface BatchResult {
  id: string | null;
  status: BatchStatus;
  passed: boolean;
  passRate: number | null;
  minCleared: number | null;
  failOnRegression: boolean;
  items: ItemCounts;
  cases: BatchCase[] | null;
  baseline: string | null;
  baselineId: string | null;
  comparison: BatchComparison | null;
  regressions: CaseComparison[];
  verdictDetail: BatchVerdictDetail | null;
  message: string | null;
  suiteId: string | null;
  projectId: string | null;
  trigger: string | null;
  triggerMeta: JsonObject | null;
  createdAt: string | null;
  completedAt: string | null;
  raw: JsonObject;
}

/** True once the status can no longer change. */
export function isFinal(result: { status: string }): boolean {
  return FINAL.has(result.status);
}

type Lenient<T> = { readonly [K in keyof T]?: T[K] | null | undefined };
type WireRun = Lenient<WireRunOut> & { message?: string | null };

export function runFromWire(data: WireRun): RunResult {
  const detail = data.verdict_detail;
  return {
    id: data.id ?? null,
    status: data.status ?? "error",
    passed: data.passed ?? false,
    passRate: data.pass_rate ?? null,
    totalCases: data.total_cases ?? 0,
    passedCases: data.passed_cases ?? 0,
    failedCases: data.failed_cases ?? 0,
    errorCases: data.error_cases ?? 0,
    inconclusiveCases: data.inconclusive_cases ?? 0,
    durationMs: data.duration_ms ?? null,
    scores: (data.scores ?? []).map(caseFromWire),
    failures: (data.failures ?? []).map(caseFromWire),
    verdictDetail: detail ? verdictFromWire(detail) : null,
    message: data.message ?? null,
    suite: data.suite ?? null,
    trigger: data.trigger ?? null,
    triggerMeta: data.trigger_meta ?? null,
    output: data.output ?? null,
    input: data.input ?? null,
    batchId: data.batch_id ?? null,
    key: data.key ?? null,
    createdAt: data.created_at ?? null,
    startedAt: data.started_at ?? null,
    completedAt: data.completed_at ?? null,
    raw: data as JsonObject,
  };
}

export function skippedRun(message: string): RunResult {
  return { ...runFromWire({}), status: "skipped", passed: true, message, raw: {} };
}

function caseFromWire(data: Lenient<WireCaseScore>): CaseResult {
  return {
    case: data.case ?? "",
    caseId: data.case_id ?? "",
    passed: data.passed ?? false,
    score: data.score ?? 0,
    threshold: data.threshold ?? 0,
    status: data.status ?? "error",
    reason: data.reason ?? "",
    weight: data.weight ?? 1,
    durationMs: data.duration_ms ?? 0,
    scorerType: data.scorer_type ?? null,
    precision: data.precision ?? null,
    recall: data.recall ?? null,
    judge: data.judge ?? null,
    sampling: data.sampling ? samplingFromWire(data.sampling) : null,
  };
}

function samplingFromWire(data: Lenient<WireSampling>): Sampling {
  return {
    samples: [...(data.samples ?? [])],
    mean: data.mean ?? 0,
    interval: pair(data.interval) ?? [0, 1],
    confidence: data.confidence ?? 0,
    stopped: data.stopped ?? "max_samples",
  };
}

function verdictFromWire(data: Lenient<WireVerdictDetail>): VerdictDetail {
  const status = data.status ?? "error";
  const onInconclusive = data.on_inconclusive ?? "inconclusive";
  return {
    status,
    onInconclusive,
    passRateLow: data.pass_rate_low ?? 0,
    passRateHigh: data.pass_rate_high ?? 0,
    inconclusiveCases: data.inconclusive_cases ?? 0,
    mapped: status === "inconclusive" && onInconclusive !== "inconclusive",
  };
}

export function batchFromWire(data: Lenient<WireBatchOut>): BatchResult {
  const comparison = data.comparison ? comparisonFromWire(data.comparison) : null;
  const detail = data.verdict_detail;
  return {
    id: data.id ?? null,
    status: data.status ?? "error",
    passed: data.passed ?? false,
    passRate: data.pass_rate ?? null,
    minCleared: data.min_cleared ?? null,
    failOnRegression: data.fail_on_regression ?? false,
    items: countsFromWire(data.items ?? {}),
    cases: data.cases ? data.cases.map(batchCaseFromWire) : null,
    baseline: data.baseline ?? null,
    baselineId: data.baseline_id ?? null,
    comparison,
    regressions: comparison ? comparison.cases.filter((c) => c.classification === "regressed") : [],
    verdictDetail: detail
      ? {
          status: detail.status,
          onInconclusive: detail.on_inconclusive,
          passRateLow: detail.pass_rate_low,
          passRateHigh: detail.pass_rate_high,
          inconclusiveItems: detail.inconclusive_items,
          abortedByRegression: detail.aborted_by_regression,
        }
      : null,
    message: null,
    suiteId: data.suite_id ?? null,
    projectId: data.project_id ?? null,
    trigger: data.trigger ?? null,
    triggerMeta: data.trigger_meta ?? null,
    createdAt: data.created_at ?? null,
    completedAt: data.completed_at ?? null,
    raw: data as JsonObject,
  };
}

export function skippedBatch(message: string, id: string | null = null): BatchResult {
  return { ...batchFromWire({}), id, status: "skipped", passed: true, message, raw: {} };
}

function countsFromWire(data: Lenient<WireItemCounts>): ItemCounts {
  return {
    total: data.total ?? 0,
    done: data.done ?? 0,
    cleared: data.cleared ?? 0,
    aborted: data.aborted ?? 0,
    inconclusive: data.inconclusive ?? 0,
    error: data.error ?? 0,
  };
}

function batchCaseFromWire(data: Lenient<WireCaseFigures>): BatchCase {
  return {
    caseId: data.case_id ?? "",
    case: data.case ?? "",
    threshold: data.threshold ?? 0,
    items: data.items ?? 0,
    passed: data.passed ?? 0,
    errors: data.errors ?? 0,
    passRate: data.pass_rate ?? null,
    interval: pair(data.interval) ?? [0, 1],
  };
}

function comparisonFromWire(data: Lenient<WireComparison>): BatchComparison {
  return {
    baselineId: data.baseline_id ?? "",
    currentId: data.current_id ?? "",
    falseDiscoveryRate: data.false_discovery_rate ?? 0,
    regressedCases: data.regressed_cases ?? 0,
    improvedCases: data.improved_cases ?? 0,
    cases: (data.cases ?? []).map(caseComparisonFromWire),
  };
}

function caseComparisonFromWire(data: Lenient<WireCaseComparison>): CaseComparison {
  return {
    caseId: data.case_id ?? "",
    case: data.case ?? "",
    current: data.current ? sideFromWire(data.current) : null,
    baseline: data.baseline ? sideFromWire(data.baseline) : null,
    difference: data.difference ?? null,
    interval: pair(data.interval),
    pValue: data.p_value ?? null,
    qValue: data.q_value ?? null,
    test: data.test ?? null,
    pairs: data.pairs ?? 0,
    classification: data.classification ?? "unchanged",
  };
}

function sideFromWire(data: Lenient<WireSide>): Side {
  return { passed: data.passed ?? 0, items: data.items ?? 0, passRate: data.pass_rate ?? null };
}

function pair(values: readonly number[] | null | undefined): [number, number] | null {
  if (!values || values.length < 2) return null;
  return [values[0] ?? 0, values[1] ?? 0];
}
