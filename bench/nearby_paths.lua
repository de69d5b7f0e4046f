-- wrk script for bench/nearby_http.py: each request GETs the next path of a file (one per line; thread n of N
-- starts at line n and steps by N, round and round), so every request asks about another place. At the end
-- one line of JSON: requests, seconds, latency p50/p99, responses by status, socket errors, and the latency
-- tail (wrk_result.lua).
-- Arguments (after `--`): the paths file and the number of wrk threads.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_result.lua")

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local all = {}
  for line in io.lines(args[1]) do all[#all + 1] = line end
  paths = {}
  -- a file of fewer lines than threads (health, one search) gives every thread a line: a thread with none
  -- would GET the URL's own path, the home page, and be counted in the leg
  for i = id % #all + 1, #all, tonumber(args[2]) do paths[#paths + 1] = all[i] end
  nxt, counts = 1, {}
end

function request()
  local path = paths[nxt]
  nxt = nxt % #paths + 1
  return wrk.format("GET", path)
end

function response(status, headers, body)
  -- every leg asks the JSON API: a 200 that is not JSON (the home page) counts as status 0, a failure
  if status == 200 and string.sub(body or "", 1, 1) ~= "{" then status = 0 end
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"statuses": {%s}, %s, "tail": %s}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    table.concat(parts, ", "), socket_errors(summary), latency_tail(latency)))
end
