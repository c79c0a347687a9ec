# A client's own Pay_* request headers (underscores) never reach the app
# either: nginx keeps them under underscores_in_headers on or
# ignore_invalid_headers off, and app servers that fold '_' into '-' read
# them as Pay-* (so does nginx's own $http_pay_*).  Webhook and intent
# locations alike.
#
# Every block: the status, the body, the "dropping" debug line, and no
# [error], [alert] or [crit] (6 tests).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

our $R = sprintf '%x%x', time, $$;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    pay_store main shm=1m;
    pay_dedupe off;
_EOC_

    $block->set_value('config', ($block->config // '') . <<'_EOC_');
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location = /app {
        return 200 "id=[$http_pay_event_id] intent=[$http_pay_intent_id] forged=[$http_pay_forged] kept=[$http_x_kept]\n";
    }
_EOC_
});

repeat_each(1);

plan tests => repeat_each() * (blocks() * 6);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: webhook: Pay_* headers are dropped under underscores_in_headers on
--- config
    underscores_in_headers on;
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_underscore")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_underscore")) . "\n"
. "Pay_Event_Id: evt_forged\n"
. "pay_forged: yes\n"
. "PAY_INTENT_ID: pi_forged\n"
. "X_Kept: yes"
--- response_body
id=[] intent=[] forged=[] kept=[yes]
--- error_log
dropping 3 client Pay-* header(s)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: webhook: and under ignore_invalid_headers off
--- config
    ignore_invalid_headers off;
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app-lax;
    }
    location = /app-lax {
        return 200 "forged=[$http_pay_forged] id=[$http_pay_event_id]\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_invalid_hdr")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_invalid_hdr")) . "\n"
. "Pay_Forged: yes"
--- response_body
forged=[] id=[evt_invalid_hdr]
--- error_log
dropping 1 client Pay-* header(s)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: intent: Pay_* headers are dropped, the operator's Pay-* pass
--- config
    underscores_in_headers on;
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
"Idempotency-Key: hdr-$::R-3\nPay_Forged: yes\nPay_Event_Id: evt_forged\nX_Kept: yes"
--- response_body_like: ^id=\[\] intent=\[pi_\w+\] forged=\[\] kept=\[yes\]$
--- error_log
dropping 2 client Pay-* header(s)
--- no_error_log
[error]
[alert]
[crit]
