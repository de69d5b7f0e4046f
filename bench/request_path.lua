-- wrk script for bench/request_path.py: no per-request Lua (the request is wrk's static one, headers from
-- -H), so the client costs the same on every leg; at the end one line of JSON with what the bench checks.
-- summary.errors.status counts responses with a status above 399; "tail" and "errors" as wrk_result.lua makes them.
-- With PAUSE_MS set, each connection waits that long before each request, so the rate is about
-- connections / (pause + latency): a steady stream that does not fill the server, whose latency is what a
-- request meets rather than the length of a queue wrk keeps full (bench/courier_positions.py's steady probe).

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_result.lua")

local pause_ms = tonumber(os.getenv("PAUSE_MS") or "")
if pause_ms then
  function delay()
    return pause_ms
  end
end

function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"non_2xx_3xx": %d, %s, "tail": %s}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status, socket_errors(summary), latency_tail(latency)))
end
