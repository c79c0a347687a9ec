# Payment-intent routing (docs/intents.md): providers tried in the order a
# variable gives (here a map on $pay_request_currency), failover on a
# connection error, a timeout, 429, 5xx and 401, none on a provider's 4xx
# (its answer is normalized), 503 when all failed, the circuit breaker in
# shared memory, and PayPal's OAuth token cached across orders and
# refreshed on a 401. Against the local stand-in of the providers' APIs
# (t/lib/PayTest/Stub.pm); the attempts are read from $pay_intent_attempts,
# which every intent location sends back as X-Pay-Attempts.
#
# Every block: the status and the body of every request, and after every
# request no [alert] nor [crit] (4 tests per request); plus the listed
# headers, the "pay: intent rejected: <code>" lines and [error] where none
# is expected (counted in $extra). Blocks that count or break calls reach
# the stand-in's control routes through /stub/ and start with /stub/reset;
# single-request blocks that check a log line set the stand-in up in
# --- init instead. Idempotency keys are unique per block and per run.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();
$ENV{TEST_NGINX_DEAD_PORT} = PayTest::free_port();

# keys of this run never meet an earlier run's
our $R = sprintf '%x%x', time, $$;

sub key { return "Idempotency-Key: k-$R-$_[0]" }

sub post {
    my ($path, $currency, $amount) = @_;
    $amount //= $currency eq 'jpy' ? 5000 : 2000;
    return qq(POST $path\n{"amount":$amount,"currency":"$currency"});
}

our $PROVIDERS = <<'_EOC_';
        pay_idempotency       main;
        pay_stripe_api        /_pay/stripe/;
        pay_stripe_key        sk_test_stub;
        pay_paypal_api        /_pay/paypal/;
        pay_paypal_client     paypal_client_id paypal_client_secret;
        pay_square_api        /_pay/square/;
        pay_square_token      sq_token_stub;
        pay_square_location   LSTUBMAIN0001;
        add_header            X-Pay-Attempts $pay_intent_attempts always;
        add_header            X-Pay-Provider $pay_intent_provider always;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    pay_store main shm=4m;
    map $pay_request_currency $pay_route {
        eur      "stripe paypal";
        jpy      stripe;
        default  "paypal stripe";
    }
_EOC_

    # a block's own --- config adds locations to these
    my $config = <<'_EOC_';
    location = /intents {
        pay_intent $pay_route;
        pay_intent_breaker off;
@PROVIDERS@
    }
    # Stripe with a key it does not know: 401
    location = /bad-key {
        pay_intent $pay_route;
        pay_intent_breaker off;
@PROVIDERS pay_stripe_key sk_test_not_the_key@
    }
    # PayPal where nothing listens
    location = /paypal-down {
        pay_intent $pay_route;
        pay_intent_breaker off;
@PROVIDERS pay_paypal_api /_pay/dead/@
    }
    location = /breaker {
        pay_intent "stripe paypal";
        pay_intent_breaker fails=2 cooldown=1s;
@PROVIDERS@
    }
    # the stand-in answers this as late as a block says (--- wait-free
    # waiting: the next request of the block starts after this answer)
    location = /wait {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/wait;
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
    location /_pay/square/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /_pay/dead/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAD_PORT/;
        proxy_read_timeout 2s;
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
_EOC_
    # "@PROVIDERS name value@": with that directive's value changed
    $config =~ s{^\@PROVIDERS(?: (\w+) ([^\@]+))?\@\n}{
        my ($name, $value, $p) = ($1, $2, $PROVIDERS);
        $p =~ s/^(\s+\Q$name\E\s+).*$/$1$value;/m or die "no $name"
            if defined $name;
        $p
    }mge;
    $block->set_value('config', ($block->config // '') . $config);
});

repeat_each(1);

our $STRIPE = '"provider":"stripe"';
our $PAYPAL = '"provider":"paypal"';

# each request is 4 tests (status, body, no [alert], no [crit]), plus
#   response_headers lines:    1 per line given: 53
#   raw_response_headers_like: 1 per request of TESTs 13 and 18: 5
#   error_log lines:           TESTs 11 and 13: 2
#   no_error_log [error]:      1 per request of TESTs 1, 3, 15-17: 28
my $extra = 53 + 5 + 2 + 28;

plan tests => repeat_each() * (PayTest::requests(blocks()) * 4 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: eur goes to Stripe first
--- request eval
["GET /stub/reset", main::post('/intents', 'eur'), main::post('/intents', 'EUR'),
 "GET /stub/count?path=/v2/checkout/orders"]
--- more_headers eval
["", main::key("1a"), main::key("1b"), ""]
--- error_code eval
[200, 201, 201, 200]
--- response_headers eval
["", "X-Pay-Attempts: stripe:200\nX-Pay-Provider: stripe",
 "X-Pay-Attempts: stripe:200\nX-Pay-Provider: stripe", ""]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, '^0$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 2: jpy goes to Stripe only
--- request eval
["GET /stub/reset", main::post('/intents', 'jpy'),
 "GET /stub/fail?path=/v1/payment_intents&status=503",
 main::post('/intents', 'jpy'),
 "GET /stub/count?path=/v2/checkout/orders"]
--- more_headers eval
["", main::key("2a"), "", main::key("2b"), ""]
--- error_code eval
[200, 201, 200, 503, 200]
--- response_headers eval
["", "X-Pay-Attempts: stripe:200\nX-Pay-Provider: stripe", "",
 "X-Pay-Attempts: stripe:503", ""]
--- response_body_like eval
["ok", $::STRIPE, "ok", '"code":"provider_unavailable"', '^0$']
--- no_error_log
[alert]
[crit]



=== TEST 3: any other currency goes to PayPal first
--- request eval
["GET /stub/reset", main::post('/intents', 'usd'), main::post('/intents', 'gbp'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key("3a"), main::key("3b"), ""]
--- error_code eval
[200, 201, 201, 200]
--- response_headers eval
["", "X-Pay-Attempts: paypal:201\nX-Pay-Provider: paypal",
 "X-Pay-Attempts: paypal:201\nX-Pay-Provider: paypal", ""]
--- response_body_like eval
["ok", $::PAYPAL, $::PAYPAL, '^0$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 4: PayPal answers 503: Stripe makes the intent
--- request eval
["GET /stub/reset", "GET /stub/fail?path=/v2/checkout/orders&status=503",
 main::post('/intents', 'usd'),
 "GET /stub/count?path=/v2/checkout/orders",
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "", main::key(4), "", ""]
--- error_code eval
[200, 200, 201, 200, 200]
--- response_headers eval
["", "", "X-Pay-Attempts: paypal:503 stripe:200\nX-Pay-Provider: stripe", "", ""]
--- response_body_like eval
["ok", "ok", $::STRIPE, '^1$', '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 5: Stripe answers 429, then 502: PayPal makes the intent
--- request eval
["GET /stub/reset", "GET /stub/fail?path=/v1/payment_intents&status=429",
 main::post('/intents', 'eur'),
 "GET /stub/fail?path=/v1/payment_intents&status=502",
 main::post('/intents', 'eur')]
--- more_headers eval
["", "", main::key("5a"), "", main::key("5b")]
--- error_code eval
[200, 200, 201, 200, 201]
--- response_headers eval
["", "", "X-Pay-Attempts: stripe:429 paypal:201\nX-Pay-Provider: paypal", "",
 "X-Pay-Attempts: stripe:502 paypal:201\nX-Pay-Provider: paypal"]
--- response_body_like eval
["ok", "ok", $::PAYPAL, "ok", $::PAYPAL]
--- no_error_log
[alert]
[crit]



=== TEST 6: Stripe does not answer within proxy_read_timeout: PayPal
--- request eval
["GET /stub/reset", "GET /stub/fail?path=/v1/payment_intents&status=timeout",
 main::post('/intents', 'eur')]
--- more_headers eval
["", "", main::key(6)]
--- error_code eval
[200, 200, 201]
--- response_headers eval
["", "", "X-Pay-Attempts: stripe:timeout paypal:201\nX-Pay-Provider: paypal"]
--- response_body_like eval
["ok", "ok", $::PAYPAL]
--- no_error_log
[alert]
[crit]



=== TEST 7: nothing listens where PayPal should be: Stripe
--- request eval
main::post('/paypal-down', 'usd')
--- more_headers eval
main::key(7)
--- error_code: 201
--- response_headers
X-Pay-Attempts: paypal:error stripe:200
X-Pay-Provider: stripe
--- response_body_like eval
$::STRIPE
--- no_error_log
[alert]
[crit]



=== TEST 8: Stripe closes the connection without an answer: PayPal
--- request eval
["GET /stub/reset", "GET /stub/fail?path=/v1/payment_intents&status=close",
 main::post('/intents', 'eur')]
--- more_headers eval
["", "", main::key(8)]
--- error_code eval
[200, 200, 201]
--- response_headers eval
["", "", "X-Pay-Attempts: stripe:error paypal:201\nX-Pay-Provider: paypal"]
--- response_body_like eval
["ok", "ok", $::PAYPAL]
--- no_error_log
[alert]
[crit]



=== TEST 9: Stripe refuses the API key (401): a failure of Stripe, PayPal
--- request eval
["GET /stub/reset", main::post('/bad-key', 'eur'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(9), ""]
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "X-Pay-Attempts: stripe:401 paypal:201\nX-Pay-Provider: paypal", ""]
--- response_body_like eval
["ok", $::PAYPAL, '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 10: a declined card (402) is the answer: PayPal is not asked
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/payment_intents&status=402&code=card_declined&decline_code=insufficient_funds",
 main::post('/intents', 'eur'),
 "GET /stub/count?path=/v1/oauth2/token",
 "GET /stub/count?path=/v2/checkout/orders"]
--- more_headers eval
["", "", main::key(10), "", ""]
--- error_code eval
[200, 200, 402, 200, 200]
--- response_headers eval
["", "", "X-Pay-Attempts: stripe:402", "", ""]
--- response_body_like eval
["ok", "ok",
 PayTest::json_like(code => '"provider_error"', status => '402',
                    provider => '"stripe"', provider_code => '"card_declined"',
                    decline_code => '"insufficient_funds"'),
 '^0$', '^0$']
--- no_error_log
[alert]
[crit]



=== TEST 11: a declined card is logged as a rejection
--- init
PayTest::Stub::reset();
PayTest::Stub::fail('/v1/payment_intents', 402, code => 'card_declined');
--- request eval
main::post('/intents', 'eur')
--- more_headers eval
main::key(11)
--- error_code: 402
--- response_headers
X-Pay-Attempts: stripe:402
--- response_body_like eval
PayTest::json_like(code => '"provider_error"', provider => '"stripe"',
                   provider_code => '"card_declined"',
                   decline_code => '"generic_decline"')
--- error_log eval
qr/\[info\] .*pay: intent rejected: provider_error \(/
--- no_error_log
[alert]
[crit]



=== TEST 12: other provider 4xx are 422 and not failed over either
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/payment_intents&status=400&code=parameter_invalid_integer",
 main::post('/intents', 'eur'),
 "GET /stub/fail?path=/v2/checkout/orders&status=422&code=PAYEE_ACCOUNT_RESTRICTED",
 main::post('/intents', 'usd'),
 "GET /stub/count?path=/v2/checkout/orders",
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "", main::key("12a"), "", main::key("12b"), "", ""]
--- error_code eval
[200, 200, 422, 200, 422, 200, 200]
--- response_headers eval
["", "", "X-Pay-Attempts: stripe:400", "", "X-Pay-Attempts: paypal:422", "", ""]
--- response_body_like eval
["ok", "ok",
 PayTest::json_like(code => '"provider_error"', status => '422',
                    provider => '"stripe"',
                    provider_code => '"parameter_invalid_integer"'),
 "ok",
 PayTest::json_like(code => '"provider_error"', status => '422',
                    provider => '"paypal"',
                    provider_code => '"PAYEE_ACCOUNT_RESTRICTED"'),
 '^1$', '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 13: every provider failed: 503 with Retry-After
--- init
PayTest::Stub::reset();
PayTest::Stub::fail('/v2/checkout/orders', 503);
PayTest::Stub::fail('/v1/payment_intents', 500);
--- request eval
main::post('/intents', 'usd')
--- more_headers eval
main::key(13)
--- error_code: 503
--- raw_response_headers_like: \r\nRetry-After: \d+\r\n
--- response_headers
X-Pay-Attempts: paypal:503 stripe:500
--- response_body_like eval
PayTest::json_like(code => '"provider_unavailable"', status => '503')
--- error_log eval
qr/\[error\] .*pay: intent rejected: provider_unavailable \(/
--- no_error_log
[alert]
[crit]



=== TEST 14: the breaker opens after 2 failures in a row and closes after the cooldown
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/payment_intents&status=503&times=2",
 "GET /stub/fail?path=/wait&status=200&ms=1200&body=waited",
 main::post('/breaker', 'usd'), main::post('/breaker', 'usd'),
 main::post('/breaker', 'usd'),
 "GET /stub/count?path=/v1/payment_intents",
 "GET /wait",
 main::post('/breaker', 'usd'), main::post('/breaker', 'usd'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "", "", main::key("14a"), main::key("14b"), main::key("14c"), "", "",
 main::key("14d"), main::key("14e"), ""]
--- error_code eval
[200, 200, 200, 201, 201, 201, 200, 200, 201, 201, 200]
--- response_headers eval
["", "", "",
 "X-Pay-Attempts: stripe:503 paypal:201\nX-Pay-Provider: paypal",
 "X-Pay-Attempts: stripe:503 paypal:201\nX-Pay-Provider: paypal",
 "X-Pay-Attempts: stripe:skipped paypal:201\nX-Pay-Provider: paypal",
 "", "",
 "X-Pay-Attempts: stripe:200\nX-Pay-Provider: stripe",
 "X-Pay-Attempts: stripe:200\nX-Pay-Provider: stripe",
 ""]
--- response_body_like eval
["ok", "ok", "ok", $::PAYPAL, $::PAYPAL, $::PAYPAL, '^2$', '^waited$',
 $::STRIPE, $::STRIPE, '^4$']
--- no_error_log
[alert]
[crit]



=== TEST 15: failures that are not in a row do not open the breaker
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/payment_intents&status=503",
 main::post('/breaker', 'usd'), main::post('/breaker', 'usd'),
 "GET /stub/fail?path=/v1/payment_intents&status=503",
 main::post('/breaker', 'usd'), main::post('/breaker', 'usd')]
--- more_headers eval
["", "", main::key("15a"), main::key("15b"), "", main::key("15c"),
 main::key("15d")]
--- error_code eval
[200, 200, 201, 201, 200, 201, 201]
--- response_headers eval
["", "",
 "X-Pay-Attempts: stripe:503 paypal:201\nX-Pay-Provider: paypal",
 "X-Pay-Attempts: stripe:200\nX-Pay-Provider: stripe",
 "",
 "X-Pay-Attempts: stripe:503 paypal:201\nX-Pay-Provider: paypal",
 "X-Pay-Attempts: stripe:200\nX-Pay-Provider: stripe"]
--- response_body_like eval
["ok", "ok", $::PAYPAL, $::STRIPE, "ok", $::PAYPAL, $::STRIPE]
--- no_error_log
[alert]
[crit]
[error]



=== TEST 16: one PayPal token for many orders
--- request eval
["GET /stub/reset", main::post('/intents', 'usd'), main::post('/intents', 'usd'),
 main::post('/intents', 'cad'),
 "GET /stub/count?path=/v1/oauth2/token",
 "GET /stub/count?path=/v2/checkout/orders"]
--- more_headers eval
["", main::key("16a"), main::key("16b"), main::key("16c"), "", ""]
--- error_code eval
[200, 201, 201, 201, 200, 200]
--- response_headers eval
["", "X-Pay-Attempts: paypal:201", "X-Pay-Attempts: paypal:201",
 "X-Pay-Attempts: paypal:201", "", ""]
--- response_body_like eval
["ok", $::PAYPAL, $::PAYPAL, $::PAYPAL, '^1$', '^3$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 17: a token PayPal revoked is refreshed once, on the order's 401
--- request eval
["GET /stub/reset", main::post('/intents', 'usd'), "GET /stub/revoke_tokens",
 main::post('/intents', 'usd'),
 "GET /stub/count?path=/v1/oauth2/token",
 "GET /stub/count?path=/v2/checkout/orders",
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key("17a"), "", main::key("17b"), "", "", ""]
--- error_code eval
[200, 201, 200, 201, 200, 200, 200]
--- response_headers eval
["", "X-Pay-Attempts: paypal:201", "", "X-Pay-Attempts: paypal:201", "", "", ""]
--- response_body_like eval
["ok", $::PAYPAL, "ok", $::PAYPAL, '^2$', '^3$', '^0$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 18: no PayPal token to be had: a failure of PayPal, Stripe
--- request eval
["GET /stub/reset", "GET /stub/fail?path=/v1/oauth2/token&status=500",
 main::post('/intents', 'usd'),
 "GET /stub/count?path=/v2/checkout/orders"]
--- more_headers eval
["", "", main::key(18), ""]
--- error_code eval
[200, 200, 201, 200]
--- raw_response_headers_like eval
["", "", "\r\nX-Pay-Attempts: paypal:\\S+ stripe:200\r\n", ""]
--- response_body_like eval
["ok", "ok", $::STRIPE, '^0$']
--- no_error_log
[alert]
[crit]
