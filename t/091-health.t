# pay_status health: 200 while every store answers, 503 problem+json naming
# the store that does not, and 200 again once it is back.  A Redis store
# that no location uses is not connected at all: "unused".  A private
# redis-server is stopped before the second block and started again on the
# same port before the third (each block starts nginx afresh; util/test-health
# flips it inside one running nginx).
#
# Every block: one status, one body, the listed headers, and no [alert] or
# [crit].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $port = PayTest::redis_server();
$ENV{TEST_NGINX_HEALTH_REDIS_PORT} = $port;

# accepts connections and never answers, not even PING
$ENV{TEST_NGINX_HEALTH_MUTE_PORT} = PayTest::stall_server();

add_block_preprocessor(sub {
    my ($block) = @_;
    if ($block->name =~ /Redis stopped/) {
        PayTest::redis_stop($port);
    } elsif ($block->name =~ /Redis started again/) {
        PayTest::redis_server(port => $port);
    }
});

repeat_each(1);

plan tests => 32 + 5;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: every store answers: 200
--- http_config
    pay_store local shm=1m;
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_HEALTH_REDIS_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe fleet;
        return 204;
    }
    location = /pay_health {
        pay_status health;
    }
--- init
PayTest::wait_log(qr/pay_store "fleet": redis \S+ connected/, 1);
--- request
GET /pay_health
--- response_headers
Content-Type: application/json
--- response_body
{"status":"ok","stores":{"local":"up","fleet":"up"}}
--- no_error_log
[alert]
[crit]



=== TEST 2: Redis stopped: 503 naming the store
--- http_config
    pay_store local shm=1m;
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_HEALTH_REDIS_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe fleet;
        return 204;
    }
    location = /pay_health {
        pay_status health;
    }
--- request
GET /pay_health
--- error_code: 503
--- response_headers
Content-Type: application/problem+json
--- response_body
{"type":"urn:ngx-pay:error:store_unavailable","title":"Store unavailable","status":503,"detail":"store \"fleet\" is not reachable","code":"store_unavailable","store":"fleet","stores":{"local":"up","fleet":"down"}}
--- no_error_log
[alert]
[crit]



=== TEST 3: the counters say it too
--- http_config
    pay_store local shm=1m;
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_HEALTH_REDIS_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe fleet;
        return 204;
    }
    location = /pay_status {
        pay_status;
    }
--- request
GET /pay_status
--- response_body_like eval
PayTest::lines_like('ngx_pay_store_up{store="local"} 1',
                    'ngx_pay_store_up{store="fleet"} 0')
--- no_error_log
[alert]
[crit]



=== TEST 4: Redis started again: 200
--- http_config
    pay_store local shm=1m;
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_HEALTH_REDIS_PORT;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe fleet;
        return 204;
    }
    location = /pay_health {
        pay_status health;
    }
--- init
PayTest::wait_log(qr/pay_store "fleet": redis \S+ connected/, 1);
--- request
GET /pay_health
--- response_body
{"status":"ok","stores":{"local":"up","fleet":"up"}}
--- no_error_log
[alert]
[crit]



=== TEST 5: HEAD answers the status alone
--- http_config
    pay_store local shm=1m;
--- config
    location = /pay_health {
        pay_status health;
    }
--- request
HEAD /pay_health
--- response_body
--- no_error_log
[alert]
[crit]



=== TEST 6: a zone too small for every series: those left out are said, the rest served
--- http_config
    pay_store local shm=1m;
    pay_store fleet redis=127.0.0.1:$TEST_NGINX_HEALTH_REDIS_PORT;
    pay_status_zone 32k;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe fleet;
        return 204;
    }
    location = /pay_status {
        pay_status;
    }
--- request
GET /pay_status
--- response_body_like eval
PayTest::lines_like('ngx_pay_info{version="0.3.0"} 1',
                    'ngx_pay_store_up{store="local"} 1')
--- error_log
zone is full
--- no_error_log
[alert]
[crit]



=== TEST 7: a Redis store no location uses is not connected: "unused", not down
Nothing listens on port 1: a worker that tried would log its failure.
--- http_config
    pay_store local shm=1m;
    pay_store spare redis=127.0.0.1:1;
--- config
    location = /pay_health {
        pay_status health;
    }
--- request
GET /pay_health
--- response_body
{"status":"ok","stores":{"local":"up","spare":"unused"}}
--- no_error_log
[alert]
[crit]
pay_store "spare"



=== TEST 8: a connection being made is not "up": a server that accepts and never answers is down
TCP (and TLS) accepted is not enough: the store is up only once Redis
answered on the connection (its PING, or AUTH and SELECT).
--- http_config
    pay_store local shm=1m;
    pay_store mute redis=127.0.0.1:$TEST_NGINX_HEALTH_MUTE_PORT timeout=5s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe mute;
        return 204;
    }
    location = /pay_health {
        pay_status health;
    }
--- init
PayTest::wait_log(qr/pay_store "mute": redis connecting to/, 1);
--- request
GET /pay_health
--- error_code: 503
--- response_body_like: "stores":\{"local":"up","mute":"down"\}
--- no_error_log
[alert]
[crit]
connected
