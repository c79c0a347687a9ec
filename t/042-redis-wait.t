# wait=N: a completion's done record is followed by WAIT N on the same
# connection, against real redis-server processes started here: with a
# replica (redis-server --replicaof) the record is on it once the
# completion is answered, and nothing is said; with no replica WAIT
# answers 0 after half of timeout=, the record stays on the master and a
# warning says so (the documented behaviour: the delivery's result
# stands, docs/operations.md#durability), and for the next 5 s the worker
# sends no WAIT (counted in Redis's INFO commandstats).
#
# Every block: its status and body, the listed log lines, and no [alert],
# [crit] or [emerg].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $master = PayTest::redis_server();
our $replica = PayTest::redis_server(args => ['--replicaof', '127.0.0.1',
                                              $master]);
our $alone = PayTest::redis_server();

# the replica is in sync before anything is written
PayTest::wait_until(sub {
    my $info = PayTest::redis_command($replica, 'INFO', 'replication');
    return $info =~ /master_link_status:up/;
}, 0, 20);

$ENV{TEST_NGINX_MASTER_PORT} = $master;
$ENV{TEST_NGINX_ALONE_PORT} = $alone;

our ($wait_calls_before, $wait_calls_after, $wait_calls_probe);

our $R = sprintf '%x%x%04x', time, $$, int rand 65536;
$ENV{TEST_NGINX_RUN} = $R;

repeat_each(1);

plan tests => 18 + 15 + 6 + 3;

no_shuffle();
run_tests();

# TEST 3: one WAIT (--- init's delivery) for the four completions
sub wait_calls {
    my $info = PayTest::redis_command($alone, 'INFO', 'commandstats');
    return $info =~ /^cmdstat_wait:calls=(\d+)/m ? $1 : 0;
}

Test::More::is(($main::wait_calls_after // -1)
               - ($main::wait_calls_before // -1), 1,
    'TEST 3: after a WAIT found no replica, no WAIT for the next 5 s');

Test::More::is(wait_calls() - ($main::wait_calls_probe // -1), 2,
    'TEST 4: after the pause, one WAIT asks for six completions at once');

Test::More::is(
    PayTest::redis_command($replica, 'GET',
        "t042:$R:webhook:localhost=/hook:stripe:evt_wait_replica"),
    'D200', 'TEST 1: the done record is on the replica');

__DATA__

=== TEST 1: with a replica: the completion waits for it, nothing is said
--- http_config
    pay_store waited redis=127.0.0.1:$TEST_NGINX_MASTER_PORT wait=1 timeout=1s prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe waited;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_wait_replica"),
 PayTest::stripe_delivery("/hook", "evt_wait_replica")]
--- more_headers eval
[PayTest::stripe_signature("evt_wait_replica"), PayTest::stripe_signature("evt_wait_replica")]
--- error_code eval
[200, 200]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE]
--- no_error_log
[alert]
[crit]
[emerg]
replicas (WAIT



=== TEST 2: no replica: the record stays on the master, a warning says so, the result stands
The first delivery (sent from --- init) completes; WAIT answers 0 after
250 ms (half of timeout=); the resend is a duplicate all the same.
--- http_config
    pay_store alone redis=127.0.0.1:$TEST_NGINX_ALONE_PORT wait=1 timeout=500ms prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe alone;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::stripe_post(main::server_port(), '/hook', 'evt_wait_alone') == 200
    or die "the first delivery was not answered 200\n";
PayTest::wait_log(qr/is on the master, not on 1 replicas/, 1);
--- request eval
PayTest::stripe_delivery("/hook", "evt_wait_alone")
--- more_headers eval
PayTest::stripe_signature("evt_wait_alone")
--- response_body eval
$PayTest::DUPLICATE
--- error_log eval
[qr/\[warn\] .*pay_store "alone": redis complete "t042:\w+:webhook:localhost=\/hook:stripe:evt_wait_alone" is on the master, not on 1 replicas \(WAIT answered 0 within 250 ms\)/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 3: no replica: after one short WAIT, none for 5 s; the completions go on
--- init's delivery gets a WAIT that answers 0 after 250 ms; the three
deliveries after it (within 5 s) are completed without WAIT, so the
connection is not held 250 ms per completion.
--- http_config
    pay_store alone redis=127.0.0.1:$TEST_NGINX_ALONE_PORT wait=1 timeout=500ms prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe alone;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
$main::wait_calls_before = main::wait_calls();
PayTest::stripe_post(main::server_port(), '/hook', 'evt_wait_pause_0') == 200
    or die "the first delivery was not answered 200\n";
PayTest::wait_log(qr/is on the master, not on 1 replicas/, 1);
--- request eval
[map { PayTest::stripe_delivery("/hook", "evt_wait_pause_$_") } 1 .. 3]
--- more_headers eval
[map { PayTest::stripe_signature("evt_wait_pause_$_") } 1 .. 3]
--- error_code eval
[200, 200, 200]
--- response_body eval
["app: new\n", "app: new\n", "app: new\n"]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 4: after the pause, one WAIT asks for the completions sent meanwhile
--- init's first delivery finds no replica (a WAIT); 5.3 s later six
deliveries at once: the first completion's WAIT asks (the probe), the
five sent while it is out send none, and it answers 0, so the pause
starts again: two WAITs in all, however the six are spread in time, and
no command behind a WAIT times out (WAITs one after another would hold
the connection past timeout=).
--- http_config
    pay_store alone redis=127.0.0.1:$TEST_NGINX_ALONE_PORT wait=1 timeout=500ms prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe alone;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
$main::wait_calls_after = main::wait_calls();
$main::wait_calls_probe = main::wait_calls();
PayTest::stripe_post(main::server_port(), '/hook', 'evt_wait_probe_0') == 200
    or die "the first delivery was not answered 200\n";
PayTest::wait_log(qr/is on the master, not on 1 replicas/, 1);
select undef, undef, undef, 5.3;
my @pids;
for my $i (1 .. 6) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $code = PayTest::stripe_post(main::server_port(), '/hook',
                                        "evt_wait_probe_$i");
        POSIX::_exit($code == 200 ? 0 : 1);
    }
    push @pids, $pid;
}
for my $pid (@pids) {
    waitpid($pid, 0);
    die "a concurrent delivery was not answered 200\n" if $?;
}
--- request eval
PayTest::stripe_delivery("/hook", "evt_wait_probe_6")
--- more_headers eval
PayTest::stripe_signature("evt_wait_probe_6")
--- response_body eval
$PayTest::DUPLICATE
--- no_error_log
[alert]
[crit]
[emerg]
timed out
