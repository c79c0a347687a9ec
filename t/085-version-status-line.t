# What the module says about itself: its version, logged at notice level
# when nginx loads a configuration and in $pay_version; and the status
# line of its own 422 answers, which nginx's table of reason phrases
# leaves empty ("HTTP/1.1 422 ").
#
# The version is read from ngx_pay_module/ngx_http_pay_version.h, where it
# is written once.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

our $VERSION_STRING;

{
    open my $fh, '<', 'ngx_pay_module/ngx_http_pay_version.h'
        or die "cannot read the version header: $!";
    local $/;
    my $h = <$fh>;
    ($VERSION_STRING) = $h =~ /#define\s+NGX_PAY_VERSION\s+"([^"]+)"/
        or die "no NGX_PAY_VERSION in the version header";
}

repeat_each(1);

plan tests => 6 + 5;

run_tests();

__DATA__

=== TEST 1: $pay_version, and the notice nginx logs when it loads the module
--- http_config
    pay_store main shm=1m;
--- config
    location = /version {
        add_header Pay-Version $pay_version;
        return 200 "$pay_version\n";
    }
--- request
GET /version
--- response_headers eval
"Pay-Version: $::VERSION_STRING"
--- response_body eval
"$::VERSION_STRING\n"
--- error_log eval
qr/\[notice\] .*ngx_pay\/\Q$::VERSION_STRING\E$/m
--- no_error_log
[alert]
[crit]



=== TEST 2: the module's 422 has a reason phrase in its status line
--- http_config
    pay_store main shm=1m;
--- config
    location = /intents {
        pay_intent       stripe;
        pay_idempotency  main;
        pay_stripe_api   /_pay/stripe/;
        pay_stripe_key   sk_test_status_line;
    }

    location /_pay/stripe/ {
        internal;
        return 500;
    }
--- request
POST /intents
{"amount":-1,"currency":"usd"}
--- more_headers
Idempotency-Key: status-line-1
--- error_code: 422
--- raw_response_headers_like: ^HTTP/1\.1 422 Unprocessable Content\r\n
--- response_body_like: "code":"validation_failed"
--- no_error_log
[alert]
[crit]
