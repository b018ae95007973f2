-- A start and a stop in turn on each connection, each connection for a user of its own
-- (BENCH_TOKENS, comma-separated): run with as many threads as connections (-t8 -c8), so a
-- thread's requests are its one connection's.
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
  turn = 0
  auth = "Bearer " .. token
end

function request()
  turn = turn + 1
  local path = (turn % 2 == 1) and "/api/sessions/start/" or "/api/sessions/stop/"
  return wrk.format("POST", path, {["Authorization"] = auth, ["Content-Type"] = "application/json"}, "{}")
end
