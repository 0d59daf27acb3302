-- Shared by the load test's wrk scripts: a fixed request rate, a check of each answer, and a
-- summary line of JSON. Each kind of request runs in its own wrk process (scripts/loadtest.sh).
--
-- The rate is kept on a schedule, not per connection: request k is due at start + k / rate, and a
-- free connection waits for the next due time (wrk's delay()); so requests arrive spread evenly
-- whatever the server's latency, as long as enough connections are free. When every connection is
-- busy the rate falls, and the summary says so (rate_per_s against the rate asked).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } pace_timespec;
  int clock_gettime(int clock_id, pace_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("pace_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local pace = {}

pace.rate = 1 -- requests a second, from the script's argument (wrk ... -- RATE)
pace.name = "requests"
pace.expected_status = 200
pace.check_body = nil -- function(body) -> nil, or a reason the answer is wrong

local started, sent = nil, 0
-- Globals, so that done() can read them back from each thread (thread:get).
failures, wrong = 0, ""

-- A kind of request: its name in the summary, the status a right answer has, a check of its body.
-- Returns the load plan: the data set's sessions, tokens and look-ups (scripts/loadtest.sh writes it).
function pace.kind(name, expected_status, check_body)
  pace.name = name
  function init(args)
    pace.rate = tonumber(args[1])
    pace.expected_status = expected_status or 200
    pace.check_body = check_body
  end
  return dofile(os.getenv("WRK_PLAN"))
end

function delay()
  local now = now_ms()
  if started == nil then
    started = now
  end
  local due = started + sent * 1000 / pace.rate
  sent = sent + 1
  return math.max(0, math.floor(due - now + 0.5))
end

function response(status, headers, body)
  local reason = nil
  if status ~= pace.expected_status then
    reason = "HTTP " .. status
  elseif pace.check_body ~= nil then
    reason = pace.check_body(body)
  end
  if reason ~= nil then
    failures = failures + 1
    if wrong == "" then
      wrong = reason .. ": " .. string.sub(body or "", 1, 200)
    end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local failed = 0
  local example = ""
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("failures") or 0)
    if example == "" then
      example = thread:get("wrong") or ""
    end
  end
  local errors = summary.errors
  local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
  local seconds = summary.duration / 1e6
  local function json_string(text)
    return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  end
  local function ms(p)
    return latency:percentile(p) / 1000
  end
  -- The latency at every tenth of a percent, so that the kinds of a mix can be merged into one distribution.
  local quantiles = {}
  for i = 1, 1000 do
    quantiles[i] = string.format("%.2f", ms(i / 10))
  end
  io.write(string.format(
    '{"name": "%s", "requests": %d, "seconds": %.2f, "rate_per_s": %.1f, "p50_ms": %.1f, "p95_ms": %.1f, ' ..
    '"p99_ms": %.1f, "max_ms": %.1f, "errors": %d, "socket_errors": %d, "example": %s, "quantiles_ms": [%s]}\n',
    pace.name, summary.requests, seconds, summary.requests / seconds, ms(50), ms(95), ms(99), latency.max / 1000,
    failed + socket_errors, socket_errors, json_string(example), table.concat(quantiles, ", ")))
end

return pace
