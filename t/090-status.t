# pay_status: the counters' page in Prometheus text (checked by promtool,
# Debian's prometheus package) and JSON, with exact values after known
# deliveries, under a master and two workers, across reloads (HUP): the
# counters live in the zone "ngx_http_pay_status", which a reload keeps.
#
# Every block but the first reloads nginx (the configurations differ), so
# the deliveries of one block are counted once their requests are over and
# read in the next; $pay_secret is checked on the way.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

master_on();
workers(2);
use_hup();

repeat_each(1);

PayTest::check_pages_with_promtool();

plan tests => 48;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: forwarded, duplicate, a wrong signature, the old secret
Secret 2 (whsec_test_secret) signs evt_status_1 twice, secret 1 signs
evt_status_3; evt_status_2 is signed by neither.
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_old_secret;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_set_header Pay-Secret $pay_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe $http_pay_secret\n";
    }
    location = /pay_status {
        pay_status;
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_status_1"),
 PayTest::stripe_delivery("/hook", "evt_status_1"),
 PayTest::stripe_delivery("/hook", "evt_status_2"),
 PayTest::stripe_delivery("/hook", "evt_status_3")]
--- more_headers eval
[PayTest::stripe_signature("evt_status_1"),
 PayTest::stripe_signature("evt_status_1"),
 "Stripe-Signature: " . PayTest::stripe_header(
     PayTest::stripe_event("evt_status_2"), undef, "whsec_wrong"),
 "Stripe-Signature: " . PayTest::stripe_header(
     PayTest::stripe_event("evt_status_3"), undef, "whsec_old_secret")]
--- error_code eval
[200, 200, 400, 200]
--- response_body_like eval
["^app: new 2\n\$", "duplicate", "signature_mismatch", "^app: new 1\n\$"]
--- no_error_log
[alert]
[crit]



=== TEST 2: the counts, after a reload, in Prometheus text
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_old_secret;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
    location = /pay_status {
        pay_status;
    }
    location = /block-2 {
        return 204;
    }
--- request
GET /pay_status
--- response_headers
Content-Type: text/plain; version=0.0.4
--- response_body_like eval
PayTest::lines_like
    'ngx_pay_info{version="0.3.0"} 1',
    'ngx_pay_webhooks_total{provider="stripe",outcome="forwarded"} 2',
    'ngx_pay_webhooks_total{provider="stripe",outcome="duplicate"} 1',
    'ngx_pay_webhooks_total{provider="stripe",outcome="signature_mismatch"} 1',
    'ngx_pay_webhooks_total{provider="stripe",outcome="body_malformed"} 0',
    'ngx_pay_webhook_secret_matches_total{location="/hook",secret="1"} 1',
    'ngx_pay_webhook_secret_matches_total{location="/hook",secret="2"} 2',
    'ngx_pay_store_operations_total{store="local",op="claim",result="new"} 2',
    'ngx_pay_store_operations_total{store="local",op="claim",result="done"} 1',
    'ngx_pay_store_operations_total{store="local",op="complete",result="sent"} 2',
    'ngx_pay_store_seconds_count{store="local",op="claim"} 3',
    'ngx_pay_store_seconds_bucket{store="local",op="claim",le="+Inf"} 3',
    'ngx_pay_store_up{store="local"} 1',
    '# TYPE ngx_pay_store_seconds histogram',
    '# TYPE ngx_pay_webhooks_total counter'
--- no_error_log
[alert]
[crit]



=== TEST 3: one event on eight connections, both workers
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_old_secret;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
    location = /pay_status {
        pay_status;
    }
    location = /block-3 {
        return 204;
    }
--- request eval
[map { PayTest::stripe_delivery("/hook", "evt_status_w") } 1 .. 8]
--- more_headers eval
[map { PayTest::stripe_signature("evt_status_w") } 1 .. 8]
--- error_code eval
[(200) x 8]
--- response_body eval
["app\n", ($PayTest::DUPLICATE) x 7]



=== TEST 4: the sums over both workers and two reloads, in JSON
--- http_config
    pay_store local shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_old_secret;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /pay_status {
        pay_status;
    }
    location = /block-4 {
        return 204;
    }
--- request
GET /pay_status?format=json
--- response_headers
Content-Type: application/json
--- response_body_like eval
PayTest::pieces_like
    '{"version":"0.3.0","counting":true,"metrics":[',
    '{"labels":{"provider":"stripe","outcome":"forwarded"},"value":3}',
    '{"labels":{"provider":"stripe","outcome":"duplicate"},"value":8}',
    '{"labels":{"location":"/hook","secret":"2"},"value":10}',
    '"buckets":{"0.0001":'



=== TEST 5: Accept: application/json
--- http_config
    pay_store local shm=1m;
--- config
    location = /pay_status {
        pay_status;
    }
--- request
GET /pay_status
--- more_headers
Accept: text/html, application/json;q=0.9
--- response_body_like eval
'^\{"version":"0\.3\.0","counting":true,"metrics":\[\{"name":"ngx_pay_info"'



=== TEST 6: pay_status_zone off: no counters, the gauges stay
--- http_config
    pay_store local shm=1m;
    pay_status_zone off;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe local;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /pay_status {
        pay_status;
    }
--- request
GET /pay_status
--- response_body
# HELP ngx_pay_info The ngx_pay version running, as a label; always 1.
# TYPE ngx_pay_info gauge
ngx_pay_info{version="0.3.0"} 1
# HELP ngx_pay_store_up 1 when the answering worker reaches the store, else 0.
# TYPE ngx_pay_store_up gauge
ngx_pay_store_up{store="local"} 1



=== TEST 7: only GET and HEAD
--- http_config
    pay_store local shm=1m;
--- config
    location = /pay_status {
        pay_status;
    }
--- request
POST /pay_status
x
--- error_code: 405
--- response_body_like: 405
