-- GET the URL given to wrk with the bearer token of BENCH_TOKEN (none when it is empty).
local token = os.getenv("BENCH_TOKEN") or ""
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
