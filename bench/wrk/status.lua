-- A patient checking their order's status with its reference and their birth date.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local pace = require("pace")
pace.name = "status lookup"
local plan = pace.plan()
local n = 0

function init(args)
  pace.rate = tonumber(args[1])
end

function request()
  n = n + 1
  local lookup = plan.lookups[n % #plan.lookups + 1]
  return wrk.format("GET", "/api/v1/status/?reference=" .. lookup[1] .. "&date_of_birth=" .. lookup[2])
end
