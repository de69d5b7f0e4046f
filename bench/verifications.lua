-- wrk script for bench/verifications.py: one wrk thread = one counter terminal (its own connection, clerk's
-- bearer token and X-Terminal-Id). Arguments (after `--`): the directory of the run (terminal n's attempts in
-- attempts-<n>, one "kind code" per line; the tokens, one per line, in tokens) and the store id.
-- Terminal n sends its attempts in order, each exactly once, timing each with CLOCK_MONOTONIC; after its
-- last response it writes "<kind> <status> <error code or -> <ms>" per attempt, then "first <ms>" and
-- "last <ms>" (when it sent its first request and got its last answer), to <dir>/terminal-<n>, and stops.
-- The bench waits for every terminal's file and then stops wrk (SIGINT): wrk itself runs on a long -d.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC: the bench compares terminals' times with each other
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local tokens = {}
  for line in io.lines(args[1] .. "/tokens") do tokens[#tokens + 1] = line end
  mine, results, out = {}, {}, args[1] .. "/terminal-" .. id
  for line in io.lines(args[1] .. "/attempts-" .. id) do
    local kind, code = string.match(line, "^(%S+) (%S+)$")
    mine[#mine + 1] = {kind = kind, request = wrk.format("POST", "/api/v1/vouchers/verify", {
      ["Authorization"] = "Bearer " .. tokens[id + 1], ["X-Terminal-Id"] = "pos-" .. (id + 1),
      ["Content-Type"] = "application/json"}, '{"code":"' .. code .. '","store_id":' .. args[2] .. '}')}
  end
  next_attempt, sent_at, first, finished = 1, 0, nil, #mine == 0
  if finished then write_results() end
end

function request()
  if next_attempt > #mine then -- only if wrk asks again after the thread stopped: a harmless read
    return wrk.format("GET", "/api/v1/health")
  end
  sent_at = now_ms()
  first = first or sent_at
  return mine[next_attempt].request
end

function response(status, headers, body)
  if finished then return end
  local ms = now_ms() - sent_at
  local code = status >= 400 and string.match(body or "", '"code":"([%w_]+)"') or "-"
  results[#results + 1] = string.format("%s %d %s %.3f", mine[next_attempt].kind, status, code, ms)
  next_attempt = next_attempt + 1
  if next_attempt > #mine then
    finished = true
    write_results()
    wrk.thread:stop()
  end
end

function write_results()
  local file = io.open(out .. ".part", "w")
  for _, line in ipairs(results) do file:write(line, "\n") end
  file:write(string.format("first %.3f\nlast %.3f\n", first or now_ms(), now_ms()))
  file:close()
  os.rename(out .. ".part", out) -- the bench sees the file only once it is whole
end
