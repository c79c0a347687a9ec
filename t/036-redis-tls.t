# The Redis store over TLS (pay_store ... tls), against real redis-server
# processes with --tls-port and certificates made here by openssl
# (t/lib/redis-tls-pki): dedupe and idempotency work over TLS; a server
# certificate from another CA, an expired one, or one for another name is
# refused (503 store_unavailable with Retry-After, and one error line
# naming the store and the reason); mutual TLS works with tls_certificate=
# and is refused without it; a reconnect resumes the TLS session.
#
# Every block: one status and one body per request, the listed log lines,
# and no [alert], [crit] or [emerg].  The default connect_timeout= (3s)
# covers a TLS handshake on a loaded machine (or under ASan); a block that
# sends a request first waits for the "connected" line, so that the
# request's command (timeout=, 250ms) does not wait for the handshake.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

our $pki = PayTest::redis_tls_pki();
$ENV{TEST_NGINX_PKI} = $pki;

# one Redis per server certificate and client policy, each with a plain
# port for the test's own looks (CLIENT KILL)
my %tls;
for my $r (['GOOD', 'server', 0], ['EXPIRED', 'expired', 0],
           ['MTLS', 'server', 1])
{
    my ($name, $cert, $auth) = @$r;
    my $tls_port = PayTest::free_port();
    my $plain = PayTest::redis_server(tls => {
        port => $tls_port, cert => "$pki/$cert.pem",
        key => "$pki/$cert.key", ca => "$pki/ca.pem", auth_clients => $auth,
    });
    $ENV{"TEST_NGINX_${name}_TLS_PORT"} = $tls_port;
    $ENV{"TEST_NGINX_${name}_PLAIN_PORT"} = $plain;
}

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

our $R = sprintf '%x%x%04x', time, $$, int rand 65536;
$ENV{TEST_NGINX_RUN} = $R;

our $DEDUPE = <<'_EOC_';
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe tls;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    my $config = $block->config // '';
    $config =~ s/^\@DEDUPE\@\n/$DEDUPE/mg;
    $block->set_value('config', $config);
});

repeat_each(1);

plan tests => 104 + 2;

our ($mtls_attempts, $mtls_errors);

no_shuffle();
run_tests();

# TEST 9: backoff doubles from 100 ms: within the first ~2 s at most 6
# attempts (at 0, 0.1, 0.3, 0.7, 1.5 s, plus the one in progress); the
# same failure again is said at info
Test::More::ok(defined $mtls_attempts && $mtls_attempts >= 1
               && $mtls_attempts <= 6,
               "TEST 9: attempts back off (@{[ $mtls_attempts // 'none' ]} in 2 s)");
Test::More::is($mtls_errors, 1, 'TEST 9: one [error] line for the refusal');

__DATA__

=== TEST 1: dedupe over TLS: the first delivery is new, its resend a duplicate
The name checked is redis='s address, 127.0.0.1, an IP entry of the
certificate; the CA is tls_trusted_certificate=.
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_GOOD_TLS_PORT tls tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem prefix=t036:$TEST_NGINX_RUN:;
--- config
@DEDUPE@
--- request eval
[PayTest::stripe_delivery("/hook", "evt_tls_1"),
 PayTest::stripe_delivery("/hook", "evt_tls_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_tls_1"), PayTest::stripe_signature("evt_tls_1")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", '{"received":true,"duplicate":true}' . "\n"]
--- init
PayTest::wait_log(qr/\[notice\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ connected \(TLS\)/, 1);
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 2: tls_*= words written before tls count: the private CA is the one trusted
tls_trusted_certificate= and tls_name= come before the bare tls: the
server's certificate, from the test's private CA, verifies (with the
system's bundle instead it would not).
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_GOOD_TLS_PORT tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem tls_name=localhost tls prefix=t036:$TEST_NGINX_RUN:;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connected \(TLS\)/, 1);
--- request eval
[PayTest::stripe_delivery("/hook", "evt_tls_order"),
 PayTest::stripe_delivery("/hook", "evt_tls_order")]
--- more_headers eval
[PayTest::stripe_signature("evt_tls_order"), PayTest::stripe_signature("evt_tls_order")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", '{"received":true,"duplicate":true}' . "\n"]
--- no_error_log
[alert]
[crit]
[emerg]
[error]



=== TEST 3: a tls_name= written before tls is the name checked
The certificate does not hold redis.example.com: refused (with the name
lost, 127.0.0.1 would have been checked, and accepted).
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_GOOD_TLS_PORT tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem tls_name=redis.example.com tls;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connect failed: TLS/, 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_tls_order_name")
--- more_headers eval
PayTest::stripe_signature("evt_tls_order_name")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ connect failed: TLS certificate does not match "redis\.example\.com"/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 4: idempotency over TLS: the same key again is replayed, the provider called once
SNI and the name check use tls_name=localhost, a DNS entry of the
certificate.
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_GOOD_TLS_PORT tls tls_name=localhost tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem prefix=t036:$TEST_NGINX_RUN:;
--- config
    location = /intents {
        pay_intent stripe;
        pay_idempotency tls;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
        add_header X-Pay-Idempotency $pay_idempotency always;
    }
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 64k;
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connected \(TLS\)/, 1);
--- request eval
["GET /stub/reset",
 "POST /intents\n{\"amount\":2000,\"currency\":\"usd\"}",
 "POST /intents\n{\"amount\":2000,\"currency\":\"usd\"}",
 "GET /stub/count?path=/v1/payment_intents"]
--- more_headers eval
["", "Idempotency-Key: k-$::R-tls", "Idempotency-Key: k-$::R-tls", ""]
--- error_code eval
[200, 201, 201, 200]
--- response_headers eval
["", "X-Pay-Idempotency: new", "X-Pay-Idempotency: replayed\nIdempotent-Replayed: true", ""]
--- response_body_like eval
["ok", '"id":"pi_', '"id":"pi_', '^1$']
--- no_error_log
[alert]
[crit]
[emerg]
[error]



=== TEST 5: a server certificate from another CA: 503, one error line
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_GOOD_TLS_PORT tls tls_trusted_certificate=$TEST_NGINX_PKI/other-ca.pem;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connect failed: TLS/, 2);
--- request eval
PayTest::stripe_delivery("/hook", "evt_tls_ca")
--- more_headers eval
PayTest::stripe_signature("evt_tls_ca")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ connect failed: TLS certificate not trusted: \(\d+: [^)]+\)/,
 qr/\[info\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ connect failed: TLS certificate not trusted/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 6: an expired server certificate: 503, the reason said
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_EXPIRED_TLS_PORT tls tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connect failed: TLS/, 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_tls_expired")
--- more_headers eval
PayTest::stripe_signature("evt_tls_expired")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ connect failed: TLS certificate not trusted: \(10: certificate has expired\)/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 7: a certificate for another name: 503, the name said
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_GOOD_TLS_PORT tls tls_name=redis.example.com tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connect failed: TLS/, 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_tls_name")
--- more_headers eval
PayTest::stripe_signature("evt_tls_name")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ connect failed: TLS certificate does not match "redis\.example\.com"/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 8: mutual TLS: with the client certificate, deliveries go through
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_MTLS_TLS_PORT tls tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem tls_certificate=$TEST_NGINX_PKI/client.pem tls_certificate_key=$TEST_NGINX_PKI/client.key prefix=t036:$TEST_NGINX_RUN:;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connected \(TLS\)/, 1);
--- request eval
[PayTest::stripe_delivery("/hook", "evt_tls_mtls"),
 PayTest::stripe_delivery("/hook", "evt_tls_mtls")]
--- more_headers eval
[PayTest::stripe_signature("evt_tls_mtls"), PayTest::stripe_signature("evt_tls_mtls")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", '{"received":true,"duplicate":true}' . "\n"]
--- no_error_log
[alert]
[crit]
[emerg]
[error]



=== TEST 9: mutual TLS without the client certificate: 503, one error line
TLS 1.3 accepts the handshake and refuses the certificate at the first
read: the connection never counted as made (no "connected" line, no
"connection lost"), and attempts back off rather than loop every 100 ms.
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_MTLS_TLS_PORT tls tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connect failed/, 1);
# a window of 2 s: an upper bound on attempts holds however slow the machine
select undef, undef, undef, 2;
$main::mtls_attempts = PayTest::log_lines(qr/pay_store "tls": redis connecting to/);
$main::mtls_errors = PayTest::log_lines(qr/\[error\] .*pay_store "tls": redis \S+ connect failed/);
--- request eval
PayTest::stripe_delivery("/hook", "evt_tls_nocert")
--- more_headers eval
PayTest::stripe_signature("evt_tls_nocert")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ connect failed: TLS: tlsv13 alert certificate required/]
--- no_error_log
[alert]
[crit]
[emerg]
connected
connection lost
--- timeout: 10



=== TEST 10: a reconnect resumes the TLS session
Redis drops the connection (CLIENT KILL): the next one offers the
session kept from the first.
--- http_config
    pay_store tls redis=127.0.0.1:$TEST_NGINX_GOOD_TLS_PORT tls tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem prefix=t036:$TEST_NGINX_RUN:;
--- config
@DEDUPE@
--- init
PayTest::wait_log(qr/pay_store "tls": redis \S+ connected/, 1);
PayTest::redis_command($ENV{TEST_NGINX_GOOD_PLAIN_PORT}, 'CLIENT', 'KILL', 'TYPE', 'normal');
PayTest::wait_log(qr/pay_store "tls": redis \S+ connected/, 2);
--- request eval
PayTest::stripe_delivery("/hook", "evt_tls_resume")
--- more_headers eval
PayTest::stripe_signature("evt_tls_resume")
--- response_body
app: new
--- error_log eval
[qr/\[info\] .*pay_store "tls": redis 127\.0\.0\.1:\d+ TLS session reused/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10
