# What a browser may steer in the call made with the merchant's key
# (docs/intents.md, "What the client may set"): by default a client sends
# amount, currency and provider and nothing else; pay_intent_client_fields
# lets more through, pay_intent_set sets a member from the server
# (auth_request_set, a map, a constant), over the client's; a server
# value follows the client's rules (else 500); the fingerprint covers the
# server's values. Every block reads what the provider stand-in
# (t/lib/PayTest/Stub.pm) received, byte for byte, or that it received
# nothing.
#
# Every block: the status and the body of every request, and after every
# request no [alert] nor [crit] (4 tests per request); plus the
# "pay: intent rejected: <code>" and pay_intent_set lines and [error]
# where none is expected (counted in $extra). Blocks start with
# /stub/reset. Idempotency keys are unique per block and per run.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

# keys of this run never meet an earlier run's
our $R = sprintf '%x%x', time, $$;

sub key { return "Idempotency-Key: k-$R-$_[0]" }

sub post {
    my ($path, $body) = @_;
    return "POST $path\n" . ($body // '{"amount":2000,"currency":"usd"}');
}

# a metadata object of $n keys
sub metadata {
    my ($n) = @_;
    return '{' . join(',', map { sprintf '"m%03d":"v"', $_ } 1 .. $n) . '}';
}

# exactly these bytes
sub exactly { return '^' . quotemeta($_[0]) . '$' }

# a 422 naming exactly these fields, in this order, each not accepted
sub refused {
    my (@fields) = @_;
    return '^\{"type":"urn:ngx-pay:error:validation_failed",[^\n]*"errors":\['
         . join(',', map { '\{"field":"' . quotemeta($_)
                           . '","reason":"is not accepted here"\}' } @fields)
         . '\]\}\n$';
}

our $STRIPE = PayTest::json_like(provider => '"stripe"', id => '"pi_\w+"',
    amount => '2000', currency => '"usd"');

# the user, as an auth service would tell it: X-User chooses it
our $AUTH = <<'_EOC_';
        auth_request      /auth;
        auth_request_set  $customer  $upstream_http_x_customer_id;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    # client faults at info, as before pay_log_level (t/086 checks its default)
    pay_log_level info;
    pay_store main shm=4m;
    map $http_x_user $user_customer {
        alice    cus_alice;
        bob      cus_bob;
        mallory  "cus bad";
        default  "";
    }
    map $customer $account {
        cus_alice  acct_1;
        default    "";
    }
_EOC_

    # a block's own --- config adds locations (or server-level lines)
    my $config = <<'_EOC_';
    location = /stripe {
        pay_intent stripe;
@PROVIDERS@
    }
    location = /square {
        pay_intent square;
@PROVIDERS@
    }
    location = /stripe-fields {
        pay_intent stripe;
        pay_intent_client_fields description metadata.note;
@PROVIDERS@
    }
    location = /stripe-user {
@AUTH@
        pay_intent stripe;
        pay_intent_client_fields customer metadata;
        pay_intent_set customer $customer;
        pay_intent_set metadata.account $account;
        pay_intent_set metadata.channel web;
@PROVIDERS@
    }
    location = /square-card {
@AUTH@
        pay_intent square;
        pay_intent_client_fields source_id;
        pay_intent_set customer $customer;
@PROVIDERS@
    }
    location = /paypal-urls {
        pay_intent paypal;
        pay_intent_set return_url https://shop.test/paid;
        pay_intent_set cancel_url "https://shop.test/cart?from=paypal";
@PROVIDERS@
    }
    location = /auth {
        internal;
        proxy_pass http://127.0.0.1:$server_port/whoami;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
    location = /whoami {
        if ($http_x_user = "") {
            return 401;
        }
        add_header X-Customer-Id $user_customer;
        return 204;
    }
    location /_pay/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
_EOC_
    my $providers = <<'_EOC_';
        pay_idempotency      main;
        pay_stripe_api       /_pay/;
        pay_stripe_key       sk_test_stub;
        pay_paypal_api       /_pay/;
        pay_paypal_client    paypal_client_id paypal_client_secret;
        pay_square_api       /_pay/;
        pay_square_token     sq_token_stub;
        pay_square_location  LSTUBMAIN0001;
_EOC_
    $config =~ s/^\@PROVIDERS\@\n/$providers/mg;
    $config =~ s/^\@AUTH\@\n/$AUTH/mg;
    $block->set_value('config', ($block->config // '') . $config);
});

repeat_each(1);

# each request is 4 tests (status, body, no [alert], no [crit]), plus
#   error_log lines:        TEST 8: 2, TEST 9: 1
#   no_error_log [error]:   1 per request of TESTs 1-7, 9-12: 49
my $extra = 3 + 49;

plan tests => repeat_each() * (PayTest::requests(blocks()) * 4 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: by default every member but amount, currency and provider is refused, and no provider is called
--- request eval
["GET /stub/reset",
 main::post('/stripe', '{"amount":2000,"currency":"usd","customer":"cus_victim"}'),
 main::post('/square', '{"amount":2000,"currency":"usd","source_id":"ccof:victims-card","customer":"cus_victim"}'),
 main::post('/stripe', '{"amount":2000,"currency":"usd","metadata":{"order_id":"someone-elses"}}'),
 main::post('/stripe', '{"amount":2000,"currency":"usd","description":"Order 42"}'),
 main::post('/square', '{"amount":2000,"currency":"usd","return_url":"https://evil.example/"}'),
 main::post('/stripe', '{"amount":2000,"currency":"usd","cancel_url":"https://evil.example/","provider":"stripe"}'),
 "GET /stub/count"]
--- more_headers eval
["", map({ main::key("1-$_") } 1 .. 6), ""]
--- error_code eval
[200, (422) x 6, 200]
--- response_body_like eval
["ok", main::refused('customer'), main::refused('customer', 'source_id'),
 main::refused('metadata'), main::refused('description'),
 main::refused('return_url'), main::refused('cancel_url'), '^0$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 2: amount, currency and provider alone: the provider gets exactly those
--- request eval
["GET /stub/reset",
 main::post('/stripe', '{"amount":2000,"currency":"USD","provider":"stripe"}'),
 "GET /stub/body?path=/v1/payment_intents",
 main::post('/square', '{"amount":2000,"currency":"usd"}'),
 "GET /stub/body?path=/v2/online-checkout/payment-links"]
--- more_headers eval
["", main::key(2), "", main::key("2b"), ""]
--- error_code eval
[200, 201, 200, 201, 200]
--- response_body_like eval
["ok", $::STRIPE,
 main::exactly('amount=2000&currency=usd&automatic_payment_methods[enabled]=true'),
 '"provider":"square"',
 '^\{"idempotency_key":"ngxpay-[0-9a-f]{32}","quick_pay":\{"name":"Payment","price_money":\{"amount":2000,"currency":"USD"\},"location_id":"LSTUBMAIN0001"\}\}$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 3: pay_intent_client_fields lets through what it lists: metadata.KEY that key only
--- request eval
["GET /stub/reset",
 main::post('/stripe-fields', '{"amount":2000,"currency":"usd","metadata":{"note":"gift","order_id":"someone-elses"},"customer":"cus_victim"}'),
 main::post('/stripe-fields', '{"amount":2000,"currency":"usd","description":"Blue mug","metadata":{"note":"gift & wrap"}}'),
 "GET /stub/body?path=/v1/payment_intents",
 "GET /stub/count"]
--- more_headers eval
["", main::key("3a"), main::key("3b"), "", ""]
--- error_code eval
[200, 422, 201, 200, 200]
--- response_body_like eval
["ok", main::refused('customer', 'metadata.order_id'), $::STRIPE,
 main::exactly('amount=2000&currency=usd&automatic_payment_methods[enabled]=true&description=Blue%20mug&metadata[note]=gift%20%26%20wrap'),
 '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 4: pay_intent_set from auth_request_set and a map wins over the client's value; an empty one leaves the member out
--- request eval
["GET /stub/reset",
 main::post('/stripe-user', '{"amount":2000,"currency":"usd","customer":"cus_victim","metadata":{"account":"acct_victim","note":"n"}}'),
 "GET /stub/body?path=/v1/payment_intents",
 main::post('/stripe-user', '{"amount":2000,"currency":"usd","customer":"cus_victim"}'),
 "GET /stub/body?path=/v1/payment_intents"]
--- more_headers eval
["", main::key("4a") . "\nX-User: alice", "",
 main::key("4b") . "\nX-User: nobody", ""]
--- error_code eval
[200, 201, 200, 201, 200]
--- response_body_like eval
["ok", $::STRIPE,
 main::exactly('amount=2000&currency=usd&automatic_payment_methods[enabled]=true&customer=cus_alice&metadata[note]=n&metadata[account]=acct_1&metadata[channel]=web'),
 $::STRIPE,
 main::exactly('amount=2000&currency=usd&automatic_payment_methods[enabled]=true&metadata[channel]=web')]
--- no_error_log
[alert]
[crit]
[error]



=== TEST 5: Square card on file: the client picks the card, the server says whose; the client's customer is refused
--- request eval
["GET /stub/reset",
 main::post('/square-card', '{"amount":2000,"currency":"usd","source_id":"ccof:bobs-card","customer":"cus_bob"}'),
 main::post('/square-card', '{"amount":2000,"currency":"usd","source_id":"ccof:alices-card"}'),
 "GET /stub/body?path=/v2/payments",
 "GET /stub/count"]
--- more_headers eval
["", main::key("5a") . "\nX-User: alice", main::key("5b") . "\nX-User: alice",
 "", ""]
--- error_code eval
[200, 422, 201, 200, 200]
--- response_body_like eval
["ok", main::refused('customer'), '"provider":"square"',
 '^\{"source_id":"ccof:alices-card","idempotency_key":"ngxpay-[0-9a-f]{32}","amount_money":\{"amount":2000,"currency":"USD"\},"autocomplete":false,"location_id":"LSTUBMAIN0001","customer_id":"cus_alice"\}$',
 '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 6: PayPal's redirects are the server's, and the client cannot send its own
--- request eval
["GET /stub/reset",
 main::post('/paypal-urls', '{"amount":2000,"currency":"usd","return_url":"https://evil.example/"}'),
 main::post('/paypal-urls', '{"amount":2000,"currency":"usd"}'),
 "GET /stub/body?path=/v2/checkout/orders"]
--- more_headers eval
["", main::key("6a"), main::key("6b"), ""]
--- error_code eval
[200, 422, 201, 200]
--- response_body_like eval
["ok", main::refused('return_url'), '"provider":"paypal"',
 main::exactly('{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"20.00"}}],"payment_source":{"paypal":{"experience_context":{"return_url":"https://shop.test/paid","cancel_url":"https://shop.test/cart?from=paypal"}}}}')]
--- no_error_log
[alert]
[crit]
[error]



=== TEST 7: the fingerprint covers the server's values: one key and body for another user is a mismatch
--- request eval
["GET /stub/reset",
 main::post('/stripe-user'), main::post('/stripe-user'),
 main::post('/stripe-user'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(7) . "\nX-User: alice", main::key(7) . "\nX-User: bob",
 main::key(7) . "\nX-User: alice", ""]
--- error_code eval
[200, 201, 422, 201, 200]
--- response_body_like eval
["ok", $::STRIPE,
 PayTest::json_like(code => '"idempotency_key_reused"', status => '422'),
 $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 8: a server value that breaks the member's rule: 500, logged (TEST 10: no provider call)
--- init
PayTest::Stub::reset();
--- request eval
main::post('/stripe-user')
--- more_headers eval
main::key(8) . "\nX-User: mallory"
--- error_code: 500
--- response_body_like eval
PayTest::json_like(code => '"internal_error"', status => '500')
--- error_log eval
[qr/\[error\] .*pay: pay_intent_set "customer" is not valid: must be a string of 1 to 255 visible ASCII characters/,
 qr/\[error\] .*pay: intent rejected: internal_error \(a value of pay_intent_set is not valid\)/]
--- no_error_log
[alert]
[crit]



=== TEST 9: a refusal names the field in its log line (TEST 10: no provider call)
--- request eval
main::post('/stripe', '{"amount":2000,"currency":"usd","customer":"cus_victim"}')
--- more_headers eval
main::key(9)
--- error_code: 422
--- response_body_like eval
main::refused('customer')
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(customer\)/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 10: TESTs 8 and 9 called no provider
--- request
GET /stub/count
--- response_body_like: ^0$
--- no_error_log
[alert]
[crit]
[error]



=== TEST 11: both directives are inherited as a whole: a location with its own inherits neither list
--- config
    pay_intent_client_fields description;
    pay_intent_set metadata.site shop;
--- request eval
["GET /stub/reset",
 main::post('/stripe', '{"amount":2000,"currency":"usd","description":"Mug"}'),
 "GET /stub/body?path=/v1/payment_intents",
 main::post('/stripe-user'),
 "GET /stub/body?path=/v1/payment_intents",
 main::post('/stripe-user', '{"amount":2000,"currency":"usd","description":"Mug"}')]
--- more_headers eval
["", main::key("11a"), "", main::key("11b") . "\nX-User: alice", "",
 main::key("11c") . "\nX-User: alice"]
--- error_code eval
[200, 201, 200, 201, 200, 422]
--- response_body_like eval
["ok", $::STRIPE,
 main::exactly('amount=2000&currency=usd&automatic_payment_methods[enabled]=true&description=Mug&metadata[site]=shop'),
 $::STRIPE,
 main::exactly('amount=2000&currency=usd&automatic_payment_methods[enabled]=true&customer=cus_alice&metadata[account]=acct_1&metadata[channel]=web'),
 main::refused('description')]
--- no_error_log
[alert]
[crit]
[error]



=== TEST 12: metadata keys the server sets count against the client's 50
--- request eval
["GET /stub/reset",
 main::post('/stripe-user', '{"amount":2000,"currency":"usd","metadata":' . main::metadata(49) . '}'),
 main::post('/stripe-user', '{"amount":2000,"currency":"usd","metadata":' . main::metadata(48) . '}'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key("12a") . "\nX-User: alice", main::key("12b") . "\nX-User: alice", ""]
--- error_code eval
[200, 422, 201, 200]
--- response_body_like eval
["ok",
 '"errors":\[\{"field":"metadata","reason":"must have at most 50 keys, with those the server sets"\}\]',
 $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]
