# Payment-intent idempotency (docs/intents.md; Stripe's behaviour and
# draft-ietf-httpapi-idempotency-key-header): a completed key is replayed
# with Idempotent-Replayed and no provider call, errors included; another
# body is 422; another scope, location or server is another key; a key
# in flight is 409; a failed app call leaves the intent "created" and the
# retry resumes it (one intent, the app called again); a store that is
# down is 503 before any provider call. With the shared-memory store and
# with Redis.
#
# The provider is the local stand-in (t/lib/PayTest/Stub.pm), and so is
# the app: its /app path answers what a block injects with /stub/fail
# (counted and recorded like any other path), so a block can switch the
# app's answer and read which Pay-* headers each app call got.
#
# Every block: the status and the body of every request, and after every
# request no [alert] nor [crit] (4 tests per request); plus the listed
# headers, the "pay: intent rejected: <code>" lines and [error] where none
# is expected (counted in $extra). Blocks reach the stand-in's control
# routes through /stub/ and start with /stub/reset (or call it in
# --- init when they check a log line). Idempotency keys are unique per
# block and per run; the Redis records live under a per-run prefix, and
# TESTs 14-15 use the record TEST 13 made, across an nginx restart.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_REDIS_PORT} ||= 6379;
$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();
$ENV{TEST_NGINX_DEAD_PORT} = PayTest::free_port();

# keys and Redis records of this run never meet an earlier run's
our $R = sprintf '%x%x%04x', time, $$, int rand 65536;
$ENV{TEST_NGINX_PAY_PREFIX} = "t062:$R:";

sub key { return "Idempotency-Key: k-$R-$_[0]" }

sub post {
    my ($path, $body) = @_;
    return "POST $path\n" . ($body // '{"amount":2000,"currency":"usd"}');
}

# "GET /stub/fail?..." with the values escaped
sub stub_fail {
    my ($path, $status, %opt) = @_;
    my %q = (path => $path, status => $status, %opt);
    return 'GET /stub/fail?' . join '&', map {
        my $v = $q{$_};
        $v =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
        "$_=$v"
    } sort keys %q;
}

# a Stripe PaymentIntent the stand-in answers with every time (fixed ids:
# a replayed body can be told from a new intent's)
our $PI = '{"id":"pi_3Fix062a","object":"payment_intent","amount":2000,'
        . '"currency":"usd","status":"requires_payment_method",'
        . '"client_secret":"pi_3Fix062a_secret_Fx9y8w7","livemode":false}';

our $FIXED = PayTest::json_like(provider => '"stripe"', id => '"pi_3Fix062a"',
    status => '"requires_payment_method"',
    client_secret => '"pi_3Fix062a_secret_Fx9y8w7"', amount => '2000',
    currency => '"usd"');
our $STRIPE = PayTest::json_like(provider => '"stripe"', id => '"pi_\w+"',
    client_secret => '"pi_\w+_secret_\w+"', amount => '2000');

our $PROVIDERS = <<'_EOC_';
        pay_idempotency_scope $http_authorization;
        pay_stripe_api        /_pay/stripe/;
        pay_stripe_key        sk_test_stub;
        pay_paypal_api        /_pay/paypal/;
        pay_paypal_client     paypal_client_id paypal_client_secret;
        add_header            X-Pay-Idempotency $pay_idempotency always;
_EOC_

# what the app locations pass on to the app
our $APP = <<'_EOC_';
        proxy_set_header Pay-Intent-Id $pay_intent_id;
        proxy_set_header Pay-Idempotency $pay_idempotency;
        proxy_set_header Pay-Intent-Attempts $pay_intent_attempts;
        proxy_pass http://127.0.0.1:$app_port/app;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    # client faults at info, as before pay_log_level (t/086 checks its default)
    pay_log_level info;
    pay_store main shm=4m;
    pay_store r redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
    # the app is down for a request with X-Test-App-Down: 1 (headers are
    # not part of the fingerprint: its retry is the same request)
    map $http_x_test_app_down $app_port {
        default  $TEST_NGINX_STUB_PORT;
        1        $TEST_NGINX_DEAD_PORT;
    }
_EOC_

    # a block's own --- config adds locations to these
    my $config = <<'_EOC_';
    location = /intents {
        pay_intent stripe;
        pay_idempotency main ttl=24h lock=60s;
@PROVIDERS@
    }
    location = /redis {
        pay_intent stripe;
        pay_idempotency r;
@PROVIDERS@
    }
    location = /app-intents {
        pay_intent stripe;
        pay_idempotency main;
@PROVIDERS@
@APP@
    }
    location = /app-redis {
        pay_intent stripe;
        pay_idempotency r;
@PROVIDERS@
@APP@
    }

    # Two requests with one key, the second while the first is in flight,
    # without timing anything: the mirror (the first) goes to /intents at
    # once and waits 1.5 s for Stripe (the stand-in delays its answer);
    # the client's own request (the second) waits 0.3 s for /pause first,
    # so it reaches /intents while the first holds the key: 409, whichever
    # way the two connections are accepted. The margins (the first claims
    # within milliseconds, the second comes 1.2 s before Stripe answers)
    # are the design; nothing is asserted about time. nginx closes the
    # client's connection only once the mirror is done, so the block's
    # next request sees the first one's saved answer.
    location = /fanout {
        mirror /mirror;
        proxy_pass http://127.0.0.1:$server_port/late;
    }
    location = /mirror {
        internal;
        proxy_pass http://127.0.0.1:$server_port/intents;
    }
    location = /late {
        auth_request /pause;
        proxy_pass http://127.0.0.1:$server_port/intents;
    }
    location = /pause {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/pause;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }

    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /_pay/paypal/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
_EOC_
    $config =~ s/^\@PROVIDERS\@\n/$PROVIDERS/mg;
    $config =~ s/^\@APP\@\n/$APP/mg;
    $block->set_value('config', ($block->config // '') . $config);
});

repeat_each(1);

# each request is 4 tests (status, body, no [alert], no [crit]), plus
#   response_headers lines:    1 per line given: 55
#   raw_response_headers_like: 1 per request of TESTs 8 and 11: 10
#   error_log lines:           TEST 12: 2, TEST 14: 1
#   no_error_log [error]:      1 per request of TESTs 1-7, 13, 15, 17: 52
my $extra = 55 + 10 + 3 + 52;

plan tests => repeat_each() * (PayTest::requests(blocks()) * 4 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the same key and body again: the saved answer, replayed, and no second call
--- request eval
["GET /stub/reset", main::stub_fail('/v1/payment_intents', 200, times => -1, body => $::PI),
 main::post('/intents'), main::post('/intents'), main::post('/intents'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "", main::key(1), main::key(1), main::key(1), ""]
--- error_code eval
[200, 200, 201, 201, 201, 200]
--- response_headers eval
["", "",
 "Content-Type: application/json\nIdempotent-Replayed:\nX-Pay-Idempotency: new",
 "Content-Type: application/json\nIdempotent-Replayed: true\nX-Pay-Idempotency: replayed",
 "Content-Type: application/json\nIdempotent-Replayed: true\nX-Pay-Idempotency: replayed",
 ""]
--- response_body_like eval
["ok", "ok", $::FIXED, $::FIXED, $::FIXED, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 2: a provider's refusal is saved and replayed too
--- request eval
["GET /stub/reset",
 main::stub_fail('/v1/payment_intents', 402, code => 'card_declined',
            decline_code => 'insufficient_funds'),
 main::post('/intents'), main::post('/intents'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "", main::key(2), main::key(2), ""]
--- error_code eval
[200, 200, 402, 402, 200]
--- response_headers eval
["", "",
 "Content-Type: application/problem+json\nIdempotent-Replayed:",
 "Content-Type: application/problem+json\nIdempotent-Replayed: true",
 ""]
--- response_body_like eval
["ok", "ok",
 PayTest::json_like(code => '"provider_error"', provider => '"stripe"',
                    provider_code => '"card_declined"',
                    decline_code => '"insufficient_funds"'),
 PayTest::json_like(code => '"provider_error"', provider => '"stripe"',
                    provider_code => '"card_declined"',
                    decline_code => '"insufficient_funds"'),
 '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 3: the same key with another body: 422, byte for byte (spaces count)
--- request eval
["GET /stub/reset", main::post('/intents'),
 main::post('/intents', '{"amount":2001,"currency":"usd"}'),
 main::post('/intents', '{"amount":2000, "currency":"usd"}'),
 main::post('/intents'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(3), main::key(3), main::key(3), main::key(3), ""]
--- error_code eval
[200, 201, 422, 422, 201, 200]
--- response_headers eval
["", "X-Pay-Idempotency: new", "X-Pay-Idempotency: mismatch",
 "X-Pay-Idempotency: mismatch", "Idempotent-Replayed: true", ""]
--- response_body_like eval
["ok", $::STRIPE,
 PayTest::json_like(code => '"idempotency_key_reused"', status => '422'),
 PayTest::json_like(code => '"idempotency_key_reused"', status => '422'),
 $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 4: keys are per scope (pay_idempotency_scope $http_authorization)
--- request eval
["GET /stub/reset", main::post('/intents'), main::post('/intents'),
 main::post('/intents'), main::post('/intents'), main::post('/intents'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(4) . "\nAuthorization: Bearer client-a",
 main::key(4) . "\nAuthorization: Bearer client-b",
 main::key(4) . "\nAuthorization: Bearer client-a",
 main::key(4),
 main::key(4) . "\nAuthorization: Bearer client-b", ""]
--- error_code eval
[200, 201, 201, 201, 201, 201, 200]
--- response_headers eval
["", "X-Pay-Idempotency: new\nIdempotent-Replayed:",
 "X-Pay-Idempotency: new\nIdempotent-Replayed:",
 "X-Pay-Idempotency: replayed\nIdempotent-Replayed: true",
 "X-Pay-Idempotency: new\nIdempotent-Replayed:",
 "X-Pay-Idempotency: replayed\nIdempotent-Replayed: true", ""]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, $::STRIPE, $::STRIPE, $::STRIPE, '^3$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 5: a validation failure is not saved: the key then works with a fixed body
--- request eval
["GET /stub/reset",
 main::post('/intents', '{"amount":20.00,"currency":"usd"}'),
 main::post('/intents'), main::post('/intents'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(5), main::key(5), main::key(5), ""]
--- error_code eval
[200, 422, 201, 201, 200]
--- response_headers eval
["", "", "X-Pay-Idempotency: new\nIdempotent-Replayed:",
 "Idempotent-Replayed: true", ""]
--- response_body_like eval
["ok", PayTest::json_like(code => '"validation_failed"', field => '"amount"'),
 $::STRIPE, $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 6: the key as an RFC 8941 string is the same key
--- request eval
["GET /stub/reset", main::post('/intents'), main::post('/intents'),
 main::post('/intents'), "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "Idempotency-Key: \"k-$::R-6\"", main::key(6), "Idempotency-Key:  k-$::R-6 ", ""]
--- error_code eval
[200, 201, 201, 201, 200]
--- response_headers eval
["", "Idempotent-Replayed:", "Idempotent-Replayed: true",
 "Idempotent-Replayed: true", ""]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 7: the same key in another location is another key
--- config
    location = /intents-too {
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
        add_header X-Pay-Idempotency $pay_idempotency always;
    }
--- request eval
["GET /stub/reset", main::post('/intents'), main::post('/intents-too'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(7), main::key(7), ""]
--- error_code eval
[200, 201, 201, 200]
--- response_headers eval
["", "X-Pay-Idempotency: new", "X-Pay-Idempotency: new", ""]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, '^2$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 8: the same key while the first request is in flight: 409 with Retry-After
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/payment_intents&status=delay&ms=1500",
 "GET /stub/fail?path=/pause&status=200&ms=300&body=paused",
 main::post('/fanout'), main::post('/intents'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "", "", main::key(8), main::key(8), ""]
--- error_code eval
[200, 200, 200, 409, 201, 200]
--- raw_response_headers_like eval
["", "", "", "\r\nRetry-After: \\d+\r\n", "\r\nIdempotent-Replayed: true\r\n", ""]
--- response_headers eval
["", "", "", "X-Pay-Idempotency: conflict", "X-Pay-Idempotency: replayed", ""]
--- response_body_like eval
["ok", "ok", "ok",
 PayTest::json_like(code => '"idempotency_conflict"', status => '409'),
 $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 9: the app fails (500): the retry resumes the same intent and calls the app again
--- request eval
["GET /stub/reset", main::stub_fail('/app', 500),
 main::post('/app-intents'),
 main::stub_fail('/app', 201, times => -1, body => '{"order":"o_9","paid":false}'),
 main::post('/app-intents'), main::post('/app-intents'),
 "GET /stub/count?path=/v1/payment_intents",
 "GET /stub/count?path=/app",
 "GET /stub/requests?path=/app"]
--- more_headers eval
["", "", main::key(9), "", main::key(9), main::key(9), "", "", ""]
--- error_code eval
[200, 200, 500, 200, 201, 201, 200, 200, 200]
--- response_headers eval
["", "", "", "", "Idempotent-Replayed:\nContent-Type: application/json",
 "Idempotent-Replayed: true\nContent-Type: application/json", "", "", ""]
--- response_body_like eval
["ok", "ok", '"api_error"', "ok", '^\{"order":"o_9","paid":false\}$',
 '^\{"order":"o_9","paid":false\}$', '^1$', '^2$',
 '^\[\{[^\n]*?"pay-idempotency":"new","pay-intent-attempts":"stripe:200","pay-intent-id":"(pi_\w+)"[^\n]*"pay-idempotency":"resumed",[^}]*"pay-intent-id":"\1"']
--- no_error_log
[alert]
[crit]



=== TEST 10: the app is unreachable (502): the retry resumes the same intent
--- request eval
["GET /stub/reset",
 main::stub_fail('/app', 201, times => -1, body => '{"order":"o_10"}'),
 main::post('/app-intents'), main::post('/app-intents'),
 main::post('/app-intents'),
 "GET /stub/count?path=/v1/payment_intents",
 "GET /stub/requests?path=/app"]
--- more_headers eval
["", "", main::key(10) . "\nX-Test-App-Down: 1", main::key(10), main::key(10),
 "", ""]
--- error_code eval
[200, 200, 502, 201, 201, 200, 200]
--- response_headers eval
["", "", "", "Idempotent-Replayed:", "Idempotent-Replayed: true", "", ""]
--- response_body_like eval
["ok", "ok", "", '^\{"order":"o_10"\}$', '^\{"order":"o_10"\}$', '^1$',
 '^\[\{[^\n]*"pay-idempotency":"resumed",[^}]*"pay-intent-id":"pi_\w+"[^}]*\}[^\n]*\}\]$']
--- no_error_log
[alert]
[crit]



=== TEST 11: the store is down: 503 store_unavailable, and no provider is called
--- http_config
    pay_store down redis=127.0.0.1:$TEST_NGINX_DEAD_PORT timeout=100ms;
--- config
    location = /down {
        pay_intent stripe;
        pay_idempotency down;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
    }
--- request eval
["GET /stub/reset", main::post('/down'), main::post('/down'), "GET /stub/count"]
--- more_headers eval
["", main::key("11a"), main::key("11b"), ""]
--- error_code eval
[200, 503, 503, 200]
--- raw_response_headers_like eval
["", "\r\nRetry-After: \\d+\r\n", "\r\nRetry-After: \\d+\r\n", ""]
--- response_body_like eval
["ok", PayTest::json_like(code => '"store_unavailable"', status => '503'),
 PayTest::json_like(code => '"store_unavailable"', status => '503'), '^0$']
--- no_error_log
[alert]
[crit]



=== TEST 12: the store is down: the outage logged at error, the rejection at info
--- http_config
    pay_store down redis=127.0.0.1:$TEST_NGINX_DEAD_PORT timeout=100ms;
--- config
    location = /down {
        pay_intent stripe;
        pay_idempotency down;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
    }
--- request eval
main::post('/down')
--- more_headers eval
main::key(12)
--- error_code: 503
--- response_body_like eval
PayTest::json_like(code => '"store_unavailable"')
--- error_log eval
[qr/\[info\] .*pay: intent rejected: store_unavailable \(/,
 qr/\[error\] .*pay_store "down" is unavailable: /]
--- no_error_log
[alert]
[crit]



=== TEST 13: Redis: replay with Idempotent-Replayed and no second call
--- request eval
["GET /stub/reset", main::post('/redis'), main::post('/redis'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key("r13"), main::key("r13"), ""]
--- error_code eval
[200, 201, 201, 200]
--- response_headers eval
["", "X-Pay-Idempotency: new\nIdempotent-Replayed:",
 "X-Pay-Idempotency: replayed\nIdempotent-Replayed: true", ""]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 14: Redis: TEST 13's key with another body, after a restart: 422
--- request eval
main::post('/redis', '{"amount":2000,"currency":"eur"}')
--- more_headers eval
main::key("r13")
--- error_code: 422
--- response_body_like eval
PayTest::json_like(code => '"idempotency_key_reused"')
--- error_log eval
qr/\[info\] .*pay: intent rejected: idempotency_key_reused \(/
--- no_error_log
[alert]
[crit]



=== TEST 15: Redis: TEST 13's key and body, after a restart: replayed, no call
--- request eval
["GET /stub/reset", main::post('/redis'), main::post('/redis'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key("r13"), main::key("r15"), ""]
--- error_code eval
[200, 201, 201, 200]
--- response_headers eval
["", "Idempotent-Replayed: true", "Idempotent-Replayed:", ""]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 16: Redis: the app fails, the retry resumes the intent kept in Redis
--- request eval
["GET /stub/reset", main::stub_fail('/app', 503),
 main::post('/app-redis'),
 main::stub_fail('/app', 200, times => -1, body => '{"order":"o_16"}'),
 main::post('/app-redis'), main::post('/app-redis'),
 "GET /stub/count?path=/v1/payment_intents",
 "GET /stub/requests?path=/app"]
--- more_headers eval
["", "", main::key("r16"), "", main::key("r16"), main::key("r16"), "", ""]
--- error_code eval
[200, 200, 503, 200, 200, 200, 200, 200]
--- response_headers eval
["", "", "", "", "Idempotent-Replayed:", "Idempotent-Replayed: true", "", ""]
--- response_body_like eval
["ok", "ok", '"api_error"', "ok", '^\{"order":"o_16"\}$',
 '^\{"order":"o_16"\}$', '^1$',
 '^\[\{[^\n]*?"pay-idempotency":"new",[^}]*"pay-intent-id":"(pi_\w+)"[^\n]*"pay-idempotency":"resumed",[^}]*"pay-intent-id":"\1"[^}]*\}[^\n]*\}\]$']
--- no_error_log
[alert]
[crit]



=== TEST 17: one path and one key in two server{} blocks (chosen by Host) are two keys
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT;
        server_name shop-b.test;
        location = /intents {
            pay_intent stripe;
            pay_idempotency main ttl=24h lock=60s;
            pay_idempotency_scope $http_authorization;
            pay_stripe_api /_pay/stripe/;
            pay_stripe_key sk_test_stub;
            add_header X-Pay-Idempotency $pay_idempotency always;
        }
        location /_pay/stripe/ {
            internal;
            proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
            proxy_read_timeout 2s;
            subrequest_output_buffer_size 64k;
        }
    }
--- request eval
["GET /stub/reset", main::post('/intents'), main::post('/intents'),
 main::post('/intents'), main::post('/intents'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(17), main::key(17) . "\nHost: shop-b.test",
 main::key(17), main::key(17) . "\nHost: shop-b.test", ""]
--- error_code eval
[200, 201, 201, 201, 201, 200]
--- response_headers eval
["", "X-Pay-Idempotency: new", "X-Pay-Idempotency: new",
 "X-Pay-Idempotency: replayed", "X-Pay-Idempotency: replayed", ""]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, $::STRIPE, $::STRIPE, '^2$']
--- no_error_log
[alert]
[crit]
[error]
