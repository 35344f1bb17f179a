-- wrk script for bench/intake.py: POST /api/v1/orders with 3 lines on random SKUs (or the hot SKU).
-- Settings come from the environment: INTAKE_TOKEN, INTAKE_SKUS, INTAKE_HOT ("1" = every line on HOT-1).
local token = os.getenv("INTAKE_TOKEN")
local skus = tonumber(os.getenv("INTAKE_SKUS") or "10000")
local hot = os.getenv("INTAKE_HOT") == "1"
local counter = 0
thread_id = 0  -- a global: setup() sets it per thread (a local here would shadow it, and every thread would
               -- send the same external ids, so half the requests would be replays)
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_id)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

local address = '"ship_to":{"name":"Bench Buyer","line1":"Prinsengracht 263","city":"Amsterdam",' ..
                '"postal_code":"1016 GV","country":"NL"}'

function request()
  counter = counter + 1
  local lines = {}
  for i = 1, 3 do
    local sku = hot and "HOT-1" or string.format("B-%05d", math.random(0, skus - 1))
    lines[i] = string.format('{"sku":"%s","quantity":1,"unit_price":"9.99"}', sku)
  end
  local body = string.format('{"customer":"C-001","currency":"EUR","external_id":"W%d-%d-%d",%s,"lines":[%s]}',
    thread_id, counter, math.random(0, 1000000000), address, table.concat(lines, ","))
  return wrk.format(nil, "/api/v1/orders", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d errors_status=%d errors_other=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
