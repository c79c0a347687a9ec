# With an error_log at debug level, nginx's proxy module logs the request
# headers of every upstream request, the module's provider calls included:
# the "Authorization" of pay_stripe_key (pay_square_token,
# pay_paypal_client) lands in the log.  nginx warns once per location that
# holds provider credentials and logs at debug level, when it loads the
# configuration; not for a location that makes no provider call, nor when
# the level is not debug.
#
# Debug logging exists only in an nginx built --with-debug (Debian's is):
# elsewhere the blocks that expect the warning are skipped.
#
# Every block: the status, the body, the listed log lines and no [alert]
# nor [crit].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;
use File::Path ();
use File::Spec;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

our $R = sprintf '%x%x', time, $$;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $DEBUG_BUILD = (`$nginx -V 2>&1` // '') =~ /--with-debug/ ? 1 : 0;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_');
    pay_store main shm=1m;
_EOC_

    $block->set_value('config', $block->config . <<'_EOC_');
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
_EOC_
});

repeat_each(1);

# TEST 1: 2 + 3 + 4, TEST 2: 2 + 4, TEST 3: 2 + 1 + 4; plus the
# debug_connection check below, outside the blocks (no section of
# Test::Nginx writes into events {}): 1
plan tests => 9 + 6 + 7 + 1;

# "debug_connection" in events {} logs its clients at debug level in every
# location: "nginx -t" of a configuration with it warns too.
sub debug_connection_warning {
    my $dir = File::Spec->rel2abs('t/tmp/debug-connection');
    File::Path::make_path("$dir/logs");
    my $module = $ENV{TEST_NGINX_LOAD_MODULES} // '';
    my $load = $module ne '' ? "load_module $module;\n" : '';
    open my $fh, '>', "$dir/nginx.conf" or die "cannot write: $!";
    print $fh <<"_EOC_";
${load}error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
events {
    debug_connection 192.0.2.1;
}
http {
    pay_store main shm=1m;
    server {
        listen 127.0.0.1:1;
        location = /intents {
            pay_intent stripe;
            pay_idempotency main;
            pay_stripe_api /_pay/stripe/;
            pay_stripe_key sk_test_stub;
        }
        location /_pay/stripe/ {
            internal;
            proxy_pass http://127.0.0.1:1/;
        }
    }
}
_EOC_
    close $fh;
    # "nginx -t" exits without freeing its cycle: nginx's, not a leak to
    # report under make test-asan
    local $ENV{ASAN_OPTIONS} = ($ENV{ASAN_OPTIONS} // '') . ':detect_leaks=0';
    return scalar `$nginx -t -q -p $dir/ -c $dir/nginx.conf 2>&1`;
}

if ($DEBUG_BUILD) {
    Test::More::like(debug_connection_warning(),
        qr/pay: "debug_connection" logs at debug level in every location, "\/intents" too/,
        'debug_connection: nginx -t warns about the location holding credentials');
} else {
    Test::More::pass('debug_connection: not a debug build, nothing to warn about');
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an intent location at debug level: the warning, and the reason for it
--- skip_eval: 9: !$::DEBUG_BUILD
--- config
    location = /intents {
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
    }
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        return 204;
    }
    location = /hook-paypal {
        pay_webhook paypal;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client paypal_client_id paypal_client_secret;
        return 204;
    }
    location /_pay/paypal/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
    }
--- request eval
"POST /intents\n" . '{"amount":2000,"currency":"usd"}'
--- more_headers eval
"Idempotency-Key: dbg-$::R-1"
--- error_code: 201
--- response_body_like: "provider":"stripe"
--- error_log
pay: location "/intents" holds provider credentials and its error_log is at debug level
pay: location "/hook-paypal" holds provider credentials
Authorization: Bearer sk_test_stub
--- no_error_log
location "/hook" holds provider credentials
location "/_pay/stripe/" holds provider credentials
[alert]
[crit]



=== TEST 2: the same at level info: no warning (and nothing to warn about)
--- log_level: info
--- config
    location = /intents {
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
    }
--- request eval
"POST /intents\n" . '{"amount":2000,"currency":"usd"}'
--- more_headers eval
"Idempotency-Key: dbg-$::R-2"
--- error_code: 201
--- response_body_like: "provider":"stripe"
--- no_error_log
holds provider credentials
Authorization: Bearer
[alert]
[crit]



=== TEST 3: credentials from the server level, debug in one location only
--- skip_eval: 7: !$::DEBUG_BUILD
--- log_level: info
--- config
    pay_stripe_api /_pay/stripe/;
    pay_stripe_key sk_test_stub;

    location = /intents-debug {
        error_log logs/error.log debug;
        pay_intent stripe;
        pay_idempotency main;
    }
    location = /intents-quiet {
        pay_intent stripe;
        pay_idempotency main;
    }
    location = /plain {
        error_log logs/error.log debug;
        return 204;
    }
--- request eval
"POST /intents-quiet\n" . '{"amount":2000,"currency":"usd"}'
--- more_headers eval
"Idempotency-Key: dbg-$::R-3"
--- error_code: 201
--- response_body_like: "provider":"stripe"
--- error_log
pay: location "/intents-debug" holds provider credentials
--- no_error_log
location "/intents-quiet" holds
location "/plain" holds
[alert]
[crit]
