-- wrk script for bench/run's intent scenarios: POSTs a payment-intent
-- request ({"amount":2000,"currency":"usd"}) with an Idempotency-Key.
--
--   wrk -s bench/intent.lua URL -- MODE - - TAG
--
-- MODE intent-new:    a new key every request (TAG, the thread and a
--                     counter): every request creates an intent at the
--                     stand-in provider and saves two records.
-- MODE intent-replay: the key bench/run created before the runs
--                     ("bench-replayed", same body): every answer is the
--                     saved one, replayed.
--
-- done() prints one "bench-result" line that bench/run parses.

local thread_seq = 0

function setup(thread)
    thread_seq = thread_seq + 1
    thread:set("thread_no", thread_seq)
end

local mode, prefix
local counter = 0
-- bench/run creates "bench-replayed" with this very body
local body = '{"amount":2000,"currency":"usd","description":"bench order"}'
local fixed_req

local function intent(key)
    return wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = key,
    }, body)
end

function init(args)
    mode = args[1]
    prefix = "bench-" .. args[4] .. "-" .. (thread_no or 1) .. "-"
    assert(mode == "intent-new" or mode == "intent-replay",
           "mode: intent-new or intent-replay")
    fixed_req = intent("bench-replayed")
end

function request()
    if mode == "intent-replay" then
        return fixed_req
    end
    counter = counter + 1
    return intent(prefix .. counter)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "bench-result requests=%d rps=%.1f p50_us=%d p99_us=%d " ..
        "non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99),
        e.status, e.connect, e.read, e.write, e.timeout))
end
