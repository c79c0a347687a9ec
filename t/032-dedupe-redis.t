# Webhook deduplication with the Redis store (docs/directives.md): the same
# claim / complete / release rules as the shared-memory store, records in
# the configured database under the configured prefix, AUTH on connect,
# and a Redis that stops and comes back.
#
# The main Redis is util/run-tests' (TEST_NGINX_REDIS_PORT), shared by
# every file of a run: keys get a per-run prefix.  Three private servers
# are started here: one with a password, one on a unix socket, and one
# that is stopped and started again.
#
# Every block: one status and one body per request, the listed headers, and
# after every request the expected log lines and no [alert] or [crit].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use File::Spec;

$ENV{TEST_NGINX_REDIS_PORT} ||= 6379;

# an app that accepts connections and never answers
$ENV{TEST_NGINX_STALL_PORT} = PayTest::stall_server();

# keys of this run never meet those of an earlier run on the same Redis
our $run = sprintf '%x%x', time, $$;
$ENV{TEST_NGINX_PAY_PREFIX} = "t032:$run:";

# a Redis that wants a password, given to nginx through the environment
our $password = "pw-$run-secret";
$ENV{PAY_TEST_REDIS_PASSWORD} = $password;
$ENV{PAY_TEST_REDIS_WRONG_PASSWORD} = "pw-$run-wrong";
$ENV{TEST_NGINX_AUTH_PASSWORD} = $password;
$ENV{TEST_NGINX_AUTH_REDIS_PORT} = PayTest::redis_server(password => $password);

# a Redis reached through a unix socket
$ENV{TEST_NGINX_REDIS_SOCKET} = File::Spec->rel2abs("t/tmp/redis-t032-$$.sock");
$ENV{TEST_NGINX_SOCKET_REDIS_PORT} =
    PayTest::redis_server(unixsocket => $ENV{TEST_NGINX_REDIS_SOCKET});

END {
    unlink $ENV{TEST_NGINX_REDIS_SOCKET} if $ENV{TEST_NGINX_REDIS_SOCKET};
}

# a Redis that TEST 20 stops and TEST 22 starts again on the same port; it
# wants a password and the store uses db 3, so that a reconnection must
# AUTH and SELECT again
$ENV{TEST_NGINX_FLAKY_REDIS_PORT} = PayTest::redis_server(password => $password);

repeat_each(1);

# Sends signed deliveries of fresh events to $path until one is not
# answered 503, for up to 10 s: the worker reconnects with a backoff of at
# most 5 s.  For --- init, which runs right before a block's requests.
sub wait_for_store {
    my ($path) = @_;
    my $port = server_port();

    for my $i (1 .. 50) {
        my $body = PayTest::stripe_event("evt_rd_probe_${run}_$i");
        my $sig = PayTest::stripe_header($body);
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 5);
        if ($s) {
            print $s "POST $path HTTP/1.1\r\nHost: localhost\r\n"
                     . "Connection: close\r\nStripe-Signature: $sig\r\n"
                     . "Content-Length: " . length($body) . "\r\n\r\n$body";
            my $status = <$s> // '';
            close $s;
            return if $status =~ m{^HTTP/1\.\d (?!503)\d{3}};
        }
        select undef, undef, undef, 0.2;
    }

    die "the store did not come back in 10 s\n";
}

# For --- init: a background process that plays a second delivery of the
# event stored at $key, claiming it once the first delivery's lock has
# expired: it waits for the first claim ("P" + token) to appear, then to
# expire, then writes a claim of its own ("P" + 32 "f", lock 30 s).
sub claim_after_expiry {
    my ($key) = @_;
    my $port = $ENV{TEST_NGINX_REDIS_PORT};

    my $pid = fork;
    die "cannot fork: $!" unless defined $pid;
    return if $pid;

    my $seen = 0;
    for (1 .. 1000) {
        my $v = eval { PayTest::redis_command($port, 'GET', $key) };
        if (defined $v) {
            $seen = 1 if $v =~ /^P/;
        } elsif ($seen && !$@) {
            PayTest::redis_command($port, 'SET', $key, 'P' . ('f' x 32),
                                   'PX', 30000);
            last;
        }
        select undef, undef, undef, 0.01;
    }

    POSIX::_exit(0);
}

# blocks: 272 subtests; after them, 9 checks of what Redis holds
plan tests => 272 + 9;

no_shuffle();
run_tests();

# What the blocks left in Redis: records land in the configured database,
# under the configured prefix, as "D" + the app's status, for the ttl.

my $redis = $ENV{TEST_NGINX_REDIS_PORT};
my $prefix = $ENV{TEST_NGINX_PAY_PREFIX};

Test::More::is(
    PayTest::redis_command({ port => $redis, db => 5 },
                           'GET', "${prefix}webhook:hook:stripe:evt_rd_db_2"),
    'D200', 'TEST 8: a done record in db 5 under the prefix');

Test::More::is(
    PayTest::redis_command($redis, 'GET', "${prefix}webhook:hook:stripe:evt_rd_db_2"),
    undef, 'TEST 8: nothing of it in db 0');

Test::More::is(
    PayTest::redis_command($redis, 'GET', "pay:webhook:localhost=/hook-plain:stripe:evt_rd_pfx_$run"),
    'D200', 'TEST 9: without prefix=, keys start with "pay:"');

my $pttl = PayTest::redis_command($redis, 'PTTL',
                                  "pay:webhook:localhost=/hook-plain:stripe:evt_rd_pfx_$run");
Test::More::ok($pttl > 71 * 3600 * 1000 && $pttl <= 72 * 3600 * 1000,
               "TEST 9: kept for the default ttl, 72h (PTTL $pttl ms)");

Test::More::is(
    PayTest::redis_command($redis, 'GET', "webhook:localhost=/hook-bare:stripe:evt_rd_bare_$run"),
    'D200', 'TEST 9: with an empty prefix=, keys are the bare record keys');

$pttl = PayTest::redis_command($redis, 'PTTL',
                               "${prefix}webhook:localhost=/hook-long:stripe:evt_rd_ttl_2");
Test::More::ok($pttl > 71 * 3600 * 1000 && $pttl <= 72 * 3600 * 1000,
               "TEST 7: kept for pay_dedupe ttl=72h (PTTL $pttl ms)");

Test::More::is(
    PayTest::redis_command({ port => $ENV{TEST_NGINX_AUTH_REDIS_PORT},
                             password => $password },
                           'GET', "${prefix}webhook:localhost=/hook:stripe:evt_rd_auth_1"),
    'D200', 'TEST 16: the record is in the Redis that wants a password');

Test::More::is(
    PayTest::redis_command($ENV{TEST_NGINX_SOCKET_REDIS_PORT},
                           'GET', "${prefix}webhook:localhost=/hook:stripe:evt_rd_unix_1"),
    'D200', 'TEST 12: the record is in the Redis of the unix socket');

Test::More::is(
    PayTest::redis_command({ port => $ENV{TEST_NGINX_FLAKY_REDIS_PORT},
                             password => $password, db => 3 },
                           'GET', "${prefix}webhook:hook:stripe:evt_rd_flaky_2"),
    'D200', 'TEST 22: after the restart, the record is in db 3 again');

__DATA__

=== TEST 1: the first delivery goes to the app, the next ones are answered at the edge
$pay_dedupe reaches the app as "new"; the edge's own answers carry it in a
response header.
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        add_header Pay-Dedupe $pay_dedupe always;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rd_1"), PayTest::stripe_delivery("/hook", "evt_rd_1"),
 PayTest::stripe_delivery("/hook", "evt_rd_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_1"), PayTest::stripe_signature("evt_rd_1"),
 PayTest::stripe_signature("evt_rd_1")]
--- error_code eval
[200, 200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE, $PayTest::DUPLICATE]
--- response_headers eval
["Content-Type: text/plain\nPay-Dedupe: new",
 "Content-Type: application/json\nPay-Dedupe: duplicate",
 "Content-Type: application/json\nPay-Dedupe: duplicate"]
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_rd_1" in "main"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 2: pipelined deliveries on one keep-alive connection: new, then duplicates
The first delivery's completion is queued on the worker's Redis connection
when the request ends, before the next delivery's claim.
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
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
--- pipelined_requests eval
[PayTest::stripe_delivery("/hook", "evt_rd_pipe_1"), PayTest::stripe_delivery("/hook", "evt_rd_pipe_1"),
 PayTest::stripe_delivery("/hook", "evt_rd_pipe_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_pipe_1"), PayTest::stripe_signature("evt_rd_pipe_1"),
 PayTest::stripe_signature("evt_rd_pipe_1")]
--- error_code eval
[200, 200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE, $PayTest::DUPLICATE]
--- no_error_log
[alert]
[crit]


=== TEST 3: the claim and the completion are Redis commands on the record's key
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
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
PayTest::stripe_delivery("/hook", "evt_rd_2")
--- more_headers eval
PayTest::stripe_signature("evt_rd_2")
--- response_body
app
--- error_log eval
[qr/pay_store "main": redis SET NX GET "t032:\w+:webhook:localhost=\/hook:stripe:evt_rd_2"/,
 qr/pay_store "main": redis EVAL complete "t032:\w+:webhook:localhost=\/hook:stripe:evt_rd_2"/]
--- no_error_log
[error]
[alert]
[crit]
--- log_level: debug



=== TEST 4: a delivery that finds the event in flight gets 409 and Retry-After
The outer location claims the event and forwards it, signature and all, to
a second webhook location on the same store: a concurrent delivery.  Its
409 reaches the outer location as the app's answer, so the claim is
released and a later delivery goes through.
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main lock=30s namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location = /inner {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main lock=30s namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        add_header Pay-Dedupe $pay_dedupe always;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rd_3"), PayTest::stripe_delivery("/inner", "evt_rd_3"),
 PayTest::stripe_delivery("/inner", "evt_rd_3")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_3"), PayTest::stripe_signature("evt_rd_3"),
 PayTest::stripe_signature("evt_rd_3")]
--- error_code eval
[409, 200, 200]
--- response_body_like eval
['"code":"in_flight"', '^app: new$', '"duplicate":true']
--- response_headers eval
["Content-Type: application/problem+json\nRetry-After: 30\nPay-Dedupe: in_flight",
 "Content-Type: text/plain\nRetry-After:\nPay-Dedupe: new",
 "Content-Type: application/json\nRetry-After:\nPay-Dedupe: duplicate"]
--- error_log
pay dedupe claim "webhook:hook:stripe:evt_rd_3" in "main"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 5: an app that answers 500 releases the claim: the retry goes through
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook-failing {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/app-failing;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app-failing {
        return 500 "app failed\n";
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-failing", "evt_rd_4"), PayTest::stripe_delivery("/hook", "evt_rd_4"),
 PayTest::stripe_delivery("/hook", "evt_rd_4")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_4"), PayTest::stripe_signature("evt_rd_4"),
 PayTest::stripe_signature("evt_rd_4")]
--- error_code eval
[500, 200, 200]
--- response_body eval
["app failed\n", "app: new\n", $PayTest::DUPLICATE]
--- error_log
pay dedupe claim "webhook:hook:stripe:evt_rd_4" in "main"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 6: an app that times out: the next delivery is forwarded as a retry
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook-hanging {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main namespace=hook;
        proxy_read_timeout 300ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STALL_PORT/;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-hanging", "evt_rd_5"), PayTest::stripe_delivery("/hook", "evt_rd_5"),
 PayTest::stripe_delivery("/hook", "evt_rd_5")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_5"), PayTest::stripe_signature("evt_rd_5"),
 PayTest::stripe_signature("evt_rd_5")]
--- error_code eval
[504, 200, 200]
--- response_body_like eval
["504 Gateway Time-out", "^app: retry\$", '"duplicate":true']
--- error_log
pay dedupe claim "webhook:hook:stripe:evt_rd_5" in "main"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 7: a done record expires after the ttl
/wait is delayed 500 ms by limit_req the second time, longer than the ttl;
Redis itself expires the record (PX).  The second event, with the
location's ttl=72h, is still a duplicate afterwards.
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
    limit_req_zone $server_port zone=wait:1m rate=2r/s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main ttl=200ms;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-long {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main ttl=72h;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
    location = /wait {
        # limit_req runs after the rewrite phase: no "return" here
        limit_req zone=wait burst=5;
        proxy_pass http://127.0.0.1:$server_port/waited;
    }
    location = /waited {
        return 200 "waited\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rd_ttl_1"), PayTest::stripe_delivery("/hook-long", "evt_rd_ttl_2"),
 PayTest::stripe_delivery("/hook", "evt_rd_ttl_1"),
 "GET /wait", "GET /wait",
 PayTest::stripe_delivery("/hook", "evt_rd_ttl_1"), PayTest::stripe_delivery("/hook-long", "evt_rd_ttl_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_ttl_1"), PayTest::stripe_signature("evt_rd_ttl_2"),
 PayTest::stripe_signature("evt_rd_ttl_1"), "", "",
 PayTest::stripe_signature("evt_rd_ttl_1"), PayTest::stripe_signature("evt_rd_ttl_2")]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body eval
["app: new\n", "app: new\n", $PayTest::DUPLICATE, "waited\n", "waited\n",
 "app: new\n", $PayTest::DUPLICATE]
--- no_error_log
[alert]
[crit]



=== TEST 8: db= and prefix= are where the store looks
init writes a done record straight into Redis, in db 5 under the run's
prefix, before the deliveries: only the store with both the same db and
the same prefix finds it.  What this block's forwarded event leaves in
Redis is checked after the blocks.
--- init
PayTest::redis_command({ port => $ENV{TEST_NGINX_REDIS_PORT}, db => 5 },
    'SET', "$ENV{TEST_NGINX_PAY_PREFIX}webhook:hook:stripe:evt_rd_db_1",
    'D200', 'PX', 600000);
--- http_config
    pay_store seeded redis=127.0.0.1:$TEST_NGINX_REDIS_PORT db=5 prefix=$TEST_NGINX_PAY_PREFIX;
    pay_store db0 redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
    pay_store other redis=127.0.0.1:$TEST_NGINX_REDIS_PORT db=5 prefix=$TEST_NGINX_PAY_PREFIX-other:;
--- config
    location = /hook-seeded {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe seeded namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-db0 {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe db0 namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-other {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe other namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-seeded", "evt_rd_db_1"), PayTest::stripe_delivery("/hook-db0", "evt_rd_db_1"),
 PayTest::stripe_delivery("/hook-other", "evt_rd_db_1"), PayTest::stripe_delivery("/hook-seeded", "evt_rd_db_2"),
 PayTest::stripe_delivery("/hook-seeded", "evt_rd_db_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_db_1"), PayTest::stripe_signature("evt_rd_db_1"),
 PayTest::stripe_signature("evt_rd_db_1"), PayTest::stripe_signature("evt_rd_db_2"),
 PayTest::stripe_signature("evt_rd_db_2")]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
[$PayTest::DUPLICATE, "app: new\n", "app: new\n", "app: new\n", $PayTest::DUPLICATE]
--- no_error_log
[alert]
[crit]



=== TEST 9: without prefix= the keys start with "pay:", with an empty one they are bare
Checked in Redis after the blocks.
--- http_config
    pay_store plain redis=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    pay_store bare redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=;
--- config
    location = /hook-plain {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe plain;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-bare {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe bare;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook-plain", "evt_rd_pfx_$main::run"),
 PayTest::stripe_delivery("/hook-bare", "evt_rd_bare_$main::run")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_pfx_$main::run"),
 PayTest::stripe_signature("evt_rd_bare_$main::run")]
--- error_code eval
[200, 200]
--- response_body eval
["app\n", "app\n"]
--- no_error_log
[alert]
[crit]



=== TEST 10: a key that holds something else than a record is an outage, and its value is not logged
init writes a value of someone else's under the record's key.
--- init
PayTest::redis_command($ENV{TEST_NGINX_REDIS_PORT}, 'SET',
    "$ENV{TEST_NGINX_PAY_PREFIX}webhook:localhost=/hook:stripe:evt_rd_junk_1",
    "junk-of-$main::run", 'PX', 600000);
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
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
PayTest::stripe_delivery("/hook", "evt_rd_junk_1")
--- more_headers eval
PayTest::stripe_signature("evt_rd_junk_1")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "main": redis key "t032:\w+:webhook:localhost=\/hook:stripe:evt_rd_junk_1" holds a value that is not a record/]
--- no_error_log eval
["[alert]", "[crit]", "junk-of-$main::run"]



=== TEST 11: a db= that Redis refuses fails closed
--- http_config
    pay_store nodb redis=127.0.0.1:$TEST_NGINX_REDIS_PORT db=99;
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
PayTest::stripe_delivery("/hook", "evt_rd_nodb_1")
--- more_headers eval
PayTest::stripe_signature("evt_rd_nodb_1")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "nodb": redis 127\.0\.0\.1:\d+ refused SELECT: "ERR DB index is out of range"/]
--- no_error_log
[alert]
[crit]



=== TEST 12: a Redis on a unix socket
--- http_config
    pay_store local redis=unix:$TEST_NGINX_REDIS_SOCKET prefix=$TEST_NGINX_PAY_PREFIX;
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
[PayTest::stripe_delivery("/hook", "evt_rd_unix_1"), PayTest::stripe_delivery("/hook", "evt_rd_unix_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_unix_1"), PayTest::stripe_signature("evt_rd_unix_1")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE]
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_rd_unix_1" in "local"
--- no_error_log
[error]
[alert]
[crit]
--- log_level: debug


=== TEST 13: a completion after the lock expired leaves another delivery's claim alone
The delivery is held 1 s by limit_req on its way to the app (the first
GET makes the next one wait), with lock=200ms.  Meanwhile init's helper
plays a second delivery that claims the event as soon as the lock has
expired.  The app's 200 then must not mark the event done: the other claim
stays, and the next delivery finds the event in flight.
--- init
main::claim_after_expiry("$ENV{TEST_NGINX_PAY_PREFIX}webhook:hook:stripe:evt_rd_lock_1");
--- http_config
    pay_store main redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
    limit_req_zone $server_port zone=hold:1m rate=1r/s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main lock=200ms namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/hold;
    }
    location = /hook-failing {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe main lock=200ms namespace=hook;
        proxy_pass http://127.0.0.1:$server_port/hold-failing;
    }
    location = /hold {
        # limit_req runs after the rewrite phase: no "return" here
        limit_req zone=hold burst=5;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hold-failing {
        limit_req zone=hold burst=5;
        proxy_pass http://127.0.0.1:$server_port/app-failing;
    }
    location = /app {
        return 200 "app\n";
    }
    location = /app-failing {
        return 500 "app failed\n";
    }
--- request eval
["GET /hold", PayTest::stripe_delivery("/hook", "evt_rd_lock_1"),
 PayTest::stripe_delivery("/hook", "evt_rd_lock_1")]
--- more_headers eval
["", PayTest::stripe_signature("evt_rd_lock_1"), PayTest::stripe_signature("evt_rd_lock_1")]
--- error_code eval
[200, 200, 409]
--- response_body_like eval
['^app$', '^app$', '"code":"in_flight"']
--- no_error_log
[alert]
[crit]
--- timeout: 10



=== TEST 14: a release after the lock expired leaves another delivery's claim alone
The same with an app that fails: its release must not delete the other
claim.
--- init
main::claim_after_expiry("$ENV{TEST_NGINX_PAY_PREFIX}webhook:hook:stripe:evt_rd_lock_2");
--- request eval
["GET /hold", PayTest::stripe_delivery("/hook-failing", "evt_rd_lock_2"),
 PayTest::stripe_delivery("/hook", "evt_rd_lock_2")]
--- more_headers eval
["", PayTest::stripe_signature("evt_rd_lock_2"), PayTest::stripe_signature("evt_rd_lock_2")]
--- error_code eval
[200, 500, 409]
--- response_body_like eval
['^app$', '^app failed$', '"code":"in_flight"']
--- no_error_log
[alert]
[crit]
--- timeout: 10



=== TEST 15: both are logged, and the other claim is still there
The log lines are from the two blocks above (nginx kept running).
--- request eval
PayTest::stripe_delivery("/hook", "evt_rd_lock_1")
--- more_headers eval
PayTest::stripe_signature("evt_rd_lock_1")
--- error_code: 409
--- response_body_like: "code":"in_flight"
--- error_log eval
[qr/\[warn\] .*pay_store "main": redis complete "t032:\w+:webhook:hook:stripe:evt_rd_lock_1": the claim is no longer ours \(lock expired\?\)/,
 qr/\[info\] .*pay_store "main": redis release "t032:\w+:webhook:hook:stripe:evt_rd_lock_2": the claim is no longer ours \(lock expired\?\)/]
--- no_error_log
[alert]
[crit]



=== TEST 16: AUTH with a password from the environment
--- http_config
    pay_store locked redis=127.0.0.1:$TEST_NGINX_AUTH_REDIS_PORT password=env:PAY_TEST_REDIS_PASSWORD prefix=$TEST_NGINX_PAY_PREFIX;
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
[PayTest::stripe_delivery("/hook", "evt_rd_auth_1"), PayTest::stripe_delivery("/hook", "evt_rd_auth_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_auth_1"), PayTest::stripe_signature("evt_rd_auth_1")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE]
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_rd_auth_1" in "locked"
--- no_error_log eval
["[error]", "[alert]", "[crit]", $main::password]
--- log_level: debug



=== TEST 17: a wrong password fails closed, and no password reaches the log
Redis refuses AUTH on every connection: the delivery gets 503 with
Retry-After, the log has Redis's own message, and neither the wrong
password nor the right one appears anywhere in it, debug lines included.
--- http_config
    pay_store locked redis=127.0.0.1:$TEST_NGINX_AUTH_REDIS_PORT password=env:PAY_TEST_REDIS_WRONG_PASSWORD prefix=$TEST_NGINX_PAY_PREFIX;
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
PayTest::stripe_delivery("/hook", "evt_rd_auth_2")
--- more_headers eval
PayTest::stripe_signature("evt_rd_auth_2")
--- error_code: 503
--- response_headers
Retry-After: 5
Content-Type: application/problem+json
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "locked": redis 127\.0\.0\.1:\d+ refused AUTH: "WRONGPASS /,
 "pay: stripe rejected: store_unavailable"]
--- no_error_log eval
["[alert]", "[crit]", $ENV{PAY_TEST_REDIS_WRONG_PASSWORD}, $main::password]
--- log_level: debug



=== TEST 18: a literal password= works too
--- http_config
    pay_store locked redis=127.0.0.1:$TEST_NGINX_AUTH_REDIS_PORT password=$TEST_NGINX_AUTH_PASSWORD prefix=$TEST_NGINX_PAY_PREFIX;
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
[PayTest::stripe_delivery("/hook", "evt_rd_auth_1"), PayTest::stripe_delivery("/hook", "evt_rd_auth_3")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_auth_1"), PayTest::stripe_signature("evt_rd_auth_3")]
--- error_code eval
[200, 200]
--- response_body eval
[$PayTest::DUPLICATE, "app: new\n"]
--- no_error_log eval
["[alert]", "[crit]", $main::password]
--- log_level: debug



=== TEST 19: with Redis up, both locations of the flaky store deduplicate (one namespace)
--- http_config
    pay_store flaky redis=127.0.0.1:$TEST_NGINX_FLAKY_REDIS_PORT password=env:PAY_TEST_REDIS_PASSWORD db=3 prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe flaky namespace=hook;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-open {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe flaky namespace=hook;
        pay_store_fail open;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rd_flaky_1"), PayTest::stripe_delivery("/hook-open", "evt_rd_flaky_1")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_flaky_1"), PayTest::stripe_signature("evt_rd_flaky_1")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 20: Redis stopped: pay_store_fail closed answers 503 with Retry-After
Same configuration as TEST 19: nginx keeps running while init stops Redis.
--- init
PayTest::redis_stop($ENV{TEST_NGINX_FLAKY_REDIS_PORT});
--- request eval
PayTest::stripe_delivery("/hook", "evt_rd_flaky_2")
--- more_headers eval
PayTest::stripe_signature("evt_rd_flaky_2")
--- error_code: 503
--- response_headers
Retry-After: 5
Content-Type: application/problem+json
--- response_body_like: "code":"store_unavailable"
--- error_log
pay: stripe rejected: store_unavailable
--- no_error_log
[alert]
[crit]



=== TEST 21: Redis stopped: pay_store_fail open forwards with $pay_dedupe "bypass"
--- request eval
PayTest::stripe_delivery("/hook-open", "evt_rd_flaky_2")
--- more_headers eval
PayTest::stripe_signature("evt_rd_flaky_2")
--- response_body
app: bypass
--- error_log
forwarded without dedupe: pay_store "flaky" is unavailable (pay_store_fail open)
--- no_error_log
[alert]
[crit]



=== TEST 22: Redis back on the same port: the store reconnects without a reload
init starts Redis again and waits until a probe delivery is no longer
refused.  Redis lost its records (no persistence) and the bypassed
delivery left none: evt_rd_flaky_2 is new, then a duplicate.  Its record
is in db 3 (checked after the blocks): the new connection sent AUTH and
SELECT again.
--- init
PayTest::redis_server(port => $ENV{TEST_NGINX_FLAKY_REDIS_PORT},
                      password => $main::password);
main::wait_for_store("/hook");
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rd_flaky_2"), PayTest::stripe_delivery("/hook", "evt_rd_flaky_2"),
 PayTest::stripe_delivery("/hook-open", "evt_rd_flaky_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_rd_flaky_2"), PayTest::stripe_signature("evt_rd_flaky_2"),
 PayTest::stripe_signature("evt_rd_flaky_2")]
--- error_code eval
[200, 200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE, $PayTest::DUPLICATE]
--- no_error_log
[alert]
[crit]
