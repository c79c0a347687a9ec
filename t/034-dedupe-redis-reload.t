# The Redis store under a master and two workers: each worker has its own
# connection, every worker sees every record, and a configuration reload
# (HUP) gives the new workers new connections to the same records, under
# the same keys.  A second nginx with the same server and location on the
# same Redis (a fleet) makes the same keys too.
#
# Keys get a per-run prefix: the Redis of util/run-tests serves every file.
#
# Every block: one status and one body per request, and after every request
# the expected log lines and no [alert] or [crit].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

$ENV{TEST_NGINX_REDIS_PORT} ||= 6379;
$ENV{TEST_NGINX_PAY_PREFIX} = sprintf 't034:%x%x:', time, $$;

# another node of the fleet: the same server_name and location, the same
# Redis and prefix, its own app
$ENV{TEST_NGINX_SECOND_PORT} = PayTest::nginx_instance('t034', <<"EOC");
    pay_store fleet redis=127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} prefix=$ENV{TEST_NGINX_PAY_PREFIX};
    server {
        listen 127.0.0.1:\$port;
        server_name localhost;
        location = /hook {
            pay_webhook stripe;
            pay_webhook_secret whsec_test_secret;
            add_header X-Key \$pay_dedupe_key always;
            proxy_set_header Pay-Dedupe \$pay_dedupe;
            proxy_pass http://127.0.0.1:\$port/app;
        }
        location = /app {
            return 200 "second app: \$http_pay_dedupe\\n";
        }
    }
EOC

master_on();
workers(2);
use_hup();

repeat_each(1);

plan tests => 86;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a first delivery is forwarded
--- http_config
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        add_header X-Key $pay_dedupe_key always;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_rr_1")
--- more_headers eval
PayTest::stripe_signature("evt_rr_1")
--- response_body
app: new
--- response_headers
X-Key: webhook:localhost=/hook:stripe:evt_rr_1
--- error_log
pay dedupe claim "webhook:localhost=/hook:stripe:evt_rr_1" in "fleet"
--- no_error_log
[alert]
[crit]
--- log_level: debug



=== TEST 2: after a reload, the new workers connect, and the event is a duplicate
The configuration differs (a new location), so nginx reloads: the old
workers close their connections as they exit, the new ones open theirs.
The key is the same as before the reload.
--- http_config
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        add_header X-Key $pay_dedupe_key always;
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
PayTest::stripe_delivery("/hook", "evt_rr_1")
--- more_headers eval
PayTest::stripe_signature("evt_rr_1")
--- response_body eval
$PayTest::DUPLICATE
--- response_headers
X-Key: webhook:localhost=/hook:stripe:evt_rr_1
--- error_log eval
[qr/pay_store "fleet": redis 127\.0\.0\.1:\d+ connected/,
 'pay: stripe duplicate: event "evt_rr_1" was delivered already']
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: every worker sees every record
Eight deliveries of one event on eight connections, spread over both
workers by the kernel: one is forwarded, seven are duplicates.
--- http_config
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
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
[map { PayTest::stripe_delivery("/hook", "evt_rr_workers_1") } 1 .. 8]
--- more_headers eval
[map { PayTest::stripe_signature("evt_rr_workers_1") } 1 .. 8]
--- error_code eval
[(200) x 8]
--- response_body eval
["app: new\n", ($PayTest::DUPLICATE) x 7]
--- no_error_log
[alert]
[crit]



=== TEST 4: a delivery in flight in one worker is in flight for the other
The outer location claims the event and forwards it on a new connection,
which either worker may accept, to a second webhook location sharing its
namespace: 409, and the claim is released.
--- http_config
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe fleet namespace=inflight;
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location = /inner {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe fleet lock=30s namespace=inflight;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
[(map { PayTest::stripe_delivery("/hook", "evt_rr_inflight_$_") } 1 .. 4),
 PayTest::stripe_delivery("/inner", "evt_rr_inflight_1")]
--- more_headers eval
[(map { PayTest::stripe_signature("evt_rr_inflight_$_") } 1 .. 4),
 PayTest::stripe_signature("evt_rr_inflight_1")]
--- error_code eval
[409, 409, 409, 409, 200]
--- response_body_like eval
[('"code":"in_flight"') x 4, '^app: new$']
--- no_error_log
[alert]
[crit]



=== TEST 5: two nginx instances on one Redis make the same key: a fleet deduplicates together
/via-second reaches the other instance's /hook (server_name localhost, as
here).  An event delivered here is a duplicate there, and one delivered
there is a duplicate here.
--- http_config
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_PAY_PREFIX;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        add_header X-Key $pay_dedupe_key always;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
    location = /via-second {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SECOND_PORT/hook;
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_rr_fleet_1"), PayTest::stripe_delivery("/via-second", "evt_rr_fleet_1"),
 PayTest::stripe_delivery("/via-second", "evt_rr_fleet_2"), PayTest::stripe_delivery("/hook", "evt_rr_fleet_2")]
--- more_headers eval
[PayTest::stripe_signature("evt_rr_fleet_1"), PayTest::stripe_signature("evt_rr_fleet_1"),
 PayTest::stripe_signature("evt_rr_fleet_2"), PayTest::stripe_signature("evt_rr_fleet_2")]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Key: webhook:localhost=/hook:stripe:evt_rr_fleet_1", "X-Key: webhook:localhost=/hook:stripe:evt_rr_fleet_1",
 "X-Key: webhook:localhost=/hook:stripe:evt_rr_fleet_2", "X-Key: webhook:localhost=/hook:stripe:evt_rr_fleet_2"]
--- response_body eval
["app: new\n", $PayTest::DUPLICATE, "second app: new\n", $PayTest::DUPLICATE]
--- no_error_log
[alert]
[crit]
