# What an operator sees in the error log (docs/errors.md, "Log lines"):
# the first rejection of a code in a minute at pay_log_level (error by
# default), the rest of that minute at info; a store outage logged once
# when it starts and once when it ends, its requests at info; a duplicate
# leaves $pay_error empty; the breaker's changes logged once each.
#
# The first rejection of a block is sent by --- init, the second is the
# block's request: the log, read after it, holds both.  An outage and the
# breaker's changes are played by --- init (a real redis-server stopped
# and started again, the providers' stand-in failing on demand), which
# counts the lines they wrote; the counts are checked after the blocks.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;
use PayTest::Stub;

# a private Redis that TEST 5 stops and starts again on the same port
$ENV{TEST_NGINX_OUTAGE_REDIS_PORT} = PayTest::redis_server();

$ENV{TEST_NGINX_STUB_PORT} = PayTest::Stub::start();

# keys of this run never meet an earlier run's
our $R = sprintf '%x%x', time, $$;

our (%outage, %breaker);

# one request on its own connection: (status, body)
sub http {
    my ($method, $path, $headers, $body) = @_;

    $body //= '';

    # nginx may still be starting when --- init runs
    my $s;
    for (1 .. 50) {
        $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                   PeerPort => server_port(), Proto => 'tcp',
                                   Timeout => 10)
            and last;
        select undef, undef, undef, 0.1;
    }
    die "cannot connect: $!\n" unless $s;

    print $s "$method $path HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\n$headers"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";

    local $/;
    my $answer = <$s> // '';
    close $s;

    my ($status) = $answer =~ m{^HTTP/1\.\d (\d{3})};
    my (undef, $rest) = split /\r\n\r\n/, $answer, 2;

    return ($status // 0, $rest // '');
}

# For --- init: the first of two rejections
sub reject_once {
    my ($status) = http('POST', '/hook', '', '{}');
    die "the first rejection: $status\n" unless $status == 400;
}

sub delivery {
    my ($id) = @_;
    my $body = PayTest::stripe_event($id);
    return http('POST', '/hook', 'Stripe-Signature: '
                                 . PayTest::stripe_header($body) . "\r\n",
                $body);
}

sub error_log_lines {
    open my $in, '<', server_root() . '/logs/error.log' or return ();
    my @lines = <$in>;
    close $in;
    return @lines;
}

sub count {
    my ($re, @lines) = @_;
    return scalar grep { $_ =~ $re } @lines;
}

# For TEST 5's --- init: Redis answers, stops (5 deliveries refused), starts
# again; then the log lines of the outage are counted.
sub play_outage {
    my $port = $ENV{TEST_NGINX_OUTAGE_REDIS_PORT};
    my ($status, $i);

    # the worker may still be connecting: wait for a first answer
    for $i (1 .. 50) {
        ($status) = delivery("evt_lg_up_${R}_$i");
        last if $status == 200;
        select undef, undef, undef, 0.2;
    }
    die "before the outage: $status\n" unless $status == 200;

    # only the lines from here on count
    my $before = scalar(my @l = error_log_lines());

    PayTest::redis_stop($port);

    $outage{refused} = 0;
    for $i (1 .. 5) {
        ($status) = delivery("evt_lg_down_${R}_$i");
        $outage{refused}++ if $status == 503;
    }

    PayTest::redis_server(port => $port);

    # the worker reconnects with a backoff of at most 5 s
    for $i (1 .. 50) {
        ($status) = delivery("evt_lg_probe_${R}_$i");
        last if $status != 503;
        select undef, undef, undef, 0.2;
    }

    my @lines = error_log_lines();
    splice @lines, 0, $before;

    $outage{start} = count(qr/\[error\] .*pay_store "down1" is unavailable/,
                           @lines);
    $outage{end} = count(qr/\[error\] .*pay_store "down1" is available again /
                         . qr/after \d+ ms, \d+ requests affected/, @lines);
    $outage{info} = count(qr/\[info\] .*pay: stripe rejected: /
                          . qr/store_unavailable/, @lines);
    $outage{loud} = count(qr/\[(?:error|warn)\] .*rejected: store_unavailable/,
                          @lines);
}

sub intent {
    my ($key) = @_;
    return http('POST', '/breaker', "Idempotency-Key: k-$R-$key\r\n",
                '{"amount":2000,"currency":"usd"}');
}

# For TEST 6's --- init: Stripe fails twice (the breaker opens), is skipped,
# is probed after the cool-down and fails (open again), is probed again and
# answers (closed); then the log lines of each change are counted.
sub play_breaker {
    http('GET', '/stub/reset', '');
    http('GET', '/stub/fail?path=/v1/payment_intents&status=503&times=3', '');

    intent('b1');                       # stripe 503, paypal 201
    intent('b2');                       # stripe 503: open
    intent('b3');                       # skipped
    select undef, undef, undef, 2.3;
    intent('b4');                       # the probe: 503, open again
    intent('b5');                       # skipped
    select undef, undef, undef, 2.3;
    intent('b6');                       # the probe: 201, closed

    my @lines = error_log_lines();

    $breaker{opened} = count(qr/\[warn\] .*pay: intent: stripe failed 2 times /
                             . qr/in a row, breaker open: skipped for 2000 ms/,
                             @lines);
    $breaker{probe} = count(qr/\[notice\] .*pay: intent: stripe breaker half /
                            . qr/open, this request probes it/, @lines);
    $breaker{reopened} = count(qr/\[warn\] .*pay: intent: stripe breaker probe /
                               . qr/failed, open again/, @lines);
    $breaker{closed} = count(qr/\[notice\] .*pay: intent: stripe answered, /
                             . qr/breaker closed/, @lines);
}

repeat_each(1);

# blocks: 49 subtests; after them, 9 counts of TEST 5 and TEST 6
plan tests => 49 + 9;

no_shuffle();
run_tests();

Test::More::is($outage{refused}, 5, 'outage: the 5 deliveries got 503');
Test::More::is($outage{start}, 1, 'outage: one line when it starts');
Test::More::is($outage{end}, 1, 'outage: one line when it ends');
Test::More::cmp_ok($outage{info}, '>=', 5,
                   'outage: each refused delivery logged at info');
Test::More::is($outage{loud}, 0,
               'outage: no refused delivery logged at warn or error');

Test::More::is($breaker{opened}, 1, 'breaker: opened, logged once');
Test::More::is($breaker{probe}, 2, 'breaker: each probe logged once');
Test::More::is($breaker{reopened}, 1, 'breaker: the failed probe, once');
Test::More::is($breaker{closed}, 1, 'breaker: closed, logged once');

__DATA__

=== TEST 1: by default, the first rejection of a code is logged at error, the next at info
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- init
main::reject_once();
--- request
POST /hook
{}
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log eval
[qr/\[error\] .*pay: stripe rejected: signature_missing \(/,
 qr/\[info\] .*pay: stripe rejected: signature_missing \(/]
--- no_error_log
[warn]
[alert]
[crit]



=== TEST 2: pay_log_level warn: the first at warn, the next at info, never at error
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_log_level warn;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- init
main::reject_once();
--- request
POST /hook
{}
--- error_code: 400
--- response_body_like: "code":"signature_missing"
--- error_log eval
[qr/\[warn\] .*pay: stripe rejected: signature_missing \(/,
 qr/\[info\] .*pay: stripe rejected: signature_missing \(/]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: pay_log_level info: every client fault at info, as before
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_log_level info;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- init
main::reject_once();
--- request
POST /hook
{}
--- error_code: 400
--- error_log eval
[qr/\[info\] .*pay: stripe rejected: signature_missing \(/]
--- no_error_log
[error]
[warn]
[alert]
[crit]



=== TEST 4: a duplicate is no error: $pay_error is empty, $pay_dedupe says it
The access log uses the documented log_format (docs/operations.md).
--- http_config
    pay_store local shm=1m;
    log_format pay '$remote_addr [$time_local] "$request" $status '
                   'provider=$pay_provider event=$pay_event_id '
                   'dedupe=$pay_dedupe error=$pay_error';
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        access_log logs/pay.log pay;
        add_header X-Pay-Error "[$pay_error]" always;
        add_header X-Pay-Dedupe "[$pay_dedupe]" always;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app\n";
    }
--- request eval
[PayTest::stripe_delivery("/hook", "evt_lg_dup_$::R"), PayTest::stripe_delivery("/hook", "evt_lg_dup_$::R")]
--- more_headers eval
[PayTest::stripe_signature("evt_lg_dup_$::R"), PayTest::stripe_signature("evt_lg_dup_$::R")]
--- error_code eval
[200, 200]
--- response_body eval
["app\n", $PayTest::DUPLICATE]
--- response_headers eval
["X-Pay-Error: []\nX-Pay-Dedupe: [new]",
 "X-Pay-Error: []\nX-Pay-Dedupe: [duplicate]"]
--- no_error_log
rejected: duplicate
[alert]
[crit]



=== TEST 5: a store outage: one line when it starts, one when it ends, the 503s at info
--- init
main::play_outage();
--- http_config
    pay_store down1 redis=127.0.0.1:$TEST_NGINX_OUTAGE_REDIS_PORT timeout=1s;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe down1;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
PayTest::stripe_delivery("/hook", "evt_lg_after_$::R")
--- more_headers eval
PayTest::stripe_signature("evt_lg_after_$::R")
--- error_code: 200
--- response_body
app: new
--- error_log eval
[qr/\[error\] .*pay_store "down1" is unavailable: the requests that need it get 503 store_unavailable/,
 qr/\[error\] .*pay_store "down1" is available again after \d+ ms, \d+ requests affected/,
 qr/\[info\] .*pay: stripe rejected: store_unavailable \(the dedupe store is unavailable\)/]
--- no_error_log
[alert]
[crit]
--- timeout: 15



=== TEST 6: breaker open, half-open probe, probe failed and closed: each logged once
--- init
main::play_breaker();
--- http_config
    pay_store main shm=4m;
--- config
    location = /breaker {
        pay_intent "stripe paypal";
        pay_intent_breaker fails=2 cooldown=2s;
        pay_idempotency       main;
        pay_stripe_api        /_pay/stripe/;
        pay_stripe_key        sk_test_stub;
        pay_paypal_api        /_pay/paypal/;
        pay_paypal_client     paypal_client_id paypal_client_secret;
    }
    location /_pay/stripe/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /_pay/paypal/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
        proxy_read_timeout 2s;
        subrequest_output_buffer_size 64k;
    }
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/__stub/;
    }
--- request
GET /stub/count?path=/v1/payment_intents
--- response_body_like: ^4$
--- log_level: info
--- error_log eval
[qr/\[warn\] .*pay: intent: stripe failed 2 times in a row, breaker open/,
 qr/\[notice\] .*pay: intent: stripe breaker half open, this request probes it/,
 qr/\[warn\] .*pay: intent: stripe breaker probe failed, open again/,
 qr/\[notice\] .*pay: intent: stripe answered, breaker closed/]
--- no_error_log
[alert]
[crit]
--- timeout: 15
