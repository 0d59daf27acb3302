-- A patient checking their order's status with its reference and their birth date.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local plan = require("pace").kind("status lookup")
local n = 0

function request()
  n = n + 1
  local lookup = plan.lookups[n % #plan.lookups + 1]
  return wrk.format("GET", "/api/v1/status/?reference=" .. lookup[1] .. "&date_of_birth=" .. lookup[2])
end
