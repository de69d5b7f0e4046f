-- wrk script for bench/orders.py: one wrk thread = one shopper (its own connection and bearer token) who buys
-- its orders one after another, each in three requests:
--   1. POST /api/v1/orders (one unit of the service item, an Idempotency-Key of its own) -> 201, the order id;
--   2. POST /api/v1/orders/{id}/pay with the sandbox (another key) -> 201, the payment's out_trade_no and amount;
--   3. POST /api/v1/payments/notify/sandbox: the sandbox's notification that the money arrived, signed with
--      HMAC-SHA256 (libcrypto through LuaJIT's ffi) as the sandbox signs it -> 200: paid, its voucher issued.
-- Arguments (after `--`): the run's directory (tokens, one per line, in tokens), the orders per shopper, the
-- service item id and the sandbox secret. A step that does not answer as above ends the shopper's run: the bench
-- finds it in the results. At the end each thread writes "<step> <status> <ms>" per request, "bought <ms>" per
-- order bought, then "first <ms>" and "last <ms>", to <dir>/shopper-<n>, and stops (the bench then stops wrk).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
  typedef struct evp_md_st EVP_MD;
  const EVP_MD *EVP_sha256(void);
  unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d, size_t n,
                      unsigned char *md, unsigned int *md_len);
]]
local crypto = ffi.load("crypto")
local clock = ffi.new("bench_timespec")
local digest, digest_len = ffi.new("unsigned char[64]"), ffi.new("unsigned int[1]")

local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local function hmac_hex(key, data)
  crypto.HMAC(crypto.EVP_sha256(), key, #key, data, #data, digest, digest_len)
  local hex = {}
  for i = 0, digest_len[0] - 1 do hex[#hex + 1] = string.format("%02x", digest[i]) end
  return table.concat(hex)
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local tokens = {}
  for line in io.lines(args[1] .. "/tokens") do tokens[#tokens + 1] = line end
  token, orders, item, secret = tokens[id + 1], tonumber(args[2]), args[3], args[4]
  out, results = args[1] .. "/shopper-" .. id, {}
  bought, step, order_id, payment, sent_at, order_started, first, finished = 0, "order", nil, nil, 0, 0, nil, false
end

local function key()
  return string.format("bench-%d-%d-%s", id, bought, step)
end

function request()
  if finished then return wrk.format("GET", "/api/v1/health") end -- only if wrk asks after the thread stopped
  sent_at = now_ms()
  first = first or sent_at
  if step == "order" then
    order_started = sent_at
    return wrk.format("POST", "/api/v1/orders", {["Authorization"] = "Bearer " .. token,
      ["Idempotency-Key"] = key(), ["Content-Type"] = "application/json"},
      '{"lines":[{"service_item_id":' .. item .. ',"quantity":1}]}')
  elseif step == "pay" then
    return wrk.format("POST", "/api/v1/orders/" .. order_id .. "/pay", {["Authorization"] = "Bearer " .. token,
      ["Idempotency-Key"] = key(), ["Content-Type"] = "application/json"}, '{"provider":"sandbox"}')
  end
  local body = string.format('{"notify_id":"bench-%d-%d","kind":"payment","out_trade_no":"%s","trade_no":' ..
    '"SBXBENCH%d%d","status":"succeeded","amount_fen":%s,"sent_at":"2026-01-01T00:00:00+00:00"}',
    id, bought, payment.reference, id, bought, payment.amount)
  return wrk.format("POST", "/api/v1/payments/notify/sandbox", {["Content-Type"] = "application/json",
    ["X-Sandbox-Signature"] = hmac_hex(secret, body)}, body)
end

local function finish()
  finished = true
  local file = io.open(out .. ".part", "w")
  for _, line in ipairs(results) do file:write(line, "\n") end
  file:write(string.format("first %.3f\nlast %.3f\n", first or now_ms(), now_ms()))
  file:close()
  os.rename(out .. ".part", out) -- the bench sees the file only once it is whole
  wrk.thread:stop()
end

function response(status, headers, body)
  if finished then return end
  local now = now_ms()
  results[#results + 1] = string.format("%s %d %.3f", step, status, now - sent_at)
  if step == "order" then
    order_id = status == 201 and string.match(body, '^{"id":(%d+)')
    if not order_id then return finish() end
    step = "pay"
  elseif step == "pay" then
    local reference = string.match(body, '"out_trade_no":"([^"]+)"')
    local amount = string.match(body, '"amount_fen":(%d+)')
    if status ~= 201 or not reference or not amount then return finish() end
    payment, step = {reference = reference, amount = amount}, "notify"
  else
    if status ~= 200 then return finish() end
    bought, step = bought + 1, "order"
    results[#results + 1] = string.format("bought %.3f", now - order_started)
    if bought >= orders then return finish() end
  end
end
