/**
 * `@launchgate/sdk`: gate the outputs of your AI feature against LaunchGate eval suites.
 *
 *     import { LaunchGate } from "@launchgate/sdk";
 *
 *     const lg = new LaunchGate(); // key from LAUNCHGATE_API_KEY or .launchgaterc
 *     const result = await lg.run("refund-replies", { output: answer });
 *     if (!result.passed) process.exit(1);
 *
 * No runtime dependencies: Node >= 18's global `fetch`. See docs/sdk-typescript.md.
 */
export {
  LaunchGate,
  type BatchItem,
  type BatchOptions,
  type BatchWaitOptions,
  type LaunchGateOptions,
  type RunOptions,
  type WaitOptions,
} from "./client.js";
export { DEFAULT_BASE_URL, resolveConfig, type ClientConfig, type ConfigSources } from "./config.js";
export {
  AuthError,
  ConfigError,
  LaunchGateError,
  NotFoundError,
  PaymentError,
  UnreachableError,
  ValidationError,
  WaitTimeout,
} from "./errors.js";
export { isFinal } from "./types.js";
export type {
  BatchCase,
  BatchComparison,
  BatchResult,
  BatchStatus,
  BatchVerdictDetail,
  CaseComparison,
  CaseResult,
  CaseStatus,
  Classification,
  ItemCounts,
  JsonObject,
  RunResult,
  RunStatus,
  Sampling,
  Side,
  Trigger,
  VerdictDetail,
} from "./types.js";
export type { components as WireComponents, paths as WirePaths } from "./openapi.js";
export { VERSION } from "./version.js";
