# Records read back from Redis are checked like fresh input before any of
# them reaches a header or the client: a record someone altered in Redis
# (a content type with CR LF, a status the module never saves, an intent
# id with CR LF, a claim token that is not one) is a store failure, 503
# store_unavailable, and nothing of it is sent.  Records that were not
# altered replay and resume as before.
#
# One fake Redis (t/lib/PayTest/FakeRedis.pm) alters what it returns
# according to the store's prefix: "clean:" nothing, "ct:" the content
# type of a completed intent record, "status:" its status (599), "id:" the
# intent's id (both record kinds), "ws:" a CR LF between the members of
# the intent's JSON (whitespace to a JSON parser, a line break in
# $pay_intent_json), "token:" a webhook claim (it becomes a processing
# record with "ab\r\ncd" as token).  The records themselves are
# the module's own: a first block writes one, the next reads it back.
#
# Every block: the status and the body, the listed headers, the listed log
# lines, and no [alert] nor [crit].

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;
use PayTest::FakeRedis;

# a stored intent record ("D" + "PI" version state fingerprint status
# lengths intent type body, see core/pay_idempotency.h), decoded and
# encoded again, for the tamper function below
sub decode_record {
    my ($v) = @_;
    return undef unless $v =~ /^DPI\x01([CD])/;
    my ($state, $fp, $status, $ctl, $il, $bl) =
        unpack 'x4 a1 a64 n n N N', $v;
    my $p = 1 + 4 + 64 + 12;
    my %r = (state => $state, fp => $fp, status => $status);
    $r{intent} = substr $v, $p, $il;
    $r{ct} = substr $v, $p + $il, $ctl;
    $r{body} = substr $v, $p + $il + $ctl, $bl;
    return \%r;
}

sub encode_record {
    my ($r) = @_;
    return 'DPI' . chr(1) . $r->{state} . $r->{fp}
         . pack('n n N N', $r->{status}, length $r->{ct},
                length $r->{intent}, length $r->{body})
         . $r->{intent} . $r->{ct} . $r->{body};
}

sub tamper {
    my ($key, $v) = @_;
    my ($how) = $key =~ /^(\w+):/ or return $v;

    if ($how eq 'token') {
        return "Pab\r\ncd";
    }

    my $r = decode_record($v) or return $v;

    if ($how eq 'ct' && $r->{state} eq 'D') {
        $r->{ct} = "application/json\r\nX-Evil: 1";
    } elsif ($how eq 'status' && $r->{state} eq 'D') {
        $r->{status} = 599;
    } elsif ($how eq 'id') {
        $r->{intent} =~ s/"id":"([^"]*)"/"id":"$1\\r\\nX-Evil: 1"/;
    } elsif ($how eq 'ws') {
        # JSON's own whitespace, which jansson would read past
        $r->{intent} =~ s/,"id"/,\r\n"id"/;
    } else {
        return $v;
    }

    return encode_record($r);
}

our $fake = PayTest::FakeRedis->start(mode => 'ok', tamper => \&tamper);
$ENV{TEST_NGINX_FAKE_PORT} = $fake->port;
$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();
$ENV{TEST_NGINX_DEAD_PORT} = PayTest::free_port();

END {
    local $?;
    $fake->stop;
}

our $R = sprintf '%x%x', time, $$;

sub key { return "Idempotency-Key: tamper-$R-$_[0]" }

our $BODY = '{"amount":2000,"currency":"usd"}';

our $STRIPE = PayTest::json_like(provider => '"stripe"', id => '"pi_\w+"',
    client_secret => '"pi_\w+_secret_\w+"', amount => '2000');

our $UNAVAILABLE = PayTest::json_like(code => '"store_unavailable"',
                                      status => '503');

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_');
    pay_store clean redis=127.0.0.1:$TEST_NGINX_FAKE_PORT prefix=clean:;
    pay_store ct redis=127.0.0.1:$TEST_NGINX_FAKE_PORT prefix=ct:;
    pay_store status redis=127.0.0.1:$TEST_NGINX_FAKE_PORT prefix=status:;
    pay_store id redis=127.0.0.1:$TEST_NGINX_FAKE_PORT prefix=id:;
    pay_store ws redis=127.0.0.1:$TEST_NGINX_FAKE_PORT prefix=ws:;
    pay_store token redis=127.0.0.1:$TEST_NGINX_FAKE_PORT prefix=token:;

    # the app is down for a request with X-Test-App-Down: 1 (not part of
    # the fingerprint: its retry is the same request)
    map $http_x_test_app_down $app_port {
        default  $server_port;
        1        $TEST_NGINX_DEAD_PORT;
    }
_EOC_

    my $config = '';

    for my $store (qw(clean ct status id ws)) {
        $config .= <<"_EOC_";
    location = /intents/$store {
        pay_intent stripe;
        pay_idempotency $store;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
        add_header X-Intent-Id \$pay_intent_id always;
        add_header X-Intent-Json \$pay_intent_json always;
    }
    location = /app-intents/$store {
        pay_intent stripe;
        pay_idempotency $store;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
        proxy_set_header Pay-Intent-Id \$pay_intent_id;
        proxy_pass http://127.0.0.1:\$app_port/app;
    }
_EOC_
    }

    $config .= <<'_EOC_';
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe token;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app intent=[$http_pay_intent_id] evil=[$http_x_evil]\n";
    }
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
_EOC_
    $block->set_value('config', $config);
});

repeat_each(1);

# every block: 1 status, 1 body, [alert], [crit]; and
#   response_headers lines:  2 + 3 + 2 + 3 + 3 + 3 + 3 = 19
#   error_log lines:         1 (TEST 4), 2 per tampered intent read
#                            (TESTs 6, 8, 10, 12, 13, 17, 19), 1 (TEST 15):
#                            16
#   no_error_log [error]:    TESTs 1, 2, 4, 5, 7, 9, 14, 16: 8
plan tests => blocks() * 4 + 19 + 16 + 8;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an untouched record through the fake Redis: made...
--- request eval
"POST /intents/clean\n$::BODY"
--- more_headers eval
main::key(1)
--- error_code: 201
--- response_body_like eval
$::STRIPE
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: ...and replayed: the strict reading takes what the module wrote
--- request eval
"POST /intents/clean\n$::BODY"
--- more_headers eval
main::key(1)
--- error_code: 201
--- response_headers
Idempotent-Replayed: true
Content-Type: application/json
--- response_body_like eval
$::STRIPE
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: an untouched "created" record: the app is down...
--- request eval
"POST /app-intents/clean\n$::BODY"
--- more_headers eval
main::key(3) . "\nX-Test-App-Down: 1"
--- error_code: 502
--- response_body_like: 502
--- no_error_log
[alert]
[crit]



=== TEST 4: ...and the retry resumes the saved intent
--- request eval
"POST /app-intents/clean\n$::BODY"
--- more_headers eval
main::key(3)
--- response_body_like: ^app intent=\[pi_\w+\] evil=\[\]$
--- error_log
resumed for a retry
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: a completed record whose content type gets CR LF in Redis...
--- request eval
"POST /intents/ct\n$::BODY"
--- more_headers eval
main::key(5)
--- error_code: 201
--- response_body_like eval
$::STRIPE
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: ...is not replayed: 503 store_unavailable, no X-Evil
--- request eval
"POST /intents/ct\n$::BODY"
--- more_headers eval
main::key(5)
--- error_code: 503
--- response_headers
Retry-After: 5
Content-Type: application/problem+json
! X-Evil
--- response_body_like eval
$::UNAVAILABLE
--- error_log eval
[qr/pay: intent record "intent:lock:[0-9a-f]{64}" in "ct" is not one of ours/,
 "pay: intent rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]



=== TEST 7: a completed record whose status becomes 599 in Redis...
--- request eval
"POST /intents/status\n$::BODY"
--- more_headers eval
main::key(7)
--- error_code: 201
--- response_body_like eval
$::STRIPE
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: ...is not replayed with it: 503 store_unavailable
--- request eval
"POST /intents/status\n$::BODY"
--- more_headers eval
main::key(7)
--- error_code: 503
--- response_headers
Retry-After: 5
Idempotent-Replayed:
--- response_body_like eval
$::UNAVAILABLE
--- error_log eval
[qr/pay: intent record "intent:lock:[0-9a-f]{64}" in "status" is not one of ours/,
 "pay: intent rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]



=== TEST 9: a completed record whose intent id gets CR LF in Redis...
--- request eval
"POST /intents/id\n$::BODY"
--- more_headers eval
main::key(9)
--- error_code: 201
--- response_body_like eval
$::STRIPE
--- no_error_log
[error]
[alert]
[crit]



=== TEST 10: ...never reaches $pay_intent_id (a response header here): 503
--- request eval
"POST /intents/id\n$::BODY"
--- more_headers eval
main::key(9)
--- error_code: 503
--- response_headers
Retry-After: 5
X-Intent-Id:
! X-Evil
--- response_body_like eval
$::UNAVAILABLE
--- error_log eval
[qr/pay: intent record "intent:lock:[0-9a-f]{64}" in "id" is not one of ours/,
 "pay: intent rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]



=== TEST 11: a "created" record (the app is down)...
--- request eval
"POST /app-intents/id\n$::BODY"
--- more_headers eval
main::key(11) . "\nX-Test-App-Down: 1"
--- error_code: 502
--- response_body_like: 502
--- no_error_log
[alert]
[crit]



=== TEST 12: ...whose intent id gets CR LF in Redis is not forwarded: 503
--- request eval
"POST /app-intents/id\n$::BODY"
--- more_headers eval
main::key(11)
--- error_code: 503
--- response_headers
Retry-After: 5
Content-Type: application/problem+json
! X-Evil
--- response_body_like eval
$::UNAVAILABLE
--- error_log eval
[qr/pay: intent record "intent:created:[0-9a-f]{64}" in "id" is not one of ours/,
 "pay: intent rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]



=== TEST 13: and its lock was released: the next retry is not 409
--- request eval
"POST /app-intents/id\n$::BODY"
--- more_headers eval
main::key(11)
--- error_code: 503
--- response_body_like eval
$::UNAVAILABLE
--- error_log eval
[qr/pay: intent record "intent:created:[0-9a-f]{64}" in "id" is not one of ours/,
 "pay: intent rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]



=== TEST 14: a webhook delivered once...
--- request eval
PayTest::stripe_delivery("/hook", "evt_tamper_$::R")
--- more_headers eval
PayTest::stripe_signature("evt_tamper_$::R")
--- response_body
app intent=[] evil=[]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: ...whose record becomes a claim with a bad token: 503, not 409
--- request eval
PayTest::stripe_delivery("/hook", "evt_tamper_$::R")
--- more_headers eval
PayTest::stripe_signature("evt_tamper_$::R")
--- error_code: 503
--- response_body_like: "code":"store_unavailable"
--- error_log eval
[qr/pay_store "token": redis key "token:webhook:[^:"]+:stripe:evt_tamper_\w+" holds a value that is not a record/]
--- no_error_log
[alert]
[crit]



=== TEST 16: a completed record whose JSON gets a CR LF between members...
--- request eval
"POST /intents/ws\n$::BODY"
--- more_headers eval
main::key(16)
--- error_code: 201
--- response_body_like eval
$::STRIPE
--- no_error_log
[error]
[alert]
[crit]



=== TEST 17: ...is not replayed: only the writer's own bytes are taken (503)
--- request eval
"POST /intents/ws\n$::BODY"
--- more_headers eval
main::key(16)
--- error_code: 503
--- response_headers
Retry-After: 5
X-Intent-Json:
! X-Evil
--- response_body_like eval
$::UNAVAILABLE
--- error_log eval
[qr/pay: intent record "intent:lock:[0-9a-f]{64}" in "ws" is not one of ours/,
 "pay: intent rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]



=== TEST 18: a "created" record (the app is down)...
--- request eval
"POST /app-intents/ws\n$::BODY"
--- more_headers eval
main::key(18) . "\nX-Test-App-Down: 1"
--- error_code: 502
--- response_body_like: 502
--- no_error_log
[alert]
[crit]



=== TEST 19: ...whose JSON gets a CR LF between members is not resumed: 503
--- request eval
"POST /app-intents/ws\n$::BODY"
--- more_headers eval
main::key(18)
--- error_code: 503
--- response_headers
Retry-After: 5
Content-Type: application/problem+json
! X-Evil
--- response_body_like eval
$::UNAVAILABLE
--- error_log eval
[qr/pay: intent record "intent:created:[0-9a-f]{64}" in "ws" is not one of ours/,
 "pay: intent rejected: store_unavailable"]
--- no_error_log
[alert]
[crit]
