# Payment-intent creation (docs/intents.md): what a client may send
# (the Idempotency-Key, the body's fields and size), the intent each
# provider is asked for and how (exact form body and headers, PayPal's
# decimal amounts, no client header ever forwarded), the module's own 201
# answer per provider, and the variables an app gets with proxy_pass.
# Against the local stand-in of the providers' APIs (t/lib/PayTest/Stub.pm).
#
# Every block: the status and the body of every request, and after every
# request no [alert] nor [crit] (4 tests per request); plus the listed
# headers, the "pay: intent rejected: <code>" lines and [error] where none
# is expected (counted in $extra). Blocks that count or read what the
# stand-in received reach its control routes through /stub/ and start with
# /stub/reset. Idempotency keys are unique per block and per run.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

# keys of this run never meet an earlier run's
our $R = sprintf '%x%x', time, $$;

sub key { return "Idempotency-Key: k-$R-$_[0]" }

# "POST $path" with a JSON body
sub post {
    my ($path, $body) = @_;
    return "POST $path\n$body";
}

# a valid body of exactly $size bytes: 40 metadata values share the padding
sub sized_body {
    my ($size) = @_;
    my @keys = map { sprintf 'k%02d', $_ } 1 .. 40;
    my $frame = '{"amount":2000,"currency":"usd","metadata":{'
              . join(',', map { qq("$_":"") } @keys) . '}}';
    my $pad = $size - length $frame;
    die "sized_body: $size is too small or too large"
        if $pad < 0 || $pad > 40 * 500;
    my @v = map { int($pad / 40) + ($_ < $pad % 40 ? 1 : 0) } 0 .. 39;
    return '{"amount":2000,"currency":"usd","metadata":{'
         . join(',', map { qq("$keys[$_]":") . ('x' x $v[$_]) . '"' } 0 .. 39)
         . '}}';
}

# metadata with $n keys
sub metadata {
    my ($n, $klen, $vlen) = @_;
    return '{' . join(',', map {
        my $k = substr(sprintf('m%03d', $_) . ('k' x 40), 0, $klen // 4);
        qq("$k":") . ('v' x ($vlen // 1)) . '"'
    } 1 .. $n) . '}';
}

# what a validation failure for these fields looks like
sub invalid {
    my (@fields) = @_;
    return PayTest::json_like(code => '"validation_failed"',
        status => '422', type => '"urn:ngx-pay:error:validation_failed"',
        map { +(field => '"' . quotemeta($_) . '"') } @fields);
}

# the members of the normalized intents
our $STRIPE = PayTest::json_like(provider => '"stripe"', id => '"pi_\w+"',
    status => '"requires_payment_method"',
    client_secret => '"pi_\w+_secret_\w+"', amount => '2000',
    currency => '"usd"');
our $PAYPAL = PayTest::json_like(provider => '"paypal"', id => '"[A-Z0-9]{17}"',
    status => '"CREATED"',
    approve_url => '"https://www\.sandbox\.paypal\.com/checkoutnow\?token=[A-Z0-9]{17}"',
    amount => '2000', currency => '"usd"');

# the provider settings every intent location has; the client may send
# every member here (what it may send by default: t/064-intent-fields.t)
our $PROVIDERS = <<'_EOC_';
        pay_idempotency       main;
        pay_intent_client_fields  description customer metadata return_url
                                  cancel_url source_id;
        pay_stripe_api        /_pay/stripe/;
        pay_stripe_key        sk_test_stub;
        pay_stripe_version    2024-06-20;
        pay_paypal_api        /_pay/paypal/;
        pay_paypal_client     paypal_client_id paypal_client_secret;
        pay_square_api        /_pay/square/;
        pay_square_token      sq_token_stub;
        pay_square_location   LSTUBMAIN0001;
_EOC_

# what the app locations pass on to the app
our $APP = <<'_EOC_';
        proxy_set_header Pay-Intent-Provider $pay_intent_provider;
        proxy_set_header Pay-Intent-Id $pay_intent_id;
        proxy_set_header Pay-Intent-Status $pay_intent_status;
        proxy_set_header Pay-Intent-Client-Secret $pay_intent_client_secret;
        proxy_set_header Pay-Intent-Approve-Url $pay_intent_approve_url;
        proxy_set_header Pay-Intent-Json $pay_intent_json;
        proxy_set_header Pay-Request-Amount $pay_request_amount;
        proxy_set_header Pay-Request-Currency $pay_request_currency;
        proxy_set_header Pay-Idempotency $pay_idempotency;
        proxy_set_header Pay-Intent-Attempts $pay_intent_attempts;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    # client faults at info, as before pay_log_level (t/086 checks its default)
    pay_log_level info;
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
@PROVIDERS@
    }
    location = /stripe {
        pay_intent stripe;
@PROVIDERS@
    }
    location = /paypal {
        pay_intent paypal;
@PROVIDERS@
    }
    location = /square {
        pay_intent square;
@PROVIDERS@
    }
    location = /small {
        client_max_body_size 1k;
        pay_intent stripe;
@PROVIDERS@
    }
    location = /app-stripe {
        pay_intent stripe;
@PROVIDERS@
@APP@
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app-paypal {
        pay_intent paypal;
@PROVIDERS@
@APP@
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app-square {
        pay_intent square;
@PROVIDERS@
@APP@
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "provider=$http_pay_intent_provider id=$http_pay_intent_id status=$http_pay_intent_status secret=$http_pay_intent_client_secret approve=$http_pay_intent_approve_url amount=$http_pay_request_amount currency=$http_pay_request_currency idempotency=$http_pay_idempotency attempts=$http_pay_intent_attempts cookie=$http_cookie json=$http_pay_intent_json\n";
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
#   error_log lines:        1 per request of TESTs 2-9, 11-14: 37
#   no_error_log [error]:   1 per request of TESTs 2-10, 12-13, 15-24, 26: 85
#   response_headers lines: TESTs 1 and 17, 1 each: 2
my $extra = 37 + 85 + 2;

plan tests => repeat_each() * (PayTest::requests(blocks()) * 4 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: not a POST: 405 with Allow, before the key is even looked at
--- request
GET /intents
--- error_code: 405
--- response_headers
Allow: POST
--- response_body_like: 405
--- no_error_log
[alert]
[crit]



=== TEST 2: no Idempotency-Key: 400, before the (invalid) body is looked at
--- request eval
[main::post('/stripe', '{"amount":20.00,"currency":"usd"}'),
 main::post('/stripe', '{"amount":2000,"currency":"usd"}')]
--- more_headers eval
["", "Idempotency-Key: "]
--- error_code eval
[400, 400]
--- response_body_like eval
[PayTest::json_like(code => '"idempotency_key_missing"', status => '400'),
 PayTest::json_like(code => '"idempotency_key_missing"', status => '400')]
--- error_log eval
qr/\[info\] .*pay: intent rejected: idempotency_key_missing \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 3: a malformed Idempotency-Key: 256 characters, a control character
--- request eval
[main::post('/stripe', '{"amount":2000,"currency":"usd"}'),
 main::post('/stripe', '{"amount":2000,"currency":"usd"}'),
 main::post('/stripe', '{"amount":2000,"currency":"usd"}')]
--- more_headers eval
["Idempotency-Key: " . ('k' x 256), "Idempotency-Key: k-$::R-3\x01b",
 "Idempotency-Key: \"k-$::R-3-unterminated"]
--- error_code eval
[422, 422, 422]
--- response_body_like eval
[main::invalid('Idempotency-Key'), main::invalid('Idempotency-Key'),
 main::invalid('Idempotency-Key')]
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 4: amounts that are not a positive integer of minor units
--- request eval
[map { main::post('/stripe', qq({"amount":$_,"currency":"usd"})) }
     '20.00', '2000.0', '2e3', '"2000"', '-5', '0', '1e30', 'true', 'null',
     '100000000', '99999999999999999999999']
--- more_headers eval
[map { main::key("4-$_") } 1 .. 11]
--- error_code eval
[(422) x 11]
--- response_body_like eval
[(main::invalid('amount')) x 11]
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 5: currencies: unknown, not a code, not a string, missing
--- request eval
[main::post('/stripe', '{"amount":2000,"currency":"xyz"}'),
 main::post('/stripe', '{"amount":2000,"currency":"US"}'),
 main::post('/stripe', '{"amount":2000,"currency":"usdollar"}'),
 main::post('/stripe', '{"amount":2000,"currency":840}'),
 main::post('/stripe', '{"amount":2000}')]
--- more_headers eval
[map { main::key("5-$_") } 1 .. 5]
--- error_code eval
[(422) x 5]
--- response_body_like eval
[(main::invalid('currency')) x 5]
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 6: metadata over the limits: 51 keys, a 41-byte key, a 501-byte value, not strings
--- request eval
[map { main::post('/stripe', qq({"amount":2000,"currency":"usd","metadata":$_})) }
     main::metadata(51), main::metadata(1, 41), main::metadata(1, 4, 501),
     '{"n":1}', '{"n":{"a":"b"}}', '["a"]', '"a"', '{"":"a"}']
--- more_headers eval
[map { main::key("6-$_") } 1 .. 8]
--- error_code eval
[(422) x 8]
--- response_body_like eval
[(main::invalid('metadata')) x 8]
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 7: every failing field is listed, unknown members too
--- request eval
main::post('/stripe', '{"amount":"20","currency":"zzz","provider":"bitcoin","metadata":"x","colour":"red","customer":""}')
--- more_headers eval
main::key(7)
--- error_code: 422
--- response_body_like eval
main::invalid(qw(amount currency provider metadata colour customer))
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 8: a provider the route does not list is refused (jpy goes to stripe only)
--- request eval
[main::post('/intents', '{"amount":5000,"currency":"jpy","provider":"paypal"}'),
 main::post('/intents', '{"amount":2000,"currency":"usd","provider":"square"}')]
--- more_headers eval
[main::key("8a"), main::key("8b")]
--- error_code eval
[422, 422]
--- response_body_like eval
[main::invalid('provider'), main::invalid('provider')]
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 9: a body over the intent limit of 16384 bytes: 413
--- request eval
main::post('/stripe', main::sized_body(16385))
--- more_headers eval
main::key(9)
--- error_code: 413
--- response_body_like eval
PayTest::json_like(code => '"body_too_large"', status => '413')
--- error_log eval
qr/\[info\] .*pay: intent rejected: body_too_large \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 10: a body of exactly 16384 bytes is taken
--- request eval
["GET /stub/reset", main::post('/stripe', main::sized_body(16384)),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(10), ""]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["ok", $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 11: a chunked body over client_max_body_size: the module's 413
--- raw_request eval
my $body = '{"amount":2000,"currency":"usd","description":"' . ('d' x 2000) . '"}';
"POST /small HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Idempotency-Key: k-$::R-11\r\nTransfer-Encoding: chunked\r\n\r\n"
. sprintf('%x', length $body) . "\r\n$body\r\n0\r\n\r\n"
--- error_code: 413
--- response_body_like eval
PayTest::json_like(code => '"body_too_large"', status => '413')
--- error_log eval
qr/\[info\] .*pay: intent rejected: body_too_large \(/
--- no_error_log
[alert]
[crit]



=== TEST 12: unknown members are refused
--- request eval
main::post('/stripe', '{"amount":2000,"currency":"usd","amount_in_dollars":20}')
--- more_headers eval
main::key(12)
--- error_code: 422
--- response_body_like eval
PayTest::json_like(code => '"validation_failed"',
    errors => '\[\{"field":"amount_in_dollars","reason":"[^"]+"\}\]')
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 13: a key of 255 characters is fine (the next one is the body's fault)
--- request eval
main::post('/stripe', '{"amount":-1,"currency":"usd"}')
--- more_headers eval
"Idempotency-Key: " . substr("k-$::R-13-" . ('k' x 255), 0, 255)
--- error_code: 422
--- response_body_like eval
PayTest::json_like(code => '"validation_failed"',
    errors => '\[\{"field":"amount","reason":"[^"]+"\}\]')
--- error_log eval
qr/\[info\] .*pay: intent rejected: validation_failed \(/
--- no_error_log
[alert]
[crit]
[error]



=== TEST 14: PayPal refuses KWD (3 decimals, not one of its currencies): its 4xx is the answer, as 422
--- init
PayTest::Stub::reset();
--- request eval
main::post('/paypal', '{"amount":1234,"currency":"kwd"}')
--- more_headers eval
main::key(14)
--- error_code: 422
--- response_body_like eval
PayTest::json_like(code => '"provider_error"', provider => '"paypal"',
                   provider_code => '"(?:DECIMAL_PRECISION|CURRENCY_NOT_SUPPORTED)"')
--- error_log eval
qr/\[info\] .*pay: intent rejected: provider_error \(/
--- no_error_log
[alert]
[crit]



=== TEST 15: no provider is asked for an invalid request
--- request eval
["GET /stub/reset",
 main::post('/intents', '{"amount":20.5,"currency":"usd"}'),
 main::post('/intents', '{"amount":2000,"currency":"eur","colour":"red"}'),
 "GET /stub/count"]
--- more_headers eval
["", main::key("15a"), main::key("15b"), ""]
--- error_code eval
[200, 422, 422, 200]
--- response_body_like eval
["ok", main::invalid('amount'), main::invalid('colour'), '^0$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 16: currency codes in either case; metadata at its limits is taken
--- request eval
["GET /stub/reset",
 main::post('/stripe', '{"amount":2000,"currency":"USD","metadata":' . main::metadata(50) . '}'),
 main::post('/stripe', '{"amount":2000,"currency":"usd","metadata":' . main::metadata(1, 40, 500) . '}'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key("16a"), main::key("16b"), ""]
--- error_code eval
[200, 201, 201, 200]
--- response_body_like eval
["ok", $::STRIPE, $::STRIPE, '^2$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 17: Stripe: 201 with the client secret, one call
--- request eval
["GET /stub/reset", main::post('/stripe', '{"amount":2000,"currency":"usd"}'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(17), ""]
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "Content-Type: application/json", ""]
--- response_body_like eval
["ok", $::STRIPE, '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 18: Stripe is sent exactly this form body, with these headers
--- request eval
["GET /stub/reset",
 main::post('/stripe', '{"amount":2000,"currency":"usd","description":"Order 42","customer":"cus_Q1w2e3r4","metadata":{"order_id":"42","note":"a&b=c"}}'),
 "GET /stub/body?path=/v1/payment_intents",
 "GET /stub/requests?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(18), "", ""]
--- error_code eval
[200, 201, 200, 200]
--- response_body_like eval
["ok", $::STRIPE,
 '^amount=2000&currency=usd&automatic_payment_methods\[enabled\]=true&description=Order%2042&customer=cus_Q1w2e3r4&metadata\[order_id\]=42&metadata\[note\]=a%26b%3Dc$',
 '^\[\{[^\n]*"headers":\{(?=[^}]*"authorization":"Bearer sk_test_stub")(?=[^}]*"content-type":"application/x-www-form-urlencoded")(?=[^}]*"idempotency-key":"ngxpay-[0-9a-f]{32}")(?=[^}]*"stripe-version":"2024-06-20")[^}]*\},"method":"POST"']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 19: PayPal: one token, one order, 201 with the approve link
--- request eval
["GET /stub/reset", main::post('/paypal', '{"amount":2000,"currency":"usd"}'),
 "GET /stub/count?path=/v1/oauth2/token",
 "GET /stub/count?path=/v2/checkout/orders",
 "GET /stub/requests?path=/v2/checkout/orders"]
--- more_headers eval
["", main::key(19), "", "", ""]
--- error_code eval
[200, 201, 200, 200, 200]
--- response_body_like eval
["ok", $::PAYPAL, '^1$', '^1$',
 '^\[\{[^\n]*"headers":\{(?=[^}]*"authorization":"Bearer A21AA[^"]+")(?=[^}]*"content-type":"application/json")(?=[^}]*"paypal-request-id":"ngxpay-[0-9a-f]{32}")[^}]*\},"method":"POST"']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 20: PayPal amounts: 0, 2 and 3 decimal currencies
--- request eval
["GET /stub/reset",
 main::post('/paypal', '{"amount":2000,"currency":"usd"}'),
 "GET /stub/body?path=/v2/checkout/orders",
 main::post('/paypal', '{"amount":5,"currency":"USD"}'),
 "GET /stub/body?path=/v2/checkout/orders",
 main::post('/paypal', '{"amount":5000,"currency":"jpy"}'),
 "GET /stub/body?path=/v2/checkout/orders",
 main::post('/paypal', '{"amount":1234,"currency":"kwd"}'),
 "GET /stub/body?path=/v2/checkout/orders"]
--- more_headers eval
["", main::key("20a"), "", main::key("20b"), "", main::key("20c"), "",
 main::key("20d"), ""]
--- error_code eval
[200, 201, 200, 201, 200, 201, 200, 422, 200]
--- response_body_like eval
["ok", $::PAYPAL,
 '^\{"intent":"CAPTURE","purchase_units":\[\{"amount":\{"currency_code":"USD","value":"20\.00"\}',
 '"provider":"paypal"',
 '"amount":\{"currency_code":"USD","value":"0\.05"\}',
 '"provider":"paypal"',
 '"amount":\{"currency_code":"JPY","value":"5000"\}',
 '"code":"provider_error"',
 '"amount":\{"currency_code":"KWD","value":"1\.234"\}']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 21: Square with a source_id: a payment, not completed
--- request eval
["GET /stub/reset",
 main::post('/square', '{"amount":2000,"currency":"usd","source_id":"cnon:card-nonce-ok"}'),
 "GET /stub/body?path=/v2/payments",
 "GET /stub/requests?path=/v2/payments",
 "GET /stub/count?path=/v2/online-checkout/payment-links"]
--- more_headers eval
["", main::key(21), "", "", ""]
--- error_code eval
[200, 201, 200, 200, 200]
--- response_body_like eval
["ok",
 PayTest::json_like(provider => '"square"', id => '"\w{29}"',
                    status => '"APPROVED"', amount => '2000', currency => '"usd"'),
 PayTest::json_like(source_id => '"cnon:card-nonce-ok"',
                    idempotency_key => '"ngxpay-[0-9a-f]{32}"',
                    amount_money => '\{"amount":2000,"currency":"USD"\}',
                    autocomplete => 'false', location_id => '"LSTUBMAIN0001"'),
 '^\[\{[^\n]*"headers":\{(?=[^}]*"authorization":"Bearer sq_token_stub")(?=[^}]*"content-type":"application/json")(?=[^}]*"square-version":"2025-01-23")[^}]*\},"method":"POST"',
 '^0$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 22: Square without a source_id: a payment link
--- request eval
["GET /stub/reset",
 main::post('/square', '{"amount":2000,"currency":"usd","description":"Blue mug"}'),
 "GET /stub/body?path=/v2/online-checkout/payment-links",
 "GET /stub/count?path=/v2/payments"]
--- more_headers eval
["", main::key(22), "", ""]
--- error_code eval
[200, 201, 200, 200]
--- response_body_like eval
["ok",
 PayTest::json_like(provider => '"square"', id => '"\w+"',
                    payment_link_url => '"https://square\.link/u/\w{8}"',
                    amount => '2000', currency => '"usd"'),
 PayTest::json_like(idempotency_key => '"ngxpay-[0-9a-f]{32}"',
                    name => '"Blue mug"', location_id => '"LSTUBMAIN0001"',
                    price_money => '\{"amount":2000,"currency":"USD"\}'),
 '^0$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 23: the client's headers never reach a provider
--- request eval
["GET /stub/reset",
 main::post('/stripe', '{"amount":2000,"currency":"usd"}'),
 main::post('/paypal', '{"amount":2000,"currency":"usd"}'),
 main::post('/square', '{"amount":2000,"currency":"usd"}'),
 "GET /stub/requests"]
--- more_headers eval
my $h = "Cookie: session=secret-cookie\nAuthorization: Bearer client-secret-token\n"
      . "X-Forwarded-For: 10.1.2.3\nX-Client-Note: client-note-23";
["", main::key("23a") . "\n$h", main::key("23b") . "\n$h",
 main::key("23c") . "\n$h", ""]
--- error_code eval
[200, 201, 201, 201, 200]
--- response_body_like eval
["ok", '"provider":"stripe"', '"provider":"paypal"', '"provider":"square"',
 '^(?![\s\S]*(?:secret-cookie|client-secret-token|10\.1\.2\.3|client-note-23|k-' . $::R . '-23))[\s\S]*"authorization":"Bearer sk_test_stub"[\s\S]*"authorization":"Bearer sq_token_stub"']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 24: with proxy_pass the app gets the intent's variables (Stripe)
--- request eval
["GET /stub/reset", main::post('/app-stripe', '{"amount":2000,"currency":"USD"}'),
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", main::key(24) . "\nCookie: app-sees-this", ""]
--- response_body_like eval
["ok",
 '^provider=stripe id=(pi_\w+) status=requires_payment_method secret=\1_secret_\w+ approve= amount=2000 currency=usd idempotency=new attempts=stripe:200 cookie=app-sees-this json=\{"provider":"stripe","id":"\1","status":"requires_payment_method","client_secret":"\1_secret_\w+","amount":2000,"currency":"usd"\}$',
 '^1$']
--- no_error_log
[alert]
[crit]
[error]



=== TEST 25: with proxy_pass the app gets the intent's variables (PayPal)
--- request eval
main::post('/app-paypal', '{"amount":5000,"currency":"jpy"}')
--- more_headers eval
main::key(25)
--- response_body_like eval
'^provider=paypal id=([A-Z0-9]{17}) status=CREATED secret= approve=https://www\.sandbox\.paypal\.com/checkoutnow\?token=\1 amount=5000 currency=jpy idempotency=new attempts=paypal:201 cookie= json=\{"provider":"paypal","id":"\1","status":"CREATED","approve_url":"https://www\.sandbox\.paypal\.com/checkoutnow\?token=\1","amount":5000,"currency":"jpy"\}$'
--- no_error_log
[alert]
[crit]



=== TEST 26: with proxy_pass, a Square payment link is $pay_intent_approve_url
--- request eval
main::post('/app-square', '{"amount":2000,"currency":"usd"}')
--- more_headers eval
main::key(26)
--- response_body_like eval
'^provider=square id=\w+ status=\S* secret= approve=https://square\.link/u/\w{8} amount=2000 currency=usd idempotency=new attempts=square:200 '
--- no_error_log
[alert]
[crit]
[error]
