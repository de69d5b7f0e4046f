-- wrk script for bench/coupon_claims.py: every request claims with the next consumer's bearer token.
-- Arguments (after `--`): the token file (one token per line) and the number of wrk threads N; thread n
-- of N takes tokens n, n+N, n+2N...;
-- a thread that runs out starts its share again (the bench gives enough tokens and reports reuse).
-- At the end it prints one line: JSON of the responses by status and error code.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local all = {}
  for line in io.lines(args[1]) do all[#all + 1] = line end
  tokens = {}
  for i = id + 1, #all, tonumber(args[2]) do tokens[#tokens + 1] = all[i] end
  next_token, reused, counts = 1, 0, {}
end

function request()
  if next_token > #tokens then next_token, reused = 1, reused + 1 end
  local token = tokens[next_token]
  next_token = next_token + 1
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token})
end

function response(status, headers, body)
  local code = status >= 400 and string.match(body or "", '"code":"([%w_]+)"') or ""
  local key = tostring(status) .. (code ~= "" and (" " .. code) or "")
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total, reused = {}, 0
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts")) do total[key] = (total[key] or 0) + n end
    reused = reused + thread:get("reused")
  end
  local parts = {}
  for key, n in pairs(total) do parts[#parts + 1] = string.format('"%s": %d', key, n) end
  io.write(string.format('RESULT {"seconds": %.3f, "counts": {%s}, "token_reuse": %d, ' ..
    '"p50_ms": %.2f, "p99_ms": %.2f, "socket_errors": %d}\n',
    summary.duration / 1e6, table.concat(parts, ", "), reused,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
