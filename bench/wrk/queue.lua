-- A pharmacist with the queue open: the pending-review page, each request on a session of its own.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local ROW = 'href="/pharmacy/prescriptions/'
local plan = require("pace").kind("queue page", 200, function(body)
  local rows, at = 0, 0
  repeat -- a plain find: a pattern over every page cost wrk more than the rest of its work
    at = body:find(ROW, at + 1, true)
    rows = rows + (at and 1 or 0)
  until at == nil or rows == 50
  if rows < 50 then
    return "not a full queue page (" .. rows .. " rows)"
  end
end)
local n = 0

function request()
  n = n + 1
  local cookie = plan.session_cookie .. "=" .. plan.sessions[n % #plan.sessions + 1]
  return wrk.format("GET", "/pharmacy/queue/?status=" .. plan.queue_status, { ["Cookie"] = cookie })
end
