-- wrk script for bench/webhooks.py's anchor: POSTs a webhook-sized JSON body to the receiver, each request
-- with an event id of its own (`Daodian-Event-Id: anchor_<thread>_<n>`), as the delivery worker does.
-- Arguments (after `--`): the body. Non-204 answers are counted and printed at the end ("non-204: n").

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  body, n, bad = args[1], 0, 0
end

function request()
  n = n + 1
  return wrk.format("POST", "/hooks", {["Content-Type"] = "application/json",
                                       ["Daodian-Event-Id"] = "anchor_" .. id .. "_" .. n}, body)
end

function response(status, headers, body)
  if status ~= 204 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write("non-204: " .. total .. "\n")
end
