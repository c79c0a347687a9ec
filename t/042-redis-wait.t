# wait=N: a completion's done record is followed by WAIT N on the same
# connection, against real redis-server processes started here: with a
# replica (redis-server --replicaof) the record is on it once the
# completion is answered, and nothing is said; with no replica WAIT
# answers 0 after half of timeout=, the record stays on the master and a
# warning says so (the documented behaviour: the delivery's result
# stands, docs/operations.md#durability), and for the next 5 s the worker
# sends no WAIT (counted in Redis's INFO commandstats).  The app's answer
# is held until the completion's WAIT answered: with the replica stopped
# (SIGSTOP) for a second, the answer comes back only after the replica
# was continued, and the record is on the replica then; bodies larger
# than proxy's buffers, buffered or not, come back whole; an app's error
# is not held; a completion with no reply within timeout= lets the answer
# go and is owed until the master is back.  Without wait=,
# a failover to a replica that had not received a completion forgets it:
# the event reaches the app again, as new (a master and its replica share
# a port on 127.0.0.1 and 127.0.0.2, named by a DNS stand-in whose answer
# moves).
#
# Every block: its status and body, the listed log lines, and no [alert],
# [crit] or [emerg].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::DNS;

our $master = PayTest::redis_server();
our $replica = PayTest::redis_server(args => ['--replicaof', '127.0.0.1',
                                              $master]);
our $alone = PayTest::redis_server();

# the replica is in sync before anything is written
PayTest::wait_until(sub {
    my $info = PayTest::redis_command($replica, 'INFO', 'replication');
    return $info =~ /master_link_status:up/;
}, 0, 20);

# TEST 8: a master and its replica on one port, two addresses
our $shared = PayTest::free_port();
PayTest::redis_server(port => $shared);
PayTest::redis_server(port => $shared, bind => '127.0.0.2',
                      args => ['--replicaof', '127.0.0.1', $shared]);
our $dns = PayTest::DNS->start(address => '127.0.0.1');
$ENV{TEST_NGINX_SHARED_PORT} = $shared;
$ENV{TEST_NGINX_DNS_PORT} = $dns->port;

PayTest::wait_until(sub {
    my $info = PayTest::redis_command({ port => $shared, host => '127.0.0.2' },
                                      'INFO', 'replication');
    return $info =~ /master_link_status:up/;
}, 0, 20);

our $lost_on_replica;

# TEST 10: an app that stops the master when a delivery reaches it (the
# claim is in), answers, and continues the master 2.5 s later
our @stalling_app;

sub stalling_app {
    my ($redis_pid) = @_;
    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 8, ReuseAddr => 1,
    ) or die "cannot listen: $!";
    my $port = $listen->sockport;
    my $pid = fork;
    die "cannot fork: $!" unless defined $pid;
    if ($pid == 0) {
        while (my $c = $listen->accept) {
            my $len = 0;
            while (defined(my $line = <$c>)) {
                $len = $1 if $line =~ /^Content-Length:\s*(\d+)/i;
                last if $line eq "\r\n";
            }
            read $c, my $body, $len if $len;
            kill 'STOP', $redis_pid;
            select undef, undef, undef, 0.2;
            print $c "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n",
                     "Connection: close\r\n\r\napp\n";
            close $c;
            select undef, undef, undef, 2.5;
            kill 'CONT', $redis_pid;
        }
        POSIX::_exit(0);
    }
    close $listen;
    @stalling_app = ($pid, $redis_pid, $$);
    return $port;
}

END {
    local $?;    # waitpid must not change the script's exit status
    if (@stalling_app && $$ == $stalling_app[2]) {
        kill 'KILL', $stalling_app[0];
        waitpid $stalling_app[0], 0;
        kill 'CONT', $stalling_app[1];
    }
}

$ENV{TEST_NGINX_STALLING_APP_PORT} =
    stalling_app(PayTest::redis_pid($master));

$ENV{TEST_NGINX_MASTER_PORT} = $master;
$ENV{TEST_NGINX_ALONE_PORT} = $alone;

our ($wait_calls_before, $wait_calls_after, $wait_calls_probe);

our $R = sprintf '%x%x%04x', time, $$, int rand 65536;
$ENV{TEST_NGINX_RUN} = $R;

repeat_each(1);

plan tests => 18 + 15 + 6 + 3 + 6 + 4 + 2 * 8 + 10 + 1 + 7 + 7 + 1;

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

# TEST 5: [status, seconds to the answer, the replica's record then]
our $held;

Test::More::is($main::held && $main::held->[0], 200,
    'TEST 5: the app\'s answer');
Test::More::cmp_ok($main::held ? $main::held->[1] : 0, '>=', 0.9,
    'TEST 5: the answer waited for the stopped replica');
Test::More::is($main::held && $main::held->[2], 'D200',
    'TEST 5: the done record was on the replica when the answer came');
Test::More::is(
    PayTest::redis_command($main::master, 'GET',
        "t042:$R:webhook:localhost=/hook:stripe:evt_wait_held"),
    'D200', 'TEST 5: and on the master');

Test::More::ok(eval {
    PayTest::wait_until(sub {
        (PayTest::redis_command($main::master, 'GET',
            "t042:$R:webhook:localhost=/hook:stripe:evt_wait_stalled") // '')
            eq 'D200';
    }, 0, 15);
}, 'TEST 10: the owed completion was written once the master was back');

Test::More::ok(!defined $main::lost_on_replica,
    'TEST 8: the second completion never reached the replica');

# TESTs 6-7: the replica stopped for a second, continued by a child
sub stop_replica_for_a_second {
    my $pid = PayTest::redis_pid($main::replica) or die "no replica pid\n";
    kill 'STOP', $pid;
    my $child = fork;
    die "fork: $!" unless defined $child;
    if ($child == 0) {
        select undef, undef, undef, 1.0;
        kill 'CONT', $pid;
        POSIX::_exit(0);
    }
    return ($pid, $child);
}

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



=== TEST 5: the app's answer goes out once the done record is on the replica
The replica is stopped before the delivery and continued a second later:
WAIT 1 (3 s, half of timeout=) answers once the replica has the record,
and only then does the app's answer leave nginx (asserted after the
blocks: the time to the answer and the replica's record at that moment).
The resend is a duplicate.
--- http_config
    pay_store waited redis=127.0.0.1:$TEST_NGINX_MASTER_PORT wait=1 timeout=6s prefix=t042:$TEST_NGINX_RUN:;
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
--- init
my ($pid, $child) = main::stop_replica_for_a_second();
my $t0 = Time::HiRes::time();
my $code = PayTest::stripe_post(main::server_port(), '/hook', 'evt_wait_held');
my $elapsed = Time::HiRes::time() - $t0;
my $on_replica = PayTest::redis_command($main::replica, 'GET',
    "t042:$main::R:webhook:localhost=/hook:stripe:evt_wait_held");
waitpid $child, 0;
kill 'CONT', $pid;
$main::held = [$code, $elapsed, $on_replica];
--- request eval
PayTest::stripe_delivery("/hook", "evt_wait_held")
--- more_headers eval
PayTest::stripe_signature("evt_wait_held")
--- response_body eval
$PayTest::DUPLICATE
--- no_error_log
[alert]
[crit]
[emerg]
replicas (WAIT
--- timeout: 10



=== TEST 6: a held answer larger than proxy's buffers comes back whole
The replica is stopped for a second as the delivery goes out: the app's
200 KB answer fills proxy's buffers while the header waits for WAIT
(the app is held back until they drain), then goes out whole.  The
access log, written into the error log here, shows the request took
the second.
--- http_config
    log_format pay_held "pay held: $request_time s";
    pay_store waited redis=127.0.0.1:$TEST_NGINX_MASTER_PORT wait=1 timeout=6s prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        access_log logs/error.log pay_held;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe waited;
        proxy_buffers 4 4k;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        # the static file, answered to the POST
        error_page 405 =200 /big.txt;
        return 405;
    }
--- user_files eval
">>> big.txt\n" . ("0123456789abcdef" x 12800) . "\n"
--- init
main::stop_replica_for_a_second();
--- request eval
PayTest::stripe_delivery("/hook", "evt_wait_big_buffered")
--- more_headers eval
PayTest::stripe_signature("evt_wait_big_buffered")
--- response_body eval
("0123456789abcdef" x 12800) . "\n"
--- error_log eval
qr/pay held: (?:0\.9\d\d|[1-9]\d*\.\d+) s/
--- no_error_log
[alert]
[crit]
[emerg]
[error]
replicas (WAIT
--- timeout: 10



=== TEST 7: the same with proxy_buffering off
--- http_config
    log_format pay_held "pay held: $request_time s";
    pay_store waited redis=127.0.0.1:$TEST_NGINX_MASTER_PORT wait=1 timeout=6s prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        access_log logs/error.log pay_held;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe waited;
        proxy_buffering off;
        proxy_buffer_size 4k;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        error_page 405 =200 /big.txt;
        return 405;
    }
--- user_files eval
">>> big.txt\n" . ("0123456789abcdef" x 12800) . "\n"
--- init
main::stop_replica_for_a_second();
--- request eval
PayTest::stripe_delivery("/hook", "evt_wait_big_unbuffered")
--- more_headers eval
PayTest::stripe_signature("evt_wait_big_unbuffered")
--- response_body eval
("0123456789abcdef" x 12800) . "\n"
--- error_log eval
qr/pay held: (?:0\.9\d\d|[1-9]\d*\.\d+) s/
--- no_error_log
[alert]
[crit]
[emerg]
[error]
replicas (WAIT
--- timeout: 10


=== TEST 8: without wait=, a failover forgets a completion the replica lacked
The first event is completed and replicated.  Then the replica can no
longer sync (the master's ACL refuses it PSYNC and SYNC, and its link is
cut), the second event is completed on the master only, the master
dies, the replica is promoted and the name moves to it.  The worker
follows; the first event is a duplicate there, the second reaches the
app again, as new (docs/operations.md#durability).
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    pay_store failing redis=redis.pay.test:$TEST_NGINX_SHARED_PORT timeout=2s prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe failing;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
my $to = qr/pay_store "failing": redis redis\.pay\.test:\d+ connected to /;
my $replica = { port => $main::shared, host => '127.0.0.2' };
my $key = "t042:$main::R:webhook:localhost=/hook:stripe";
PayTest::wait_log(qr/${to}127\.0\.0\.1:/, 1);
PayTest::stripe_post(main::server_port(), '/hook', 'evt_failover_kept') == 200
    or die "the first delivery was not answered 200\n";
PayTest::wait_until(sub {
    (PayTest::redis_command($replica, 'GET', "$key:evt_failover_kept") // '')
        eq 'D200';
}, 0, 10);
PayTest::redis_command($main::shared, 'ACL', 'SETUSER', 'default',
                       '-psync', '-sync');
PayTest::redis_command($main::shared, 'CLIENT', 'KILL', 'TYPE', 'replica');
PayTest::stripe_post(main::server_port(), '/hook', 'evt_failover_lost') == 200
    or die "the second delivery was not answered 200\n";
# written as the request ends, just after the answer
PayTest::wait_until(sub {
    (PayTest::redis_command($main::shared, 'GET', "$key:evt_failover_lost")
     // '') eq 'D200';
}, 0, 10);
$main::lost_on_replica = PayTest::redis_command($replica, 'GET',
                                                "$key:evt_failover_lost");
PayTest::redis_stop($main::shared);
PayTest::redis_command($replica, 'REPLICAOF', 'NO', 'ONE');
$main::dns->set('127.0.0.2');
PayTest::wait_log(qr/${to}127\.0\.0\.2:/, 1, 15);
--- request eval
[PayTest::stripe_delivery("/hook", "evt_failover_kept"),
 PayTest::stripe_delivery("/hook", "evt_failover_lost")]
--- more_headers eval
[PayTest::stripe_signature("evt_failover_kept"),
 PayTest::stripe_signature("evt_failover_lost")]
--- error_code eval
[200, 200]
--- response_body eval
[$PayTest::DUPLICATE, "app: new\n"]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10


=== TEST 9: an app's error is not held: the claim is released at once
The replica is stopped for a second, as in TESTs 5-7; the app answers
500, which releases the claim (nothing to make durable): the answer goes
out at once.
--- http_config
    log_format pay_held "pay held: $request_time s";
    pay_store waited redis=127.0.0.1:$TEST_NGINX_MASTER_PORT wait=1 timeout=6s prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        access_log logs/error.log pay_held;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe waited;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 500 "app failed\n";
    }
--- init
main::stop_replica_for_a_second();
--- request eval
PayTest::stripe_delivery("/hook", "evt_wait_app_failed")
--- more_headers eval
PayTest::stripe_signature("evt_wait_app_failed")
--- error_code: 500
--- response_body
app failed
--- error_log eval
qr/pay held: 0\.[0-8]\d\d s/
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 10: no reply within timeout=: the answer goes out, the completion is owed
The app stops the master (SIGSTOP) when the delivery reaches it, so the
claim is in and the completion gets no reply; the app continues it 2.7 s
later.  After timeout= (1 s) the app's answer goes out with the error
line, the completion goes to the retry list, and once the master is
back it is written (asserted after the blocks).
--- http_config
    log_format pay_held "pay held: $request_time s";
    pay_store stalled redis=127.0.0.1:$TEST_NGINX_MASTER_PORT wait=1 timeout=1s prefix=t042:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        access_log logs/error.log pay_held;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe stalled;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STALLING_APP_PORT;
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_wait_stalled")
--- more_headers eval
PayTest::stripe_signature("evt_wait_stalled")
--- response_body
app
--- error_log eval
[qr/\[error\] .*pay_store "stalled": redis 127\.0\.0\.1:\d+ complete "t042:\w+:webhook:localhost=\/hook:stripe:evt_wait_stalled" timed out/,
 qr/\[warn\] .*pay_store "stalled": redis complete "t042:\w+:webhook:localhost=\/hook:stripe:evt_wait_stalled" not confirmed \(no reply\), will be sent again/,
 qr/pay held: (?:0\.9\d\d|[1-9]\d*\.\d+) s/]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10
