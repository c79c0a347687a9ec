# Payment intents at the edges: access control runs before anything is
# created (the intent handler is in the precontent phase), a client's own
# Pay-* headers never reach the app, a 2xx the module cannot read is not
# failed over (the first provider may have made the intent), and the
# providers' currency quirks (Stripe's ISK and UGX in hundredths, PayPal's
# whole HUF and TWD).  Against the providers' stand-in.
#
# Every request: its status, its body, no [alert], no [crit] (4 tests).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

our $R = sprintf '%x%x', time, $$;

sub key { return "Idempotency-Key: edge-$R-$_[0]" }

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    pay_store main shm=4m;
_EOC_

    $block->set_value('config', ($block->config // '') . <<'_EOC_');
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
    location = /deny {
        internal;
        return 401;
    }
    location = /app {
        return 200 "app intent=$http_pay_intent_id forged=$http_pay_forged\n";
    }
_EOC_
});

repeat_each(1);

# each request is 4 tests
my $extra = 0;

plan tests => repeat_each() * (PayTest::requests(blocks()) * 4 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: auth_request decides before an intent is made
--- config
    location = /intents {
        auth_request /deny;
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
    }
--- request eval
["GET /stub/reset", "POST /intents\n{\"amount\":2000,\"currency\":\"usd\"}",
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(1), ""]
--- error_code eval
[200, 401, 200]
--- response_body_like eval
["ok", "401", '^0$']
--- no_error_log
[alert]
[crit]



=== TEST 2: a client's Pay-* headers do not reach the app, the operator's do
--- config
    location = /intents {
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
        proxy_set_header Pay-Intent-Id $pay_intent_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /intents\n{\"amount\":2000,\"currency\":\"usd\"}"
--- more_headers eval
main::key(2) . "\nPay-Intent-Id: pi_forged\nPay-Forged: yes"
--- response_body_like: ^app intent=pi_\w+ forged=$
--- no_error_log
[alert]
[crit]



=== TEST 3: a 2xx that cannot be read is not failed over: 503, PayPal untouched
--- config
    location = /intents {
        pay_intent "stripe paypal";
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client paypal_client_id paypal_client_secret;
        add_header X-Attempts $pay_intent_attempts always;
    }
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/payment_intents&status=200&body=%3Chtml%3Eoops",
 "POST /intents\n{\"amount\":2000,\"currency\":\"usd\"}",
 "GET /stub/count?path=/v2/checkout/orders"]
--- more_headers eval
["", "", main::key(3), ""]
--- error_code eval
[200, 200, 503, 200]
--- response_body_like eval
["ok", "ok", '"code":"provider_unavailable"', '^0$']
--- no_error_log
[alert]
[crit]



=== TEST 4: Stripe is sent ISK in hundredths
--- config
    location = /intents {
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
    }
--- request eval
["GET /stub/reset", "POST /intents\n{\"amount\":500,\"currency\":\"isk\"}",
 "GET /stub/body?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(4), ""]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["ok", '"amount":500,"currency":"isk"', '^amount=50000&currency=isk&']
--- no_error_log
[alert]
[crit]



=== TEST 5: PayPal is sent whole HUF without decimals
--- config
    location = /intents {
        pay_intent paypal;
        pay_idempotency main;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client paypal_client_id paypal_client_secret;
    }
--- request eval
["GET /stub/reset", "POST /intents\n{\"amount\":250000,\"currency\":\"huf\"}",
 "GET /stub/body?path=/v2/checkout/orders"]
--- more_headers eval
["", main::key(5), ""]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["ok", '"provider":"paypal"', '"currency_code":"HUF","value":"2500"']
--- no_error_log
[alert]
[crit]
