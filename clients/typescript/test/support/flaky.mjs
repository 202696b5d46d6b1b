// A small HTTP server of the test's own that answers from a script — 503 twice, then the
// run — and records what it was asked, for the retry tests (the real server never fails
// on purpose).
import { createServer } from "node:http";

export const RUN = {
  id: "run_flaky0000000000000000000",
  status: "cleared",
  passed: true,
  total_cases: 1,
  passed_cases: 1,
  failed_cases: 0,
  error_cases: 0,
  inconclusive_cases: 0,
  verdict_detail: null,
  pass_rate: 1,
  duration_ms: 1.5,
  scores: [],
  failures: [],
};

/** `answers` is a list of `{ status, body, headers }`; the last one repeats. */
export async function scripted(answers) {
  const seen = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      seen.push({ at: Date.now(), method: request.method, url: request.url, headers: request.headers, body });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)];
      const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {});
      response.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers });
      response.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export const unavailable = { status: 503, body: { error: { code: "UNAVAILABLE", message: "Down for a moment" } } };
