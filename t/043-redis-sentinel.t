# Sentinel (pay_store ... sentinel= master=): one master, one replica and
# three redis-sentinel processes, all real and started here.  The store
# asks the sentinels for the master; deliveries go through; the master is
# killed, the sentinels promote the replica, and the worker follows the
# new master without a reload: a completion made before the kill (with
# wait=1, so on the replica) is still a duplicate there, and new events go
# through.  A silent sentinel is passed over.  nginx -t refuses sentinel=
# without master=.
#
# Every block: its status and body, the listed log lines, and no [alert],
# [crit] or [emerg].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $master = PayTest::redis_server();
our $replica = PayTest::redis_server(args => ['--replicaof', '127.0.0.1',
                                              $master]);

PayTest::wait_until(sub {
    my $info = PayTest::redis_command($replica, 'INFO', 'replication');
    return $info =~ /master_link_status:up/;
}, 0, 20);

our @sentinels = map { PayTest::redis_sentinel($master, 'paymaster') } 1 .. 3;

# the sentinels know each other and the replica before anything happens
PayTest::wait_until(sub {
    for my $s (@sentinels) {
        my $m = PayTest::redis_command($s, 'SENTINEL', 'MASTER', 'paymaster');
        my %m = @$m;
        return 0 unless $m{'num-other-sentinels'} == 2
                        && $m{'num-slaves'} == 1;
    }
    return 1;
}, 0, 30);

$ENV{TEST_NGINX_SENTINELS} = join ',', map { "127.0.0.1:$_" } @sentinels;

# a sentinel that accepts and never answers, listed first in TEST 2
$ENV{TEST_NGINX_SILENT_SENTINEL} = PayTest::stall_server();

our $R = sprintf '%x%x%04x', time, $$, int rand 65536;
$ENV{TEST_NGINX_RUN} = $R;

sub master_is {
    my ($port) = @_;
    for my $s (@sentinels) {
        my $a = eval {
            PayTest::redis_command($s, 'SENTINEL', 'get-master-addr-by-name',
                                   'paymaster')
        };
        return 0 unless $a && $a->[1] == $port;
    }
    return 1;
}

repeat_each(1);

plan tests => 19;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the master is killed: the worker follows the promoted replica
Before the kill, one event is delivered (its completion waits for the
replica, wait=1); after the failover its resend is a duplicate, and a new
event goes through.
--- http_config
    pay_store ha sentinel=$TEST_NGINX_SENTINELS master=paymaster wait=1 timeout=1s prefix=t043:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe ha;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
my $to = qr/pay_store "ha": redis paymaster connected to 127\.0\.0\.1:/;
PayTest::wait_log(qr/$to$main::master\b/, 1);
PayTest::stripe_post(main::server_port(), '/hook', 'evt_sentinel_1') == 200
    or die "the first delivery was not answered 200\n";
# its completion is on the replica (WAIT): nothing warned
PayTest::wait_until(sub {
    (PayTest::redis_command($main::replica, 'GET',
        "t043:$main::R:webhook:localhost=/hook:stripe:evt_sentinel_1") // '')
        eq 'D200'
}, 0, 10);
PayTest::redis_stop($main::master);
PayTest::wait_until(sub { main::master_is($main::replica) }, 0, 30);
PayTest::wait_log(qr/$to$main::replica\b/, 1, 30);
--- request eval
[PayTest::stripe_delivery("/hook", "evt_sentinel_1"),
 PayTest::stripe_delivery("/hook", "evt_sentinel_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_sentinel_1"), PayTest::stripe_signature("evt_sentinel_2")]
--- error_code eval
[200, 200]
--- response_body eval
[$PayTest::DUPLICATE, "app: new\n"]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 60



=== TEST 2: a silent sentinel listed first costs its timeout=, then the next one answers
--- http_config
    pay_store ha sentinel=127.0.0.1:$TEST_NGINX_SILENT_SENTINEL,$TEST_NGINX_SENTINELS master=paymaster timeout=500ms prefix=t043:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe ha;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::wait_log(qr/pay_store "ha": redis paymaster connected to 127\.0\.0\.1:$main::replica\b/, 1);
PayTest::log_lines(qr/\[info\] .*pay_store "ha": sentinel 127\.0\.0\.1:$ENV{TEST_NGINX_SILENT_SENTINEL}: timed out/) >= 1
    or die "the silent sentinel was not passed over\n";
--- request eval
PayTest::stripe_delivery("/hook", "evt_sentinel_3")
--- more_headers eval
PayTest::stripe_signature("evt_sentinel_3")
--- response_body
app: new
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 10



=== TEST 3: sentinel= without master=: nginx -t says so
--- http_config
    pay_store ha sentinel=127.0.0.1:26379;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "ha": "sentinel=" needs "master=" in /
--- no_error_log
[alert]
[crit]
