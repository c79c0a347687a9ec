# Stripe webhook verification, end to end through nginx: the signature,
# the replay window, the variables and the error answers
# (docs/providers/stripe.md, docs/errors.md), with the vectors S2 and
# S4-S6 (t/vectors/README.md).
#
# Every block: the status, the body, one expected error-log line and no
# [error], [alert] or [crit] (6 tests), plus the response_headers lines
# counted in $extra.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

# secrets given through the environment are read when nginx loads its
# configuration
$ENV{PAY_TEST_STRIPE_SECRET} = 'whsec_from_env_c0ffee';
$ENV{TEST_NGINX_PAY_SECRET_FILE} =
    PayTest::secret_file('stripe', "whsec_from_a_file\n");

repeat_each(2);

# verification alone: every repetition delivers the same events again,
# which dedupe (t/030-dedupe.t) would answer at the edge
add_block_preprocessor(sub {
    my $block = shift;
    # client faults at info, as before pay_log_level (t/086 checks its
    # default)
    $block->set_value('http_config',
                      ($block->http_config // '') . "\n    pay_dedupe off;\n"
                      . "    pay_log_level info;\n");
});

# TEST 25 sends 4 requests: 3 more times its 6 checks, per repetition
my $extra = 3 + 3 * 6;

plan tests => repeat_each() * (blocks() * 6 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a valid delivery reaches the app with the $pay_* variables
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Provider $pay_provider;
        proxy_set_header Pay-Verified $pay_verified;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Type $pay_event_type;
        proxy_set_header Pay-Event-Livemode $pay_event_livemode;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "provider=$http_pay_provider verified=$http_pay_verified id=$http_pay_event_id type=$http_pay_event_type livemode=$http_pay_event_livemode length=$content_length\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_test_1")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_test_1"))
--- response_body eval
"provider=stripe verified=1 id=evt_test_1 type=payment_intent.succeeded livemode=false length="
. length(PayTest::stripe_event("evt_test_1")) . "\n"
--- error_log
pay webhook verified: id "evt_test_1", type "payment_intent.succeeded"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: the app gets the body byte for byte
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        proxy_set_header X-Body $request_body;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }
    location = /echo {
        return 200 "$http_x_body\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_test_2")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_test_2"))
--- response_body eval
PayTest::stripe_event("evt_test_2") . "\n"
--- error_log
pay webhook verified: id "evt_test_2"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: secret rotation: two secrets, two v1 signatures
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_new_secret;
        pay_webhook_secret whsec_old_secret;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_rotated")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_rotated"),
    undef, "whsec_new_secret", "whsec_old_secret")
--- response_body
id=evt_rotated
--- error_log
pay webhook verified: id "evt_rotated"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: secret rotation: signed with the old secret only
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_new_secret;
        pay_webhook_secret whsec_old_secret;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_old_only")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_old_only"),
    undef, "whsec_old_secret")
--- response_body
id=evt_old_only
--- error_log
pay webhook verified: id "evt_old_only"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: official vector S4 (two v1 and a v0), tolerance 0
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_old_secret;
        pay_webhook_tolerance 0;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Livemode $pay_event_livemode;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id livemode=$http_pay_event_livemode\n";
    }
--- request eval
"POST /hook\n" . PayTest::vector("stripe_s3_body.json")
--- more_headers
Stripe-Signature: t=1700000000,v1=b14fd00c307c0137e9a6b4cd1657d15b7c2c1e6c7dde182c112ed15f4ead61da,v1=921476aa6febf6d11353fcee45246000c9edf7b3938ae2d09a2d6ea5cb98d9db,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39
--- response_body
id=evt_1 livemode=
--- error_log
pay webhook verified: id "evt_1"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: official vector S2 (t=12345) passes only with tolerance 0
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_webhook_tolerance 0;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . PayTest::vector("stripe_s2_body.json")
--- more_headers
Stripe-Signature: t=12345,v1=07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda
--- response_body_like: ^id=evt_
--- error_log
pay webhook verified
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: official vector S2 is stale with the default tolerance
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::vector("stripe_s2_body.json")
--- more_headers
Stripe-Signature: t=12345,v1=07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: stripe rejected: timestamp_out_of_tolerance
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: v0 only (official vector S5): no v1 to check
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_v0")
--- more_headers eval
my $t = time();
"Stripe-Signature: t=$t,v0=" . PayTest::stripe_v1("whsec_test_secret", $t,
    PayTest::stripe_event("evt_v0"))
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: stripe rejected: signature_missing
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: a tampered body is refused
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
my $body = PayTest::stripe_event("evt_tampered");
$body =~ s/succeeded/failed/;
"POST /hook\n" . $body
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_tampered"))
--- error_code: 400
--- response_body
{"type":"urn:ngx-pay:error:signature_mismatch","title":"Signature mismatch","status":400,"detail":"no v1 signature matches a configured secret","code":"signature_mismatch"}
--- error_log
pay: stripe rejected: signature_mismatch
--- no_error_log
[error]
[alert]
[crit]



=== TEST 10: a stale timestamp is refused
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_webhook_tolerance 300s;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_stale")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_stale"),
    time() - 400)
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: stripe rejected: timestamp_out_of_tolerance
--- no_error_log
[error]
[alert]
[crit]



=== TEST 11: a timestamp from the future is refused
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_webhook_tolerance 5m;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_future")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_future"),
    time() + 400)
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: stripe rejected: timestamp_out_of_tolerance
--- no_error_log
[error]
[alert]
[crit]



=== TEST 12: no Stripe-Signature header
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_unsigned")
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: stripe rejected: signature_missing
--- no_error_log
[error]
[alert]
[crit]



=== TEST 13: a garbage header (official vector S6)
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_garbage")
--- more_headers
Stripe-Signature: i'm not even a real signature header
--- error_code: 400
--- response_body_like: "code":"signature_malformed"
--- error_log
pay: stripe rejected: signature_malformed
--- no_error_log
[error]
[alert]
[crit]



=== TEST 14: signed with a secret nginx does not know
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_wrong_secret")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_wrong_secret"),
    undef, "whsec_someone_else")
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: stripe rejected: signature_mismatch
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: a 200 KB body spooled to a temporary file verifies
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        client_body_buffer_size 1k;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id length=$content_length\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_big", 204800)
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_big", 204800))
--- response_body
id=evt_big length=204800
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[error]
[alert]
[crit]



=== TEST 16: a signed empty body is not an event
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request
POST /hook
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header("")
--- error_code: 400
--- response_body_like: "code":"body_malformed"
--- error_log
pay: stripe rejected: body_malformed
--- no_error_log
[error]
[alert]
[crit]



=== TEST 17: GET is not a delivery: 405 with Allow: POST
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request
GET /hook
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/problem+json
--- response_body_like: "code":"method_not_allowed"
--- error_log
pay: stripe rejected: method_not_allowed
--- no_error_log
[error]
[alert]
[crit]



=== TEST 18: client-sent Pay-* headers never reach the app unless forwarded
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Event-Type $pay_event_type;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=[$http_pay_event_id] type=[$http_pay_event_type] other=[$http_pay_anything] kept=[$http_x_kept]\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_forge")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_forge")) . "\n"
. "Pay-Event-Id: evt_forged\n"
. "Pay-Event-Type: forged.type\n"
. "PAY-ANYTHING: forged\n"
. "X-Kept: yes"
--- response_body
id=[] type=[payment_intent.succeeded] other=[] kept=[yes]
--- error_log
dropping 3 client Pay-* header(s)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 19: $pay_error names the rejection (for access logs)
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        add_header X-Pay-Error "$pay_error" always;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_err")
--- more_headers
Stripe-Signature: t=1,v1=zz
--- error_code: 400
--- response_headers
X-Pay-Error: signature_malformed
--- response_body_like: "status":400
--- error_log
pay: stripe rejected: signature_malformed
--- no_error_log
[error]
[alert]
[crit]



=== TEST 20: secrets never appear in a debug-level error log
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_literal_5ecret;
        pay_webhook_secret env:PAY_TEST_STRIPE_SECRET;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_quiet")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_quiet"),
    undef, "whsec_from_env_c0ffee")
--- response_body
reached the app
--- error_log
pay webhook verified: id "evt_quiet"
--- no_error_log
whsec_literal_5ecret
whsec_from_env_c0ffee
[alert]



=== TEST 21: a rejected delivery does not log the secret either
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_literal_5ecret;
        pay_webhook_secret env:PAY_TEST_STRIPE_SECRET;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_quiet_bad")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_quiet_bad"),
    undef, "whsec_wrong")
--- error_code: 400
--- response_body_like: signature_mismatch
--- error_log
pay: stripe rejected: signature_mismatch
--- no_error_log
whsec_literal_5ecret
whsec_from_env_c0ffee
[alert]



=== TEST 22: two Stripe-Signature headers are ambiguous
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "reached the app\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_twice")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_twice")) . "\n"
. "Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_twice"))
--- error_code: 400
--- response_body_like: "code":"signature_malformed"
--- error_log
more than one Stripe-Signature header
--- no_error_log
[error]
[alert]
[crit]



=== TEST 23: locations without pay_webhook are untouched
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        return 200 "hook\n";
    }
    location = /plain {
        return 200 "plain [$pay_provider] [$pay_verified] [$pay_error]\n";
    }
--- request
GET /plain
--- response_body
plain [] [] []
--- error_log
GET /plain
--- no_error_log
[error]
[alert]
[crit]



=== TEST 24: a secret from a file, trailing newline stripped
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret file:$TEST_NGINX_PAY_SECRET_FILE;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id\n";
    }
--- request eval
"POST /hook\n" . PayTest::stripe_event("evt_file_secret")
--- more_headers eval
"Stripe-Signature: " . PayTest::stripe_header(PayTest::stripe_event("evt_file_secret"),
    undef, "whsec_from_a_file")
--- response_body
id=evt_file_secret
--- error_log
pay webhook verified: id "evt_file_secret"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 25: $pay_event_kind: Stripe's types in the neutral vocabulary
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Event-Kind $pay_event_kind;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "kind=$http_pay_event_kind\n";
    }
--- request eval
["POST /hook\n" . '{"id":"evt_k1","object":"event","type":"payment_intent.succeeded"}',
 "POST /hook\n" . '{"id":"evt_k2","object":"event","type":"charge.dispute.created"}',
 "POST /hook\n" . '{"id":"evt_k3","object":"event","type":"customer.subscription.deleted"}',
 "POST /hook\n" . '{"id":"evt_k4","object":"event","type":"account.updated"}']
--- more_headers eval
["Stripe-Signature: " . PayTest::stripe_header('{"id":"evt_k1","object":"event","type":"payment_intent.succeeded"}'),
 "Stripe-Signature: " . PayTest::stripe_header('{"id":"evt_k2","object":"event","type":"charge.dispute.created"}'),
 "Stripe-Signature: " . PayTest::stripe_header('{"id":"evt_k3","object":"event","type":"customer.subscription.deleted"}'),
 "Stripe-Signature: " . PayTest::stripe_header('{"id":"evt_k4","object":"event","type":"account.updated"}')]
--- response_body eval
["kind=payment.succeeded\n", "kind=dispute.opened\n",
 "kind=subscription.canceled\n", "kind=other\n"]
--- error_log
pay webhook verified
--- no_error_log
[error]
[alert]
[crit]
