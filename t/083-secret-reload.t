# Rotating a secret: a "file:" secret (webhook secret or provider key) is
# read again by every reload, so writing the new value and reloading is
# enough; an "env:" one is the master's environment, fixed when nginx
# started, so a reload keeps the old value whatever the environment of
# whoever runs the reload.
#
# A master and a worker; TEST 2 reloads with HUP (same configuration, new
# files), TEST 3 runs against what TEST 2 loaded.
#
# Every request: its status, its body, no [alert] nor [crit] (4 tests);
# TEST 2 also finds the reload in the log (1).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

# what the master finds in its environment when it starts
$ENV{PAY_TEST_ENV_SECRET} = 'whsec_env_at_start';

our $R = sprintf '%x%x', time, $$;

sub key { return "Idempotency-Key: reload-$R-$_[0]" }

sub delivery {
    my ($path, $id) = @_;
    return "POST $path\n" . PayTest::stripe_event($id);
}

sub signed {
    my ($id, $secret) = @_;
    return "Stripe-Signature: "
         . PayTest::stripe_header(PayTest::stripe_event($id), undef, $secret);
}

our $INTENT = "POST /intents\n" . '{"amount":2000,"currency":"usd"}';

our $STRIPE = PayTest::json_like(provider => '"stripe"', id => '"pi_\w+"');

master_on();
workers(1);
use_hup();

repeat_each(1);

# 4 per request, and the reload line of TEST 2
plan tests => PayTest::requests(blocks()) * 4 + 1;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: at start: the file's and the environment's secrets, the file's key
--- http_config
    pay_store main shm=1m;
    pay_dedupe off;
--- config
    location = /hook-file {
        pay_webhook stripe;
        pay_webhook_secret file:$TEST_NGINX_SERVER_ROOT/html/stripe_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-env {
        pay_webhook stripe;
        pay_webhook_secret env:PAY_TEST_ENV_SECRET;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /intents {
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key file:$TEST_NGINX_SERVER_ROOT/html/stripe_key;
    }
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
    location = /app {
        return 200 "app\n";
    }
--- user_files
>>> stripe_secret
whsec_file_before
>>> stripe_key
sk_test_stub
--- init
# the environment changes once nginx runs: no reload will see it
$ENV{PAY_TEST_ENV_SECRET} = 'whsec_env_rotated';
--- request eval
["GET /stub/reset",
 main::delivery("/hook-file", "evt_rl_1"),
 main::delivery("/hook-env", "evt_rl_2"),
 $::INTENT]
--- more_headers eval
["",
 main::signed("evt_rl_1", "whsec_file_before"),
 main::signed("evt_rl_2", "whsec_env_at_start"),
 main::key(1)]
--- error_code eval
[200, 200, 200, 201]
--- response_body_like eval
["ok", "^app\$", "^app\$", $::STRIPE]
--- no_error_log
[alert]
[crit]



=== TEST 2: new files, a reload: the file's new secret is in use at once
--- http_config
    pay_store main shm=1m;
    pay_dedupe off;
--- config
    location = /hook-file {
        pay_webhook stripe;
        pay_webhook_secret file:$TEST_NGINX_SERVER_ROOT/html/stripe_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-env {
        pay_webhook stripe;
        pay_webhook_secret env:PAY_TEST_ENV_SECRET;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /intents {
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key file:$TEST_NGINX_SERVER_ROOT/html/stripe_key;
    }
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
    location = /app {
        return 200 "app\n";
    }
--- user_files
>>> stripe_secret
whsec_file_after
>>> stripe_key
sk_test_rotated
--- request eval
main::delivery("/hook-file", "evt_rl_3")
--- more_headers eval
main::signed("evt_rl_3", "whsec_file_after")
--- response_body
app
--- error_log
reconfiguring
--- no_error_log
[alert]
[crit]



=== TEST 3: after the reload: the file's old secret is gone, the key is the new one, env: is unchanged
--- request eval
[main::delivery("/hook-file", "evt_rl_4"),
 main::delivery("/hook-env", "evt_rl_5"),
 main::delivery("/hook-env", "evt_rl_6"),
 "GET /stub/set?stripe_key=sk_test_rotated",
 $::INTENT]
--- more_headers eval
[main::signed("evt_rl_4", "whsec_file_before"),
 main::signed("evt_rl_5", "whsec_env_at_start"),
 main::signed("evt_rl_6", "whsec_env_rotated"),
 "",
 main::key(3)]
--- error_code eval
[400, 200, 400, 200, 201]
--- response_body_like eval
['"code":"signature_mismatch"', "^app\$", '"code":"signature_mismatch"',
 ".", $::STRIPE]
--- no_error_log
[alert]
[crit]
