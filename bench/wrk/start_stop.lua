-- A start and a stop in turn on each connection, each connection for a user of its own
-- (BENCH_TOKENS, comma-separated): run with as many threads as connections (-t8 -c8), so a
-- thread's requests are its one connection's. What to send next follows from the last answer,
-- not from a count of request() calls: wrk calls request() once more than it sends, to probe it.
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS"), "[^,]+") do
  table.insert(tokens, token)
end
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("token", tokens[next_thread])
end

function init(args)
  running = false
  shown = 0
  auth = "Bearer " .. token
end

function request()
  local path = running and "/api/sessions/stop/" or "/api/sessions/start/"
  return wrk.format("POST", path, {["Authorization"] = auth, ["Content-Type"] = "application/json"}, "{}")
end

function response(status, headers, body)
  local sent = running and "stop" or "start"
  if running then
    running = false  -- stopped, or there was nothing to stop
  else
    running = status == 201 or status == 409  -- started, or one was running already
  end
  -- The first unexpected answers of each connection, printed in the run's log.
  if (status < 200 or status > 299) and shown < 3 then
    shown = shown + 1
    io.stderr:write(string.format("start+stop: %s answered %d %s\n", sent, status, body))
  end
end
