# The Redis store as an ACL user (user= next to password=), against a real
# redis-server whose only users are a disabled default and "pay-acl", who
# may run exactly the commands docs/operations.md lists (GET, SET, DEL,
# EVAL, PING, SELECT, WAIT, ROLE) on keys under its prefix.  The user
# comes from env:, the password from file:; neither is ever logged.  A
# wrong password is one error line and a 503.
#
# Every block: one status and one body per request, the listed log lines,
# and no [alert], [crit] or [emerg].  A user without ROLE still works
# after a -READONLY (the role is then not checked, with a warning).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $R = sprintf '%x%x%04x', time, $$, int rand 65536;

# the ACL line of docs/operations.md, with this run's prefix and password
our $port = PayTest::redis_server(args => [
    '--user', 'default', 'off',
    '--user', 'pay-acl', 'on', '>acl-secret-of-the-test', "~t037:$R:*",
    'resetchannels', '-@all', '+get', '+set', '+del', '+eval', '+ping',
    '+select', '+wait', '+role',
    # TEST 3: the same without ROLE; and the test's own admin
    '--user', 'pay-norole', 'on', '>norole-secret-of-the-test', "~t037:$R:*",
    'resetchannels', '-@all', '+get', '+set', '+del', '+eval', '+ping',
    '+select', '+wait',
    '--user', 'admin', 'on', '>admin-secret-of-the-test', '~*', '&*',
    '+@all',
]);
our $other = PayTest::redis_server();
our $admin = { port => $port, user => 'admin',
               password => 'admin-secret-of-the-test' };

$ENV{TEST_NGINX_ACL_PORT} = $port;
$ENV{TEST_NGINX_RUN} = $R;
$ENV{PAY_TEST_REDIS_USER} = 'pay-acl';
$ENV{TEST_NGINX_ACL_PASSWORD_FILE} =
    PayTest::secret_file('redis-acl', "acl-secret-of-the-test\n");

repeat_each(1);

plan tests => 45 + 7;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: as the ACL user: new, duplicate, and a release after the app fails
--- http_config
    pay_store acl redis=127.0.0.1:$TEST_NGINX_ACL_PORT user=env:PAY_TEST_REDIS_USER password=file:$TEST_NGINX_ACL_PASSWORD_FILE db=0 prefix=t037:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe acl;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        if ($http_x_test_fail) {
            return 500 "app failed\n";
        }
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::wait_log(qr/\[notice\] .*pay_store "acl": redis \S+ connected/, 1);
--- request eval
[PayTest::stripe_delivery("/hook", "evt_acl_1"),
 PayTest::stripe_delivery("/hook", "evt_acl_1"),
 PayTest::stripe_delivery("/hook", "evt_acl_fail"),
 PayTest::stripe_delivery("/hook", "evt_acl_fail")]
--- more_headers eval
[PayTest::stripe_signature("evt_acl_1"), PayTest::stripe_signature("evt_acl_1"),
 PayTest::stripe_signature("evt_acl_fail") . "\nX-Test-Fail: 1",
 PayTest::stripe_signature("evt_acl_fail") . "\nX-Test-Fail: 1"]
--- error_code eval
[200, 200, 500, 500]
--- response_body eval
["app: new\n", '{"received":true,"duplicate":true}' . "\n", "app failed\n", "app failed\n"]
--- no_error_log
[alert]
[crit]
[emerg]
[error]
acl-secret-of-the-test
pay-acl
NOPERM



=== TEST 2: a wrong password: one error line, 503, the password never logged
--- http_config
    pay_store acl redis=127.0.0.1:$TEST_NGINX_ACL_PORT user=pay-acl password=not-the-acl-secret timeout=300ms;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe acl;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- init
PayTest::wait_log(qr/pay_store "acl": redis \S+ refused AUTH/, 2);
--- request eval
PayTest::stripe_delivery("/hook", "evt_acl_wrong")
--- more_headers eval
PayTest::stripe_signature("evt_acl_wrong")
--- error_code: 503
--- response_headers
Retry-After: 5
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/\[error\] .*pay_store "acl": redis 127\.0\.0\.1:\d+ refused AUTH: "WRONGPASS/,
 qr/\[info\] .*pay_store "acl": redis 127\.0\.0\.1:\d+ refused AUTH: "WRONGPASS/]
--- no_error_log
[alert]
[crit]
[emerg]
not-the-acl-secret
--- timeout: 10



=== TEST 3: a user without ROLE, after a -READONLY: warned once, the store used again
The server becomes a replica (a delivery gets 503 and the connection is
dropped), then a master again; the next connection asks ROLE, which the
user may not run: a warning, and the store is used as before.
--- http_config
    pay_store norole redis=127.0.0.1:$TEST_NGINX_ACL_PORT user=pay-norole password=norole-secret-of-the-test prefix=t037:$TEST_NGINX_RUN:;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe norole;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- init
PayTest::wait_log(qr/pay_store "norole": redis \S+ connected/, 1);
PayTest::redis_command($main::admin, 'REPLICAOF', '127.0.0.1', $main::other);
PayTest::stripe_post(main::server_port(), '/hook', 'evt_acl_norole') == 503
    or die "the delivery to a replica was not answered 503\n";
PayTest::wait_log(qr/pay_store "norole": redis \S+ connection lost: READONLY/, 1);
PayTest::redis_command($main::admin, 'REPLICAOF', 'NO', 'ONE');
PayTest::wait_log(qr/pay_store "norole": redis \S+ connected/, 2, 15);
--- request eval
PayTest::stripe_delivery("/hook", "evt_acl_norole")
--- more_headers eval
PayTest::stripe_signature("evt_acl_norole")
--- response_body
app: new
--- error_log eval
[qr/\[warn\] .*pay_store "norole": redis 127\.0\.0\.1:\d+ refused ROLE \("NOPERM/]
--- no_error_log
[alert]
[crit]
[emerg]
norole-secret
--- timeout: 20
