# A Redis store named by a host name: nginx's resolver is asked again at
# every (re)connection, so an endpoint that moves (a managed Redis's
# failover) is followed without a reload; and nginx -t fails clearly when
# a store names a host and the http block has no resolver.
#
# Two real redis-server processes share one port on two loopback addresses
# (127.0.0.1 and 127.0.0.2); a small DNS stand-in (t/lib/PayTest/DNS.pm)
# answers redis.pay.test with the first, then, once the test moves it,
# with the second, and the first Redis stops.
#
# Every block: its status and body, the listed log lines, and no [alert],
# [crit] or [emerg].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::DNS;

our $port = PayTest::free_port();
PayTest::redis_server(port => $port);
PayTest::redis_server(port => $port, bind => '127.0.0.2');

our $dns = PayTest::DNS->start(address => '127.0.0.1');

$ENV{TEST_NGINX_MOVING_PORT} = $port;
$ENV{TEST_NGINX_DNS_PORT} = $dns->port;

$ENV{TEST_NGINX_PKI} = PayTest::redis_tls_pki();

our $R = sprintf '%x%x%04x', time, $$, int rand 65536;
$ENV{TEST_NGINX_RUN} = $R;

our ($first, $second);

repeat_each(1);

plan tests => 16 + 3;

no_shuffle();
run_tests();

Test::More::is($first, 1,
               'TEST 1: the first connection went to the first address');
Test::More::ok($second >= 1,
               'TEST 1: after the move, the connection went to the second');

my $key = "t039:$R:webhook:localhost=/hook:stripe:evt_dns_moved";

Test::More::is(PayTest::redis_command({ port => $port, host => '127.0.0.2' },
                                      'GET', $key),
               'D200', 'TEST 1: the record is in the Redis the name moved to');

__DATA__

=== TEST 1: the name moves: the next connection follows it, without a reload
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    pay_store moving redis=redis.pay.test:$TEST_NGINX_MOVING_PORT prefix=t039:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe moving;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
my $to = qr/pay_store "moving": redis redis\.pay\.test:\d+ connected to /;
PayTest::wait_log(qr/${to}127\.0\.0\.1:/, 1);
$main::dns->set('127.0.0.2');
# the old endpoint goes away, as in a failover (nginx's resolver keeps
# an answer for its TTL, at least the current second: the reconnections
# are refused until the name is asked again)
PayTest::redis_stop($main::port);
PayTest::wait_log(qr/${to}127\.0\.0\.2:/, 1, 15);
$main::first = PayTest::log_lines(qr/${to}127\.0\.0\.1:/);
$main::second = PayTest::log_lines(qr/${to}127\.0\.0\.2:/);
--- request eval
PayTest::stripe_delivery("/hook", "evt_dns_moved")
--- more_headers eval
PayTest::stripe_signature("evt_dns_moved")
--- response_body
app: new
--- error_log eval
[qr/\[warn\] .*pay_store "moving": "redis=redis\.pay\.test:\d+" is a host name resolved again at every connection, over plain TCP: a forged DNS answer could point the store at another Redis; use "tls" \(its certificate names the host\) or an IP address in /]
--- no_error_log
[alert]
[crit]
[emerg]
--- timeout: 15



=== TEST 2: a host name and no resolver: nginx -t fails and says why
--- http_config
    pay_store named redis=redis.pay.test:6379;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe named;
        return 204;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "named": "redis=redis\.pay\.test:6379" names a host, which needs a "resolver" in the http block \(or give an IP address\)/
--- no_error_log
[alert]
[crit]



=== TEST 3: a host name with tls: no warning (the certificate must name the host)
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    pay_store named redis=redis.pay.test:$TEST_NGINX_MOVING_PORT tls tls_trusted_certificate=$TEST_NGINX_PKI/ca.pem;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe named;
        return 204;
    }
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[alert]
[crit]
[emerg]
is a host name resolved again
