# PayPal webhook verification, offline (docs/providers/paypal.md):
# a test PKI made now with the openssl CLI (t/lib/PayTest/PKI.pm), the
# certificates served by the provider stand-in (t/lib/PayTest/Stub.pm)
# behind pay_paypal_cert_location, and deliveries signed like PayPal's.
#
# Every block: the status, the body, and no [alert] or [crit] (4 tests),
# plus one error-log line where the block has one (counted in $extra).
# Blocks that count fetches talk to the stand-in through /stub/, which
# proxies to its control routes; each of them starts with /stub/reset.
# Dedupe is on (the default store): every block uses event ids of its own.

use Test::Nginx::Socket;
use lib 't/lib';
use Digest::SHA ();
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Spec;
use PayTest;
use PayTest::Crc;
use PayTest::FakeRedis;
use PayTest::PKI;
use PayTest::Stub;

our $PKI = PayTest::PKI::make(File::Spec->rel2abs('t/tmp/pki'));

# the stand-in serves /v1/notifications/certs/<name> from this folder
my $certs = File::Spec->rel2abs('t/tmp/paypal-certs');
make_path($certs);
copy($PKI->{$_->[1]}, "$certs/$_->[0]") or die "copy: $!"
    for ['CERT-good', 'leaf'], ['CERT-sandbox', 'sandbox'],
        ['CERT-rogue', 'rogue'], ['CERT-other', 'othername'],
        ['CERT-expired', 'expired'], ['CERT-bundle', 'bundle'];

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start(cert_dir => $certs);
$ENV{TEST_NGINX_PKI_ROOT} = $PKI->{root};
$ENV{TEST_NGINX_PKI_ROGUE} = $PKI->{rogue};
$ENV{TEST_NGINX_DEAD_PORT} = PayTest::free_port();

# a Redis that fails the first command on the dedupe key of WH-27, and one
# that is not there at all
our $FAKE = PayTest::FakeRedis->start(fail_key => 'WH-27');
our $DOWN = PayTest::FakeRedis->start(mode => 'refuse');
$ENV{TEST_NGINX_FAKE_REDIS_PORT} = $FAKE->port;
$ENV{TEST_NGINX_DOWN_REDIS_PORT} = $DOWN->port;

# transmissions seen before, as the module records them: a claim ("P")
# whose token is the SHA-256 of the body, under a key with the webhook
# id's length; one for the body of WH-29, one for the body of WH-30
our $TID_29 = '29292929-0000-11ef-8000-000000000029';
our $TID_30 = '30303030-0000-11ef-8000-000000000030';
PayTest::redis_command($FAKE->port, 'SET',
    "pay:paypal:transmission:7:WH_ID_1:$TID_29",
    'P' . Digest::SHA::sha256_hex(event("WH-29")));
PayTest::redis_command($FAKE->port, 'SET',
    "pay:paypal:transmission:7:WH_ID_1:$TID_30",
    'P' . Digest::SHA::sha256_hex(event("WH-30")));

our $CERTS = 'https://api.paypal.com/v1/notifications/certs';

# pay_paypal_webhook_id env:NAME and file:PATH (read when nginx loads)
$ENV{PAY_TEST_PAYPAL_WEBHOOK_ID} = 'WH_ID_1';
$ENV{TEST_NGINX_PAYPAL_WEBHOOK_ID_FILE} =
    PayTest::secret_file('paypal-webhook-id', "WH_ID_1\n");

# a PayPal event body, as PayPal sends them (one line)
sub event {
    my ($id, $type) = @_;
    $type //= 'PAYMENT.CAPTURE.COMPLETED';
    return qq({"id":"$id","event_version":"1.0","create_time":)
         . qq("2026-12-01T10:00:00.000Z","resource_type":"capture",)
         . qq("resource_version":"2.0","event_type":"$type",)
         . qq("summary":"Payment completed for \$ 20.0 USD",)
         . qq("resource":{"id":"8MC585209K746392H","status":"COMPLETED",)
         . qq("amount":{"currency_code":"USD","value":"20.00"}}});
}

# its five headers, signed with the test leaf for WH_ID_1 unless told
sub headers {
    my ($body, %args) = @_;
    return PayTest::PKI::paypal_headers(
        body => $body, key => $PKI->{leaf_key},
        cert_url => "$CERTS/CERT-good", webhook_id => 'WH_ID_1', %args);
}

sub delivery {
    my ($id) = @_;
    return "POST /hook\n" . event($id);
}

# the event $id (of type $type) in a body with the CRC-32 of $genuine: 48
# bytes of spaces and tabs after the "{" (t/lib/PayTest/Crc.pm)
sub forged {
    my ($id, $genuine, $type) = @_;
    return PayTest::Crc::forge('{', substr(event($id, $type), 1),
                               PayTest::Crc::crc32($genuine));
}

add_block_preprocessor(sub {
    my $block = shift;

    return if defined $block->config;

    $block->set_value('config', <<'_EOC_');
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Type $pay_event_type;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id type=$http_pay_event_type kind=$http_pay_event_kind\n";
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
_EOC_
});

repeat_each(1);

# each request is 4 tests (status, body, no [alert], no [crit]), plus
# error_log lines (17) and response_headers lines (3)
my $extra = 20;

plan tests => repeat_each() * (PayTest::requests(blocks()) * 4 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a genuine delivery reaches the app with the event's identity
--- request eval
main::delivery("WH-1AB23456CD789012E-3FG45678HJ901234K")
--- more_headers eval
main::headers(main::event("WH-1AB23456CD789012E-3FG45678HJ901234K"))
--- response_body
id=WH-1AB23456CD789012E-3FG45678HJ901234K type=PAYMENT.CAPTURE.COMPLETED kind=payment.succeeded
--- error_log
pay: paypal certificate "https://api.paypal.com/v1/notifications/certs/CERT-good" fetched and trusted
--- no_error_log
[alert]
[crit]



=== TEST 2: a tampered body does not verify
--- request eval
my $body = main::event("WH-2");
$body =~ s/20\.00/2000.00/;
"POST /hook\n$body"
--- more_headers eval
main::headers(main::event("WH-2"))
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: paypal rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 3: signed for another webhook id (a sandbox event at a live hook)
--- request eval
main::delivery("WH-3")
--- more_headers eval
main::headers(main::event("WH-3"), webhook_id => 'WH_OTHER')
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: paypal rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 4: a cert URL on another host is refused, and nothing is fetched
--- request eval
["GET /stub/reset", main::delivery("WH-4"),
 "GET /stub/count?path=/v1/notifications/certs/CERT-good"]
--- more_headers eval
["", main::headers(main::event("WH-4"),
                   cert_url => 'https://evil.example.com/v1/notifications/certs/CERT-good'),
 ""]
--- error_code eval
[200, 400, 200]
--- response_body_like eval
["ok", '"code":"cert_url_rejected"', '^0$']
--- no_error_log
[alert]
[crit]



=== TEST 5: cert URL tricks: a port, userinfo, another path
--- request eval
[main::delivery("WH-5a"), main::delivery("WH-5b"), main::delivery("WH-5c")]
--- more_headers eval
[main::headers(main::event("WH-5a"),
     cert_url => 'https://api.paypal.com:8443/v1/notifications/certs/CERT-good'),
 main::headers(main::event("WH-5b"),
     cert_url => 'https://user@api.paypal.com/v1/notifications/certs/CERT-good'),
 main::headers(main::event("WH-5c"),
     cert_url => 'https://api.paypal.com/v1/notifications/certs/../../oauth2/token')]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
['"code":"cert_url_rejected"', '"code":"cert_url_rejected"',
 '"code":"cert_url_rejected"']
--- no_error_log
[alert]
[crit]



=== TEST 6: a self-signed certificate with the right name is not trusted
--- request eval
main::delivery("WH-6")
--- more_headers eval
main::headers(main::event("WH-6"), key => $::PKI->{rogue_key},
              cert_url => "$::CERTS/CERT-rogue")
--- error_code: 400
--- response_body_like: "code":"cert_untrusted"
--- error_log
is not trusted: chain
--- no_error_log
[alert]
[crit]



=== TEST 7: a certificate from the trusted root for another name
--- request eval
main::delivery("WH-7")
--- more_headers eval
main::headers(main::event("WH-7"), key => $::PKI->{othername_key},
              cert_url => "$::CERTS/CERT-other")
--- error_code: 400
--- response_body_like: "code":"cert_untrusted"
--- error_log
is not trusted: name
--- no_error_log
[alert]
[crit]



=== TEST 8: an expired certificate
--- request eval
main::delivery("WH-8")
--- more_headers eval
main::headers(main::event("WH-8"), key => $::PKI->{expired_key},
              cert_url => "$::CERTS/CERT-expired")
--- error_code: 400
--- response_body_like: "code":"cert_untrusted"
--- error_log
is not trusted: expired
--- no_error_log
[alert]
[crit]



=== TEST 9: SHA1withRSA is not accepted
--- request eval
main::delivery("WH-9")
--- more_headers eval
main::headers(main::event("WH-9"), algo => 'SHA1withRSA')
--- error_code: 400
--- response_body_like: "code":"signature_malformed"
--- error_log
pay: paypal rejected: signature_malformed
--- no_error_log
[alert]
[crit]



=== TEST 10: a stale transmission time
--- request eval
main::delivery("WH-10")
--- more_headers eval
main::headers(main::event("WH-10"),
              transmission_time => PayTest::PKI::rfc3339(time() - 3600))
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: paypal rejected: timestamp_out_of_tolerance
--- no_error_log
[alert]
[crit]



=== TEST 11: no signature headers at all
--- request eval
main::delivery("WH-11")
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: paypal rejected: signature_missing
--- no_error_log
[alert]
[crit]



=== TEST 12: the certificate is fetched once for many deliveries
--- request eval
["GET /stub/reset", main::delivery("WH-12a"), main::delivery("WH-12b"),
 main::delivery("WH-12c"),
 "GET /stub/count?path=/v1/notifications/certs/CERT-good"]
--- more_headers eval
["", main::headers(main::event("WH-12a")), main::headers(main::event("WH-12b")),
 main::headers(main::event("WH-12c")), ""]
--- response_body_like eval
["ok", "id=WH-12a", "id=WH-12b", "id=WH-12c", '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 13: concurrent deliveries share one slow fetch
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Type $pay_event_type;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    # the four deliveries need the same certificate; the mirrors' webhook
    # id is another (nginx -t refuses one webhook id in two dedupe
    # stores), so they fail at the signature, after the fetch, and never
    # claim the event: /fanout's answer is always the app's
    location = /hook_mirror {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_MIRROR;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id type=$http_pay_event_type kind=$http_pay_event_kind\n";
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
    location = /fanout {
        mirror /mirror;
        mirror /mirror;
        mirror /mirror;
        proxy_pass http://127.0.0.1:$server_port/hook;
    }
    location = /mirror {
        internal;
        proxy_pass http://127.0.0.1:$server_port/hook_mirror;
    }
--- request eval
["GET /stub/reset",
 "GET /stub/fail?path=/v1/notifications/certs/CERT-good&status=delay&ms=500",
 "POST /fanout\n" . main::event("WH-13"),
 "GET /stub/count?path=/v1/notifications/certs/CERT-good"]
--- more_headers eval
["", "", main::headers(main::event("WH-13")), ""]
--- response_body_like eval
["ok", "ok", "id=WH-13", '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 14: an untrusted certificate is fetched once too (negative cache)
--- request eval
["GET /stub/reset", main::delivery("WH-14a"), main::delivery("WH-14b"),
 "GET /stub/count?path=/v1/notifications/certs/CERT-rogue"]
--- more_headers eval
["", main::headers(main::event("WH-14a"), key => $::PKI->{rogue_key},
                   cert_url => "$::CERTS/CERT-rogue"),
 main::headers(main::event("WH-14b"), key => $::PKI->{rogue_key},
               cert_url => "$::CERTS/CERT-rogue"), ""]
--- error_code eval
[200, 400, 400, 200]
--- response_body_like eval
["ok", '"code":"cert_untrusted"', '"code":"cert_untrusted"', '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 15: the cert host answers 404: 503 with Retry-After, so PayPal retries
--- request eval
main::delivery("WH-15")
--- more_headers eval
main::headers(main::event("WH-15"), cert_url => "$::CERTS/CERT-missing")
--- error_code: 503
--- response_headers
Retry-After: 10
--- response_body_like: "code":"provider_unavailable"
--- error_log
could not be fetched through "/_pay/paypal_cert": status 404
--- no_error_log
[alert]
[crit]



=== TEST 16: the cert host is down: 503
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAD_PORT/;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
main::delivery("WH-16")
--- more_headers eval
main::headers(main::event("WH-16"))
--- error_code: 503
--- response_headers
Retry-After: 10
--- response_body_like: "code":"provider_unavailable"
--- error_log
no answer, status 0
--- no_error_log
[alert]
[crit]



=== TEST 17: a sandbox delivery: sandbox host, sandbox certificate
--- request eval
main::delivery("WH-17")
--- more_headers eval
main::headers(main::event("WH-17"), key => $::PKI->{sandbox_key},
              cert_url => 'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-sandbox')
--- response_body
id=WH-17 type=PAYMENT.CAPTURE.COMPLETED kind=payment.succeeded
--- error_log
fetched and trusted
--- no_error_log
[alert]
[crit]



=== TEST 18: pay_paypal_cert_hosts replaces the allow-list
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_hosts api.sandbox.paypal.com;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
    }
--- request eval
main::delivery("WH-18")
--- more_headers eval
main::headers(main::event("WH-18"))
--- error_code: 400
--- response_body_like: "code":"cert_url_rejected"
--- error_log
pay: paypal rejected: cert_url_rejected
--- no_error_log
[alert]
[crit]



=== TEST 19: a PEM with the chain after the leaf is fine too
--- request eval
main::delivery("WH-19")
--- more_headers eval
main::headers(main::event("WH-19"), cert_url => "$::CERTS/CERT-bundle")
--- response_body
id=WH-19 type=PAYMENT.CAPTURE.COMPLETED kind=payment.succeeded
--- error_log
fetched and trusted
--- no_error_log
[alert]
[crit]



=== TEST 20: the webhook id from an environment variable or a file
--- config
    location = /hook_env {
        pay_webhook paypal;
        pay_paypal_webhook_id env:PAY_TEST_PAYPAL_WEBHOOK_ID;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook_file {
        pay_webhook paypal;
        pay_paypal_webhook_id file:$TEST_NGINX_PAYPAL_WEBHOOK_ID_FILE;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
["POST /hook_env\n" . main::event("WH-20a"),
 "POST /hook_file\n" . main::event("WH-20b")]
--- more_headers eval
[main::headers(main::event("WH-20a")), main::headers(main::event("WH-20b"))]
--- response_body eval
["id=WH-20a\n", "id=WH-20b\n"]
--- no_error_log
[alert]
[crit]



=== TEST 21: host-case variants of a cert URL are one cache entry
--- request eval
["GET /stub/reset", main::delivery("WH-21a"), main::delivery("WH-21b"),
 main::delivery("WH-21c"),
 "GET /stub/count?path=/v1/notifications/certs/CERT-good"]
--- more_headers eval
["", main::headers(main::event("WH-21a")),
 main::headers(main::event("WH-21b"),
               cert_url => 'https://API.PAYPAL.COM/v1/notifications/certs/CERT-good'),
 main::headers(main::event("WH-21c"),
               cert_url => 'https://api.PayPal.com/v1/notifications/certs/CERT-good'),
 ""]
--- response_body_like eval
["ok", "id=WH-21a", "id=WH-21b", "id=WH-21c", '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 22: a verdict serves only locations of the same trust policy
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook_rogue {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROGUE;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook_other_location {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert_2/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook_other_hosts {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_hosts api.paypal.com;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location /_pay/paypal_cert_2/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
--- request eval
["GET /stub/reset", "POST /hook\n" . main::event("WH-22a"),
 "POST /hook_rogue\n" . main::event("WH-22b"),
 "POST /hook_other_location\n" . main::event("WH-22c"),
 "POST /hook_other_hosts\n" . main::event("WH-22d"),
 "POST /hook\n" . main::event("WH-22e"),
 "GET /stub/count?path=/v1/notifications/certs/CERT-good"]
--- more_headers eval
["", (map { main::headers(main::event("WH-22$_")) } qw(a b c d e)), ""]
--- error_code eval
[200, 200, 400, 200, 200, 200, 200]
--- response_body_like eval
["ok", "id=WH-22a", '"code":"cert_untrusted"', "id=WH-22c", "id=WH-22d",
 "id=WH-22e", '^4$']
--- no_error_log
[alert]
[crit]



=== TEST 23: a cert URL that answers 404 is not fetched again at once
--- request eval
["GET /stub/reset", main::delivery("WH-23a"), main::delivery("WH-23b"),
 "GET /stub/count?path=/v1/notifications/certs/CERT-missing"]
--- more_headers eval
["", main::headers(main::event("WH-23a"), cert_url => "$::CERTS/CERT-missing"),
 main::headers(main::event("WH-23b"), cert_url => "$::CERTS/CERT-missing"),
 ""]
--- error_code eval
[200, 503, 503, 200]
--- response_body_like eval
["ok", '"code":"provider_unavailable"', '"code":"provider_unavailable"',
 '^1$']
--- no_error_log
[alert]
[crit]



=== TEST 24: strangers naming ever new certificates get ten fetches a minute
--- request eval
["GET /stub/reset", (map { main::delivery("WH-24-$_") } 1 .. 11),
 "GET /stub/count"]
--- more_headers eval
["", (map { main::headers(main::event("WH-24-$_"),
                          cert_url => "$::CERTS/CERT-none-$_") } 1 .. 11),
 ""]
--- error_code eval
[200, (503) x 11, 200]
--- response_body_like eval
["ok", ('"detail":"the PayPal certificate could not be fetched"') x 10,
 '"detail":"too many PayPal certificate fetches"', '^10$']
--- no_error_log
[alert]
[crit]



=== TEST 25: a forged body with the CRC-32 of a delivery seen is refused
--- request eval
["POST /hook\n" . main::event("WH-25"),
 "POST /hook\n" . main::forged("WH-25-FORGED", main::event("WH-25"))]
--- more_headers eval
my $h = main::headers(main::event("WH-25"));
[$h, $h]
--- error_code eval
[200, 400]
--- response_body_like eval
["^id=WH-25 ", '"code":"transmission_reused"']
--- no_error_log
[alert]
[crit]



=== TEST 26: PayPal's retry (a new transmission) and a resend of the same one are deduped
--- request eval
[main::delivery("WH-26"), main::delivery("WH-26"), main::delivery("WH-26")]
--- more_headers eval
my $h = main::headers(main::event("WH-26"));
[$h, main::headers(main::event("WH-26")), $h]
--- error_code eval
[200, 200, 200]
--- response_body eval
["id=WH-26 type=PAYMENT.CAPTURE.COMPLETED kind=payment.succeeded\n",
 qq({"received":true,"duplicate":true}\n),
 qq({"received":true,"duplicate":true}\n)]
--- no_error_log
[alert]
[crit]



=== TEST 27: an identical resend after a 503 (store down) goes through
--- http_config
    pay_store fake redis=127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=250ms;
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        pay_dedupe fake;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
[main::delivery("WH-27"), main::delivery("WH-27")]
--- more_headers eval
my $h = main::headers(main::event("WH-27"));
[$h, $h]
--- error_code eval
[503, 200]
--- response_body_like eval
['"code":"store_unavailable"', "^id=WH-27\$"]
--- no_error_log
[alert]
[crit]



=== TEST 28: the store cannot bind the transmission: 503, whatever pay_store_fail says
--- http_config
    pay_store down redis=127.0.0.1:$TEST_NGINX_DOWN_REDIS_PORT timeout=250ms;
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        pay_dedupe down;
        pay_store_fail open;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
main::delivery("WH-28")
--- more_headers eval
main::headers(main::event("WH-28"))
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log
could not be bound to its event: pay_store "down" is unavailable
--- no_error_log
[alert]
[crit]



=== TEST 29: a transmission bound to another body: refused
--- http_config
    pay_store fake redis=127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=250ms;
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        pay_dedupe fake;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
main::delivery("WH-29-FORGED")
--- more_headers eval
main::headers(main::event("WH-29-FORGED"), transmission_id => $::TID_29)
--- error_code: 400
--- response_body_like: "code":"transmission_reused"
--- error_log
pay: paypal transmission "29292929-0000-11ef-8000-000000000029" was signed for another body than this one of event "WH-29-FORGED"
--- no_error_log
[alert]
[crit]



=== TEST 30: a transmission bound to another body of the same event id: refused
--- http_config
    pay_store fake redis=127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=250ms;
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        pay_dedupe fake;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . main::event("WH-30", "PAYMENT.CAPTURE.REFUNDED")
--- more_headers eval
main::headers(main::event("WH-30", "PAYMENT.CAPTURE.REFUNDED"),
              transmission_id => $::TID_30)
--- error_code: 400
--- response_body_like: "code":"transmission_reused"
--- error_log
pay: paypal transmission "30303030-0000-11ef-8000-000000000030" was signed for another body than this one of event "WH-30"
--- no_error_log
[alert]
[crit]



=== TEST 31: the same transmission and body found bound: an ordinary delivery
--- http_config
    pay_store fake redis=127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=250ms;
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        pay_dedupe fake;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
main::delivery("WH-29")
--- more_headers eval
main::headers(main::event("WH-29"), transmission_id => $::TID_29)
--- response_body
id=WH-29
--- no_error_log
[alert]
[crit]



=== TEST 32: the same event id with another body, after the genuine delivery failed at the app: refused; the genuine resend reaches the app
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Type $pay_event_type;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        if ($http_x_app_fail) {
            return 500 "app failed\n";
        }
        return 200 "id=$http_pay_event_id type=$http_pay_event_type\n";
    }
--- request eval
[main::delivery("WH-32"),
 "POST /hook\n" . main::forged("WH-32", main::event("WH-32"),
                               "PAYMENT.CAPTURE.REFUNDED"),
 main::delivery("WH-32"), main::delivery("WH-32")]
--- more_headers eval
my $h = main::headers(main::event("WH-32"));
["$h\nX-App-Fail: 1", $h, $h, main::headers(main::event("WH-32"))]
--- error_code eval
[500, 400, 200, 200]
--- response_body_like eval
["^app failed\$", '"code":"transmission_reused"',
 "^id=WH-32 type=PAYMENT.CAPTURE.COMPLETED\$", '"duplicate":true']
--- no_error_log
[alert]
[crit]



=== TEST 33: once its certificate is validated, a delivery verifies while strangers have spent the fetches
--- request eval
["GET /stub/reset", main::delivery("WH-33a"),
 (map { main::delivery("WH-33-$_") } 1 .. 11),
 main::delivery("WH-33b"), "GET /stub/count"]
--- more_headers eval
["", main::headers(main::event("WH-33a")),
 (map { main::headers(main::event("WH-33-$_"),
                      cert_url => "$::CERTS/CERT-none-$_") } 1 .. 11),
 main::headers(main::event("WH-33b")), ""]
--- error_code eval
[200, 200, (503) x 11, 200, 200]
--- response_body_like eval
["ok", "^id=WH-33a ", ('"detail":"the PayPal certificate could not be fetched"') x 9,
 ('"detail":"too many PayPal certificate fetches"') x 2, "^id=WH-33b ", '^10$']
--- no_error_log
[alert]
[crit]



=== TEST 34: the certificate cache's results in pay_status
A good certificate fetched once and then found twice; an untrusted one
fetched once and then refused from the cache.
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate $TEST_NGINX_PKI_ROOT;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location /_pay/paypal_cert/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 16k;
    }
    location = /app {
        return 200 "app\n";
    }
    location = /pay_status {
        pay_status;
    }
--- request eval
[main::delivery("WH-34a"), main::delivery("WH-34b"),
 main::delivery("WH-34c"), main::delivery("WH-34d"),
 main::delivery("WH-34e"), "GET /pay_status"]
--- more_headers eval
[main::headers(main::event("WH-34a")), main::headers(main::event("WH-34b")),
 main::headers(main::event("WH-34c")),
 main::headers(main::event("WH-34d"), key => $::PKI->{rogue_key},
               cert_url => "$::CERTS/CERT-rogue"),
 main::headers(main::event("WH-34e"), key => $::PKI->{rogue_key},
               cert_url => "$::CERTS/CERT-rogue"), ""]
--- error_code eval
[200, 200, 200, 400, 400, 200]
--- response_body_like eval
["^app\$", "^app\$", "^app\$", '"code":"cert_untrusted"',
 '"code":"cert_untrusted"',
 '(?ms)^ngx_pay_paypal_cert_cache\{result="hit"\} 2$.*'
 . '^ngx_pay_paypal_cert_cache\{result="fetch"\} 2$.*'
 . '^ngx_pay_paypal_cert_cache\{result="rejected"\} 1$']
--- no_error_log
[alert]
[crit]
