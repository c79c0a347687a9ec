# Configuration errors of the Square, PayPal and Standard Webhooks
# directives fail at load time (nginx -t), naming what is missing.
#
# Each block is a configuration nginx must refuse (--- must_die) and the
# message it must print.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

delete $ENV{PAY_TEST_UNSET_CLIENT};
delete $ENV{PAY_TEST_UNSET_WEBHOOK_ID};

repeat_each(1);

# a must_die block is 4 tests: nginx died, its error_log line, and no
# [alert] or [crit]
plan tests => repeat_each() * (blocks() * 4);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: pay_webhook square without the notification URL
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_secret sq_key;
    }
--- must_die
--- error_log
requires "pay_webhook_url"
--- no_error_log
[alert]
[crit]



=== TEST 2: pay_webhook square without a signature key
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
    }
--- must_die
--- error_log
requires at least one "pay_webhook_secret"
--- no_error_log
[alert]
[crit]



=== TEST 3: a Standard Webhooks secret that is not base64
--- config
    location = /hook {
        pay_webhook standard;
        pay_webhook_secret whsec_not*base64;
    }
--- must_die
--- error_log
secret #1 is not "whsec_" followed by base64
--- no_error_log
[alert]
[crit]



=== TEST 4: pay_webhook paypal without the webhook id
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_cert_location /_pay/paypal_cert/;
    }
--- must_die
--- error_log
requires "pay_paypal_webhook_id"
--- no_error_log
[alert]
[crit]



=== TEST 5: offline PayPal verification without the certificate location
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
    }
--- must_die
--- error_log
requires "pay_paypal_cert_location"
--- no_error_log
[alert]
[crit]



=== TEST 6: API mode without the API location and client
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
    }
--- must_die
--- error_log
requires "pay_paypal_api" and "pay_paypal_client"
--- no_error_log
[alert]
[crit]



=== TEST 7: a trusted certificate file that cannot be loaded
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
        pay_paypal_trusted_certificate /nonexistent/paypal-root.pem;
    }
--- must_die
--- error_log
"pay_paypal_trusted_certificate": cannot load "/nonexistent/paypal-root.pem"
--- no_error_log
[alert]
[crit]



=== TEST 8: a client secret from an environment variable that is not set
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client client_id env:PAY_TEST_UNSET_CLIENT;
    }
--- must_die
--- error_log
pay_paypal_client
--- no_error_log
[alert]
[crit]



=== TEST 9: a webhook id from an environment variable that is not set
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id env:PAY_TEST_UNSET_WEBHOOK_ID;
        pay_paypal_cert_location /_pay/paypal_cert/;
    }
--- must_die
--- error_log
"pay_paypal_webhook_id": environment variable "PAY_TEST_UNSET_WEBHOOK_ID" is not set
--- no_error_log
[alert]
[crit]



=== TEST 10: a PayPal location without a dedupe store
--- http_config
    pay_dedupe off;
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location /_pay/paypal_cert/;
    }
--- must_die
--- error_log
requires "pay_dedupe": each transmission id is bound to its body in the dedupe store
--- no_error_log
[alert]
[crit]



=== TEST 11: a webhook id with a space
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id "WH ID";
        pay_paypal_cert_location /_pay/paypal_cert/;
    }
--- must_die
--- error_log
"pay_paypal_webhook_id" must be 1 to 50 visible ASCII characters
--- no_error_log
[alert]
[crit]



=== TEST 12: an unknown verification mode
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_verify online;
        pay_paypal_webhook_id WH_ID_1;
    }
--- must_die
--- error_log
invalid value "online"
--- no_error_log
[alert]
[crit]



=== TEST 13: a certificate location that is not a path
--- config
    location = /hook {
        pay_webhook paypal;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_cert_location https://api.paypal.com/;
    }
--- must_die
--- error_log
"pay_paypal_cert_location" must be a location path starting with "/"
--- no_error_log
[alert]
[crit]



=== TEST 14: an intent location is not a webhook location
--- config
    location = /both {
        pay_webhook stripe;
        pay_webhook_secret whsec_x;
        pay_intent stripe;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_x;
    }
--- must_die
--- error_log
"pay_intent" and "pay_webhook" cannot share a location
--- no_error_log
[alert]
[crit]



=== TEST 15: pay_intent without any provider API location
--- config
    location = /intents {
        pay_intent stripe;
    }
--- must_die
--- error_log
"pay_intent" needs at least one of "pay_stripe_api", "pay_paypal_api" and "pay_square_api"
--- no_error_log
[alert]
[crit]



=== TEST 16: a provider API location without its credentials
--- config
    location = /intents {
        pay_intent stripe;
        pay_stripe_api /_pay/stripe/;
    }
--- must_die
--- error_log
a provider API location needs its credentials
--- no_error_log
[alert]
[crit]



=== TEST 17: pay_idempotency off where intents are made
--- config
    location = /intents {
        pay_intent stripe;
        pay_idempotency off;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_x;
    }
--- must_die
--- error_log
an intent is never created without its key's claim
--- no_error_log
[alert]
[crit]



=== TEST 18: pay_webhook_tolerance 0 where PayPal deliveries are taken
--- config
    location = /hook {
        pay_webhook paypal;
        pay_webhook_tolerance 0;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client client_id client_secret;
    }
--- must_die
--- error_log
does not work with "pay_webhook_tolerance 0"
--- no_error_log
[alert]
[crit]



=== TEST 19: one PayPal webhook id bound in two stores
--- http_config
    pay_store one shm=1m;
    pay_store two shm=1m;
--- config
    location = /hook {
        pay_webhook paypal;
        pay_dedupe one;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client client_id client_secret;
    }
    location = /hook2 {
        pay_webhook paypal;
        pay_dedupe two;
        pay_paypal_verify api;
        pay_paypal_webhook_id WH_ID_1;
        pay_paypal_api /_pay/paypal/;
        pay_paypal_client client_id client_secret;
    }
--- must_die
--- error_log
use one "pay_dedupe" store for every location of a webhook id
--- no_error_log
[alert]
[crit]
