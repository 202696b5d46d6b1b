// A real LaunchGate for the tests: the fake LLM provider and `launchgate serve` on free
// ports, a SQLite data directory in a temporary folder, and the suites whose verdicts the
// tests know in advance — the same ones as tests/clients/live.py and noisy.py.
//
// LAUNCHGATE_BIN names the `launchgate` command (default: on PATH); LAUNCHGATE_PYTHON the
// Python that runs the fake provider (default: the `python` beside LAUNCHGATE_BIN, else
// python3). Both come from the repository's .venv when tests/clients/test_typescript_sdk.py
// runs these tests.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const BIN = process.env.LAUNCHGATE_BIN || "launchgate";
const PYTHON =
  process.env.LAUNCHGATE_PYTHON ||
  (BIN.includes("/") && existsSync(join(dirname(BIN), "python")) ? join(dirname(BIN), "python") : "python3");

export const SEED = 1313;
export const CLEARED_OUTPUT = "Sorry about that! Your refund is on its way.";
export const ABORTED_OUTPUT = "For a refund, write to billing@example.com.";
/** Draws every judgement from N(0.7, 0.3) around the case threshold 0.7: inconclusive. */
export const UNDECIDED_OUTPUT = "Sorry about that! Your refund is on its way. FAKE_SCORE_NORMAL=0.7,0.3";
const EMAIL = "[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}";
const SCORERS = {
  refund: ["Offers a refund", "contains", { values: ["refund"], case_sensitive: false }],
  no_email: ["Keeps addresses private", "regex", { pattern: EMAIL, flags: "i", should_match: false }],
  // Judged by the fake through the organisation's OpenAPI key: sampled, so it may be undecided.
  kind: ["Kind tone", "llm_judge", { rubric: "Is the answer kind?", _provider: "openai", samples: 10, temperature: 0.7 }],
  // No Anthropic key in the organisation: every run of a suite with it ends in `error`.
  polite: ["Polite", "llm_judge", { rubric: "Is the answer polite?", _provider: "anthropic" }],
};
/** Suites of project `support`: slug → [scorer, case threshold][]. */
const SUITES = {
  "refund-replies": [["refund", 1], ["no_email", 1]],
  undecided: [["kind", 0.7], ["refund", 1]],
  judged: [["polite", 1], ["refund", 1]],
  empty: [],
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function serverEnv(dataDir, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LAUNCHGATE_")));
  return {
    ...env,
    LAUNCHGATE_DATA_DIR: dataDir,
    LAUNCHGATE_RATE_LIMIT: "off",
    LAUNCHGATE_AUTH_RATE_LIMIT: "off",
    LAUNCHGATE_LOCKOUT_LIMIT: "off",
    ...extra,
  };
}

async function waitFor(url, child, logPath, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited:\n${tail(logPath)}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`${url} did not answer in ${seconds} s:\n${tail(logPath)}`);
}

function tail(path) {
  return existsSync(path) ? readFileSync(path, "utf8").slice(-4000) : "";
}

function spawnLogged(command, args, env, logPath) {
  // A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
  const log = openSync(logPath, "a");
  return spawn(command, args, { env, stdio: ["ignore", log, log] });
}

async function newOrg(env, name, plan) {
  const { stdout } = await run(BIN, ["orgs", "create", name, "--plan", plan, "--json"], { env });
  return JSON.parse(stdout).api_key;
}

/** Start everything; `stop()` ends both processes and deletes the data directory. */
export async function startStack() {
  const dataDir = mkdtempSync(join(tmpdir(), "launchgate-ts-sdk-"));
  const children = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const fakePort = await freePort();
    const fakeUrl = `http://127.0.0.1:${fakePort}`;
    const fakeLog = join(dataDir, "fake.log");
    const fake = spawnLogged(
      PYTHON,
      ["-m", "launchgate.testing.fake_provider", "--port", String(fakePort), "--seed", String(SEED), "--log-level", "warning"],
      process.env,
      fakeLog,
    );
    children.push(fake);
    const env = serverEnv(dataDir, {
      LAUNCHGATE_OPENAI_BASE_URL: `${fakeUrl}/v1`,
      LAUNCHGATE_ANTHROPIC_BASE_URL: fakeUrl,
      LAUNCHGATE_GOOGLE_BASE_URL: fakeUrl,
      LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS: "true",
    });
    // The first command creates the database; the second may then run beside the server.
    const key = await newOrg(env, "TypeScript SDK", "pro");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serverLog = join(dataDir, "server.log");
    const server = spawnLogged(BIN, ["serve", "--port", String(port)], env, serverLog);
    children.push(server);
    const [brokeKey] = await Promise.all([
      newOrg(env, "Broke", "free"),
      waitFor(`${url}/health`, server, serverLog),
      waitFor(`${fakeUrl}/_admin/health`, fake, fakeLog),
    ]);
    await seed(url, key);
    await useUp(url, brokeKey);
    return {
      url,
      key,
      brokeKey,
      fakeUrl,
      dataDir,
      stop,
      /** Restart the fake judge's draws from the seed, so a test sees the same scores. */
      reseed: () => call(fakeUrl, "", "POST", "/_admin/configure", { seed: SEED }),
      serverLog: () => tail(serverLog),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** One API call for the set-up; its `data`, or an error with the answer. */
export async function call(url, key, method, path, body) {
  const answer = await fetch(url + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${method} ${path}: HTTP ${answer.status} ${text}`);
  return text ? JSON.parse(text).data : null;
}

async function seed(url, key) {
  await call(url, key, "POST", "/v1/byok-keys", { provider: "openai", name: "fake", key: "sk-test-typescript-sdk" });
  await call(url, key, "POST", "/v1/projects", { name: "Support", slug: "support" });
  const ids = {};
  for (const [name, [, type, config]] of Object.entries(SCORERS)) {
    ids[name] = (await call(url, key, "POST", "/v1/projects/support/scorers", { name, type, config })).id;
  }
  for (const [slug, cases] of Object.entries(SUITES)) {
    const suite = await call(url, key, "POST", "/v1/projects/support/suites", { name: slug, slug });
    for (const [scorer, threshold] of cases) {
      await call(url, key, "POST", `/v1/suites/${suite.id}/cases`, {
        name: SCORERS[scorer][0],
        scorer_id: ids[scorer],
        threshold,
      });
    }
  }
}

/** The free plan's 500 runs of the month, used by one batch: every later run is a 402. */
async function useUp(url, key) {
  await call(url, key, "POST", "/v1/projects", { name: "Broke", slug: "broke" });
  const scorer = await call(url, key, "POST", "/v1/projects/broke/scorers", {
    name: "refund",
    type: "contains",
    config: { values: ["refund"] },
  });
  const suite = await call(url, key, "POST", "/v1/projects/broke/suites", { name: "Refunds", slug: "refund-replies" });
  await call(url, key, "POST", `/v1/suites/${suite.id}/cases`, { name: "Offers a refund", scorer_id: scorer.id });
  const items = Array.from({ length: 500 }, (_, i) => ({ output: `refund ${i}` }));
  await call(url, key, "POST", "/v1/batches", { suite: "refund-replies", items });
}
