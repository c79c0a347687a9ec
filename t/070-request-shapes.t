# Request bodies in every shape nginx hands a module: chunked (one chunk,
# many tiny ones, empty, over client_max_body_size at once and after a
# pause), spooled to a temporary file (chunked or not, and with
# client_body_in_file_only), trickled, and pipelined after a refusal; for
# webhooks (Stripe) and intents.  A chunked body once crashed the worker;
# every block checks that none exits on a signal.  util/test-hostile runs
# the same shapes and more against every kind of location under load.
#
# The limits are set in each location: Test::Nginx's server{} sets its own
# client_max_body_size.
#
# Every block: the status, the body, and no "exited on signal", [alert] or
# [crit] (5 tests), plus one error-log line where the block has one
# (counted in $extra).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();
$ENV{TEST_NGINX_RECIPE_PORT} = PayTest::free_port();

# keys and event ids of this run never meet an earlier run's
our $R = sprintf '%x%x', time, $$;

our $SECRET = 'whsec_test_secret';

# a chunked encoding of $body, in chunks of $size bytes (all of it: 0)
sub chunked {
    my ($body, $size) = @_;
    $size ||= length $body;
    my $out = '';
    for (my $at = 0; $at < length $body; $at += $size) {
        my $part = substr $body, $at, $size;
        $out .= sprintf("%x\r\n", length $part) . "$part\r\n";
    }
    return $out . "0\r\n\r\n";
}

# a raw request head to $path, signed for $body (Stripe), chunked
sub stripe_head {
    my ($path, $body, $close) = @_;
    return "POST $path HTTP/1.1\r\nHost: localhost\r\n"
         . ($close // 1 ? "Connection: close\r\n" : '')
         . "Stripe-Signature: " . PayTest::stripe_header($body) . "\r\n"
         . "Transfer-Encoding: chunked\r\n\r\n";
}

# the same for an intent, with its Idempotency-Key
sub intent_head {
    my ($path, $key) = @_;
    return "POST $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
         . "Idempotency-Key: k-$R-$key\r\n"
         . "Transfer-Encoding: chunked\r\n\r\n";
}

our $INTENT = '{"amount":2000,"currency":"usd"}';

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'_EOC_' . ($block->http_config // ''));
    pay_store main shm=4m;
    pay_dedupe off;
_EOC_

    $block->set_value('config', ($block->config // '') . <<'_EOC_');
    location = /hook {
        client_max_body_size 8k;
        client_body_buffer_size 1k;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /hook-in-file {
        client_body_in_file_only clean;
        client_max_body_size 8k;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "id=$http_pay_event_id length=$http_content_length\n";
    }
    location = /intents {
        client_max_body_size 8k;
        client_body_buffer_size 1k;
        pay_intent stripe;
        pay_idempotency main;
        pay_stripe_api /_pay/stripe/;
        pay_stripe_key sk_test_stub;
    }
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        subrequest_output_buffer_size 64k;
    }
_EOC_

    $block->set_value('no_error_log', "exited on signal\n[alert]\n[crit]\n")
        unless defined $block->no_error_log;
});

master_on();
workers(1);
repeat_each(1);

# each block is 5 tests (TEST 17: 6); error_log lines: TESTs 3, 4, 5, 6,
# 12 and 18
my $extra = 1 + 6;

plan tests => repeat_each() * (blocks() * 5 + $extra);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a signed chunked delivery, one chunk: verified and forwarded
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk1_$::R");
main::stripe_head('/hook', $body) . main::chunked($body)
--- error_code: 200
--- response_body eval
"id=evt_chunk1_$::R length=" . length(PayTest::stripe_event("evt_chunk1_$::R")) . "\n"



=== TEST 2: a signed chunked delivery in 1-byte chunks
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk2_$::R");
main::stripe_head('/hook', $body) . main::chunked($body, 1)
--- error_code: 200
--- response_body eval
"id=evt_chunk2_$::R length=" . length(PayTest::stripe_event("evt_chunk2_$::R")) . "\n"



=== TEST 3: an empty chunked body: nothing to verify
--- raw_request eval
"POST /hook HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log
pay: stripe rejected: signature_missing



=== TEST 4: a chunked body over client_max_body_size, in one packet: 413
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk4_$::R", 12000);
main::stripe_head('/hook', $body) . main::chunked($body, 1000)
--- error_code: 413
--- response_body_like: ^\{"type":"urn:ngx-pay:error:body_too_large".*"code":"body_too_large"\}$
--- error_log
pay: stripe rejected: body_too_large



=== TEST 5: the same, the body after a pause (the same answer whether the read waits or not; util/test-hostile makes sure it waits)
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk5_$::R", 12000);
[main::stripe_head('/hook', $body), main::chunked($body, 1000)]
--- raw_request_middle_delay: 0.3
--- error_code: 413
--- response_body_like: ^\{"type":"urn:ngx-pay:error:body_too_large".*"code":"body_too_large"\}$
--- error_log
pay: stripe rejected: body_too_large



=== TEST 6: an intent over the limit, after a pause: the module's 413 too
--- raw_request eval
[main::intent_head('/intents', 6),
 main::chunked('{"amount":2000,"currency":"usd",' . (' ' x 9000) . '}', 1000)]
--- raw_request_middle_delay: 0.3
--- error_code: 413
--- response_body_like: "code":"body_too_large"
--- error_log
pay: intent rejected: body_too_large



=== TEST 7: a chunked delivery larger than client_body_buffer_size: read back from its temporary file
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk7_$::R", 5000);
[main::stripe_head('/hook', $body), main::chunked($body, 700)]
--- raw_request_middle_delay: 0.1
--- error_code: 200
--- response_body eval
"id=evt_chunk7_$::R length=5000\n"



=== TEST 8: a delivery with Content-Length larger than the buffer: from the file
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk8_$::R", 5000);
["POST /hook HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
 . "Stripe-Signature: " . PayTest::stripe_header($body) . "\r\n"
 . "Content-Length: 5000\r\n\r\n", $body]
--- raw_request_middle_delay: 0.1
--- error_code: 200
--- response_body eval
"id=evt_chunk8_$::R length=5000\n"



=== TEST 9: client_body_in_file_only: a small chunked body in a file buffer
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk9_$::R");
main::stripe_head('/hook-in-file', $body) . main::chunked($body, 100)
--- error_code: 200
--- response_body eval
"id=evt_chunk9_$::R length=" . length(PayTest::stripe_event("evt_chunk9_$::R")) . "\n"



=== TEST 10: a chunked intent: answered
--- raw_request eval
main::intent_head('/intents', 10) . main::chunked($::INTENT, 3)
--- error_code: 201
--- response_body_like: "provider":"stripe"



=== TEST 11: a chunked intent spooled to a file: answered
--- raw_request eval
[main::intent_head('/intents', 11),
 main::chunked('{"amount":2000,' . (' ' x 3000) . '"currency":"usd"}', 500)]
--- raw_request_middle_delay: 0.1
--- error_code: 201
--- response_body_like: "provider":"stripe"



=== TEST 12: pipelined: a forged delivery, then a chunked genuine one on the same connection
--- raw_request eval
my $good = PayTest::stripe_event("evt_chunk12_$::R");
(my $forged = $good) =~ s/\}\z/ /;
"POST /hook HTTP/1.1\r\nHost: localhost\r\n"
. "Stripe-Signature: " . PayTest::stripe_header($good) . "\r\n"
. "Content-Length: " . length($forged) . "\r\n\r\n$forged"
. main::stripe_head('/hook', $good) . main::chunked($good, 5)
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay webhook verified: id "evt_chunk12_



=== TEST 13: nginx's own 413 (Content-Length over the limit) as problem+json with the documented error_page recipe
--- config
    location = /hook-recipe {
        client_max_body_size 8k;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        error_page 413 @pay_body_too_large;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location @pay_body_too_large {
        default_type application/problem+json;
        return 413 '{"type":"urn:ngx-pay:error:body_too_large","title":"Body too large","status":413,"detail":"the body is larger than client_max_body_size","code":"body_too_large"}\n';
    }
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk13_$::R", 12000);
"POST /hook-recipe HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Stripe-Signature: " . PayTest::stripe_header($body) . "\r\n"
. "Content-Length: 12000\r\n\r\n$body"
--- error_code: 413
--- response_body_like: ^\{"type":"urn:ngx-pay:error:body_too_large".*"code":"body_too_large"\}$



=== TEST 14: nginx's own 400 (a header too large) as problem+json with the same recipe at the server level
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RECIPE_PORT;
        large_client_header_buffers 2 1k;
        error_page 400 494 =400 @pay_bad_request;
        location @pay_bad_request {
            default_type application/problem+json;
            return 400 '{"type":"urn:ngx-pay:error:bad_request","title":"Bad request","status":400,"detail":"nginx refused the request","code":"bad_request"}\n';
        }
        location = /hook {
            pay_webhook stripe;
            pay_webhook_secret whsec_test_secret;
            proxy_pass http://127.0.0.1:$server_port/app;
        }
    }
--- config
    location = /recipe {
        proxy_set_header X-Big $http_x_big;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RECIPE_PORT/hook;
    }
--- request
POST /recipe
{}
--- more_headers eval
"X-Big: " . ('b' x 2000)
--- error_code: 400
--- response_body_like: ^\{"type":"urn:ngx-pay:error:bad_request".*"code":"bad_request"\}$



=== TEST 15: an unrelated error_page in the location: a chunked body over the limit is still the module's 413
--- config
    location = /hook-pages {
        client_max_body_size 8k;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        error_page 404 502 /oops;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk15_$::R", 12000);
[main::stripe_head('/hook-pages', $body), main::chunked($body, 1000)]
--- raw_request_middle_delay: 0.3
--- error_code: 413
--- response_body_like: ^\{"type":"urn:ngx-pay:error:body_too_large".*"code":"body_too_large"\}$



=== TEST 16: an error_page for 413 in the location: the operator's page wins over the module's
--- config
    location = /hook-own-413 {
        client_max_body_size 8k;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        error_page 413 @own_413;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location @own_413 {
        return 413 "the operator's own 413\n";
    }
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk16_$::R", 12000);
[main::stripe_head('/hook-own-413', $body), main::chunked($body, 1000)]
--- raw_request_middle_delay: 0.3
--- error_code: 413
--- response_body
the operator's own 413



=== TEST 17: a request smuggled in a chunked body over the limit, keep-alive: one answer, the connection closed
--- config
    location = /hook-keepalive {
        client_max_body_size 8k;
        lingering_timeout 1s;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk17_$::R");
"POST /hook-keepalive HTTP/1.1\r\nHost: localhost\r\n"
. "Stripe-Signature: " . PayTest::stripe_header($body) . "\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. "100000\r\nGET /smuggled_$::R HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 413
--- response_body_like: ^\{"type":"urn:ngx-pay:error:body_too_large".*"code":"body_too_large"\}$
--- no_error_log eval
["exited on signal", "[alert]", "[crit]", "smuggled_$::R"]



=== TEST 18: an error_page of the body read that leads to a pay location: a 500, not a hang
--- config
    location = /hook-to-pay {
        client_max_body_size 8k;
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        error_page 413 = /hook;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- raw_request eval
my $body = PayTest::stripe_event("evt_chunk18_$::R", 12000);
main::stripe_head('/hook-to-pay', $body) . main::chunked($body, 1000)
--- error_code: 500
--- response_body_like: "code":"internal_error"
--- error_log
an error_page redirected the request to a pay location
