# The Redis store against a Redis that misbehaves (t/lib/PayTest/FakeRedis.pm):
# too slow, mute, not speaking RESP, hanging up mid-reply, answering 1 MB,
# not listening, or too old for SET with NX and GET.  Whatever Redis does, the
# delivery gets a clear answer (a duplicate, a forward, or 503 under
# pay_store_fail closed) and nginx neither hangs nor crashes.
#
# One fake per behaviour, started here, each on its own port.
#
# Every block: one status and one body per request, the listed headers, and
# after every request the expected log lines and no [alert], [crit] or
# [emerg].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::FakeRedis;

our %fake = (
    slow    => PayTest::FakeRedis->start(mode => 'delay', delay_ms => 600),
    garbage => PayTest::FakeRedis->start(mode => 'garbage'),
    drop    => PayTest::FakeRedis->start(mode => 'drop'),
    big     => PayTest::FakeRedis->start(mode => 'big', big_bytes => 1048576),
    huge    => PayTest::FakeRedis->start(mode => 'big',
                                         big_bytes => 6 * 1048576),
    endless => PayTest::FakeRedis->start(mode => 'array',
                                         big_bytes => 6 * 1048576),
    wide    => PayTest::FakeRedis->start(mode => 'array',
                                         array_elements => 2147483647,
                                         big_bytes => 0),
    refuse  => PayTest::FakeRedis->start(mode => 'refuse'),
    old     => PayTest::FakeRedis->start(mode => 'ok', version => 6),
);

$ENV{"TEST_NGINX_FAKE_\U$_\E_PORT"} = $fake{$_}->port for keys %fake;

# a server that accepts connections and never answers, not even AUTH
$ENV{TEST_NGINX_MUTE_PORT} = PayTest::stall_server();

# stopped here rather than by DESTROY at global destruction, where the
# waitpid() in stop() would leave its status as the script's exit code
END {
    local $?;
    $_->stop for values %fake;
}

repeat_each(1);

# blocks: 156 subtests; after them, 3 checks of what the old Redis received
plan tests => 176 + 3;

no_shuffle();
run_tests();

# A Redis 6 refuses the first claim's SET ... NX ... GET once; from then
# on every claim of the worker is an EVAL.

my @seen = $fake{old}->commands;
my $key = 'pay:webhook:localhost=/hook:stripe:evt_rf_old_1';

Test::More::is(scalar(grep { /^SET / } @seen), 1,
               'one SET with NX and GET, refused by the Redis 6')
    or Test::More::diag("@seen");

my @claims = grep { /^(?:SET|EVAL) \Q$key\E$/ } @seen;
Test::More::is($claims[0], "SET $key", 'the first claim tried SET first...');

Test::More::is(scalar(grep { $_ eq "EVAL $key" } @seen), 3,
               '...then EVAL: the claim again, the completion, the '
               . 'duplicate\'s claim')
    or Test::More::diag("@seen");

__DATA__

=== TEST 1: a Redis slower than timeout= fails the claim: 503 and Retry-After
Every reply comes 600 ms late, the store waits 200 ms.
--- http_config
    pay_store slow redis=127.0.0.1:$TEST_NGINX_FAKE_SLOW_PORT timeout=200ms;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_slow_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_slow_1")
--- error_code: 503
--- response_headers
Retry-After: 5
Content-Type: application/problem+json
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "slow": redis 127\.0\.0\.1:\d+ claim "pay:webhook:localhost=\/hook:stripe:evt_rf_slow_1" timed out/,
 "pay: stripe rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 2: the same slow Redis under pay_store_fail open: forwarded with "bypass"
--- http_config
    pay_store slow redis=127.0.0.1:$TEST_NGINX_FAKE_SLOW_PORT timeout=200ms;
--- config
    location = /hook-open {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_store_fail open;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
PayTest::stripe_delivery("/hook-open", "evt_rf_slow_3")
--- more_headers eval
PayTest::stripe_signature("evt_rf_slow_3")
--- response_body
app: bypass
--- error_log eval
[qr/pay_store "slow": redis 127\.0\.0\.1:\d+ claim "pay:webhook:localhost=\/hook-open:stripe:evt_rf_slow_3" timed out/,
 'pay: stripe event "evt_rf_slow_3" forwarded without dedupe']
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 3: the same slow Redis within timeout= is only slow: new, then a duplicate
--- http_config
    pay_store patient redis=127.0.0.1:$TEST_NGINX_FAKE_SLOW_PORT timeout=5s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rf_slow_2"), PayTest::stripe_delivery("/hook", "evt_rf_slow_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_rf_slow_2"), PayTest::stripe_signature("evt_rf_slow_2")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE]
--- no_error_log
[error]
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 4: a client that goes away while its claim is pending: the claim is released
The client gives up after 300 ms; the claim's answer comes at 600 ms, the
request then ends without the app's answer (499) and releases its claim.
--- http_config
    pay_store patient redis=127.0.0.1:$TEST_NGINX_FAKE_SLOW_PORT timeout=5s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_gone_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_gone_1")
--- timeout: 0.3
--- abort
--- ignore_response
--- wait: 1.5
--- no_error_log
[alert]
[crit]
[emerg]
--- log_level: debug



=== TEST 5: the provider's retry of that event goes through
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_gone_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_gone_1")
--- response_body
app: new
--- error_log
pay dedupe release "webhook:localhost=/hook:stripe:evt_rf_gone_1", status 499
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10


=== TEST 6: a server that accepts and never answers, not even AUTH: 503 after connect_timeout=
The connection's AUTH and SELECT go unanswered for connect_timeout=
(shorter here than the command's timeout=): the attempt is dropped, and
so is the claim held behind them, never sent.
--- http_config
    pay_store mute redis=127.0.0.1:$TEST_NGINX_MUTE_PORT password=secret-of-the-mute db=2 connect_timeout=300ms timeout=5s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_mute_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_mute_1")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "mute": redis 127\.0\.0\.1:\d+ connect failed: AUTH or SELECT timed out/,
 "pay: stripe rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]
[emerg]
secret-of-the-mute
--- timeout: 10


=== TEST 7: a reply that is not RESP is a protocol error: 503
--- http_config
    pay_store garbage redis=127.0.0.1:$TEST_NGINX_FAKE_GARBAGE_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_garbage_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_garbage_1")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "garbage": redis 127\.0\.0\.1:\d+ connection lost: Protocol error/,
 "pay: stripe rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 8: the protocol error repeats on the new connection: 503 again
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rf_garbage_1"), PayTest::stripe_delivery("/hook", "evt_rf_garbage_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_rf_garbage_1"), PayTest::stripe_signature("evt_rf_garbage_2")]
--- error_code eval
[503, 503]
--- response_body_like eval
['"code":"store_unavailable"', '"code":"store_unavailable"']
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 9: a connection closed in the middle of a reply: 503
--- http_config
    pay_store drop redis=127.0.0.1:$TEST_NGINX_FAKE_DROP_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_drop_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_drop_1")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "drop": redis 127\.0\.0\.1:\d+ connection lost: Server closed the connection/,
 "pay: stripe rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 10: a 1 MB value is read whole and refused: no stall, 503
The fake answers every claim with a done record of 1 MB, which hiredis
reads 16 KiB at a time: each delivery must still get its answer.  No
record the module writes is over 64 KiB, so the value is not one of its
records: refused before it is copied, as a store failure.
--- http_config
    pay_store big redis=127.0.0.1:$TEST_NGINX_FAKE_BIG_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        add_header Pay-Dedupe $pay_dedupe always;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rf_big_1"), PayTest::stripe_delivery("/hook", "evt_rf_big_2"),
 PayTest::stripe_delivery("/hook", "evt_rf_big_3")]
--- more_headers eval
[PayTest::stripe_signature("evt_rf_big_1"), PayTest::stripe_signature("evt_rf_big_2"),
 PayTest::stripe_signature("evt_rf_big_3")]
--- error_code eval
[503, 503, 503]
--- response_headers eval
["Retry-After: 5", "Retry-After: 5", "Retry-After: 5"]
--- response_body_like eval
['"code":"store_unavailable"', '"code":"store_unavailable"', '"code":"store_unavailable"']
--- error_log
holds a value that is not a record
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 11: nothing listens: closed answers 503, open forwards with "bypass"
--- http_config
    pay_store gone redis=127.0.0.1:$TEST_NGINX_FAKE_REFUSE_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-open {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_store_fail open;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rf_refuse_1"), PayTest::stripe_delivery("/hook-open", "evt_rf_refuse_1"),
 PayTest::stripe_delivery("/hook-open", "evt_rf_refuse_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_rf_refuse_1"), PayTest::stripe_signature("evt_rf_refuse_1"),
 PayTest::stripe_signature("evt_rf_refuse_1")]
--- error_code eval
[503, 200, 200]
--- response_headers eval
["Retry-After: 5", "Retry-After:", "Retry-After:"]
--- response_body_like eval
['"code":"store_unavailable"', '^app: bypass$', '^app: bypass$']
--- error_log eval
[qr/pay dedupe claim "webhook:localhost=\/hook(?:-open)?:stripe:evt_rf_refuse_1" in "gone"/]
--- no_error_log
[alert]
[crit]
[emerg]
--- log_level: debug



=== TEST 12: the refused connection is logged, and so is each bypass
--- request eval
PayTest::stripe_delivery("/hook-open", "evt_rf_refuse_2")
--- more_headers eval
PayTest::stripe_signature("evt_rf_refuse_2")
--- response_body
app: bypass
--- error_log eval
[qr/pay_store "gone": redis 127\.0\.0\.1:\d+ connect failed: Connection refused/,
 'pay: stripe event "evt_rf_refuse_2" forwarded without dedupe: pay_store "gone" is unavailable (pay_store_fail open)']
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 13: Redis 6 refuses SET with NX and GET: the store claims with EVAL
--- http_config
    pay_store old redis=127.0.0.1:$TEST_NGINX_FAKE_OLD_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /nested {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe old lock=30s namespace=nested;
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location = /inner {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe old lock=30s namespace=nested;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_old_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_old_1")
--- response_body
app: new
--- error_log eval
[qr/pay_store "old": redis 127\.0\.0\.1:\d+ rejects SET with NX and GET \(older than Redis 7\), claims use EVAL/]
--- no_error_log
[error]
[alert]
[crit]
[emerg]



=== TEST 14: with EVAL claims, dedupe is still right: duplicate, in flight, released
Same configuration: a duplicate, then the nested delivery that finds its
own event in flight (409), whose claim is then released.
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rf_old_1"), PayTest::stripe_delivery("/nested", "evt_rf_old_2"),
 PayTest::stripe_delivery("/inner", "evt_rf_old_2"), PayTest::stripe_delivery("/inner", "evt_rf_old_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_rf_old_1"), PayTest::stripe_signature("evt_rf_old_2"),
 PayTest::stripe_signature("evt_rf_old_2"), PayTest::stripe_signature("evt_rf_old_2")]
--- error_code eval
[200, 409, 200, 200]
--- response_headers eval
["Retry-After:", "Retry-After: 30", "Retry-After:", "Retry-After:"]
--- response_body_like eval
['"duplicate":true', '"code":"in_flight"', '^app: new$', '"duplicate":true']
--- no_error_log
[error]
[alert]
[crit]
[emerg]



=== TEST 15: a reply over 4 MiB is not buffered whole: the connection is dropped, 503
hiredis's reader has no size limit of its own; the connection's read
loop stops at 4 MiB of one reply (no record of the module's is over
64 KiB).
--- http_config
    pay_store huge redis=127.0.0.1:$TEST_NGINX_FAKE_HUGE_PORT timeout=5s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- init
PayTest::wait_log(qr/pay_store "huge": redis \S+ connected/, 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_huge_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_huge_1")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "huge": redis 127\.0\.0\.1:\d+ connection lost: a reply over 4 MiB: not one of the module's records/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 16: an endless array of elements is cut at 4 MiB too
Each element (8 KiB) is parsed and kept as it arrives, so the reader
never buffers much: the cap counts the reply from its first byte.  The
command's timeout (20 s) is far off: the cap drops the connection.
--- http_config
    pay_store endless redis=127.0.0.1:$TEST_NGINX_FAKE_ENDLESS_PORT timeout=20s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe endless;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- init
PayTest::wait_log(qr/pay_store "endless": redis \S+ connected/, 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_endless_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_endless_1")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "endless": redis 127\.0\.0\.1:\d+ connection lost: a reply over 4 MiB: not one of the module's records/]
--- no_error_log
[alert]
[crit]
[emerg]
timed out
--- timeout: 15



=== TEST 17: an array header of two billion elements is refused at once
hiredis would allocate its slots (16 GB) on reading the header, and walk
them all to free the reader: the module's reader refuses an array of
over 1024 elements, so the connection goes at once, not at the
command's timeout (20 s).
--- http_config
    pay_store wide redis=127.0.0.1:$TEST_NGINX_FAKE_WIDE_PORT timeout=20s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe wide;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- init
PayTest::wait_log(qr/pay_store "wide": redis \S+ connected/, 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_rf_wide_1")
--- more_headers eval
PayTest::stripe_signature("evt_rf_wide_1")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "wide": redis 127\.0\.0\.1:\d+ connection lost: a reply of over 1024 array elements: not one of the module's/]
--- no_error_log
[alert]
[crit]
[emerg]
timed out
--- timeout: 10
