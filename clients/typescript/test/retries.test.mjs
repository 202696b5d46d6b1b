// Retries and fail-open against a server of the test's own that fails on purpose: 503
// then 200, 429 with Retry-After, a 200 that is not JSON, a 4xx that must not be retried.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { LaunchGate, UnreachableError, ValidationError, WaitTimeout } from "@launchgate/sdk";

import { RUN, scripted, unavailable } from "./support/flaky.mjs";

const FAST = { apiKey: "lg_test_retries", backoffMs: 20 };

function client(url, options = {}) {
  const warnings = [];
  const lg = new LaunchGate({ ...FAST, baseUrl: url, onWarning: (m) => warnings.push(m), ...options });
  return { lg, warnings };
}

describe("retries", () => {
  it("retries a 503 and returns the run that follows", async () => {
    const server = await scripted([unavailable, unavailable, { status: 200, body: RUN }]);
    try {
      const { lg, warnings } = client(server.url);
      const result = await lg.run("refund-replies", { output: "refund" });
      assert.equal(result.status, "cleared");
      assert.equal(result.id, RUN.id);
      assert.equal(server.seen.length, 3);
      assert.deepEqual(warnings, []);
      // backoff × 2ⁿ: 20 ms, then 40 ms
      assert.ok(server.seen[1].at - server.seen[0].at >= 18);
      assert.ok(server.seen[2].at - server.seen[1].at >= 38);
      const sent = JSON.parse(server.seen[0].body);
      assert.deepEqual(sent, { suite: "refund-replies", output: "refund", input: {}, trigger: "sdk", trigger_meta: {}, async: false });
      assert.equal(server.seen[0].headers.authorization, "Bearer lg_test_retries");
      assert.match(server.seen[0].headers["user-agent"], /^launchgate-typescript\//);
    } finally {
      await server.close();
    }
  });

  it("waits as long as Retry-After asks on a 429", async () => {
    const limited = { status: 429, headers: { "Retry-After": "0.4" }, body: { error: { code: "RATE_LIMITED", message: "Slow down" } } };
    const server = await scripted([limited, { status: 200, body: RUN }]);
    try {
      const { lg } = client(server.url);
      const result = await lg.run("refund-replies", { output: "refund" });
      assert.equal(result.status, "cleared");
      assert.equal(server.seen.length, 2);
      assert.ok(server.seen[1].at - server.seen[0].at >= 390, "Retry-After 0.4 s was not honoured");
    } finally {
      await server.close();
    }
  });

  it("retries a 200 whose body is not JSON, like an outage", async () => {
    const server = await scripted([{ status: 200, body: "<html>proxy error</html>" }, { status: 200, body: RUN }]);
    try {
      const { lg } = client(server.url);
      assert.equal((await lg.run("refund-replies", { output: "refund" })).status, "cleared");
      assert.equal(server.seen.length, 2);
    } finally {
      await server.close();
    }
  });

  it("skips after the last retry, warning once with the URL and the cause", async () => {
    const server = await scripted([unavailable]);
    try {
      const { lg, warnings } = client(server.url);
      const result = await lg.run("refund-replies", { output: "refund" });
      assert.equal(server.seen.length, 4); // the first attempt and 3 retries
      assert.equal(result.status, "skipped");
      assert.equal(result.passed, true);
      assert.equal(result.id, null);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0], result.message);
      assert.match(result.message, new RegExp(`LaunchGate API at ${server.url} unreachable: HTTP 503`));
      assert.match(result.message, /POST \/v1\/run failed 4 times \(last: HTTP 503 UNAVAILABLE: Down for a moment\)/);
      assert.match(result.message, /suite "refund-replies" was skipped and counts as passed/);
    } finally {
      await server.close();
    }
  });

  it("honours maxRetries", async () => {
    const server = await scripted([unavailable]);
    try {
      const { lg } = client(server.url, { maxRetries: 1 });
      assert.equal((await lg.run("refund-replies", { output: "refund" })).status, "skipped");
      assert.equal(server.seen.length, 2);
    } finally {
      await server.close();
    }
  });

  it("throws UnreachableError instead of skipping when fail-open is off", async () => {
    const server = await scripted([unavailable]);
    try {
      const { lg, warnings } = client(server.url, { failOpen: false, maxRetries: 0 });
      await assert.rejects(lg.run("refund-replies", { output: "refund" }), (error) => {
        assert.ok(error instanceof UnreachableError);
        assert.equal(error.url, server.url);
        assert.equal(error.cause, "HTTP 503");
        assert.equal(error.attempts, 1);
        return true;
      });
      assert.deepEqual(warnings, []);
    } finally {
      await server.close();
    }
  });

  it("getRun never invents a run: UnreachableError whatever fail-open says", async () => {
    const server = await scripted([unavailable]);
    try {
      const { lg } = client(server.url, { maxRetries: 0 });
      await assert.rejects(lg.getRun("run_x"), UnreachableError);
    } finally {
      await server.close();
    }
  });

  for (const status of [400, 409, 422]) {
    it(`does not retry a ${status}, and keeps the envelope's code and message`, async () => {
      const refused = { status, body: { error: { code: "CONFLICT", message: "Slug taken", details: { slug: "x" } } } };
      const server = await scripted([refused]);
      try {
        const { lg } = client(server.url);
        await assert.rejects(lg.run("refund-replies", { output: "refund" }), (error) => {
          assert.ok(error instanceof ValidationError);
          assert.equal(error.status, status);
          assert.equal(error.code, "CONFLICT");
          assert.equal(error.message, "Slug taken");
          assert.deepEqual(error.details, { slug: "x" });
          return true;
        });
        assert.equal(server.seen.length, 1);
      } finally {
        await server.close();
      }
    });
  }

  it("names a 4xx without the envelope by its status", async () => {
    const server = await scripted([{ status: 403, body: "<h1>Forbidden</h1>" }]);
    try {
      const { lg } = client(server.url);
      await assert.rejects(lg.run("s", { output: "x" }), (error) => {
        assert.equal(error.name, "AuthError");
        assert.deepEqual([error.status, error.code, error.message], [403, "HTTP_403", "<h1>Forbidden</h1>"]);
        return true;
      });
    } finally {
      await server.close();
    }
  });

  it("a batch that stays unreachable while polled is skipped, keeping its id", async () => {
    const accepted = { status: 202, body: { data: { id: "bat_000000000000000000000001", status: "running", passed: false, items: { total: 1, done: 0 } } } };
    const server = await scripted([accepted, unavailable]);
    try {
      const { lg, warnings } = client(server.url, { maxRetries: 1 });
      const batch = await lg.batch("refund-replies", { items: [{ output: "refund" }], intervalMs: 10 });
      assert.equal(batch.status, "skipped");
      assert.equal(batch.passed, true);
      assert.equal(batch.id, "bat_000000000000000000000001");
      assert.equal(warnings.length, 1);
      assert.match(batch.message, /The batch bat_000000000000000000000001 of suite "refund-replies" was skipped/);
      assert.equal(JSON.parse(server.seen[0].body).async, true);
    } finally {
      await server.close();
    }
  });

  it("waitForRun gives up with WaitTimeout carrying the last run seen", async () => {
    const server = await scripted([{ status: 200, body: { data: { ...RUN, status: "running", passed: false } } }]);
    try {
      const { lg } = client(server.url);
      await assert.rejects(lg.waitForRun(RUN.id, { intervalMs: 20, timeoutMs: 150 }), (error) => {
        assert.ok(error instanceof WaitTimeout);
        assert.equal(error.last.id, RUN.id);
        assert.equal(error.last.status, "running");
        assert.match(error.message, /still running after 0.15 s/);
        return true;
      });
      assert.ok(server.seen.length >= 3 && server.seen.length < 10, String(server.seen.length));
    } finally {
      await server.close();
    }
  });
});
