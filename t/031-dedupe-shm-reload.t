# The shared-memory store under a master and two workers: one zone for
# every worker, and records that survive a configuration reload (HUP).
#
# Every block: one status and one body per request, one expected log line
# and no [alert] or [crit] after every request.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

master_on();
workers(2);
use_hup();

repeat_each(1);

plan tests => 42;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a first delivery is forwarded
--- http_config
    pay_store local shm=1m;
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
PayTest::stripe_delivery("/hook", "evt_reload_1")
--- more_headers eval
PayTest::stripe_signature("evt_reload_1")
--- response_body
app: new
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_reload_1" in "local"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 2: after a reload, the same event is a duplicate
The configuration differs (a new location), so nginx reloads; the zone
"local" keeps its size and with it its records.
--- http_config
    pay_store local shm=1m;
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
    location = /after-reload {
        return 204;
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_reload_1")
--- more_headers eval
PayTest::stripe_signature("evt_reload_1")
--- response_body eval
$PayTest::DUPLICATE
--- error_log
pay: stripe duplicate: event "evt_reload_1" was delivered already
--- no_error_log
[alert]
[crit]



=== TEST 3: every worker sees every record
Eight deliveries of one event on eight connections, spread over both
workers by the kernel: one is forwarded, seven are duplicates.
--- http_config
    pay_store local shm=1m;
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
[map { PayTest::stripe_delivery("/hook", "evt_workers_1") } 1 .. 8]
--- more_headers eval
[map { PayTest::stripe_signature("evt_workers_1") } 1 .. 8]
--- error_code eval
[(200) x 8]
--- response_body eval
["app: new\n", ($PayTest::DUPLICATE) x 7]
--- no_error_log
[alert]
[crit]
