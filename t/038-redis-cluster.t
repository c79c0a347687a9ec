# A store pointed at a Redis Cluster node does not half-work: at the first
# -MOVED the worker logs one error line telling the operator to use the
# cluster's single-endpoint mode or Sentinel, answers 503, and stops using
# the store until nginx is reloaded (no reconnect, no stream of lines).
#
# The cluster is real: two redis-server nodes started here with
# --cluster-enabled yes, the slots split between them (CLUSTER ADDSLOTSRANGE)
# and joined (CLUSTER MEET).  The store points at the node that does not
# hold the delivery's key.
#
# Every block: one status and one body per request, the listed log lines,
# and no [alert], [crit] or [emerg].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

my @nodes;
for my $i (0, 1) {
    my $p = PayTest::free_port();
    push @nodes, PayTest::redis_server(port => $p, args => [
        '--cluster-enabled', 'yes',
        '--cluster-config-file', "nodes-t038-$$-$p.conf",
    ]);
}

PayTest::redis_command($nodes[0], 'CLUSTER', 'ADDSLOTSRANGE', 0, 8191);
PayTest::redis_command($nodes[1], 'CLUSTER', 'ADDSLOTSRANGE', 8192, 16383);
PayTest::redis_command($nodes[0], 'CLUSTER', 'MEET', '127.0.0.1', $nodes[1]);

# both nodes know the whole map
PayTest::wait_until(sub {
    for my $n (@nodes) {
        my $info = PayTest::redis_command($n, 'CLUSTER', 'INFO');
        return 0 unless $info =~ /cluster_state:ok/;
    }
    return 1;
}, 0, 20);

END {
    unlink map { "t/tmp/nodes-t038-$$-$_.conf" } @nodes;
}

# the node that does not hold the key of the block's delivery
my $key = 'pay:webhook:localhost=/hook:stripe:evt_cluster_1';
my $slot = PayTest::redis_command($nodes[0], 'CLUSTER', 'KEYSLOT', $key);
$ENV{TEST_NGINX_OTHER_NODE} = $slot <= 8191 ? $nodes[1] : $nodes[0];

repeat_each(1);

plan tests => 20;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the first -MOVED: one clear error line and 503
--- http_config
    pay_store cluster redis=127.0.0.1:$TEST_NGINX_OTHER_NODE;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe cluster;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
    location = /pay_health {
        pay_status health;
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_cluster_1")
--- more_headers eval
PayTest::stripe_signature("evt_cluster_1")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "cluster": redis 127\.0\.0\.1:\d+ is a Redis Cluster node that redirects \("MOVED \d+ /,
 qr/a store needs one endpoint that holds every key; use the cluster.s single-endpoint mode \(a cluster proxy\) or Sentinel/]
--- no_error_log
[alert]
[crit]
[emerg]
will be sent again
--- timeout: 10



=== TEST 2: the store is not used any more: 503 at once, health says it is down
--- http_config
    pay_store cluster redis=127.0.0.1:$TEST_NGINX_OTHER_NODE;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe cluster;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
    location = /pay_health {
        pay_status health;
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_cluster_1"), "GET /pay_health"]
--- more_headers eval
[PayTest::stripe_signature("evt_cluster_1"), ""]
--- error_code eval
[503, 503]
--- response_body_like eval
['"code":"store_unavailable"', '"cluster":"down"']
--- no_error_log
[alert]
[crit]
[emerg]
will be sent again
--- timeout: 10
