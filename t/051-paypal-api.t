# PayPal webhook verification in API mode (pay_paypal_verify api;
# docs/providers/paypal.md): an OAuth2 token by subrequest, cached in
# shared memory and refreshed on 401, then verify-webhook-signature with the
# raw body embedded verbatim, against the local stand-in of PayPal's API
# (t/lib/PayTest/Stub.pm).
#
# Every block: the status, the body, and no [alert] or [crit] per request;
# blocks that count calls reach the stand-in's control routes through
# /stub/ and start with /stub/reset (which also invalidates its tokens).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::PKI;
use PayTest::Stub;

# the stand-in answers SUCCESS for this signature and webhook id
our $GOOD_SIG = 'R29vZFNpZ25hdHVyZUZyb21QYXlQYWw=';

$ENV{TEST_NGINX_STUB_PORT} =
    PayTest::Stub::start(paypal_good_signature => $GOOD_SIG);

our $CERT_URL =
    'https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb';

sub event {
    my ($id) = @_;
    return qq({"id":"$id","event_version":"1.0","event_type":)
         . qq("CUSTOMER.DISPUTE.CREATED","resource_type":"dispute",)
         . qq("summary":"A new dispute opened with Case # PP-000-042-663-135",)
         . qq("resource":{"dispute_id":"PP-000-042-663-135","reason":)
         . qq("MERCHANDISE_OR_SERVICE_NOT_RECEIVED"}});
}

sub headers {
    my ($sig, $id) = @_;
    my $time = POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime);
    return "Paypal-Transmission-Id: " . ($id // PayTest::PKI::transmission_id())
         . "\nPaypal-Transmission-Time: $time"
         . "\nPaypal-Transmission-Sig: $sig"
         . "\nPaypal-Cert-Url: $CERT_URL"
         . "\nPaypal-Auth-Algo: SHA256withRSA";
}

sub delivery {
    my ($id) = @_;
    return "POST /hook\n" . event($id);
}

add_block_preprocessor(sub {
    my $block = shift;

    return if defined $block->config;

    $block->set_value('config', <<'_EOC_');
    location = /hook {
        pay_webhook paypal;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client paypal_client_id paypal_client_secret;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id kind=$http_pay_event_kind\n";
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
_EOC_
});

repeat_each(1);

# each request is 4 tests (status, body, no [alert], no [crit]), plus
# error_log lines
my $extra = 2;

plan tests => repeat_each() * (PayTest::requests(blocks()) * 4 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a genuine delivery: one token, one verification, then the app
--- request eval
["GET /stub/reset", main::delivery("WH-A1"),
 "GET /stub/count?path=/v1/oauth2/token",
 "GET /stub/count?path=/v1/notifications/verify-webhook-signature"]
--- more_headers eval
["", main::headers($::GOOD_SIG), "", ""]
--- response_body_like eval
["ok", "^id=WH-A1 kind=dispute.opened\$", '^1$', '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 2: the token is cached: one token call for many deliveries
--- request eval
["GET /stub/reset", main::delivery("WH-A2a"), main::delivery("WH-A2b"),
 main::delivery("WH-A2c"), "GET /stub/count?path=/v1/oauth2/token",
 "GET /stub/count?path=/v1/notifications/verify-webhook-signature"]
--- more_headers eval
["", main::headers($::GOOD_SIG), main::headers($::GOOD_SIG),
 main::headers($::GOOD_SIG), "", ""]
--- response_body_like eval
["ok", "id=WH-A2a", "id=WH-A2b", "id=WH-A2c", '^1$', '^[34]$']
--- no_error_log
[alert]
[crit]



=== TEST 3: a token PayPal revoked is refreshed once, on its 401
--- request eval
["GET /stub/reset", main::delivery("WH-A3a"), "GET /stub/revoke_tokens",
 main::delivery("WH-A3b"), "GET /stub/count?path=/v1/oauth2/token"]
--- more_headers eval
["", main::headers($::GOOD_SIG), "", main::headers($::GOOD_SIG), ""]
--- response_body_like eval
["ok", "id=WH-A3a", "ok", "id=WH-A3b", '^2$']
--- no_error_log
[alert]
[crit]



=== TEST 4: FAILURE is a signature mismatch
--- request eval
main::delivery("WH-A4")
--- more_headers eval
main::headers("U29tZW9uZUVsc2VzU2lnbmF0dXJl")
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: paypal rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 5: verify-webhook-signature answers 500: 503, so PayPal retries
--- request eval
["GET /stub/fail?path=/v1/notifications/verify-webhook-signature&status=500",
 main::delivery("WH-A5")]
--- more_headers eval
["", main::headers($::GOOD_SIG)]
--- error_code eval
[200, 503]
--- response_body_like eval
["ok", '"code":"provider_unavailable"']
--- no_error_log
[alert]
[crit]



=== TEST 6: no token to be had: 503
--- request eval
["GET /stub/reset", "GET /stub/fail?path=/v1/oauth2/token&status=500",
 main::delivery("WH-A6")]
--- more_headers eval
["", "", main::headers($::GOOD_SIG)]
--- error_code eval
[200, 200, 503]
--- response_body_like eval
["ok", "ok", '"code":"provider_unavailable"']
--- no_error_log
[alert]
[crit]



=== TEST 7: the raw body is embedded verbatim as webhook_event
--- request eval
["GET /stub/reset", main::delivery("WH-A7"),
 "GET /stub/body?path=/v1/notifications/verify-webhook-signature"]
--- more_headers eval
["", main::headers($::GOOD_SIG, "a7a7a7a7-0000-11ef-0000-000000000007"), ""]
--- response_body_like eval
["ok", "id=WH-A7",
 '^\{"auth_algo":"SHA256withRSA","cert_url":"' . quotemeta($::CERT_URL)
 . '","transmission_id":"a7a7a7a7-0000-11ef-0000-000000000007","transmission_sig":"'
 . quotemeta($::GOOD_SIG) . '","transmission_time":"[0-9TZ:-]+","webhook_id":"WH_ID_1",'
 . '"webhook_event":' . quotemeta(main::event("WH-A7")) . '\}$']
--- no_error_log
[alert]
[crit]



=== TEST 8: the client's headers never reach PayPal
--- request eval
["GET /stub/reset", main::delivery("WH-A8"),
 "GET /stub/requests?path=/v1/notifications/verify-webhook-signature"]
--- more_headers eval
["", main::headers($::GOOD_SIG)
     . "\nCookie: session=secret-cookie\nAuthorization: Bearer client-secret-token\nX-Forwarded-For: 10.1.2.3",
 ""]
--- response_body_like eval
["ok", "id=WH-A8",
 '^(?![\s\S]*(?:secret-cookie|client-secret-token|10\.1\.2\.3|Paypal-Transmission))[\s\S]*"authorization":"Bearer A21AA']
--- no_error_log
[alert]
[crit]



=== TEST 9: wrong client credentials: 503 and a line saying what to check
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_api /_pay/paypal;
        pay_paypal_client paypal_client_id not_the_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
    }
--- request eval
main::delivery("WH-A9")
--- more_headers eval
main::headers($::GOOD_SIG)
--- error_code: 503
--- response_body_like: "code":"provider_unavailable"
--- error_log
status 401 (check pay_paypal_client)
--- no_error_log
[alert]
[crit]



=== TEST 10: PayPal does not answer in time: 503
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/notifications/verify-webhook-signature&status=timeout",
 main::delivery("WH-A10")]
--- more_headers eval
["", "", main::headers($::GOOD_SIG)]
--- error_code eval
[200, 200, 503]
--- response_body_like eval
["ok", "ok", '"code":"provider_unavailable"']
--- no_error_log
[alert]
[crit]



=== TEST 11: PayPal said SUCCESS, but the transmission carried another event first
--- request eval
[main::delivery("WH-A11"), main::delivery("WH-A11-OTHER")]
--- more_headers eval
my $h = main::headers($::GOOD_SIG);
[$h, $h]
--- error_code eval
[200, 400]
--- response_body_like eval
["^id=WH-A11 ", '"code":"transmission_reused"']
--- no_error_log
[alert]
[crit]
