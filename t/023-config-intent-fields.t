# Configuration errors of what an intent's client may send and what the
# server sets (pay_intent_client_fields, pay_intent_set): nginx -t fails,
# naming the field.
#
# Each block is a configuration nginx must refuse (--- must_die) and the
# message it must print.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

# an intent location, complete but for the lines a block's http_config
# adds to it
our $INTENT = <<'_EOC_';
    pay_store main shm=1m;
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name intents.test;
        location = /intents {
            pay_intent stripe;
            pay_idempotency main;
            pay_stripe_api /_pay/stripe/;
            pay_stripe_key sk_test_stub;
@LINES@
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    my $http = $INTENT;
    my $lines = $block->http_config;
    $http =~ s/^\@LINES\@\n/$lines/m;
    $block->set_value('http_config', $http);
    # the real Test::Nginx wants a server config, even an empty one
    $block->set_value('config', '') unless defined $block->config;
});

repeat_each(1);

# a must_die block is 4 tests: nginx died, its error_log line, and no
# [alert] or [crit]
plan tests => repeat_each() * (blocks() * 4);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: amount, currency and provider are not fields to allow
--- http_config
            pay_intent_client_fields description amount;
--- must_die
--- error_log
invalid field "amount" (amount, currency and provider are always accepted)
--- no_error_log
[alert]
[crit]



=== TEST 2: an unknown field
--- http_config
            pay_intent_client_fields customer_id;
--- must_die
--- error_log
invalid field "customer_id" in
--- no_error_log
[alert]
[crit]



=== TEST 3: a metadata key that breaks Stripe's form names
--- http_config
            pay_intent_client_fields metadata.a[b];
--- must_die
--- error_log
invalid field "metadata.a[b]": metadata keys must not contain [ or ]
--- no_error_log
[alert]
[crit]



=== TEST 4: pay_intent_client_fields twice at one level
--- http_config
            pay_intent_client_fields description;
            pay_intent_client_fields customer;
--- must_die
--- error_log
"pay_intent_client_fields" directive is duplicate
--- no_error_log
[alert]
[crit]



=== TEST 5: pay_intent_set needs a metadata key
--- http_config
            pay_intent_set metadata $remote_user;
--- must_die
--- error_log
invalid field "metadata"
--- no_error_log
[alert]
[crit]



=== TEST 6: a constant value is checked as a client's would be
--- http_config
            pay_intent_set return_url javascript:alert(1);
--- must_die
--- error_log
invalid value for "return_url": must be an http:// or https:// URL of at most 2048 bytes
--- no_error_log
[alert]
[crit]



=== TEST 7: one field set twice
--- http_config
            pay_intent_set customer $remote_user;
            pay_intent_set customer cus_1;
--- must_die
--- error_log
"customer" is set twice
--- no_error_log
[alert]
[crit]



=== TEST 8: more metadata keys than a request may have
--- http_config eval
CORE::join '', map { "            pay_intent_set metadata.k$_ v;\n" } 1 .. 51
--- must_die
--- error_log
more than 50 metadata keys
--- no_error_log
[alert]
[crit]
