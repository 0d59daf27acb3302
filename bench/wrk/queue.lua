-- A pharmacist with the queue open: the pending-review page, each request on a session of its own.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local pace = require("pace")
pace.name = "queue page"
local plan = pace.plan()
local n = 0

function init(args)
  pace.rate = tonumber(args[1])
  pace.check_body = function(body)
    local _, rows = body:gsub('href="/pharmacy/prescriptions/', "")
    if rows < 50 then
      return "not a full queue page (" .. rows .. " rows)"
    end
  end
end

function request()
  n = n + 1
  local cookie = plan.session_cookie .. "=" .. plan.sessions[n % #plan.sessions + 1]
  return wrk.format("GET", "/pharmacy/queue/?status=" .. plan.queue_status, { ["Cookie"] = cookie })
end
