# pay_status for intents: ngx_pay_intents_total, the attempts by result
# and ngx_pay_breaker_open, after known traffic against the local stand-in
# of the providers' APIs (t/lib/PayTest/Stub.pm): Stripe fails twice, its
# breaker opens, PayPal makes every intent.  One worker, so a request's
# counts are in before the next request is read.
#
# Every request: its status, its body and no [alert] nor [crit] (4 tests),
# and every page is given to promtool (1 test).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

# keys of this run never meet an earlier run's
our $R = sprintf '%x%x', time, $$;

sub key { return "Idempotency-Key: k-$R-$_[0]" }

our $ORDER = qq(POST /intents\n{"amount":2000,"currency":"usd"});

PayTest::check_pages_with_promtool();

repeat_each(1);

plan tests => 9 * 4 + 1;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: two failures of Stripe open its breaker; PayPal makes three intents
--- http_config
    pay_store main shm=4m;
--- config
    location = /intents {
        pay_intent            "stripe paypal";
        pay_intent_breaker    fails=2 cooldown=60s;
        pay_idempotency       main;
        pay_stripe_api        /_pay/stripe/;
        pay_stripe_key        sk_test_stub;
        pay_paypal_api        /_pay/paypal/;
        pay_paypal_client     paypal_client_id paypal_client_secret;
        add_header            X-Pay-Attempts $pay_intent_attempts always;
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
    location = /pay_status {
        pay_status;
    }
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/payment_intents&status=503&times=2",
 $::ORDER, $::ORDER, $::ORDER,
 qq(POST /intents\n{"amount":-1,"currency":"usd"}),
 $::ORDER,
 "GET /stub/count?path=/v1/payment_intents",
 "GET /pay_status"]
--- more_headers eval
["", "", main::key("a"), main::key("b"), main::key("c"), main::key("d"),
 main::key("a"), "", ""]
--- error_code eval
[200, 200, 201, 201, 201, 422, 201, 200, 200]
--- response_body_like eval
["ok", "ok", '"provider":"paypal"', '"provider":"paypal"',
 '"provider":"paypal"', "validation_failed", '"provider":"paypal"', '^2$',
 PayTest::lines_like(
    'ngx_pay_intents_total{provider="paypal",outcome="new"} 3',
    'ngx_pay_intents_total{provider="none",outcome="replayed"} 1',
    'ngx_pay_intents_total{provider="none",outcome="validation_failed"} 1',
    'ngx_pay_intents_total{provider="stripe",outcome="new"} 0',
    'ngx_pay_intent_attempts_total{provider="stripe",result="5xx"} 2',
    'ngx_pay_intent_attempts_total{provider="stripe",result="skipped"} 1',
    'ngx_pay_intent_attempts_total{provider="stripe",result="2xx"} 0',
    'ngx_pay_intent_attempts_total{provider="paypal",result="2xx"} 3',
    'ngx_pay_breaker_open{provider="stripe",api="/_pay/stripe"} 1',
    'ngx_pay_breaker_open{provider="paypal",api="/_pay/paypal"} 0')]
--- no_error_log
[alert]
[crit]
