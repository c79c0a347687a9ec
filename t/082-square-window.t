# Square signs no timestamp, but its body's created_at is signed (and kept
# by every retry): pay_webhook_square_window bounds it, either way, and is
# off unless set.  Also: $pay_event_livemode comes from the unsigned
# Square-Environment header, so anyone can set it.
#
# Every block: the status, the body, one expected error-log line and no
# [alert] or [crit] (5 tests).

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use POSIX ();

our $URL = 'https://shop.example/hooks/square';
our $KEY = 'sq_window_key';

# a Square event created $age seconds ago ($created: the raw value)
sub event {
    my ($id, $age, $created) = @_;
    $created //= POSIX::strftime('%Y-%m-%dT%H:%M:%S.123456789Z',
                                 gmtime(time - $age));
    my $member = defined $created ? qq("created_at":"$created",) : '';
    $member = '' if $created eq '-';
    return qq({"merchant_id":"M1","type":"payment.created","event_id":"$id",)
         . $member . qq("data":{"type":"payment","id":"p1","object":{}}});
}

# each body made once, so its request and its signature agree
our %BODY = (
    old      => event("sq_old_1", 0, "2019-01-01T00:00:00Z"),
    recent   => event("sq_recent", 3600),
    stale    => event("sq_stale", 3 * 3600),
    future   => event("sq_future", -3 * 3600),
    no_time  => event("sq_no_time", 0, "-"),
    bad_time => event("sq_bad_time", 0, "1764547200"),
    forged   => event("sq_forged", 3 * 3600),
    env      => event("sq_env", 0, "2026-01-01T00:00:00Z"),
);

sub delivery {
    my ($body) = @_;
    return "POST /hook\n$body";
}

sub signature {
    my ($body) = @_;
    return "x-square-hmacsha256-signature: "
         . PayTest::square_signature($URL, $body, $KEY);
}

repeat_each(1);

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config',
                      ($block->http_config // '') . "\n    pay_dedupe off;\n");
    $block->set_value('config', ($block->config // '') . <<'_EOC_');
    location = /app {
        return 200 "id=$http_pay_event_id livemode=$http_pay_event_livemode\n";
    }
_EOC_
});

plan tests => repeat_each() * (blocks() * 5);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: off by default: an event from years ago is accepted
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{old})
--- more_headers eval
main::signature($::BODY{old})
--- response_body
id=sq_old_1 livemode=
--- error_log
pay webhook verified: id "sq_old_1"
--- no_error_log
[alert]
[crit]



=== TEST 2: within the window (one hour ago, window 2h): accepted
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        pay_webhook_square_window 2h;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{recent})
--- more_headers eval
main::signature($::BODY{recent})
--- response_body
id=sq_recent livemode=
--- error_log
pay webhook verified: id "sq_recent"
--- no_error_log
[alert]
[crit]



=== TEST 3: older than the window: timestamp_out_of_tolerance
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        pay_webhook_square_window 2h;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{stale})
--- more_headers eval
main::signature($::BODY{stale})
--- error_code: 400
--- response_body_like: "detail":"created_at is outside pay_webhook_square_window","code":"timestamp_out_of_tolerance"
--- error_log
pay: square rejected: timestamp_out_of_tolerance
--- no_error_log
[alert]
[crit]



=== TEST 4: as far in the future: refused too
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        pay_webhook_square_window 2h;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{future})
--- more_headers eval
main::signature($::BODY{future})
--- error_code: 400
--- response_body_like: "code":"timestamp_out_of_tolerance"
--- error_log
pay: square rejected: timestamp_out_of_tolerance
--- no_error_log
[alert]
[crit]



=== TEST 5: with the window on, a body without created_at is malformed
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        pay_webhook_square_window 72h;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{no_time})
--- more_headers eval
main::signature($::BODY{no_time})
--- error_code: 400
--- response_body_like: "detail":"created_at is missing or not an RFC 3339 date-time"
--- error_log
pay: square rejected: body_malformed
--- no_error_log
[alert]
[crit]



=== TEST 6: and so is one that is not an RFC 3339 date-time
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        pay_webhook_square_window 72h;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{bad_time})
--- more_headers eval
main::signature($::BODY{bad_time})
--- error_code: 400
--- response_body_like: "code":"body_malformed"
--- error_log
pay: square rejected: body_malformed
--- no_error_log
[alert]
[crit]



=== TEST 7: a bad signature is still reported as such, before the time
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        pay_webhook_square_window 2h;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{forged})
--- more_headers
x-square-hmacsha256-signature: GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=
--- error_code: 400
--- response_body_like: "code":"signature_mismatch"
--- error_log
pay: square rejected: signature_mismatch
--- no_error_log
[alert]
[crit]



=== TEST 8: $pay_event_livemode is whatever the unsigned Square-Environment says
The same signed body, sent with "Production": anyone who can replay or
forge the header decides the value, so it must not decide anything.
--- config
    location = /hook {
        pay_webhook square;
        pay_webhook_url https://shop.example/hooks/square;
        pay_webhook_secret sq_window_key;
        proxy_set_header Pay-Event-Id $pay_event_id;
        proxy_set_header Pay-Event-Livemode $pay_event_livemode;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
main::delivery($::BODY{env})
--- more_headers eval
main::signature($::BODY{env})
. "\nSquare-Environment: Production"
--- response_body
id=sq_env livemode=true
--- error_log
pay webhook verified: id "sq_env"
--- no_error_log
[alert]
[crit]
