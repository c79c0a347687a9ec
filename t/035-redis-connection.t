# The Redis connection itself, against a real private redis-server: TCP
# keepalive is on, an idle connection is PINGed and one that stops
# answering is dropped and made again before a request needs it, and a
# refused AUTH is one error line (the attempts after it say so at info),
# with no release or retry warnings for claims that never ran.
#
# Every block: one status and one body per request, the listed log lines,
# and no [alert], [crit] or [emerg].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $port = PayTest::redis_server();
$ENV{TEST_NGINX_CONN_REDIS_PORT} = $port;

# TEST 4: a Redis that gets demoted to a replica of another one
our $demoted = PayTest::redis_server();
our $promoted = PayTest::redis_server();
$ENV{TEST_NGINX_DEMOTED_PORT} = $demoted;

our ($keepalive, $auth_errors, $auth_infos, $held_keys, $readonly_status);
our (@readonly_more, @readonly_lines);
our %down;    # TEST 5: store => [error lines, info lines, nginx's own]

our $R = sprintf '%x%x%04x', time, $$, int rand 65536;
$ENV{TEST_NGINX_RUN} = $R;

repeat_each(1);

# blocks: 25 + 7 + 6 subtests; after them, 11 checks
plan tests => 38 + 11;

no_shuffle();
run_tests();

Test::More::like($keepalive // '', qr/keepalive/,
                 'TEST 1: the connection has SO_KEEPALIVE (ss -o)')
    or Test::More::diag($keepalive);

Test::More::is($auth_errors, 1, 'TEST 2: one [error] line for the refused AUTH');
Test::More::ok($auth_infos >= 2,
               "TEST 2: the attempts after it at [info] ($auth_infos)");

Test::More::is($readonly_status, 503,
               'TEST 4: a claim answered READONLY: 503');
Test::More::is_deeply(\@readonly_more, [(503) x 10],
                      'TEST 4: while it stays a replica: 503 each');
Test::More::is_deeply(\@readonly_lines, [1, 1, 1],
    'TEST 4: one lost line, no new connection, one [error] for ROLE');

for my $store ('nosocket', 'refused') {
    my ($errors, $infos, $nginx) = @{ $down{$store} // [] };
    Test::More::is($errors, 1, "TEST 5: $store: one [error] line");
    Test::More::ok(($nginx // 1) == 0,
                   "TEST 5: $store: no connect() line of nginx's own ("
                   . ($nginx // 'none') . ")");
}

$held_keys = PayTest::redis_command($port, 'KEYS', "t035:$R:*");
Test::More::is_deeply($held_keys, [],
                      'TEST 3: the claim held behind the refused AUTH never ran');

__DATA__

=== TEST 1: an idle connection that stops answering is PINGed, dropped and made again
Redis is paused (CLIENT PAUSE) while the connection idles: the PING gets
no answer within timeout=, the connection is made again, and once Redis
answers again the next delivery goes through without waiting.
--- http_config
    pay_store idle redis=127.0.0.1:$TEST_NGINX_CONN_REDIS_PORT ping=200ms timeout=300ms;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe idle;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::wait_log(qr/pay_store "idle": redis \S+ connected/, 1);
$main::keepalive = `ss -tnoH state established dst 127.0.0.1:$main::port 2>&1`;
PayTest::redis_command($main::port, 'CLIENT', 'PAUSE', 1500, 'ALL');
PayTest::wait_log(qr/pay_store "idle": redis \S+ connection lost: PING timed out/, 1);
# blocks until the pause is over
PayTest::redis_command($main::port, 'PING');
# then up: one "connected" more than "connection lost", for 500 ms running
PayTest::wait_until(sub {
    PayTest::log_lines(qr/pay_store "idle": redis \S+ connected/)
    - PayTest::log_lines(qr/pay_store "idle": redis \S+ connection lost/) == 1
}, 0.5, 15);
--- request eval
PayTest::stripe_delivery("/hook", "evt_conn_idle_1")
--- more_headers eval
PayTest::stripe_signature("evt_conn_idle_1")
--- response_body
app: new
--- error_log eval
[qr/\[error\] .*pay_store "idle": redis 127\.0\.0\.1:\d+ connection lost: PING timed out/,
 qr/\[notice\] .*pay_store "idle": redis 127\.0\.0\.1:\d+ connected/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 20



=== TEST 2: a refused AUTH: one error line, 503, no release or retry warnings
The attempts that follow are refused the same way: said at info.
--- http_config
    pay_store locked redis=127.0.0.1:$TEST_NGINX_CONN_REDIS_PORT password=not-the-password timeout=300ms;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe locked;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::wait_log(qr/pay_store "locked": redis \S+ refused AUTH/, 3);
$main::auth_errors = PayTest::log_lines(qr/\[error\] .*pay_store "locked": redis \S+ refused AUTH/);
$main::auth_infos = PayTest::log_lines(qr/\[info\] .*pay_store "locked": redis \S+ refused AUTH/);
--- request eval
PayTest::stripe_delivery("/hook", "evt_conn_auth_1")
--- more_headers eval
PayTest::stripe_signature("evt_conn_auth_1")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "locked": redis 127\.0\.0\.1:\d+ refused AUTH: "(?:WRONGPASS|ERR)/]
--- no_error_log
[alert]
[crit]
[emerg]
will be sent again
unanswered claim
not-the-password
--- timeout: 10



=== TEST 3: a command queued while AUTH is pending is held, and dropped when AUTH is refused
Redis has no password for its default user, so whatever followed a
refused AUTH on the wire would run as that user.  Redis is paused
(CLIENT PAUSE) before an attempt starts, so the delivery's claim is
queued while its AUTH waits: it must never be sent, and no key appears.
--- http_config
    pay_store locked redis=127.0.0.1:$TEST_NGINX_CONN_REDIS_PORT password=not-the-password prefix=t035:$TEST_NGINX_RUN: timeout=5s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe locked;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::wait_log(qr/pay_store "locked": redis \S+ refused AUTH/, 1);
PayTest::redis_command($main::port, 'CLIENT', 'PAUSE', '1500', 'ALL');
my $n = PayTest::log_lines(qr/pay_store "locked": redis connecting to/);
PayTest::wait_log(qr/pay_store "locked": redis connecting to/, $n + 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_conn_held")
--- more_headers eval
PayTest::stripe_signature("evt_conn_held")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[(?:error|info)\] .*pay_store "locked": redis 127\.0\.0\.1:\d+ refused AUTH/,
 qr/\[debug\] .*pay_store "locked": redis SET NX GET "t035:/]
--- no_error_log
[alert]
[crit]
[emerg]
redis down,
not-the-password
--- timeout: 10



=== TEST 4: a plain redis= store whose Redis becomes a replica: dropped, made again, and used once it is a master again
A managed failover leaves the old primary up as a replica: its PINGs
still succeed, but every claim gets -READONLY.  The connection is dropped
at the first one (a new connection resolves a name again), the delivery
is answered store_unavailable.  While the server stays a replica, each
new connection asks ROLE first and is refused, with backoff (one error
line; no connected and lost lines per delivery); once the server is a
master again the next delivery goes through, without a reload.
--- http_config
    pay_store demoted redis=127.0.0.1:$TEST_NGINX_DEMOTED_PORT prefix=t035:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe demoted;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::wait_log(qr/pay_store "demoted": redis \S+ connected/, 1);
PayTest::redis_command($main::demoted, 'REPLICAOF', '127.0.0.1', $main::promoted);
$main::readonly_status = PayTest::stripe_post(main::server_port(), '/hook', 'evt_conn_readonly');
PayTest::wait_log(qr/pay_store "demoted": redis \S+ connection lost: READONLY/, 1);
# while it stays a replica, each new connection asks ROLE and is refused,
# with backoff: no connected/lost line per delivery
for my $i (1 .. 10) {
    push @main::readonly_more, PayTest::stripe_post(main::server_port(),
        '/hook', "evt_conn_readonly_$i");
    select undef, undef, undef, 0.1;
}
PayTest::wait_log(qr/pay_store "demoted": redis \S+ connect failed: the server is a replica \(ROLE\)/, 1);
@main::readonly_lines = map { PayTest::log_lines($_) }
    qr/pay_store "demoted": redis \S+ connection lost: READONLY/,
    qr/pay_store "demoted": redis \S+ connected/,
    qr/\[error\] .*pay_store "demoted": redis \S+ connect failed: the server is a replica \(ROLE\)/;
PayTest::redis_command($main::demoted, 'REPLICAOF', 'NO', 'ONE');
# the next connection, made after NO ONE: ROLE says master
PayTest::wait_log(qr/pay_store "demoted": redis \S+ connected/, 2, 15);
--- request eval
PayTest::stripe_delivery("/hook", "evt_conn_readonly")
--- more_headers eval
PayTest::stripe_signature("evt_conn_readonly")
--- error_code: 200
--- response_body
app: new
--- error_log eval
[qr/\[error\] .*pay_store "demoted": redis 127\.0\.0\.1:\d+ connection lost: READONLY: the server is a replica now/,
 qr/\[notice\] .*pay_store "demoted": redis 127\.0\.0\.1:\d+ connected/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 5: a unix socket that is not there, a port that refuses: one error line each, nothing at crit
nginx's ngx_event_connect_peer() logs a failed connect() on every
attempt (crit for a missing socket path): the store's own line says it
once, the attempts after it at info.
--- http_config
    pay_store nosocket redis=unix:/nonexistent/redis-t035.sock;
    pay_store refused redis=127.0.0.1:1;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe nosocket;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
    location = /hook2 {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe refused;
        return 204;
    }
--- init
for my $store ('nosocket', 'refused') {
    PayTest::wait_log(qr/pay_store "$store": redis \S+ connect failed/, 3);
    $main::down{$store} = [
        PayTest::log_lines(qr/\[error\] .*pay_store "$store": redis \S+ connect failed/),
        PayTest::log_lines(qr/\[info\] .*pay_store "$store": redis \S+ connect failed/),
        PayTest::log_lines(qr/connect\(\) to \S*(?:redis-t035\.sock|127\.0\.0\.1:1\b)/),
    ];
}
--- request eval
PayTest::stripe_delivery("/hook", "evt_conn_nosocket")
--- more_headers eval
PayTest::stripe_signature("evt_conn_nosocket")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "nosocket": redis unix:\/nonexistent\/redis-t035\.sock connect failed: No such file or directory/]
--- no_error_log
[alert]
[crit]
[emerg]
