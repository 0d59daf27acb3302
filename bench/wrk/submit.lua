-- An EHR posting prescriptions for new patients, with an Idempotency-Key as EHRs do.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local plan = require("pace").kind("submission", 201)
math.randomseed(os.time())
local run = string.format("%06x", math.random(0, 0xffffff)) -- apart from earlier runs' patients
local n = 0

function request()
  n = n + 1
  local unique = string.format("%s%07x", run, n)
  -- The plan's body marks the patient's name and email with LOAD: a new patient each time.
  local body = plan.body:gsub("LOAD", unique)
  local headers = {
    ["Authorization"] = "Token " .. plan.tokens[n % #plan.tokens + 1],
    ["Idempotency-Key"] = unique,
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", "/api/v1/prescriptions/", headers, body)
end
