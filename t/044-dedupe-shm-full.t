# A full shared-memory zone (docs/operations.md, "When the zone is full"):
# new events keep coming in and evict the oldest processed ones, never
# "is full" while nothing is in flight, with keys that take 128-byte slots
# and keys that take 256-byte ones.  A 32k zone holds 128 or 64
# processed events; 240 go through one after the other, then the first
# one is new again (evicted) and the last one still a duplicate.
#
# Sequential deliveries only: the "is full" of a zone whose records moved
# to smaller slots than their claims' (CHANGELOG 0.4.0) needed more claims
# in flight than a slab page of them holds (dozens, as in make bench's
# dedupe-shm-full), which these blocks cannot make.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

repeat_each(1);

my $events = 240;

# the events of one block: evt_full_<tag>_0001 ...
sub ids {
    my ($tag) = @_;
    return map { sprintf "evt_full_%s_%04d", $tag, $_ } 1 .. $events;
}

sub deliveries {
    my ($tag) = @_;
    my @ids = ids($tag);
    push @ids, $ids[0], $ids[-1];
    return [map { PayTest::stripe_delivery("/hook", $_) } @ids];
}

sub signatures {
    my ($tag) = @_;
    my @ids = ids($tag);
    push @ids, $ids[0], $ids[-1];
    return [map { PayTest::stripe_signature($_) } @ids];
}

sub bodies {
    return [("app: new\n") x ($events + 1), $PayTest::DUPLICATE];
}

sub codes {
    return [(200) x ($events + 2)];
}

# per block and request: status, body and the three no_error_log lines
plan tests => 2 * 5 * ($events + 2);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: keys of 128-byte slots: a full zone evicts, never "is full"
--- http_config
    pay_store small shm=32k;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe small namespace=full;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
main::deliveries("a")
--- more_headers eval
main::signatures("a")
--- error_code eval
main::codes()
--- response_body eval
main::bodies()
--- no_error_log
is full
[alert]
[crit]



=== TEST 2: keys of 256-byte slots (a hashed namespace): the same
--- http_config
    pay_store small shm=32k;
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret whsec_test_secret;
        pay_dedupe small namespace=a:namespace:that:is:hashed;
        proxy_set_header Pay-Dedupe $pay_dedupe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /app {
        return 200 "app: $http_pay_dedupe\n";
    }
--- request eval
main::deliveries("b")
--- more_headers eval
main::signatures("b")
--- error_code eval
main::codes()
--- response_body eval
main::bodies()
--- no_error_log
is full
[alert]
[crit]
