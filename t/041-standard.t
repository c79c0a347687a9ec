# Standard Webhooks (and Svix) verification through nginx
# (docs/providers/standard.md): the specification's vector W1
# (t/vectors/README.md), secret rotation, the timestamp window in both
# directions.
#
# Every block: the status, the body, one expected error-log line and no
# [alert] or [crit] (5 tests).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $W1_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
our $W1_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
our $W1_TS = 1614265330;
our $W1_SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
our $W1_BODY = PayTest::vector('stdwh_w1_body.json');

our $OTHER_SECRET = 'whsec_' . MIME::Base64::encode_base64('another key of 24 bytes!', '');

our $BODY = '{"type":"invoice.paid","data":{"invoice":"in_1"}}';

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

=== TEST 1: the spec's vector W1 verifies (its timestamp is old: tolerance 0)
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        pay_webhook_tolerance 0;
        proxy_set_header Pay-Provider $pay_provider;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "provider=$http_pay_provider id=$http_pay_event_id kind=$http_pay_event_kind\n";
    }
--- request eval
"POST /hook\n" . $::W1_BODY
--- more_headers eval
"webhook-id: $::W1_ID\nwebhook-timestamp: $::W1_TS\nwebhook-signature: $::W1_SIG"
--- response_body
provider=standard id=msg_p5jXN8AQM9LWM0D4loKWxJek kind=other
--- error_log
pay webhook verified: id "msg_p5jXN8AQM9LWM0D4loKWxJek"
--- no_error_log
[alert]
[crit]



=== TEST 2: W1 with the default tolerance is stale
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::W1_BODY
--- more_headers eval
"webhook-id: $::W1_ID\nwebhook-timestamp: $::W1_TS\nwebhook-signature: $::W1_SIG"
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: standard rejected: timestamp_out_of_tolerance
--- no_error_log
[alert]
[crit]



=== TEST 3: a delivery signed now, with a type naming a kind
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Type $pay_event_type;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id type=$http_pay_event_type kind=$http_pay_event_kind\n";
    }
--- request eval
"POST /hook\n" . $::BODY
--- more_headers eval
PayTest::standard_headers($::BODY, "msg_now_1")
--- response_body
id=msg_now_1 type=invoice.paid kind=invoice.paid
--- error_log
pay webhook verified: id "msg_now_1", type "invoice.paid"
--- no_error_log
[alert]
[crit]



=== TEST 4: rotation: two secrets configured, signed with the second
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        pay_webhook_secret whsec_YW5vdGhlciBrZXkgb2YgMjQgYnl0ZXMh;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . $::BODY
--- more_headers eval
PayTest::standard_headers($::BODY, "msg_rot_1", undef, $::OTHER_SECRET)
--- response_body
id=msg_rot_1
--- error_log
pay webhook verified: id "msg_rot_1"
--- no_error_log
[alert]
[crit]



=== TEST 5: rotation the other way: one secret, two v1 entries (old and new)
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_YW5vdGhlciBrZXkgb2YgMjQgYnl0ZXMh;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . $::BODY
--- more_headers eval
PayTest::standard_headers($::BODY, "msg_rot_2", undef, $::W1_SECRET, $::OTHER_SECRET)
--- response_body
id=msg_rot_2
--- error_log
pay webhook verified: id "msg_rot_2"
--- no_error_log
[alert]
[crit]



=== TEST 6: a timestamp too far in the future is refused
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        pay_webhook_tolerance 300s;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::BODY
--- more_headers eval
PayTest::standard_headers($::BODY, "msg_future", time() + 600)
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: standard rejected: timestamp_out_of_tolerance
--- no_error_log
[alert]
[crit]



=== TEST 7: a stale timestamp is refused
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::BODY
--- more_headers eval
PayTest::standard_headers($::BODY, "msg_stale", time() - 600)
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: standard rejected: timestamp_out_of_tolerance
--- no_error_log
[alert]
[crit]



=== TEST 8: a tampered body does not verify
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
my $body = $::BODY;
$body =~ s/in_1/in_2/;
"POST /hook\n" . $body
--- more_headers eval
PayTest::standard_headers($::BODY, "msg_tampered")
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: standard rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 9: a missing webhook-id
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::BODY
--- more_headers eval
my $h = PayTest::standard_headers($::BODY, "msg_x");
$h =~ s/^webhook-id: .*\n//;
$h
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: standard rejected: signature_missing
--- no_error_log
[alert]
[crit]



=== TEST 10: only other versions than v1 (v1a, asymmetric) count as missing
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        pay_webhook_tolerance 0;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n" . $::W1_BODY
--- more_headers eval
(my $sig = $::W1_SIG) =~ s/^v1,/v1a,/;
"webhook-id: $::W1_ID\nwebhook-timestamp: $::W1_TS\nwebhook-signature: $sig"
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: standard rejected: signature_missing
--- no_error_log
[alert]
[crit]



=== TEST 11: Svix's header names are accepted
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        pay_webhook_tolerance 0;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . $::W1_BODY
--- more_headers eval
"svix-id: $::W1_ID\nsvix-timestamp: $::W1_TS\nsvix-signature: $::W1_SIG"
--- response_body
id=msg_p5jXN8AQM9LWM0D4loKWxJek
--- error_log
pay webhook verified: id "msg_p5jXN8AQM9LWM0D4loKWxJek"
--- no_error_log
[alert]
[crit]



=== TEST 12: a body that is not a JSON object
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /hook\n[1,2,3]"
--- more_headers eval
PayTest::standard_headers("[1,2,3]", "msg_array")
--- error_code: 400
--- response_body_like: "code":"body_malformed"
--- error_log
pay: standard rejected: body_malformed
--- no_error_log
[alert]
[crit]
