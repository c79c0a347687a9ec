-- wrk script for bench/run: POSTs a Stripe event signed the way Stripe
-- signs it (Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256>).
--
--   wrk -s bench/stripe.lua URL -- MODE SECRET EVENT_FILE TAG
--
-- MODE fixed:  the same event every time, re-signed once a minute so a run
--              longer than the 300 s tolerance never goes stale.
-- MODE unique: every request a new event id, signed with the current time:
--              ids never repeat, however long the run (a pre-signed set
--              cycled by wrk would repeat them, which dedupe would absorb).
-- EVENT_FILE holds the body; its id is evt_ + 24 zeros, which unique mode
-- overwrites with TAG, the thread (2 digits) and a counter (the rest), so
-- bodies keep their size.  TAG is unique per wrk run (bench/run: its start
-- time and the run's number), so ids never repeat across runs either.
--
-- The unique mode costs wrk a few µs per request, which bench/run's "wrk
-- us/req" column shows: it signs with one HMAC context kept for the run
-- (the body fed in its three pieces, never joined for the signature) and
-- builds each request with a single concatenation.
--
-- done() prints one "bench-result" line that bench/run parses.

local ffi = require("ffi")

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md,
                    unsigned int *md_len);
typedef struct hmac_ctx_st HMAC_CTX;
HMAC_CTX *HMAC_CTX_new(void);
int HMAC_Init_ex(HMAC_CTX *ctx, const void *key, int len, const EVP_MD *md,
                 void *impl);
int HMAC_Update(HMAC_CTX *ctx, const unsigned char *data, size_t len);
int HMAC_Final(HMAC_CTX *ctx, unsigned char *md, unsigned int *len);
]]

local crypto = ffi.load("libcrypto.so.3")
local sha256 = crypto.EVP_sha256()
local mac = ffi.new("unsigned char[32]")
local hex = ffi.new("char[64]")
local digits = "0123456789abcdef"

local function hex_of_mac()
    for i = 0, 31 do
        local b = mac[i]
        hex[2 * i] = digits:byte(math.floor(b / 16) + 1)
        hex[2 * i + 1] = digits:byte(b % 16 + 1)
    end
    return ffi.string(hex, 64)
end

local function hmac_hex(key, msg)
    crypto.HMAC(sha256, key, #key, msg, #msg, mac, nil)
    return hex_of_mac()
end

-- the unique mode's context, keyed once; HMAC_Init_ex with no key resets
-- it for the next message
local hctx

local function hmac_update(s)
    crypto.HMAC_Update(hctx, s, #s)
end

local thread_seq = 0

function setup(thread)
    thread_seq = thread_seq + 1
    thread:set("thread_no", thread_seq)
end

local mode, secret, head, tail, id_prefix, id_counter, fixed_body
local req_head, req_mid
local counter = 0
local fixed_req, fixed_at = nil, 0

local function signed(body, now)
    local sig = hmac_hex(secret, now .. "." .. body)
    return wrk.format("POST", nil, {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["Stripe-Signature"] = "t=" .. now .. ",v1=" .. sig,
    }, body)
end

function init(args)
    mode, secret = args[1], args[2]
    local f = assert(io.open(args[3], "rb"))
    local event = f:read("*a")
    f:close()
    local s, e = event:find('"evt_' .. string.rep("0", 24) .. '"', 1, true)
    assert(s, args[3] .. ": no evt_000... id to replace")
    head, tail = event:sub(1, s + 4), event:sub(e)
    id_prefix = args[4] .. string.format("%02d", thread_no or 1)
    id_counter = "%0" .. (24 - #id_prefix) .. "d"
    assert(mode == "fixed" or mode == "unique", "mode: fixed or unique")
    if mode == "fixed" then
        fixed_body = event
        return
    end
    hctx = crypto.HMAC_CTX_new()
    crypto.HMAC_Init_ex(hctx, secret, #secret, sha256, nil)
    -- the request as wrk.format writes it, cut around the signature and
    -- before the body (its last #event bytes): the same bytes, each
    -- request one concatenation
    local r = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["Stripe-Signature"] = "@SIG@",
    }, event)
    local at = r:find("@SIG@", 1, true)
    req_head = r:sub(1, at - 1)
    req_mid = r:sub(at + 5, #r - #event)
end

function request()
    local now = os.time()
    if mode == "fixed" then
        if now - fixed_at >= 60 then
            fixed_req, fixed_at = signed(fixed_body, now), now
        end
        return fixed_req
    end
    counter = counter + 1
    local id = id_prefix .. string.format(id_counter, counter)
    local t = now .. "."
    crypto.HMAC_Init_ex(hctx, nil, 0, nil, nil)
    hmac_update(t)
    hmac_update(head)
    hmac_update(id)
    hmac_update(tail)
    crypto.HMAC_Final(hctx, mac, nil)
    return req_head .. "t=" .. now .. ",v1=" .. hex_of_mac() .. req_mid
           .. head .. id .. tail
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
