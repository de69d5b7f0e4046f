-- wrk script for bench/courier_positions.py: each request is one courier's position report, the couriers taken
-- in turn from the token file (so each reports every couriers/rate seconds, as phones every 5 s would);
-- `delay` paces each connection. At the end one line of JSON with what the bench checks ("errors" as
-- wrk_result.lua makes them).

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_result.lua")

local tokens = {}
local next_token = 0
local pause_ms = tonumber(os.getenv("PAUSE_MS") or "100")
local threads_made = 0

-- Each wrk thread has a Lua state of its own: the threads share the couriers out (thread i takes every n-th
-- from the i-th), so each courier is sent by one thread, once per round through the file.
function setup(thread)
  thread:set("thread_no", threads_made)
  threads_made = threads_made + 1
end

function init(args)
  local threads = tonumber(args[2] or "1")
  local i = 0
  for line in io.lines(args[1]) do
    if i % threads == (thread_no or 0) % threads then tokens[#tokens + 1] = line end
    i = i + 1
  end
  next_token = math.random(#tokens)
end

function delay()
  return pause_ms
end

function request()
  next_token = next_token % #tokens + 1
  local lat = 30.20 + math.random() * 0.1
  local lng = 120.10 + math.random() * 0.1
  return wrk.format("POST", "/api/v1/couriers/me/positions",
    {["Authorization"] = "Bearer " .. tokens[next_token], ["Content-Type"] = "application/json"},
    string.format('{"lat": %.6f, "lng": %.6f, "datum": "wgs84", "accuracy_m": 8.0}', lat, lng))
end

function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"non_2xx_3xx": %d, %s}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status, socket_errors(summary)))
end
