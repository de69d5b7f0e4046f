-- wrk script: wrk's static request (headers from -H), each connection waiting PAUSE_MS before each request,
-- so the rate is about connections / (pause + latency): a steady stream that does not fill the server, whose
-- latency is what a request meets rather than the length of a queue wrk keeps full. One line of JSON at the end.

local pause_ms = tonumber(os.getenv("PAUSE_MS") or "10")

function delay()
  return pause_ms
end

function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
