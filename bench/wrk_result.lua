-- Loaded by the wrk scripts (dofile): the parts of their one-line JSON result they share.

-- A run's latency tail as JSON, the latency in ms at each percentile from 90 to 99.95 by 0.05, then the max.
-- Enough of the distribution for a bench to take the p99 of several runs together (bench/harness.py
-- pooled_percentile), which this wrk's Lua cannot give otherwise: its latency object answers percentiles,
-- not its histogram.
function latency_tail(latency)
  local tail = {}
  for step = 0, 199 do
    local p = 90 + step * 0.05
    tail[#tail + 1] = string.format("[%.2f, %.3f]", p, latency:percentile(p) / 1e3)
  end
  tail[#tail + 1] = string.format("[100, %.3f]", latency.max / 1e3)
  return "[" .. table.concat(tail, ", ") .. "]"
end

-- '"socket_errors": N, "errors": "connect .. read .. write .. timeout .."': the count a bench fails on, and
-- its kinds for the message.
function socket_errors(summary)
  local e = summary.errors
  return string.format('"socket_errors": %d, "errors": "connect %d read %d write %d timeout %d"',
    e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout)
end
