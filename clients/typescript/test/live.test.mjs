// Against a real `launchgate serve` (and the fake LLM provider for the judge), started
// once for this file: every status, async runs, batches, each error class, the key from
// an rc file, the packed tarball from ESM and CommonJS, and the documentation's examples.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

import {
  AuthError,
  LaunchGate,
  LaunchGateError,
  NotFoundError,
  PaymentError,
  ValidationError,
} from "@launchgate/sdk";

import { PACKAGE_DIR, cleanEnv, runNode, runSnippet } from "./support/child.mjs";
import { ABORTED_OUTPUT, CLEARED_OUTPUT, UNDECIDED_OUTPUT, startStack } from "./support/stack.mjs";

const exec = promisify(execFile);
let stack;
let lg;

before(async () => {
  stack = await startStack();
  lg = new LaunchGate({ apiKey: stack.key, baseUrl: stack.url });
});
after(async () => {
  await stack?.stop();
});

describe("run", () => {
  it("clears an output that passes every case", async () => {
    const result = await lg.run("refund-replies", { output: CLEARED_OUTPUT, triggerMeta: { build: 7 } });
    assert.equal(result.status, "cleared");
    assert.equal(result.passed, true);
    assert.equal(result.passRate, 1);
    assert.deepEqual([result.totalCases, result.passedCases, result.failedCases, result.errorCases], [2, 2, 0, 0]);
    assert.match(result.id, /^run_/);
    assert.equal(typeof result.durationMs, "number");
    assert.deepEqual(result.failures, []);
    assert.deepEqual(result.scores.map((s) => [s.case, s.passed, s.score, s.threshold, s.status]), [
      ["Offers a refund", true, 1, 1, "passed"],
      ["Keeps addresses private", true, 1, 1, "passed"],
    ]);
    assert.equal(result.verdictDetail, null);
  });

  it("aborts one that fails a case, naming it in failures", async () => {
    const result = await lg.run("refund-replies", { output: ABORTED_OUTPUT });
    assert.equal(result.status, "aborted");
    assert.equal(result.passed, false);
    assert.equal(result.passRate, 0.5);
    assert.equal(result.failedCases, 1);
    assert.deepEqual(result.failures.map((f) => [f.case, f.status, f.caseId.length > 0]), [["Keeps addresses private", "failed", true]]);
    assert.ok(result.failures[0].reason.length > 0);
  });

  it("ends in error when a case cannot be scored (no provider key for its judge)", async () => {
    const result = await lg.run("judged", { output: CLEARED_OUTPUT });
    assert.equal(result.status, "error");
    assert.equal(result.passed, false);
    assert.equal(result.errorCases, 1);
    assert.equal(result.scores.find((s) => s.case === "Polite").status, "error");
  });

  it("is inconclusive when the sampled judge cannot decide, with the sampling and the raw verdict", async () => {
    await stack.reseed();
    const result = await lg.run("undecided", { output: UNDECIDED_OUTPUT });
    assert.equal(result.status, "inconclusive");
    assert.equal(result.passed, false);
    assert.equal(result.inconclusiveCases, 1);
    assert.deepEqual(result.verdictDetail, {
      status: "inconclusive",
      onInconclusive: "inconclusive",
      passRateLow: 0.5,
      passRateHigh: 1,
      inconclusiveCases: 1,
      mapped: false,
    });
    const judged = result.failures.find((f) => f.status === "inconclusive");
    assert.equal(judged.case, "Kind tone");
    assert.equal(judged.sampling.samples.length, 10);
    assert.equal(judged.sampling.stopped, "max_samples");
    const [low, high] = judged.sampling.interval;
    assert.ok(low < 0.7 && 0.7 < high, `${low} < 0.7 < ${high}`);
    assert.equal(judged.sampling.mean, judged.score);
  });

  it("runs asynchronously, then waitForRun and getRun give the verdict and the stored run", async () => {
    const queued = await lg.run("refund-replies", { output: CLEARED_OUTPUT, async: true, trigger: "api", triggerMeta: { pr: 15 } });
    assert.equal(queued.status, "pending");
    assert.match(queued.id, /^run_/);
    const done = await lg.waitForRun(queued, { intervalMs: 200, timeoutMs: 30_000 });
    assert.equal(done.status, "cleared");
    const { data } = await lg.getRun(queued.id);
    assert.equal(data.id, queued.id);
    assert.equal(data.status, "cleared");
    assert.equal(data.trigger, "api");
    assert.deepEqual(data.triggerMeta, { pr: 15 });
    assert.equal(data.output, CLEARED_OUTPUT);
    assert.equal(data.suite.slug, "refund-replies");
    assert.ok(data.createdAt && data.completedAt);
    assert.equal(data.raw.id, queued.id);
  });
});

describe("batch", () => {
  it("scores a dataset as one batch, polling until the verdict", async () => {
    const seen = [];
    const batch = await lg.batch("refund-replies", {
      items: [
        { key: "a", output: CLEARED_OUTPUT },
        { key: "b", output: ABORTED_OUTPUT, input: { customer: "Bo" } },
      ],
      minCleared: 0.5,
      triggerMeta: { branch: "main" },
      intervalMs: 100,
      onProgress: (b) => seen.push(b.status),
    });
    assert.equal(batch.status, "cleared");
    assert.equal(batch.passed, true);
    assert.equal(batch.passRate, 0.5);
    assert.equal(batch.minCleared, 0.5);
    assert.deepEqual(batch.items, { total: 2, done: 2, cleared: 1, aborted: 1, inconclusive: 0, error: 0 });
    assert.deepEqual(batch.cases.map((c) => [c.case, c.passed, c.items]), [
      ["Offers a refund", 2, 2],
      ["Keeps addresses private", 1, 2],
    ]);
    assert.equal(seen.at(-1), "cleared");
    assert.deepEqual(batch.triggerMeta, { branch: "main" });

    const against = await lg.batch("refund-replies", {
      items: [{ key: "a", output: ABORTED_OUTPUT }, { key: "b", output: ABORTED_OUTPUT }],
      baseline: "auto",
      triggerMeta: { branch: "change" },
      intervalMs: 100,
    });
    assert.equal(against.status, "aborted");
    assert.equal(against.baselineId, batch.id);
    assert.equal(against.comparison.baselineId, batch.id);
    assert.deepEqual(against.comparison.cases.map((c) => [c.case, c.pairs, c.classification]), [
      ["Offers a refund", 2, "unchanged"],
      ["Keeps addresses private", 2, "unchanged"],
    ]);
    assert.deepEqual(against.regressions, []);
  });

  it("returns the running batch with async: true; getBatch and waitForBatch follow it", async () => {
    const queued = await lg.batch("refund-replies", { items: [{ output: CLEARED_OUTPUT }], async: true });
    assert.match(queued.id, /^bat_/);
    const done = await lg.waitForBatch(queued.id, { intervalMs: 100 });
    assert.equal(done.status, "cleared");
    const { data } = await lg.getBatch(queued);
    assert.equal(data.id, queued.id);
    assert.equal(data.items.done, 1);
  });
});

describe("errors", () => {
  it("AuthError for an unknown key (401)", async () => {
    const stranger = new LaunchGate({ apiKey: "lg_live_not_a_key", baseUrl: stack.url });
    await assert.rejects(stranger.run("refund-replies", { output: CLEARED_OUTPUT }), (error) => {
      assert.ok(error instanceof AuthError && error instanceof LaunchGateError);
      assert.equal(error.status, 401);
      assert.equal(error.name, "AuthError");
      return true;
    });
  });

  it("PaymentError when the organisation used its monthly runs (402)", async () => {
    const broke = new LaunchGate({ apiKey: stack.brokeKey, baseUrl: stack.url });
    await assert.rejects(broke.run("refund-replies", { output: "refund" }), (error) => {
      assert.ok(error instanceof PaymentError);
      assert.equal(error.status, 402);
      assert.equal(error.code, "USAGE_LIMIT_EXCEEDED");
      assert.equal(error.details.monthly_limit, 500);
      return true;
    });
  });

  it("ValidationError for a refused request (400) and a missing suite (404)", async () => {
    await assert.rejects(lg.run("empty", { output: "x" }), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual([error.status, error.code], [400, "VALIDATION_ERROR"]);
      assert.match(error.message, /no active cases/);
      return true;
    });
    await assert.rejects(lg.run("refund-replies", { output: "x", project: "x".repeat(65) }), (error) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.equal(error.status, 400); // the API answers a field that breaks the schema with 400
      assert.match(error.message, /project/);
      return true;
    });
    await assert.rejects(lg.run("no-such-suite", { output: "x" }), (error) => {
      assert.ok(error instanceof NotFoundError && error instanceof ValidationError);
      assert.equal(error.status, 404);
      return true;
    });
    await assert.rejects(lg.getRun("run_nope"), NotFoundError);
    await assert.rejects(lg.batch("refund-replies", { items: [{ key: "k", output: "a" }, { key: "k", output: "b" }] }), ValidationError);
  });
});

describe("the key from .launchgaterc", () => {
  const gate = `const lg = new sdk.LaunchGate();
    const result = await lg.run("refund-replies", { output: ${JSON.stringify(CLEARED_OUTPUT)} });
    console.log(lg.config.apiKeySource, result.status);`;

  function rc(dir, values) {
    writeFileSync(join(dir, ".launchgaterc"), JSON.stringify(values));
  }

  it("reads ./.launchgaterc before ~/.launchgaterc", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "lg-rc-cwd-"));
    const home = mkdtempSync(join(tmpdir(), "lg-rc-home-"));
    rc(cwd, { apiKey: stack.key, baseUrl: stack.url });
    rc(home, { apiKey: "lg_live_wrong", baseUrl: "http://127.0.0.1:9" });
    const { code, stdout, stderr } = await runSnippet(gate, { cwd, env: cleanEnv({ HOME: home }) });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), `${join(cwd, ".launchgaterc")} cleared`);
  });

  it("falls back to ~/.launchgaterc, and LAUNCHGATE_API_KEY beats both", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "lg-rc-cwd-"));
    const home = mkdtempSync(join(tmpdir(), "lg-rc-home-"));
    rc(home, { apiKey: stack.key, baseUrl: stack.url });
    let done = await runSnippet(gate, { cwd, env: cleanEnv({ HOME: home }) });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout.trim(), `${join(home, ".launchgaterc")} cleared`);

    rc(home, { apiKey: "lg_live_wrong", baseUrl: stack.url });
    done = await runSnippet(gate, { cwd, env: cleanEnv({ HOME: home, LAUNCHGATE_API_KEY: stack.key }) });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout.trim(), "LAUNCHGATE_API_KEY cleared");
  });
});

describe("the package", () => {
  it("packs, installs into an empty folder, and gates from ESM and CommonJS, with types for both", async () => {
    const folder = mkdtempSync(join(tmpdir(), "lg-pack-"));
    const { stdout } = await exec("npm", ["pack", "--json", "--pack-destination", folder], { cwd: PACKAGE_DIR });
    const [packed] = JSON.parse(stdout);
    const files = packed.files.map((f) => f.path);
    assert.ok(files.includes("dist/esm/index.js") && files.includes("dist/cjs/index.d.ts"), files.join(" "));
    assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.startsWith("node_modules/")), files.join(" "));
    const app = join(folder, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
    await exec("npm", ["install", "--no-audit", "--no-fund", "--offline", join(folder, packed.filename)], { cwd: app });
    const installed = JSON.parse(readFileSync(join(app, "node_modules", "@launchgate", "sdk", "package.json"), "utf8"));
    assert.deepEqual(installed.dependencies ?? {}, {});

    const body = `const result = await new LaunchGate().run("refund-replies", { output: ${JSON.stringify(CLEARED_OUTPUT)} });
      console.log(result.status, result.passed, new ValidationError("x") instanceof LaunchGateError);`;
    writeFileSync(join(app, "gate.mjs"), `import { LaunchGate, LaunchGateError, ValidationError } from "@launchgate/sdk";\n${body}\n`);
    writeFileSync(
      join(app, "gate.cjs"),
      `const { LaunchGate, LaunchGateError, ValidationError } = require("@launchgate/sdk");\n(async () => {\n${body}\n})();\n`,
    );
    const env = cleanEnv({ LAUNCHGATE_API_KEY: stack.key, LAUNCHGATE_API_URL: stack.url });
    for (const script of ["gate.mjs", "gate.cjs"]) {
      const done = await runNode([script], { cwd: app, env });
      assert.equal(done.code, 0, `${script}: ${done.stderr}`);
      assert.equal(done.stdout.trim(), "cleared true true", script);
    }

    // A TypeScript user on either module system gets the declarations, strict.
    const typed = `import { LaunchGate, type RunResult } from "@launchgate/sdk";
      export async function gate(output: string): Promise<RunResult> { return new LaunchGate().run("s", { output }); }
      // @ts-expect-error: output is required
      export const wrong = () => new LaunchGate().run("s", {});\n`;
    writeFileSync(join(app, "typed.mts"), typed);
    writeFileSync(join(app, "typed.cts"), typed);
    const tsc = join(PACKAGE_DIR, "node_modules", "typescript", "bin", "tsc");
    const flags = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node", "--typeRoots", join(PACKAGE_DIR, "node_modules", "@types")];
    const checked = await runNode([tsc, ...flags, "typed.mts", "typed.cts"], { cwd: app, env });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  it("has no `any` in its declarations", () => {
    for (const dir of ["esm", "cjs"]) {
      for (const file of readdirSync(join(PACKAGE_DIR, "dist", dir)).filter((f) => f.endsWith(".d.ts"))) {
        const text = readFileSync(join(PACKAGE_DIR, "dist", dir, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
        assert.doesNotMatch(text, /\bany\b/, `${dir}/${file}`);
      }
    }
  });
});

describe("docs/sdk-typescript.md", () => {
  const page = resolve(PACKAGE_DIR, "..", "..", "docs", "sdk-typescript.md");
  // The README's three-line TypeScript client is an example file too.
  const readme = resolve(PACKAGE_DIR, "..", "..", "README.md");
  const EXPECTED = {
    "readme.mts": /^cleared\n$/,
    "run.mts": /^cleared 1\n$/,
    "async.mts": /^pending\naborted 1\/2\nsdk For a refund, write to billing@example.com.\n$/,
    "batch.mts": /^cleared 1 3\/3\nOffers a refund: 1 \[[\d.]+, 1.00\]\nKeeps addresses private: 1 \[[\d.]+, 1.00\]\n$/,
    "inconclusive.mts": /^inconclusive false\n0.5 1\nKind tone: mean [\d.]+ in \[[\d.]+, [\d.]+\] after 10 judgements\n$/,
    "errors.mts": /^404 NOT_FOUND .*no-such-suite.*\n$/,
  };

  it("shows every example of clients/typescript/examples verbatim", () => {
    const text = readFileSync(page, "utf8") + readFileSync(readme, "utf8");
    const shown = [...text.matchAll(/<!-- example: clients\/typescript\/examples\/([\w.-]+) -->\n```ts\n([\s\S]*?)```\n/g)];
    const files = readdirSync(join(PACKAGE_DIR, "examples")).sort();
    assert.deepEqual(shown.map((m) => m[1]).sort(), files);
    assert.deepEqual(Object.keys(EXPECTED).sort(), files);
    for (const [, name, code] of shown) {
      assert.equal(code, readFileSync(join(PACKAGE_DIR, "examples", name), "utf8"), `${name} differs from the page`);
    }
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`runs ${name}`, async () => {
      if (name === "inconclusive.mts") await stack.reseed();
      const cwd = mkdtempSync(join(tmpdir(), "lg-example-"));
      const env = cleanEnv({ LAUNCHGATE_API_KEY: stack.key, LAUNCHGATE_API_URL: stack.url, UNDECIDED_OUTPUT, HOME: cwd });
      const compiled = join(PACKAGE_DIR, "build", "examples", name.replace(/\.mts$/, ".mjs"));
      const done = await runNode([compiled], { cwd, env });
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, expected);
    });
  }
});
