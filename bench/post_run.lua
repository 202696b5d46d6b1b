-- wrk script for bench/run_latency.py: POST a fixed JSON body with an Authorization header,
-- count every response that is not 200, and print one machine-readable result line.
--
-- Environment (set by run_latency.py; usable by hand too):
--   BENCH_BODY_FILE  path of the JSON request body (required)
--   BENCH_AUTH       value of the Authorization header (optional, e.g. "Bearer lg_live_...")
--
-- By hand:
--   BENCH_BODY_FILE=/tmp/body.json BENCH_AUTH="Bearer lg_live_..." \
--     wrk -t1 -c1 -d10s --latency -s bench/post_run.lua http://127.0.0.1:4001/v1/run

local body_file = os.getenv("BENCH_BODY_FILE")
assert(body_file, "set BENCH_BODY_FILE to the path of the JSON request body")
local handle = assert(io.open(body_file, "rb"))
local body = handle:read("*a")
handle:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- Per-thread state (each wrk thread runs its own copy of this script).
responses = 0
non200 = 0
first_bad_status = 0
first_bad_body = ""

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, resp_body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    if first_bad_status == 0 then
      first_bad_status = status
      first_bad_body = string.sub(resp_body or "", 1, 300)
    end
  end
end

local function json_string(s)
  s = string.gsub(s, "\\", "\\\\")
  s = string.gsub(s, "\"", "\\\"")
  s = string.gsub(s, "[%c]", " ")
  return "\"" .. s .. "\""
end

function done(summary, latency, requests)
  local total_responses, total_non200 = 0, 0
  local bad_status, bad_body = 0, ""
  for _, thread in ipairs(threads) do
    total_responses = total_responses + (thread:get("responses") or 0)
    total_non200 = total_non200 + (thread:get("non200") or 0)
    local status = thread:get("first_bad_status") or 0
    if bad_status == 0 and status ~= 0 then
      bad_status = status
      bad_body = thread:get("first_bad_body") or ""
    end
  end
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  -- latency values are in microseconds
  io.write(string.format(
    "BENCH_RESULT {\"requests\":%d,\"responses\":%d,\"non200\":%d,\"duration_s\":%.6f," ..
    "\"rps\":%.3f,\"p50_us\":%d,\"p90_us\":%d,\"p95_us\":%d,\"p99_us\":%d," ..
    "\"min_us\":%d,\"max_us\":%d,\"mean_us\":%.1f,\"stdev_us\":%.1f," ..
    "\"errors_connect\":%d,\"errors_read\":%d,\"errors_write\":%d,\"errors_status\":%d," ..
    "\"errors_timeout\":%d,\"first_bad_status\":%d,\"first_bad_body\":%s}\n",
    summary.requests, total_responses, total_non200, seconds,
    summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.min, latency.max, latency.mean, latency.stdev,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    bad_status, json_string(bad_body)))
end
