// Configuration without a server: the lookup order of SPEC §11, malformed sources as
// ConfigError, and fail-open against a closed port, in a child process whose real stderr
// is read.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import { ConfigError, DEFAULT_BASE_URL, LaunchGate, VERSION, resolveConfig } from "@launchgate/sdk";

import { PACKAGE_DIR, cleanEnv, runSnippet } from "./support/child.mjs";
import { freePort } from "./support/stack.mjs";

function dirs(cwdRc, homeRc) {
  const cwd = mkdtempSync(join(tmpdir(), "lg-cwd-"));
  const home = mkdtempSync(join(tmpdir(), "lg-home-"));
  if (cwdRc !== undefined) writeFileSync(join(cwd, ".launchgaterc"), typeof cwdRc === "string" ? cwdRc : JSON.stringify(cwdRc));
  if (homeRc !== undefined) writeFileSync(join(home, ".launchgaterc"), typeof homeRc === "string" ? homeRc : JSON.stringify(homeRc));
  return { cwd, home };
}

describe("where the key and URL come from", () => {
  it("takes the option, then the environment, then ./.launchgaterc, then ~/.launchgaterc", () => {
    const sources = { ...dirs({ apiKey: "cwd-key" }, { apiKey: "home-key", baseUrl: "http://home:1" }) };
    const env = { LAUNCHGATE_API_KEY: "env-key", LAUNCHGATE_API_URL: "http://env:2/v1/" };
    let config = resolveConfig({ apiKey: "option-key", baseUrl: "http://option:3" }, { ...sources, env });
    assert.deepEqual([config.apiKey, config.apiKeySource, config.baseUrl], ["option-key", "apiKey option", "http://option:3"]);
    config = resolveConfig({}, { ...sources, env });
    assert.deepEqual([config.apiKey, config.baseUrl, config.baseUrlSource], ["env-key", "http://env:2", "LAUNCHGATE_API_URL"]);
    config = resolveConfig({}, { ...sources, env: {} });
    assert.deepEqual([config.apiKey, config.apiKeySource], ["cwd-key", join(sources.cwd, ".launchgaterc")]);
    assert.deepEqual([config.baseUrl, config.baseUrlSource], ["http://home:1", join(sources.home, ".launchgaterc")]);
  });

  it("counts an empty value as absent, and defaults the URL to the hosted API", () => {
    const sources = dirs({ apiKey: "" }, { apiKey: "home-key" });
    const config = resolveConfig({ apiKey: "" }, { ...sources, env: { LAUNCHGATE_API_KEY: "  ", LAUNCHGATE_API_URL: "" } });
    assert.equal(config.apiKey, "home-key");
    assert.equal(config.baseUrl, DEFAULT_BASE_URL);
    assert.equal(config.baseUrlSource, "default");
    assert.equal(config.failOpen, true);
  });

  it("refuses a missing key, a bad rc file, a bad URL and a bad LAUNCHGATE_FAIL_OPEN", () => {
    const cases = [
      [{}, dirs(), {}, "NO_API_KEY", /No LaunchGate API key: pass \{ apiKey \}, set LAUNCHGATE_API_KEY/],
      [{}, dirs("{not json"), {}, "BAD_RC_FILE", /not valid JSON/],
      [{}, dirs("[1]"), {}, "BAD_RC_FILE", /must hold a JSON object/],
      [{}, dirs({ apiKey: 42 }), {}, "BAD_RC_FILE", /apiKey must be a string/],
      [{ apiKey: "k", baseUrl: "ftp://host" }, dirs(), {}, "BAD_BASE_URL", /must start with http/],
      [{ apiKey: "k", baseUrl: "http://host:0" }, dirs(), {}, "BAD_BASE_URL", /port 0/],
      [{ apiKey: "k", baseUrl: "http://host/?a=1" }, dirs(), {}, "BAD_BASE_URL", /query/],
      [{ apiKey: "k" }, dirs(), { LAUNCHGATE_API_URL: "http://a b" }, "BAD_BASE_URL", /\(from LAUNCHGATE_API_URL\)/],
      [{ apiKey: "k" }, dirs(), { LAUNCHGATE_FAIL_OPEN: "maybe" }, "BAD_FAIL_OPEN", /must be true or false/],
    ];
    for (const [options, sources, env, code, message] of cases) {
      assert.throws(() => resolveConfig(options, { ...sources, env }), (error) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.code, code);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  it("reads LAUNCHGATE_FAIL_OPEN; the option wins", () => {
    const sources = dirs();
    const env = { LAUNCHGATE_API_KEY: "k", LAUNCHGATE_FAIL_OPEN: "off" };
    assert.equal(resolveConfig({}, { ...sources, env }).failOpen, false);
    assert.equal(resolveConfig({ failOpen: true }, { ...sources, env }).failOpen, true);
  });

  it("refuses an empty output before any request", async () => {
    const lg = new LaunchGate({ apiKey: "k", baseUrl: "http://127.0.0.1:9" });
    await assert.rejects(lg.run("s", { output: "  " }), /output is only whitespace: .* pass allowEmptyOutput: true/);
    await assert.rejects(lg.batch("s", { items: [{ output: "ok" }, { output: "", key: "b" }] }), /item 2 \(key b\): output is empty/);
  });

  it("says the same version as package.json", () => {
    assert.equal(VERSION, JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")).version);
  });
});

describe("fail-open against a closed port", () => {
  it("resolves to skipped, passed, and warns once on stderr with the URL and the cause", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await runSnippet(
      `const lg = new sdk.LaunchGate({ apiKey: "lg_test_closed", baseUrl: ${JSON.stringify(url)}, backoffMs: 5 });
       const result = await lg.run("refund-replies", { output: "refund" });
       console.log(JSON.stringify({ status: result.status, passed: result.passed, id: result.id }));`,
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { status: "skipped", passed: true, id: null });
    const warnings = stderr.split("\n").filter((line) => line.startsWith("launchgate: "));
    assert.equal(warnings.length, 1, stderr);
    assert.match(warnings[0], new RegExp(`LaunchGate API at ${url} unreachable: connection refused`));
    assert.match(warnings[0], /POST \/v1\/run failed 4 times \(last: ECONNREFUSED: /);
    assert.ok(!stderr.includes("lg_test_closed"), "the key must never be printed");
  });

  it("makes no API key a ConfigError when the client is made", async () => {
    const { cwd, home } = dirs();
    const { code, stdout } = await runSnippet(
      `try { new sdk.LaunchGate(); } catch (error) { console.log(error.name, error.code, error instanceof sdk.LaunchGateError); }`,
      { cwd, env: cleanEnv({ HOME: home }) },
    );
    assert.equal(code, 0);
    assert.equal(stdout.trim(), "ConfigError NO_API_KEY true");
  });
});
