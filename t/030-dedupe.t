# Webhook deduplication with the shared-memory store (docs/directives.md):
# claim, complete on the app's 2xx, release on a known failure, a retry
# flagged after an unknown outcome, duplicates answered at the edge,
# deliveries in flight answered 409, a namespace per endpoint.
#
# Every block: one status and one body per request, the listed headers, and
# after every request the expected log lines and no [alert] or [crit].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

# an app that accepts connections and never answers
$ENV{TEST_NGINX_STALL_PORT} = PayTest::stall_server();

# a second server, without a server_name
$ENV{TEST_NGINX_SRV2_PORT} = PayTest::free_port();

repeat_each(1);

plan tests => 207 + 15;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the first delivery goes to the app, the next ones are answered at the edge
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_dd_1"), PayTest::stripe_delivery("/hook", "evt_dd_1"),
 PayTest::stripe_delivery("/hook", "evt_dd_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_1"), PayTest::stripe_signature("evt_dd_1"),
 PayTest::stripe_signature("evt_dd_1")]
--- error_code eval
[200, 200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE, $PayTest::DUPLICATE]
--- response_headers eval
["Content-Type: text/plain", "Content-Type: application/json",
 "Content-Type: application/json"]
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_dd_1" in "local"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 2: a delivery that finds the event in flight gets 409 and Retry-After
The outer location claims the event and forwards it, signature and all, to
a second webhook location sharing its namespace on the same store: a
concurrent delivery.  Its 409 reaches the outer location as the app's
answer, so the claim is released and a later delivery goes through.
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location = /inner {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local lock=30s namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_dd_2"), PayTest::stripe_delivery("/inner", "evt_dd_2"),
 PayTest::stripe_delivery("/inner", "evt_dd_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_2"), PayTest::stripe_signature("evt_dd_2"),
 PayTest::stripe_signature("evt_dd_2")]
--- error_code eval
[409, 200, 200]
--- response_body_like eval
['"code":"in_flight"', '^app: new$', '"duplicate":true']
--- response_headers eval
["Content-Type: application/problem+json", "Content-Type: text/plain",
 "Content-Type: application/json"]
--- error_log
pay dedupe claim "webhook:hook:stripe:evt_dd_2" in "local"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 3: Retry-After of an in-flight delivery is the lock time
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location = /inner {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local lock=1500ms namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_dd_3")
--- more_headers eval
PayTest::stripe_signature("evt_dd_3")
--- error_code: 409
--- response_headers
Retry-After: 2
Content-Type: application/problem+json
--- response_body_like: "status":409,
--- error_log
pay: stripe rejected: in_flight
--- no_error_log
[alert]
[crit]



=== TEST 4: an app that answers 500 releases the claim: the retry goes through as new
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook-failing {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/app-failing;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app-failing {
        return 500 "app failed\n";
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-failing", "evt_dd_4"), PayTest::stripe_delivery("/hook", "evt_dd_4"),
 PayTest::stripe_delivery("/hook", "evt_dd_4")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_4"), PayTest::stripe_signature("evt_dd_4"),
 PayTest::stripe_signature("evt_dd_4")]
--- error_code eval
[500, 200, 200]
--- response_body eval
["app failed\n", "app: new\n", $PayTest::DUPLICATE]
--- error_log
pay dedupe claim "webhook:hook:stripe:evt_dd_4" in "local"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 5: an app that times out: the next delivery is forwarded as a retry
The request went to the app and no answer came back: nginx cannot know
whether the app took the event.  The next delivery goes through, flagged.
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook-hanging {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_read_timeout 300ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STALL_PORT/;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-hanging", "evt_dd_5"), PayTest::stripe_delivery("/hook", "evt_dd_5"),
 PayTest::stripe_delivery("/hook", "evt_dd_5")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_5"), PayTest::stripe_signature("evt_dd_5"),
 PayTest::stripe_signature("evt_dd_5")]
--- error_code eval
[504, 200, 200]
--- response_body_like eval
["504 Gateway Time-out", "^app: retry\$", '"duplicate":true']
--- error_log
pay dedupe claim "webhook:hook:stripe:evt_dd_5" in "local"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 6: a done record expires after the ttl
/wait is delayed 500 ms by limit_req the second time, longer than the ttl.
--- http_config
    pay_store local shm=1m;
    limit_req_zone $server_port zone=wait:1m rate=2r/s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local ttl=200ms;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
    location = /wait {
        # limit_req runs after the rewrite phase: no "return" here
        limit_req zone=wait burst=5;
        proxy_pass http://127.0.0.1:$server_port/waited;
    }
    location = /waited {
        return 200 "waited\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_dd_6"), PayTest::stripe_delivery("/hook", "evt_dd_6"),
 "GET /wait", "GET /wait", PayTest::stripe_delivery("/hook", "evt_dd_6")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_6"), PayTest::stripe_signature("evt_dd_6"), "", "",
 PayTest::stripe_signature("evt_dd_6")]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE, "waited\n", "waited\n", "app: new\n"]
--- no_error_log
[alert]
[crit]



=== TEST 7: pay_dedupe off forwards every delivery
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe off;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: [$http_pay_dedupe]\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_dd_7"), PayTest::stripe_delivery("/hook", "evt_dd_7")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_7"), PayTest::stripe_signature("evt_dd_7")]
--- error_code eval
[200, 200]
--- response_body eval
["app: []\n", "app: []\n"]
--- no_error_log
pay dedupe claim
[alert]
[crit]
--- log_level: debug



=== TEST 8: with no pay_store at all, dedupe uses an implicit shared-memory store
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_dd_8"), PayTest::stripe_delivery("/hook", "evt_dd_8")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_8"), PayTest::stripe_signature("evt_dd_8")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE]
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_dd_8" in "pay_default"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 9: stores are separate: pay_dedupe names one, pay_store_default is the other
/hook-first takes /hook's default namespace, so only the stores differ.
--- http_config
    pay_store first shm=1m;
    pay_store second shm=1m;
    pay_store_default second;
--- config
    location = /hook-first {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe first namespace=localhost=/hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-first", "evt_dd_9"), PayTest::stripe_delivery("/hook", "evt_dd_9"),
 PayTest::stripe_delivery("/hook", "evt_dd_9"), PayTest::stripe_delivery("/hook-first", "evt_dd_9")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_9"), PayTest::stripe_signature("evt_dd_9"),
 PayTest::stripe_signature("evt_dd_9"), PayTest::stripe_signature("evt_dd_9")]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["app: new\n", "app: new\n", $PayTest::DUPLICATE, $PayTest::DUPLICATE]
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_dd_9"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 10: a rejected delivery claims nothing
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_dd_10"), PayTest::stripe_delivery("/hook", "evt_dd_10")]
--- more_headers eval
["Stripe-Signature: t=" . time() . ",v1=" . ("0" x 64),
 PayTest::stripe_signature("evt_dd_10")]
--- error_code eval
[400, 200]
--- response_body_like eval
['"code":"signature_mismatch"', '^app: new$']
--- no_error_log
[alert]
[crit]



=== TEST 11: two endpoints, one event: each app gets it once, each endpoint absorbs its own duplicate
Stripe sends the same event id to every endpoint subscribed to it.
--- http_config
    pay_store local shm=1m;
--- config
    location = /billing {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        add_header X-Key $pay_dedupe_key always;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app-billing;
    }
    location = /fulfilment {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        add_header X-Key $pay_dedupe_key always;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app-fulfilment;
    }
    location = /app-billing {
        return 200 "billing: $http_pay_dedupe\n";
    }
    location = /app-fulfilment {
        return 200 "fulfilment: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/billing", "evt_dd_11"), PayTest::stripe_delivery("/fulfilment", "evt_dd_11"),
 PayTest::stripe_delivery("/billing", "evt_dd_11"), PayTest::stripe_delivery("/fulfilment", "evt_dd_11")]
--- more_headers eval
[map { PayTest::stripe_signature("evt_dd_11") } 1 .. 4]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["billing: new\n", "fulfilment: new\n", $PayTest::DUPLICATE, $PayTest::DUPLICATE]
--- response_headers eval
["X-Key: webhook:localhost=/billing:stripe:evt_dd_11",
 "X-Key: webhook:localhost=/fulfilment:stripe:evt_dd_11",
 "X-Key: webhook:localhost=/billing:stripe:evt_dd_11",
 "X-Key: webhook:localhost=/fulfilment:stripe:evt_dd_11"]
--- no_error_log
[alert]
[crit]



=== TEST 12: namespace= shares records on purpose: one endpoint under two paths
--- http_config
    pay_store local shm=1m;
--- config
    location = /hooks/stripe {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=billing;
        add_header X-Key $pay_dedupe_key always;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /legacy/stripe {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=billing;
        add_header X-Key $pay_dedupe_key always;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hooks/stripe", "evt_dd_12"), PayTest::stripe_delivery("/legacy/stripe", "evt_dd_12")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_12"), PayTest::stripe_signature("evt_dd_12")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE]
--- response_headers eval
["X-Key: webhook:billing:stripe:evt_dd_12", "X-Key: webhook:billing:stripe:evt_dd_12"]
--- no_error_log
[alert]
[crit]



=== TEST 13: namespace= takes variables; one that is not plain is hashed
"a:b" holds the key's separator: '#' and 32 hex digits of SHA-256 of
"ngx_pay dedupe namespace v1", a NUL and the value.
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=$arg_tenant;
        add_header X-Key $pay_dedupe_key always;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook?tenant=acme", "evt_dd_13"), PayTest::stripe_delivery("/hook?tenant=acme", "evt_dd_13"),
 PayTest::stripe_delivery("/hook?tenant=a:b", "evt_dd_13")]
--- more_headers eval
[map { PayTest::stripe_signature("evt_dd_13") } 1 .. 3]
--- error_code eval
[200, 200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE, "app: new\n"]
--- response_headers eval
["X-Key: webhook:acme:stripe:evt_dd_13", "X-Key: webhook:acme:stripe:evt_dd_13",
 "X-Key: webhook:#" . substr(Digest::SHA::sha256_hex("ngx_pay dedupe namespace v1\x{00}a:b"), 0, 32) . ":stripe:evt_dd_13"]
--- no_error_log
[alert]
[crit]



=== TEST 14: a retry that fails keeps the flag until an answer says the app took the event
After a timeout, a 500 from the app on the flagged delivery says nothing
about the first one: the next delivery is flagged again.  Its 200 makes
the event done.
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook-hanging {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_read_timeout 300ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STALL_PORT/;
    }
    location = /hook-failing {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app-failing;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app-failing {
        return 500 "app failed: $http_pay_dedupe\n";
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-hanging", "evt_dd_14"), PayTest::stripe_delivery("/hook-failing", "evt_dd_14"),
 PayTest::stripe_delivery("/hook", "evt_dd_14"), PayTest::stripe_delivery("/hook", "evt_dd_14")]
--- more_headers eval
[map { PayTest::stripe_signature("evt_dd_14") } 1 .. 4]
--- error_code eval
[504, 500, 200, 200]
--- response_body_like eval
["504 Gateway Time-out", "^app failed: retry\$", "^app: retry\$", '"duplicate":true']
--- no_error_log
[alert]
[crit]



=== TEST 15: a server without a server_name: its listen address names it
"127.0.0.1:PORT=/hook" holds a ':', so the namespace is hashed.
--- http_config
    pay_store local shm=1m;
    server {
        listen 127.0.0.1:$TEST_NGINX_SRV2_PORT;
        server_name "";
        location = /hook {
            pay_webhook stripe;
            pay_webhook_secret whsec_test_secret;
            add_header X-Key $pay_dedupe_key always;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/app;
        }
    }
--- config
    location = /hook {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SRV2_PORT;
    }
    location = /app {
        return 200 "second server\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_dd_15")
--- more_headers eval
PayTest::stripe_signature("evt_dd_15")
--- response_body
second server
--- response_headers eval
"X-Key: webhook:#" . substr(Digest::SHA::sha256_hex("ngx_pay dedupe namespace v1\x{00}127.0.0.1:$ENV{TEST_NGINX_SRV2_PORT}=/hook"), 0, 32) . ":stripe:evt_dd_15"
--- no_error_log
[alert]
[crit]



=== TEST 16: lock= shorter than the upstream's timeout: the claim expired, the next delivery is still flagged
The claim's lock (200 ms) runs out while the app hangs (600 ms): the
unknown outcome is recorded all the same (with a warning naming the
cause, written when the request closes: not checked here, as it may come
after the answer).
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook-hanging {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local lock=200ms namespace=hook16;
        proxy_read_timeout 600ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STALL_PORT/;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local namespace=hook16;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-hanging", "evt_dd_16"), PayTest::stripe_delivery("/hook", "evt_dd_16"),
 PayTest::stripe_delivery("/hook", "evt_dd_16")]
--- more_headers eval
[PayTest::stripe_signature("evt_dd_16"), PayTest::stripe_signature("evt_dd_16"),
 PayTest::stripe_signature("evt_dd_16")]
--- error_code eval
[504, 200, 200]
--- response_body_like eval
["504 Gateway Time-out", "^app: retry\$", '"duplicate":true']
--- error_log
pay dedupe claim "webhook:hook16:stripe:evt_dd_16" in "local"
--- no_error_log
[alert]
[crit]
--- log_level: debug
