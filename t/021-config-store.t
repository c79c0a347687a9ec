# Store configuration errors fail at load time (nginx -t): pay_store,
# pay_store_default, pay_store_fail and pay_dedupe.
#
# Each block is a configuration nginx must refuse (--- must_die) and the
# message it must print, with its level.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

repeat_each(1);

# a must_die block is 4 tests: nginx died, its error_log line, and no
# [alert] or [crit]
plan tests => repeat_each() * (blocks() * 4);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: two stores of the same name
--- http_config
    pay_store main shm=1m;
    pay_store main redis=127.0.0.1:6379;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate pay_store "main" in /
--- no_error_log
[alert]
[crit]



=== TEST 2: an engine that does not exist
--- http_config
    pay_store main memcached=127.0.0.1:11211;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "memcached=127\.0\.0\.1:11211" in /
--- no_error_log
[alert]
[crit]



=== TEST 3: a store without any engine word
--- http_config
    pay_store main db=1;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "db=1" in /
--- no_error_log
[alert]
[crit]



=== TEST 4: "off" is not a store name
--- http_config
    pay_store off shm=1m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid pay_store name "off" in /
--- no_error_log
[alert]
[crit]



=== TEST 5: a forgotten name: the engine word taken for it
--- http_config
    pay_store shm=1m redis=127.0.0.1:6379;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid pay_store name "shm=1m" in /
--- no_error_log
[alert]
[crit]



=== TEST 6: a shared-memory store smaller than 8 pages
--- http_config
    pay_store local shm=16k;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "local": "shm=16k" is too small, \d+k at least in /
--- no_error_log
[alert]
[crit]



=== TEST 7: a shared-memory size that is not a size
--- http_config
    pay_store local shm=big;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "local": invalid size "shm=big" in /
--- no_error_log
[alert]
[crit]



=== TEST 8: a shared-memory store takes no other parameter
--- http_config
    pay_store local shm=1m foo=1;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "foo=1" in /
--- no_error_log
[alert]
[crit]



=== TEST 9: a Redis timeout that is not a time
--- http_config
    pay_store main redis=127.0.0.1:6379 timeout=abc;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid value in "timeout=abc" in /
--- no_error_log
[alert]
[crit]



=== TEST 10: a Redis timeout of zero
--- http_config
    pay_store main redis=127.0.0.1:6379 timeout=0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid value in "timeout=0" in /
--- no_error_log
[alert]
[crit]



=== TEST 11: a Redis db that is not a number
--- http_config
    pay_store main redis=127.0.0.1:6379 db=one;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid value in "db=one" in /
--- no_error_log
[alert]
[crit]



=== TEST 12: a Redis parameter given twice
--- http_config
    pay_store main redis=127.0.0.1:6379 db=1 db=2;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": duplicate parameter "db=2" in /
--- no_error_log
[alert]
[crit]



=== TEST 13: an unknown Redis parameter
--- http_config
    pay_store main redis=127.0.0.1:6379 tls=on;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid parameter "tls=on" in /
--- no_error_log
[alert]
[crit]



=== TEST 14: a Redis port out of range
--- http_config
    pay_store main redis=127.0.0.1:70000;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid port in "redis=127\.0\.0\.1:70000" in /
--- no_error_log
[alert]
[crit]



=== TEST 15: a Redis address with a path
--- http_config
    pay_store main redis=127.0.0.1:6379/1;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid host in "redis=127\.0\.0\.1:6379\/1" in /
--- no_error_log
[alert]
[crit]



=== TEST 16: a Redis unix socket without a path
--- http_config
    pay_store main redis=unix:;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid unix socket path in "redis=unix:" in /
--- no_error_log
[alert]
[crit]


=== TEST 17: a Redis password from an environment variable that is not set
--- http_config
    pay_store main redis=127.0.0.1:6379 password=env:PAY_TEST_NO_SUCH_REDIS_PASSWORD;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_store": environment variable "PAY_TEST_NO_SUCH_REDIS_PASSWORD" is not set in /
--- no_error_log
[alert]
[crit]



=== TEST 18: an empty Redis password
--- http_config
    pay_store main redis=127.0.0.1:6379 password=;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_store": the secret "" is empty in /
--- no_error_log
[alert]
[crit]


=== TEST 19: pay_store is an http-level directive
--- config
    pay_store main shm=1m;
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_store" directive is not allowed here in /
--- no_error_log
[alert]
[crit]



=== TEST 20: pay_store_default naming no store, with no location that needs it
The check is made once the http block is read, whether or not a webhook
location uses the default store.
--- http_config
    pay_store main shm=1m;
    pay_store_default mian;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_store_default" names no "pay_store": "mian"/
--- no_error_log
[alert]
[crit]



=== TEST 21: pay_store_default naming no store, used by a webhook location
--- http_config
    pay_store_default main;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_store_default" names no "pay_store": "main"/
--- no_error_log
[alert]
[crit]



=== TEST 22: pay_dedupe naming no store
--- http_config
    pay_store main shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe mian;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_dedupe" names no "pay_store": "mian"/
--- no_error_log
[alert]
[crit]



=== TEST 23: pay_dedupe naming no store, inherited from the server level
--- http_config
    pay_store main shm=1m;
--- config
    pay_dedupe mian;
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_dedupe" names no "pay_store": "mian"/
--- no_error_log
[alert]
[crit]



=== TEST 24: pay_dedupe naming no store, with no location that needs it
--- http_config
    pay_store main shm=1m;
--- config
    pay_dedupe mian ttl=1h;
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_dedupe" names no "pay_store": "mian"/
--- no_error_log
[alert]
[crit]



=== TEST 25: pay_dedupe off takes no parameters
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe off ttl=1s;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_dedupe off" takes no parameters in /
--- no_error_log
[alert]
[crit]



=== TEST 26: a pay_dedupe ttl that is not a time
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe x ttl=abc;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid time in "ttl=abc" in /
--- no_error_log
[alert]
[crit]



=== TEST 27: a pay_dedupe lock of zero
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe x lock=0;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid time in "lock=0" in /
--- no_error_log
[alert]
[crit]



=== TEST 28: an unknown pay_dedupe parameter
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe x ttl=1h expire=1h;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "expire=1h" in /
--- no_error_log
[alert]
[crit]



=== TEST 29: pay_dedupe given twice in one location
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe x;
        pay_dedupe off;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_dedupe" directive is duplicate in /
--- no_error_log
[alert]
[crit]



=== TEST 30: pay_store_fail is closed or open
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_store_fail maybe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in /
--- no_error_log
[alert]
[crit]



=== TEST 31: pay_dedupe off takes no namespace
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe off namespace=billing;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_dedupe off" takes no parameters in /
--- no_error_log
[alert]
[crit]



=== TEST 32: an empty pay_dedupe namespace
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe x namespace=;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*empty namespace in "namespace=" in /
--- no_error_log
[alert]
[crit]



=== TEST 33: a pay_dedupe namespace given twice
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe x namespace=a namespace=b;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate parameter "namespace=b" in /
--- no_error_log
[alert]
[crit]



=== TEST 34: a pay_dedupe namespace with an unknown variable
--- http_config
    pay_store x shm=1m;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe x namespace=$no_such_variable;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_variable" variable/
--- no_error_log
[alert]
[crit]



=== TEST 35: namespace= outside a location: every endpoint below would share it
--- http_config
    pay_store x shm=1m;
    pay_dedupe x namespace=shared;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"namespace=shared" is only allowed in a location/
--- no_error_log
[alert]
[crit]



=== TEST 36: two servers with the same first name on two ports: the same default namespace, refused
--- http_config
    server {
        listen 127.0.0.1:1;
        server_name twin.example;
        location = /hook {
            pay_webhook stripe;
            pay_webhook_secret whsec_test_secret;
            return 204;
        }
    }
    server {
        listen 127.0.0.1:2;
        server_name twin.example;
        location = /hook {
            pay_webhook stripe;
            pay_webhook_secret whsec_test_secret;
            return 204;
        }
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"pay_dedupe": the locations "\/hook" and "\/hook" have the same default namespace "twin\.example=\/hook" and would share records/
--- no_error_log
[alert]
[crit]



=== TEST 37: a client certificate without its key
--- http_config
    pay_store main redis=127.0.0.1:6379 tls tls_certificate=/nonexistent.pem;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": "tls_certificate=" needs "tls_certificate_key=" in /
--- no_error_log
[alert]
[crit]



=== TEST 38: tls_ parameters without tls
--- http_config
    pay_store main redis=127.0.0.1:6379 tls_name=redis.example.com;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": "tls_\*=" parameters need "tls" in /
--- no_error_log
[alert]
[crit]



=== TEST 39: user= without password=
--- http_config
    pay_store main redis=127.0.0.1:6379 user=pay;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": "user=" needs "password=" in /
--- no_error_log
[alert]
[crit]



=== TEST 40: a ping= that is not a time
--- http_config
    pay_store main redis=127.0.0.1:6379 ping=often;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid value in "ping=often" in /
--- no_error_log
[alert]
[crit]



=== TEST 41: a CA file that does not exist
--- http_config
    pay_store main redis=127.0.0.1:6379 tls tls_trusted_certificate=/nonexistent/ca.pem;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*\/nonexistent\/ca\.pem/
--- no_error_log
[alert]
[crit]



=== TEST 42: tls twice
--- http_config
    pay_store main redis=127.0.0.1:6379 tls tls;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": duplicate parameter "tls" in /
--- no_error_log
[alert]
[crit]



=== TEST 43: wait= of zero
--- http_config
    pay_store main redis=127.0.0.1:6379 wait=0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid value in "wait=0" in /
--- no_error_log
[alert]
[crit]



=== TEST 44: a CA file written before tls is read all the same
(it was once dropped, and the system's bundle trusted instead)
--- http_config
    pay_store main redis=127.0.0.1:6379 tls_trusted_certificate=/nonexistent/ca.pem tls_name=redis.example.com tls;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*\/nonexistent\/ca\.pem/
--- no_error_log
[alert]
[crit]



=== TEST 45: a tls_*= word twice, one before tls and one after
--- http_config
    pay_store main redis=127.0.0.1:6379 tls_name=a.example.com tls tls_name=b.example.com;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": duplicate parameter "tls_name=b\.example\.com" in /
--- no_error_log
[alert]
[crit]



=== TEST 46: a tls_*= word twice before tls
--- http_config
    pay_store main redis=127.0.0.1:6379 tls_trusted_certificate=/a.pem tls_trusted_certificate=/b.pem tls;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": duplicate parameter "tls_trusted_certificate=\/b\.pem" in /
--- no_error_log
[alert]
[crit]



=== TEST 47: connect_timeout= of zero
--- http_config
    pay_store main redis=127.0.0.1:6379 connect_timeout=0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": invalid value in "connect_timeout=0" in /
--- no_error_log
[alert]
[crit]



=== TEST 48: connect_timeout= twice
--- http_config
    pay_store main redis=127.0.0.1:6379 connect_timeout=1s connect_timeout=2s;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "main": duplicate parameter "connect_timeout=2s" in /
--- no_error_log
[alert]
[crit]



=== TEST 49: a master= name over 256 bytes: the sentinel's buffer
--- http_config eval
"pay_store ha sentinel=127.0.0.1:26379 master=" . ("m" x 257) . ";"
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "ha": "master=" takes at most 256 bytes, "sentinel_password=" 490 in /
--- no_error_log
[alert]
[crit]



=== TEST 50: a sentinel_password= over 490 bytes
--- http_config eval
"pay_store ha sentinel=127.0.0.1:26379 master=m sentinel_password=" . ("p" x 491) . ";"
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pay_store "ha": "master=" takes at most 256 bytes, "sentinel_password=" 490 in /
--- no_error_log
[alert]
[crit]
