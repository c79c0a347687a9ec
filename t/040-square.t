# Square webhook verification through nginx (docs/providers/square.md):
# the official vectors Q1-Q3 (t/vectors/README.md), the notification URL,
# several signature keys, the legacy SHA-1 header only when enabled.
#
# Every block: the status, the body, one expected error-log line and no
# [alert] or [crit] (5 tests).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $Q1_URL = 'https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9';
our $Q1_KEY = 'Ibxx_5AKakO-3qeNVR61Dw';
our $Q1_SIG = 'GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=';
our $Q1_SHA1 = '+9Qzy6LPYs08yM75TiRwUupYoS0=';
our $Q1_BODY = PayTest::vector('square_q1_body.json');

# a Square event of our own, signed for the test URL
our $URL = 'https://shop.example/hooks/square';
sub event {
    my ($id, $type, $status) = @_;
    my $object = $status ? qq("object":{"payment":{"id":"p1","status":"$status"}})
                         : qq("object":{});
    return qq({"merchant_id":"M1","type":"$type","event_id":"$id",)
         . qq("created_at":"2026-12-01T00:00:00Z","data":{"type":"payment",)
         . qq("id":"p1",$object}});
}

repeat_each(2);

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config',
                      ($block->http_config // '') . "\n    pay_dedupe off;\n");
});

plan tests => repeat_each() * (blocks() * 5);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: vector Q1 verifies and reaches the app with the event's identity
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_set_header Pay-Provider $pay_provider;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Type $pay_event_type;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_set_header Pay-Event-Livemode $pay_event_livemode;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "provider=$http_pay_provider id=$http_pay_event_id type=$http_pay_event_type kind=$http_pay_event_kind livemode=$http_pay_event_livemode\n";
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-hmacsha256-signature: $::Q1_SIG\nsquare-environment: Sandbox"
--- response_body
provider=square id=ac3ac95b-f97d-458c-a6e6-18981597e05f type=webhooks.test_notification kind=other livemode=false
--- error_log
pay webhook verified: id "ac3ac95b-f97d-458c-a6e6-18981597e05f"
--- no_error_log
[alert]
[crit]



=== TEST 2: the URL may be built from variables
--- config
    location /679a4f3a-dcfa-49ee-bac5-9d0edad886b9 {
        pay_webhook square;
        pay_webhook_url https://webhook.site$request_uri;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /679a4f3a-dcfa-49ee-bac5-9d0edad886b9\n" . $::Q1_BODY
--- more_headers eval
"x-square-hmacsha256-signature: $::Q1_SIG"
--- response_body
id=ac3ac95b-f97d-458c-a6e6-18981597e05f
--- error_log
pay webhook verified: id "ac3ac95b-f97d-458c-a6e6-18981597e05f"
--- no_error_log
[alert]
[crit]



=== TEST 3: a URL one character off (Q1 negative) does not verify
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-hmacsha256-signature: $::Q1_SIG"
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: square rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 4: vector Q2 verifies, but its body is no Square event (no event_id)
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/webhooks;
        pay_webhook_secret signature-key;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . PayTest::vector('square_q2_body.json')
--- more_headers
x-square-hmacsha256-signature: Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=
--- error_code: 400
--- response_body_like: "code":"body_malformed"
--- error_log
pay: square rejected: body_malformed
--- no_error_log
[alert]
[crit]



=== TEST 5: vector Q3 likewise: the signature held, the identity is missing
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/webhooks;
        pay_webhook_secret signature-key;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . PayTest::vector('square_q3_body.json')
--- more_headers
x-square-hmacsha256-signature: W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=
--- error_code: 400
--- response_body_like: "code":"body_malformed"
--- error_log
pay: square rejected: body_malformed
--- no_error_log
[alert]
[crit]



=== TEST 6: another key (Q1 negative) does not verify
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret MCmhFRxGX82xMwg5FsaoQA;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-hmacsha256-signature: $::Q1_SIG"
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: square rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 7: several keys (one per subscription): the second one matches
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret MCmhFRxGX82xMwg5FsaoQA;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-hmacsha256-signature: $::Q1_SIG"
--- response_body
id=ac3ac95b-f97d-458c-a6e6-18981597e05f
--- error_log
pay webhook verified: id "ac3ac95b-f97d-458c-a6e6-18981597e05f"
--- no_error_log
[alert]
[crit]



=== TEST 8: no signature header
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: square rejected: signature_missing
--- no_error_log
[alert]
[crit]



=== TEST 9: a reformatted body (Q1 negative) does not verify
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
my $body = $::Q1_BODY;
$body =~ s/,/, /g;
"POST /hook\n" . $body
--- more_headers eval
"x-square-hmacsha256-signature: $::Q1_SIG"
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: square rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 10: a signature that is not base64
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers
x-square-hmacsha256-signature: not*base64*at*all
--- error_code: 400
--- response_body_like: "code":"signature_malformed"
--- error_log
pay: square rejected: signature_malformed
--- no_error_log
[alert]
[crit]



=== TEST 11: the legacy SHA-1 header alone is not enough by default
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-signature: $::Q1_SHA1"
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: square rejected: signature_missing
--- no_error_log
[alert]
[crit]



=== TEST 12: with pay_webhook_square_sha1 on, the legacy header verifies
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        pay_webhook_square_sha1 on;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-signature: $::Q1_SHA1"
--- response_body
id=ac3ac95b-f97d-458c-a6e6-18981597e05f
--- error_log
pay webhook verified: id "ac3ac95b-f97d-458c-a6e6-18981597e05f"
--- no_error_log
[alert]
[crit]



=== TEST 13: with both headers, the SHA-256 one decides
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        pay_webhook_square_sha1 on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-hmacsha256-signature: W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=\nx-square-signature: $::Q1_SHA1"
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: square rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 14: a completed payment is payment.succeeded; Production is live
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_key_1;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_set_header Pay-Event-Livemode $pay_event_livemode;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "kind=$http_pay_event_kind livemode=$http_pay_event_livemode\n";
    }
--- request eval
"POST /hook\n" . main::event("ev-1", "payment.updated", "COMPLETED")
--- more_headers eval
"x-square-hmacsha256-signature: "
. PayTest::square_signature($::URL, main::event("ev-1", "payment.updated", "COMPLETED"), "sq_key_1")
. "\nsquare-environment: Production"
--- response_body
kind=payment.succeeded livemode=true
--- error_log
pay webhook verified: id "ev-1", type "payment.updated", kind "payment.succeeded"
--- no_error_log
[alert]
[crit]



=== TEST 15: a repeated signature header is refused
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9;
        pay_webhook_secret Ibxx_5AKakO-3qeNVR61Dw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::Q1_BODY
--- more_headers eval
"x-square-hmacsha256-signature: $::Q1_SIG\nx-square-hmacsha256-signature: $::Q1_SIG"
--- error_code: 400
--- response_body_like: "code":"signature_malformed"
--- error_log
pay: square rejected: signature_malformed
--- no_error_log
[alert]
[crit]
