package PayTest::Stub;

# A local stand-in of the Stripe, PayPal and Square HTTP APIs, for the
# suites of payment-intent creation and PayPal verification.  Core Perl
# only (IO::Socket::INET, IO::Select, JSON::PP, Digest::SHA, MIME::Base64).
#
#   use lib 't/lib';
#   use PayTest::Stub;
#
#   my $port = PayTest::Stub::start(cert_dir => $pki->{dir});
#   $ENV{TEST_NGINX_STUB_PORT} = $port;
#   ...
#       location /_pay/stripe/ {
#           internal;
#           proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
#       }
#
#   PayTest::Stub::count('/v1/oauth2/token');         # 1
#   PayTest::Stub::fail('/v1/payment_intents', 503, times => 2);
#
# start(%settings) forks one server process on a free 127.0.0.1 port and
# returns the port; it listens before start() returns.  It is a single
# process with a select loop (connections are served concurrently, all
# state is in that process's memory), killed when the script that started
# it exits (a forked child exiting does not kill it), and it exits by
# itself when that script is gone.  stop() kills it earlier.
#
# HTTP: HTTP/1.0 and 1.1, keep-alive (1.1 unless "Connection: close", 1.0
# only with "Connection: keep-alive"), pipelining, Content-Length and
# chunked request bodies, "Expect: 100-continue".  Every response has a
# Content-Length.
#
# == Settings ==============================================================
#
# Given to start() (key => value) or changed by /__stub/set; reset goes
# back to what start() was given.
#
#   stripe_key             sk_test_stub          Stripe's secret key
#   paypal_client_id       paypal_client_id      OAuth client (Basic auth)
#   paypal_client_secret   paypal_client_secret
#   paypal_expires_in      32400                 token lifetime, seconds;
#                                                tokens do expire
#   paypal_good_signature  good-signature        verify-webhook-signature
#   paypal_webhook_id      WH_ID_1                 answers SUCCESS for these
#   paypal_app_id          APP-80W284485P519543T
#   paypal_api_base        https://api.sandbox.paypal.com   in links
#   paypal_web_base        https://www.sandbox.paypal.com   approve links
#   square_token           sq_token_stub         Square access token
#   square_location        LSTUBMAIN0001         default location_id
#   square_link_base       https://square.link/u/   payment link URLs
#   cert_dir               (none)                where certs are served from
#
# == Provider routes ========================================================
#
# Shapes are the providers' (ids random, of the providers' formats).  Any
# other path answers 404 in the shape of the provider its prefix belongs to
# (/v1/oauth2, /v1/notifications, /v2/checkout: PayPal; /v2/*: Square;
# other /v1/*: Stripe).
#
# PayPal
#   POST /v1/oauth2/token
#       Authorization: Basic base64(id:secret) of the configured client,
#       else 401 {"error":"invalid_client","error_description":"Client
#       Authentication failed"}; body grant_type=client_credentials, else
#       400 {"error":"unsupported_grant_type",...}.  200 {"scope","access_token":
#       "A21AA...","token_type":"Bearer","app_id","expires_in","nonce"}.
#       The token is valid until revoke_tokens, reset or expires_in.
#   POST /v1/notifications/verify-webhook-signature
#       Bearer <valid token> else 401 {"error":"invalid_token",
#       "error_description":"Token signature verification failed"}; JSON
#       with auth_algo, cert_url, transmission_id, transmission_sig,
#       transmission_time, webhook_id (strings) and webhook_event (an
#       object), else 400 {"name":"VALIDATION_ERROR",...,"details":[...]}
#       (not JSON: 400 MALFORMED_REQUEST).  200 {"verification_status":
#       "SUCCESS"} when transmission_sig and webhook_id are the configured
#       ones, else {"verification_status":"FAILURE"}.  The raw body is
#       recorded (see /__stub/requests, /__stub/body).
#   POST /v2/checkout/orders
#       Bearer as above.  JSON {"intent":"CAPTURE"|"AUTHORIZE",
#       "purchase_units":[{"amount":{"currency_code","value"},...}],
#       "application_context"?, "payment_source"?}; checked as PayPal does
#       (400 INVALID_REQUEST with details MISSING_REQUIRED_PARAMETER,
#       INVALID_PARAMETER_VALUE, DECIMAL_PRECISION (JPY, HUF, TWD: no
#       decimals; others at most 2); 422 UNPROCESSABLE_ENTITY
#       CURRENCY_NOT_SUPPORTED outside PayPal's currencies).  201
#       {"id":"<17 chars>","status":"CREATED","links":[self, approve
#       (<paypal_web_base>/checkoutnow?token=ID), update, capture|authorize]};
#       with payment_source: "PAYER_ACTION_REQUIRED", links self and
#       payer-action, and "payment_source".  "Prefer: return=representation"
#       adds intent, purchase_units, create_time.  The same
#       PayPal-Request-Id gets the first answer again (PayPal returns "the
#       latest status of the previous request" with that id, whatever the
#       body).
#   GET /v2/checkout/orders/<id>     the order (full representation).
#   GET /v1/notifications/certs/<name>
#       The file <name> of cert_dir ([A-Za-z0-9._-]+), 404 otherwise.
#
# Stripe
#   POST /v1/payment_intents
#       Authorization: Bearer <stripe_key> (or Basic with it as user), else
#       401 {"error":{"type":"invalid_request_error","message":"Invalid API
#       Key provided: sk_test_****...."}} (no key: "You did not provide an
#       API key...").  Form-encoded body, nested keys a[b]; params checked
#       as Stripe does: amount (required, integer, at least 50 cents in
#       usd/eur/cad/aud/jpy, 30 in gbp, at most 99999999), currency
#       (required), unknown params -> 400 parameter_unknown, metadata
#       limits, return_url only with confirm=true.  200 PaymentIntent
#       {"id":"pi_...","object":"payment_intent","amount","currency",
#       "status":"requires_payment_method","client_secret":
#       "pi_..._secret_...","automatic_payment_methods":{"enabled":true},
#       ...}.  confirm=true with payment_method: "succeeded", except
#       pm_card_chargeDeclined (402 card_declined / generic_decline) and
#       pm_card_chargeDeclinedInsufficientFunds (insufficient_funds).
#       Idempotency-Key: same key + same body -> the saved answer again
#       with "Idempotent-Replayed: true"; same key, other body -> 400
#       {"error":{"type":"idempotency_error","message":"Keys for idempotent
#       requests can only be used with the same parameters they were first
#       used with..."}}; same key on another path -> 400 idempotency_error.
#       As at Stripe, 400 validation errors are not saved (200 and 402 are).
#       Every answer has Request-Id: req_...
#   GET /v1/payment_intents/<id>     the saved PaymentIntent.
#
# Square
#   Authorization: Bearer <square_token>, else 401 {"errors":[{"category":
#   "AUTHENTICATION_ERROR","code":"UNAUTHORIZED","detail":...}]}.  Errors
#   are {"errors":[{"category","code","detail","field"?}]}.
#   POST /v2/payments
#       JSON {source_id, idempotency_key, amount_money {amount, currency},
#       autocomplete?, location_id?, ...}; missing -> 400
#       MISSING_REQUIRED_PARAMETER (field named).  200 {"payment":{"id",
#       "status":"COMPLETED" (autocomplete absent/true) | "APPROVED"
#       (autocomplete false),"amount_money","total_money","approved_money",
#       "source_type":"CARD","card_details":{...},"location_id","order_id",
#       "receipt_number","receipt_url","created_at","updated_at",...}}.
#       source_id cnon:card-nonce-declined -> 402 PAYMENT_METHOD_ERROR
#       GENERIC_DECLINE with the FAILED payment.
#   POST /v2/online-checkout/payment-links
#       JSON {idempotency_key?, quick_pay {name, price_money {amount,
#       currency}, location_id} | order {...}, checkout_options?, ...}.
#       200 {"payment_link":{"id","version":1,"order_id","url":
#       "<square_link_base><8 chars>","long_url","created_at"},
#       "related_resources":{"orders":[{... "state":"DRAFT" ...}]}}.
#   Both: same idempotency_key + same body -> the same answer; same key,
#   other body -> 400 INVALID_REQUEST_ERROR IDEMPOTENCY_KEY_REUSED.
#
# == Control ================================================================
#
# Not counted nor recorded.  Answers are text/plain ("ok\n") unless said.
#
#   GET /__stub/reset           forget counts, recorded requests, faults,
#                               tokens, saved idempotent answers and
#                               objects; settings back to start()'s
#   GET /__stub/count?path=P    "N\n": requests P received (P is the path
#                               without query; no path: all requests)
#   GET /__stub/requests?path=P JSON array of the recorded requests of P
#                               (all without path), oldest first:
#                               {"method","path","query","uri","version",
#                               "headers":{lower-case name: value, repeated
#                               ones joined by ", "},"body" (the raw body as
#                               text; bytes not UTF-8 as Latin-1),
#                               "body_base64","time"}
#   GET /__stub/body?path=P&n=I the raw body of request I of P (0 first,
#                               negative from the end; default -1, the
#                               last), application/octet-stream; 404 none
#   GET /__stub/fail?path=P&status=S&times=N[&code=C][&message=M]
#                  [&decline_code=D][&retry_after=R][&body=B][&ms=MS]
#                               the next N (default 1; -1: until reset,
#                               0: clear) requests of P answer status S
#                               (100-599) with the provider's error shape
#                               for it (C, M, D change code, message and
#                               Stripe's decline_code; B replaces the body;
#                               R adds Retry-After), or S is:
#                                 timeout  read the request, never answer
#                                 close    close without answering
#                                 reset    close with a TCP RST
#                                 delay    the normal answer, MS ms late
#                               (MS, default 0, also delays an error
#                               answer).  Injected answers are not saved
#                               for idempotency.  One fault per path; a new
#                               one replaces it.
#   GET /__stub/revoke_tokens   every PayPal token issued so far is invalid
#   GET /__stub/set?k=v&k2=v2   change settings (400 for an unknown one)
#   GET /__stub/settings        JSON of the settings
#   GET /__stub/ping            "pong\n"
#
# == Perl functions =========================================================
#
# They talk to the stub over HTTP (so they work from "--- ... eval" code),
# to the last started one ($PayTest::Stub::PORT, else
# $ENV{TEST_NGINX_STUB_PORT}):
#
#   start(%settings) -> port     stop()            port()   url()
#   reset()                      count($path) -> N
#   requests($path) -> list of hash refs (body: the raw bytes)
#   last_body($path) -> the raw body of the last request of $path, or undef
#   fail($path, $status, %opt)   opt: times code message decline_code
#                                     retry_after body ms
#   revoke_tokens()              set(key => value, ...)
#   control($name, %query) -> the body of /__stub/$name?query

use strict;
use warnings;

use B ();
use Carp qw(croak);
use Digest::SHA qw(sha256_hex);
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use IO::Select;
use IO::Socket::INET;
use File::Spec ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();

our $PORT;

my %DEFAULTS = (
    stripe_key            => 'sk_test_stub',
    paypal_client_id      => 'paypal_client_id',
    paypal_client_secret  => 'paypal_client_secret',
    paypal_expires_in     => 32400,
    paypal_good_signature => 'good-signature',
    paypal_webhook_id     => 'WH_ID_1',
    paypal_app_id         => 'APP-80W284485P519543T',
    paypal_api_base       => 'https://api.sandbox.paypal.com',
    paypal_web_base       => 'https://www.sandbox.paypal.com',
    square_token          => 'sq_token_stub',
    square_location       => 'LSTUBMAIN0001',
    square_link_base      => 'https://square.link/u/',
    cert_dir              => '',
);

my %PIDS;    # port => [pid, the process that started it]

my $JSON = JSON::PP->new->utf8->canonical;
my $CRLF = "\r\n";

# ---------------------------------------------------------------------------
# the parent's side

sub start {
    my (%opt) = @_;

    for my $k (keys %opt) {
        croak "PayTest::Stub::start: unknown setting '$k'"
            unless exists $DEFAULTS{$k};
    }
    my %conf = (%DEFAULTS, %opt);
    $conf{cert_dir} = File::Spec->rel2abs($conf{cert_dir})
        if length $conf{cert_dir};

    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 128, ReuseAddr => 1,
    ) or croak "PayTest::Stub: cannot listen: $!";
    my $port = $listen->sockport;

    my $parent = $$;
    my $pid = fork;
    croak "PayTest::Stub: cannot fork: $!" unless defined $pid;

    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP ALRM CHLD);
        $SIG{PIPE} = 'IGNORE';
        srand(time ^ ($$ << 15) ^ int(Time::HiRes::time() * 1e6));
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';    # not the TAP stream
        my $ok = eval { _serve($listen, \%conf, $parent); 1 };
        print STDERR "PayTest::Stub: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }

    close $listen;
    $PIDS{$port} = [$pid, $$];
    $PORT = $port;
    return $port;
}

sub stop {
    my ($port) = @_;
    $port //= $PORT;
    return unless defined $port && $PIDS{$port} && $PIDS{$port}[1] == $$;
    my ($pid) = @{ delete $PIDS{$port} };
    local $?;
    kill 'KILL', $pid;
    waitpid $pid, 0;
    undef $PORT if defined $PORT && $PORT == $port;
}

END {
    local $?;    # keep the script's exit status
    for my $port (keys %PIDS) {
        my ($pid, $owner) = @{ $PIDS{$port} };
        next unless $owner == $$;    # a forked child leaves it running
        kill 'KILL', $pid;
        waitpid $pid, 0;
        delete $PIDS{$port};
    }
}

sub port {
    my $p = $PORT // $ENV{TEST_NGINX_STUB_PORT};
    croak "PayTest::Stub: no stub started (no TEST_NGINX_STUB_PORT)"
        unless $p;
    return $p;
}

sub url { return 'http://127.0.0.1:' . port() }

sub _uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# GET /__stub/$name?%query on the stub; the body (dies unless 200)
sub control {
    my ($name, @query) = @_;
    my @q;
    while (@query) {
        my ($k, $v) = splice @query, 0, 2;
        push @q, _uri_escape($k) . '=' . _uri_escape($v // '');
    }
    my $target = "/__stub/$name" . (@q ? '?' . join('&', @q) : '');
    my ($status, $body) = _http_get($target);
    croak "PayTest::Stub: GET $target: $status: $body" unless $status == 200;
    return $body;
}

sub _http_get {
    my ($target) = @_;
    my $port = port();
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
        Timeout => 5,
    ) or croak "PayTest::Stub: cannot connect to 127.0.0.1:$port: $!";
    binmode $s;
    print $s "GET $target HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    local $/;
    my $resp = <$s>;
    close $s;
    croak "PayTest::Stub: no answer to GET $target"
        unless defined $resp && $resp =~ m{\AHTTP/1\.\d (\d{3})};
    my $status = $1;
    my $i = index $resp, "\r\n\r\n";
    return ($status, $i < 0 ? '' : substr($resp, $i + 4));
}

sub reset { control('reset'); return 1 }

sub count {
    my ($path) = @_;
    my $n = control('count', defined $path ? (path => $path) : ());
    $n =~ s/\s+//g;
    return 0 + $n;
}

sub requests {
    my ($path) = @_;
    my $list = JSON::PP->new->utf8->decode(
        control('requests', defined $path ? (path => $path) : ()));
    $_->{body} = decode_base64($_->{body_base64}) for @$list;
    return @$list;
}

sub last_body {
    my ($path) = @_;
    my @q = ('n', -1, defined $path ? (path => $path) : ());
    my $target = '/__stub/body?' . join '&',
        map { _uri_escape($q[2 * $_]) . '=' . _uri_escape($q[2 * $_ + 1]) }
            0 .. $#q / 2;
    my ($status, $body) = _http_get($target);
    return undef if $status == 404;
    croak "PayTest::Stub: GET $target: $status: $body" unless $status == 200;
    return $body;
}

sub fail {
    my ($path, $status, %opt) = @_;
    croak "PayTest::Stub::fail: path and status are needed"
        unless defined $path && defined $status;
    control('fail', path => $path, status => $status, %opt);
    return 1;
}

sub revoke_tokens { control('revoke_tokens'); return 1 }

sub set {
    my (%kv) = @_;
    control('set', %kv);
    return 1;
}

# ---------------------------------------------------------------------------
# the server, in the child

my %ST;    # the stub's state, in the child

sub _reset_state {
    my ($conf) = @_;
    %ST = (
        conf    => { %$conf },
        start   => { %$conf },
        count   => {},
        total   => 0,
        reqs    => [],
        faults  => {},
        tokens  => {},    # token => expiry time
        idem    => {},    # "provider\0key" => saved answer
        objects => {},    # id => object (intents, orders)
    );
}

sub _serve {
    my ($listen, $conf, $parent) = @_;

    _reset_state($conf);

    $listen->blocking(0);
    my $rsel = IO::Select->new($listen);
    my %conns;

    for (;;) {
        POSIX::_exit(0) if getppid() != $parent;

        my $now = Time::HiRes::time();
        my $wait = 0.5;
        my $wsel = IO::Select->new;

        for my $c (values %conns) {
            while (@{ $c->{queue} } && $c->{queue}[0]{due} <= $now) {
                my $item = shift @{ $c->{queue} };
                $c->{out} .= $item->{bytes} if defined $item->{bytes};
                $c->{after} = $item->{after} if $item->{after};
                last if $c->{after};
            }
            if (@{ $c->{queue} } && !$c->{after}) {
                my $due = $c->{queue}[0]{due} - $now;
                $wait = $due if $due < $wait;
            }
            if (length $c->{out}) {
                $wsel->add($c->{sock});
            } elsif ($c->{after}) {
                _finish($c, \%conns, $rsel);
            }
        }
        $wait = 0 if $wait < 0;

        my ($r, $w) = IO::Select->select($rsel, $wsel->count ? $wsel : undef,
                                         undef, $wait);

        for my $fh (@{ $w || [] }) {
            my $fd = fileno $fh;
            my $c = defined $fd ? $conns{$fd} : undef or next;
            my $n = syswrite $fh, $c->{out};
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                _drop($c, \%conns, $rsel);
                next;
            }
            substr $c->{out}, 0, $n, '';
            _finish($c, \%conns, $rsel) if !length $c->{out} && $c->{after};
        }

        for my $fh (@{ $r || [] }) {
            if ($fh == $listen) {
                while (my $s = $listen->accept) {
                    $s->blocking(0);
                    binmode $s;
                    $rsel->add($s);
                    $conns{ fileno $s } = {
                        sock => $s, in => '', out => '', queue => [],
                        last_due => 0, hold => 0, after => undef,
                    };
                }
                next;
            }

            my $fd = fileno $fh;
            my $c = defined $fd ? $conns{$fd} : undef or next;
            my $n = sysread $fh, my $buf, 65536;
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                _drop($c, \%conns, $rsel);
                next;
            }
            if ($n == 0) {
                _drop($c, \%conns, $rsel);
                next;
            }
            next if $c->{hold} || $c->{after};
            $c->{in} .= $buf;
            _process($c);
        }
    }
}

sub _drop {
    my ($c, $conns, $rsel) = @_;
    $rsel->remove($c->{sock});
    delete $conns->{ fileno $c->{sock} };
    close $c->{sock};
}

# after the last bytes: close, or reset
sub _finish {
    my ($c, $conns, $rsel) = @_;
    if ($c->{after} eq 'reset') {
        setsockopt $c->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0);
    }
    _drop($c, $conns, $rsel);
}

sub _enqueue {
    my ($c, $bytes, $delay, $after) = @_;
    my $due = Time::HiRes::time() + ($delay // 0);
    $due = $c->{last_due} if $due < $c->{last_due};    # in order
    $c->{last_due} = $due;
    push @{ $c->{queue} }, { due => $due, bytes => $bytes, after => $after };
}

# parses and answers every complete request in the buffer
sub _process {
    my ($c) = @_;

    while (!$c->{hold} && !$c->{after}) {
        my $req = $c->{req};

        if (!$req) {
            $c->{in} =~ s/\A(?:\r?\n)+//;
            my $end = index $c->{in}, "\r\n\r\n";
            my $sep = 4;
            if ($end < 0) {
                $end = index $c->{in}, "\n\n";
                $sep = 2;
            }
            if ($end < 0) {
                if (length $c->{in} > 65536) {
                    _enqueue($c, _response(431, 'text/plain',
                        "request header too large\n", [], 1), 0, 'close');
                }
                return;
            }
            my $head = substr $c->{in}, 0, $end + $sep, '';
            $req = _parse_head($head);
            if (!$req) {
                _enqueue($c, _response(400, 'text/plain',
                    "bad request\n", [], 1), 0, 'close');
                return;
            }
            $c->{req} = $req;
            if (($req->{headers}{expect} // '') =~ /100-continue/i
                && $req->{version} eq 'HTTP/1.1')
            {
                _enqueue($c, "HTTP/1.1 100 Continue\r\n\r\n");
            }
        }

        my $body;
        if ($req->{chunked}) {
            my ($b, $used, $bad) = _parse_chunked(\$c->{in});
            if ($bad) {
                _enqueue($c, _response(400, 'text/plain',
                    "bad chunked body\n", [], 1), 0, 'close');
                return;
            }
            return unless defined $b;
            substr $c->{in}, 0, $used, '';
            $body = $b;
        } else {
            my $len = $req->{length} // 0;
            return if length $c->{in} < $len;
            $body = substr $c->{in}, 0, $len, '';
        }
        $req->{body} = $body;
        delete $c->{req};

        my $ans = _handle($req);
        my $close = $req->{close};

        if ($ans->{action} eq 'timeout') {
            $c->{hold} = 1;
            return;
        }
        if ($ans->{action} eq 'close' || $ans->{action} eq 'reset') {
            _enqueue($c, undef, $ans->{delay}, $ans->{action});
            return;
        }

        _enqueue($c, _response($ans->{status}, $ans->{type}, $ans->{body},
                               $ans->{headers}, $close),
                 $ans->{delay}, $close ? 'close' : undef);
        return if $close;
    }
}

sub _parse_head {
    my ($head) = @_;
    my @lines = split /\r?\n/, $head;
    my $line = shift @lines // return undef;
    my ($method, $target, $version) =
        $line =~ m{^([A-Z]+) (\S+) (HTTP/1\.[01])$} or return undef;

    my (%h, @raw);
    for my $l (@lines) {
        my ($k, $v) = $l =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*$/ or return undef;
        $k = lc $k;
        push @raw, [$k, $v];
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }

    my ($path, $query) = $target =~ /^([^?]*)(?:\?(.*))?$/;
    my $req = {
        method => $method, uri => $target, path => $path,
        query => $query // '', version => $version, headers => \%h,
    };

    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        $req->{chunked} = 1;
    } elsif (defined $h{'content-length'}) {
        return undef unless $h{'content-length'} =~ /^\d+$/;
        return undef if $h{'content-length'} > 16 * 1024 * 1024;
        $req->{length} = $h{'content-length'};
    }

    my $conn = lc($h{connection} // '');
    $req->{close} = $version eq 'HTTP/1.0'
        ? ($conn =~ /keep-alive/ ? 0 : 1)
        : ($conn =~ /close/ ? 1 : 0);

    return $req;
}

# (body, bytes used) when complete, () when not yet, (undef, 0, 1) if bad
sub _parse_chunked {
    my ($in) = @_;
    my $pos = 0;
    my $body = '';
    for (;;) {
        my $eol = index $$in, "\n", $pos;
        return () if $eol < 0;
        my $line = substr $$in, $pos, $eol - $pos;
        $line =~ s/\r\z//;
        my ($hex) = $line =~ /^([0-9A-Fa-f]+)(?:;.*)?$/
            or return (undef, 0, 1);
        my $size = hex $hex;
        $pos = $eol + 1;
        if ($size == 0) {
            # trailers up to an empty line
            for (;;) {
                my $e = index $$in, "\n", $pos;
                return () if $e < 0;
                my $t = substr $$in, $pos, $e - $pos;
                $pos = $e + 1;
                return ($body, $pos) if $t eq '' || $t eq "\r";
            }
        }
        return () if length($$in) < $pos + $size + 1;
        $body .= substr $$in, $pos, $size;
        $pos += $size;
        if (substr($$in, $pos, 2) eq "\r\n") {
            $pos += 2;
        } elsif (substr($$in, $pos, 1) eq "\n") {
            $pos += 1;
        } elsif (length($$in) < $pos + 2) {
            return ();
        } else {
            return (undef, 0, 1);
        }
    }
}

my %REASON = (
    100 => 'Continue', 200 => 'OK', 201 => 'Created', 202 => 'Accepted',
    204 => 'No Content', 400 => 'Bad Request', 401 => 'Unauthorized',
    402 => 'Payment Required', 403 => 'Forbidden', 404 => 'Not Found',
    405 => 'Method Not Allowed', 409 => 'Conflict', 415 =>
    'Unsupported Media Type', 422 => 'Unprocessable Entity',
    429 => 'Too Many Requests', 431 => 'Request Header Fields Too Large',
    500 => 'Internal Server Error', 502 => 'Bad Gateway',
    503 => 'Service Unavailable', 504 => 'Gateway Timeout',
);

sub _response {
    my ($status, $type, $body, $headers, $close) = @_;
    $body //= '';
    my $r = "HTTP/1.1 $status " . ($REASON{$status} // 'Status') . $CRLF
          . 'Date: ' . POSIX::strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime)
          . $CRLF
          . "Server: PayTest-Stub$CRLF";
    $r .= "Content-Type: $type$CRLF" if defined $type;
    $r .= "Content-Length: " . length($body) . $CRLF;
    for my $h (@{ $headers || [] }) {
        $r .= "$h->[0]: $h->[1]$CRLF";
    }
    $r .= 'Connection: ' . ($close ? 'close' : 'keep-alive') . $CRLF . $CRLF;
    return $r . $body;
}

sub _text {
    my ($status, $text) = @_;
    return { action => 'answer', status => $status,
             type => 'text/plain', body => $text };
}

sub _json {
    my ($status, $data, @headers) = @_;
    return { action => 'answer', status => $status,
             type => 'application/json', body => $JSON->encode($data),
             headers => [@headers] };
}

# ---------------------------------------------------------------------------
# dispatch

sub _form_decode {
    my ($s) = @_;
    my @pairs;
    for my $p (split /&/, $s // '') {
        next if $p eq '';
        my ($k, $v) = split /=/, $p, 2;
        for ($k, $v) {
            next unless defined;
            tr/+/ /;
            s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        }
        push @pairs, [$k, $v // ''];
    }
    return @pairs;
}

sub _query {
    my ($req) = @_;
    my %q;
    $q{ $_->[0] } = $_->[1] for _form_decode($req->{query});
    return \%q;
}

sub _provider_of {
    my ($path) = @_;
    return 'paypal' if $path =~ m{^/v1/(?:oauth2|notifications|identity)/}
                    || $path =~ m{^/v2/(?:checkout|payments/(?:captures|authorizations))};
    return 'square' if $path =~ m{^/v2/};
    return 'stripe';
}

sub _handle {
    my ($req) = @_;
    my $path = $req->{path};

    if ($path =~ m{^/__stub/(\w+)$}) {
        return _control($1, $req);
    }

    $ST{count}{$path}++;
    $ST{total}++;
    push @{ $ST{reqs} }, {
        method => $req->{method}, path => $path, query => $req->{query},
        uri => $req->{uri}, version => $req->{version},
        headers => { %{ $req->{headers} } }, raw_body => $req->{body},
        time => Time::HiRes::time(),
    };

    my $f = $ST{faults}{$path};
    if ($f) {
        if ($f->{times} > 0 && --$f->{times} == 0) {
            delete $ST{faults}{$path};
        }
        my $s = $f->{status};
        return { action => $s, delay => $f->{ms} / 1000 }
            if $s eq 'timeout' || $s eq 'close' || $s eq 'reset';
        if ($s eq 'delay') {
            my $ans = _route($req);
            $ans->{delay} = $f->{ms} / 1000;
            return $ans;
        }
        my $ans = _fault_answer($req, $f);
        $ans->{delay} = $f->{ms} / 1000;
        return $ans;
    }

    return _route($req);
}

sub _route {
    my ($req) = @_;
    my ($m, $p) = ($req->{method}, $req->{path});

    return _paypal_token($req)   if $m eq 'POST' && $p eq '/v1/oauth2/token';
    return _paypal_verify($req)
        if $m eq 'POST' && $p eq '/v1/notifications/verify-webhook-signature';
    return _paypal_order($req)   if $m eq 'POST' && $p eq '/v2/checkout/orders';
    return _paypal_get_order($req, $1)
        if $m eq 'GET' && $p =~ m{^/v2/checkout/orders/([A-Z0-9]+)$};
    return _paypal_cert($req, $1)
        if $m eq 'GET' && $p =~ m{^/v1/notifications/certs/([^/]+)$};
    return _stripe_intent($req)  if $m eq 'POST' && $p eq '/v1/payment_intents';
    return _stripe_get_intent($req, $1)
        if $m eq 'GET' && $p =~ m{^/v1/payment_intents/(pi_[A-Za-z0-9]+)$};
    return _square_payment($req) if $m eq 'POST' && $p eq '/v2/payments';
    return _square_link($req)
        if $m eq 'POST' && $p eq '/v2/online-checkout/payment-links';

    my $prov = _provider_of($p);
    return _stripe_error($req, 404, 'invalid_request_error', undef,
        "Unrecognized request URL ($m: $p). Please see https://stripe.com/docs "
        . "or we can help at https://support.stripe.com/.")
        if $prov eq 'stripe';
    return _paypal_error(404, 'RESOURCE_NOT_FOUND',
        'The specified resource does not exist.') if $prov eq 'paypal';
    return _square_error(404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND',
        "API endpoint for URL path changed or not found.");
}

# ---------------------------------------------------------------------------
# control

sub _control {
    my ($name, $req) = @_;
    my $q = _query($req);

    if ($name eq 'ping') {
        return _text(200, "pong\n");
    }
    if ($name eq 'reset') {
        _reset_state($ST{start});
        return _text(200, "ok\n");
    }
    if ($name eq 'count') {
        my $n = defined $q->{path} ? ($ST{count}{ $q->{path} } // 0)
                                   : $ST{total};
        return _text(200, "$n\n");
    }
    if ($name eq 'requests') {
        my @list = map {
            my $r = $_;
            my $b = $r->{raw_body};
            my $text = $b;
            utf8::decode($text);    # as text when it is UTF-8
            +{ method => $r->{method}, path => $r->{path},
               query => $r->{query}, uri => $r->{uri},
               version => $r->{version}, headers => $r->{headers},
               body => $text, body_base64 => encode_base64($b, ''),
               time => $r->{time} }
        } grep { !defined $q->{path} || $_->{path} eq $q->{path} }
               @{ $ST{reqs} };
        return _json(200, \@list);
    }
    if ($name eq 'body') {
        my @list = grep { !defined $q->{path} || $_->{path} eq $q->{path} }
                        @{ $ST{reqs} };
        my $n = $q->{n} // -1;
        return _text(400, "bad n\n") unless $n =~ /^-?\d+$/;
        my $r = $n < 0 ? ($n >= -@list ? $list[$n] : undef) : $list[$n];
        return _text(404, "no such request\n") unless $r;
        return { action => 'answer', status => 200,
                 type => 'application/octet-stream', body => $r->{raw_body} };
    }
    if ($name eq 'fail') {
        my $path = $q->{path};
        my $status = $q->{status} // '';
        my $times = $q->{times} // 1;
        return _text(400, "path is needed\n")
            unless defined $path && length $path;
        return _text(400, "bad status\n")
            unless $status =~ /^(?:[1-5]\d\d|timeout|close|reset|delay)$/;
        return _text(400, "bad times\n") unless $times =~ /^-?\d+$/;
        my $ms = $q->{ms} // 0;
        return _text(400, "bad ms\n") unless $ms =~ /^\d+$/;
        if ($times == 0) {
            delete $ST{faults}{$path};
        } else {
            $ST{faults}{$path} = {
                status => $status, times => $times < 0 ? -1 : $times,
                ms => $ms,
                map { defined $q->{$_} ? ($_ => $q->{$_}) : () }
                    qw(code message decline_code retry_after body),
            };
        }
        return _text(200, "ok\n");
    }
    if ($name eq 'revoke_tokens') {
        $ST{tokens} = {};
        return _text(200, "ok\n");
    }
    if ($name eq 'set') {
        for my $k (keys %$q) {
            return _text(400, "unknown setting $k\n")
                unless exists $DEFAULTS{$k};
        }
        $ST{conf}{$_} = $q->{$_} for keys %$q;
        return _text(200, "ok\n");
    }
    if ($name eq 'settings') {
        return _json(200, $ST{conf});
    }
    return _text(404, "unknown control $name\n");
}

# ---------------------------------------------------------------------------
# ids

my @ALNUM = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');
my @UPNUM = ('A' .. 'Z', '0' .. '9');

sub _rand_str {
    my ($n, $set) = @_;
    $set //= \@ALNUM;
    return join '', map { $set->[rand @$set] } 1 .. $n;
}

sub _hex { return join '', map { sprintf '%x', rand 16 } 1 .. $_[0] }

sub _iso {
    my ($t, $ms) = @_;
    $t //= time;
    return POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime $t)
         . ($ms ? sprintf('.%03dZ', rand 1000) : 'Z');
}

# ---------------------------------------------------------------------------
# provider errors

sub _stripe_error {
    my ($req, $status, $type, $code, $message, %more) = @_;
    my $rid = 'req_' . _rand_str(14);
    my %e = (type => $type, message => $message,
             request_log_url => "https://dashboard.stripe.com/test/logs/$rid?t="
                              . time, %more);
    if (defined $code) {
        $e{code} = $code;
        $e{doc_url} = "https://stripe.com/docs/error-codes/"
                    . ($code =~ s/_/-/gr);
    }
    my $ans = _json($status, { error => \%e }, ['Request-Id', $rid]);
    _stripe_common_headers($req, $ans);
    return $ans;
}

sub _stripe_common_headers {
    my ($req, $ans) = @_;
    my $key = $req->{headers}{'idempotency-key'};
    push @{ $ans->{headers} }, ['Idempotency-Key', $key] if defined $key;
    push @{ $ans->{headers} }, ['Stripe-Version', '2024-06-20'];
}

sub _paypal_error {
    my ($status, $name, $message, @details) = @_;
    my %e = (name => $name, message => $message, debug_id => _hex(13));
    $e{details} = \@details if @details;
    $e{links} = [{
        href => "https://developer.paypal.com/docs/api/orders/v2/#error-"
              . ($details[0] ? $details[0]{issue} : $name),
        rel => 'information_link', method => 'GET',
    }];
    return _json($status, \%e, ['Paypal-Debug-Id', $e{debug_id}]);
}

sub _square_error {
    my ($status, $category, $code, $detail, $field, %more) = @_;
    my %e = (category => $category, code => $code, detail => $detail);
    $e{field} = $field if defined $field;
    return _json($status, { errors => [\%e], %more });
}

my %STRIPE_DECLINE = (
    card_declined      => 'Your card was declined.',
    expired_card       => 'Your card has expired.',
    incorrect_cvc      => "Your card's security code is incorrect.",
    processing_error   => 'An error occurred while processing your card. '
                        . 'Try again in a little bit.',
    incorrect_number   => 'Your card number is incorrect.',
    insufficient_funds => 'Your card has insufficient funds.',
);

# the answer of a fault with a status: the provider's error shape for it
sub _fault_answer {
    my ($req, $f) = @_;
    my $st = 0 + $f->{status};
    my $prov = _provider_of($req->{path});
    my $code = $f->{code};
    my $msg = $f->{message};
    my $ans;

    if (defined $f->{body}) {
        $ans = { action => 'answer', status => $st,
                 type => 'application/json', body => $f->{body},
                 headers => [] };
    } elsif ($prov eq 'stripe') {
        if ($st == 402) {
            $code //= 'card_declined';
            my $dc = $f->{decline_code}
                // ($code eq 'card_declined' ? 'generic_decline' : undef);
            $ans = _stripe_error($req, $st, 'card_error', $code,
                $msg // $STRIPE_DECLINE{$code} // 'Your card was declined.',
                defined $dc ? (decline_code => $dc) : ());
        } elsif ($st == 401) {
            $ans = _stripe_error($req, $st, 'invalid_request_error', $code,
                $msg // 'Invalid API Key provided: sk_test_****stub');
        } elsif ($st == 429) {
            $ans = _stripe_error($req, $st, 'invalid_request_error',
                $code // 'rate_limit', $msg // 'Request rate limit exceeded. '
                . 'Learn more about rate limits here https://stripe.com/docs/rate-limits.');
        } elsif ($st == 409) {
            $ans = _stripe_error($req, $st, 'invalid_request_error',
                $code // 'idempotency_key_in_use', $msg // 'There is currently '
                . 'another in-progress request using this Idempotent Key (that '
                . 'probably means you submitted twice, and the other request is '
                . 'still going through).');
        } elsif ($st == 404) {
            $ans = _stripe_error($req, $st, 'invalid_request_error',
                $code // 'resource_missing', $msg // 'No such payment_intent');
        } elsif ($st >= 500) {
            $ans = _stripe_error($req, $st, 'api_error', $code,
                $msg // 'An unknown error occurred');
        } else {
            $ans = _stripe_error($req, $st, 'invalid_request_error', $code,
                $msg // 'Invalid request.');
        }
    } elsif ($prov eq 'paypal') {
        if ($st == 401) {
            $ans = $req->{path} eq '/v1/oauth2/token'
                ? _json(401, { error => $code // 'invalid_client',
                    error_description => $msg // 'Client Authentication failed' })
                : _json(401, { error => $code // 'invalid_token',
                    error_description => $msg
                        // 'Token signature verification failed' });
        } else {
            my %n = (
                400 => ['INVALID_REQUEST', 'Request is not well-formed, '
                        . 'syntactically incorrect, or violates schema.'],
                403 => ['NOT_AUTHORIZED', 'Authorization failed due to '
                        . 'insufficient permissions.'],
                404 => ['RESOURCE_NOT_FOUND',
                        'The specified resource does not exist.'],
                409 => ['RESOURCE_CONFLICT', 'The server has detected a '
                        . 'conflict while processing this request.'],
                422 => ['UNPROCESSABLE_ENTITY', 'The requested action could '
                        . 'not be performed, semantically incorrect, or '
                        . 'failed business validation.'],
                429 => ['RATE_LIMIT_REACHED',
                        'Too many requests. Blocked due to rate limiting.'],
                500 => ['INTERNAL_SERVER_ERROR',
                        'An internal server error has occurred.'],
                503 => ['SERVICE_UNAVAILABLE', 'Service Unavailable.'],
            );
            my $e = $n{$st} // ($st >= 500 ? $n{500} : $n{400});
            my @details;
            if (defined $code && ($st == 400 || $st == 422)) {
                @details = ({ issue => $code,
                              description => $msg // $e->[1] });
                ($code, $msg) = (undef, undef);
            }
            $ans = _paypal_error($st, $code // $e->[0], $msg // $e->[1],
                                 @details);
        }
    } else {
        my %n = (
            400 => ['INVALID_REQUEST_ERROR', 'BAD_REQUEST', 'Bad request.'],
            401 => ['AUTHENTICATION_ERROR', 'UNAUTHORIZED',
                    'This request could not be authorized.'],
            402 => ['PAYMENT_METHOD_ERROR', 'CARD_DECLINED',
                    "Authorization error: 'CARD_DECLINED'"],
            403 => ['AUTHENTICATION_ERROR', 'FORBIDDEN',
                    'You do not have permission to access this resource.'],
            404 => ['INVALID_REQUEST_ERROR', 'NOT_FOUND', 'Resource not found.'],
            409 => ['INVALID_REQUEST_ERROR', 'CONFLICT', 'Conflict.'],
            429 => ['RATE_LIMIT_ERROR', 'RATE_LIMITED',
                    'Rate limit has been exceeded.'],
            500 => ['API_ERROR', 'INTERNAL_SERVER_ERROR',
                    'An internal error has occurred, and the API was unable '
                    . 'to service your request.'],
            502 => ['API_ERROR', 'BAD_GATEWAY', 'Bad gateway.'],
            503 => ['API_ERROR', 'SERVICE_UNAVAILABLE',
                    'Service temporarily unavailable.'],
            504 => ['API_ERROR', 'GATEWAY_TIMEOUT', 'Gateway timed out.'],
        );
        my $e = $n{$st} // ($st >= 500 ? $n{500} : $n{400});
        $msg //= "Authorization error: '$code'" if $st == 402 && defined $code;
        $ans = _square_error($st, $e->[0], $code // $e->[1], $msg // $e->[2]);
    }

    push @{ $ans->{headers} }, ['Retry-After', $f->{retry_after}]
        if defined $f->{retry_after};
    return $ans;
}

# ---------------------------------------------------------------------------
# PayPal

sub _bearer {
    my ($req) = @_;
    my $a = $req->{headers}{authorization} // '';
    return $a =~ /^Bearer\s+(\S+)\s*$/i ? $1 : undef;
}

sub _paypal_authorized {
    my ($req) = @_;
    my $t = _bearer($req);
    return 0 unless defined $t;
    my $exp = $ST{tokens}{$t};
    return defined $exp && $exp > time;
}

sub _paypal_invalid_token {
    return _json(401, { error => 'invalid_token',
        error_description => 'Token signature verification failed' });
}

sub _paypal_token {
    my ($req) = @_;
    my $c = $ST{conf};
    my $a = $req->{headers}{authorization} // '';
    my $want = encode_base64("$c->{paypal_client_id}:$c->{paypal_client_secret}", '');
    if ($a !~ /^Basic\s+(\S+)\s*$/i || $1 ne $want) {
        return _json(401, { error => 'invalid_client',
                            error_description => 'Client Authentication failed' });
    }
    my %f = map { @$_ } _form_decode($req->{body});
    if (!defined $f{grant_type} || $f{grant_type} eq '') {
        return _json(400, { error => 'unsupported_grant_type',
                            error_description => 'Grant Type is NULL' });
    }
    if ($f{grant_type} ne 'client_credentials') {
        return _json(400, { error => 'unsupported_grant_type',
            error_description => "Grant Type is not supported: $f{grant_type}" });
    }
    my $token = 'A21AA' . _rand_str(92, [@ALNUM, '-', '_']);
    my $exp = 0 + $c->{paypal_expires_in};
    $ST{tokens}{$token} = time + $exp;
    return _json(200, {
        scope => 'https://uri.paypal.com/services/invoicing '
               . 'https://uri.paypal.com/services/payments/payment/authcode '
               . 'https://uri.paypal.com/services/payments/realtimepayment '
               . 'https://uri.paypal.com/services/payments/refund '
               . 'https://uri.paypal.com/services/payments/payment '
               . 'https://uri.paypal.com/services/applications/webhooks '
               . 'https://uri.paypal.com/payments/payouts openid',
        access_token => $token,
        token_type   => 'Bearer',
        app_id       => $c->{paypal_app_id},
        expires_in   => $exp,
        nonce        => _iso() . _rand_str(43, [@ALNUM, '-', '_']),
    });
}

sub _decode_json_body {
    my ($req) = @_;
    my $d = eval { JSON::PP->new->utf8->decode($req->{body}) };
    return ref $d eq 'HASH' ? $d : undef;
}

sub _paypal_verify {
    my ($req) = @_;
    return _paypal_invalid_token() unless _paypal_authorized($req);

    my $d = _decode_json_body($req);
    if (!$d) {
        return _json(400, { name => 'MALFORMED_REQUEST',
            message => 'The request JSON is not well formed.',
            debug_id => _hex(13),
            information_link =>
                'https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature',
            links => [] });
    }

    my @details;
    for my $f (qw(auth_algo cert_url transmission_id transmission_sig
                  transmission_time webhook_id))
    {
        if (!defined $d->{$f} || ref $d->{$f} || $d->{$f} eq '') {
            push @details, { field => $f, location => 'body',
                             issue => 'Required field cannot be blank' };
        }
    }
    if (ref $d->{webhook_event} ne 'HASH') {
        push @details, { field => 'webhook_event', location => 'body',
            issue => defined $d->{webhook_event}
                ? 'Invalid data provided' : 'Required field cannot be blank' };
    }
    if (@details) {
        return _json(400, { name => 'VALIDATION_ERROR',
            message => 'Invalid request - see details',
            debug_id => _hex(13),
            information_link =>
                'https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature',
            details => \@details, links => [] });
    }

    my $ok = $d->{transmission_sig} eq $ST{conf}{paypal_good_signature}
          && $d->{webhook_id} eq $ST{conf}{paypal_webhook_id};
    return _json(200, { verification_status => $ok ? 'SUCCESS' : 'FAILURE' });
}

my %PAYPAL_CURRENCIES = map { $_ => 1 } qw(AUD BRL CAD CNY CZK DKK EUR HKD
    HUF ILS JPY MYR MXN TWD NZD NOK PHP PLN GBP SGD SEK CHF THB USD);
my %NO_DECIMALS = map { $_ => 1 } qw(JPY HUF TWD);

sub _paypal_issue {
    my ($field, $issue, $description, $value) = @_;
    my %d = (field => $field, location => 'body', issue => $issue,
             description => $description);
    $d{value} = $value if defined $value;
    return \%d;
}

sub _paypal_order {
    my ($req) = @_;
    return _paypal_invalid_token() unless _paypal_authorized($req);

    my $rid = $req->{headers}{'paypal-request-id'};
    if (defined $rid && (my $saved = $ST{idem}{"paypal\0$rid"})) {
        return { %$saved, headers => [@{ $saved->{headers} }] };
    }

    my $d = _decode_json_body($req);
    return _paypal_error(400, 'INVALID_REQUEST', 'Request is not '
        . 'well-formed, syntactically incorrect, or violates schema.',
        _paypal_issue('/', 'MALFORMED_REQUEST_JSON',
            'The request JSON is not well formed.'))
        unless $d;

    my @issues;
    if (!defined $d->{intent}) {
        push @issues, _paypal_issue('/intent', 'MISSING_REQUIRED_PARAMETER',
            'A required field / parameter is missing.');
    } elsif (ref $d->{intent} || $d->{intent} !~ /^(?:CAPTURE|AUTHORIZE)$/) {
        push @issues, _paypal_issue('/intent', 'INVALID_PARAMETER_VALUE',
            'The value of a field is invalid.', "$d->{intent}");
    }
    my $pu = $d->{purchase_units};
    if (ref $pu ne 'ARRAY' || !@$pu) {
        push @issues, _paypal_issue('/purchase_units',
            'MISSING_REQUIRED_PARAMETER',
            'A required field / parameter is missing.');
        $pu = [];
    }
    my @unsupported;
    for my $i (0 .. $#$pu) {
        my $amt = ref $pu->[$i] eq 'HASH' ? $pu->[$i]{amount} : undef;
        my $f = "/purchase_units/$i/amount";
        if (ref $amt ne 'HASH') {
            push @issues, _paypal_issue($f, 'MISSING_REQUIRED_PARAMETER',
                'A required field / parameter is missing.');
            next;
        }
        my ($cur, $val) = ($amt->{currency_code}, $amt->{value});
        if (!defined $cur) {
            push @issues, _paypal_issue("$f/currency_code",
                'MISSING_REQUIRED_PARAMETER',
                'A required field / parameter is missing.');
        } elsif (ref $cur || $cur !~ /^[A-Z]{3}$/) {
            push @issues, _paypal_issue("$f/currency_code",
                'INVALID_PARAMETER_VALUE', 'The value of a field is invalid.');
        } elsif (!$PAYPAL_CURRENCIES{$cur}) {
            push @unsupported, _paypal_issue("$f/currency_code",
                'CURRENCY_NOT_SUPPORTED',
                'Currency code is unsupported.', $cur);
        }
        if (!defined $val) {
            push @issues, _paypal_issue("$f/value",
                'MISSING_REQUIRED_PARAMETER',
                'A required field / parameter is missing.');
        } elsif (ref $val || JSON::PP::is_bool($val) || !_json_is_string($val)
                 || $val !~ /^\d{1,10}(?:\.\d+)?$/) {
            push @issues, _paypal_issue("$f/value",
                'INVALID_PARAMETER_SYNTAX',
                'The value of a field does not conform to the expected format.',
                ref $val ? undef : "$val");
        } elsif (defined $cur && !ref $cur) {
            my ($dec) = $val =~ /\.(\d+)$/;
            my $max = $NO_DECIMALS{$cur} ? 0 : 2;
            if (defined $dec && length $dec > $max) {
                push @issues, _paypal_issue("$f/value", 'DECIMAL_PRECISION',
                    $max ? 'If the currency supports decimals, only two '
                         . 'decimal place precision is supported.'
                         : 'Currency does not support decimals.', $val);
            }
        }
    }
    if (@issues) {
        return _paypal_error(400, 'INVALID_REQUEST', 'Request is not '
            . 'well-formed, syntactically incorrect, or violates schema.',
            @issues);
    }
    if (@unsupported) {
        return _paypal_error(422, 'UNPROCESSABLE_ENTITY', 'The requested '
            . 'action could not be performed, semantically incorrect, or '
            . 'failed business validation.', @unsupported);
    }

    my $id = _rand_str(17, \@UPNUM);
    my $api = "$ST{conf}{paypal_api_base}/v2/checkout/orders/$id";
    my $web = "$ST{conf}{paypal_web_base}/checkoutnow?token=$id";
    my $src = $d->{payment_source};
    my ($status, @links);
    if (ref $src eq 'HASH' && %$src) {
        $status = 'PAYER_ACTION_REQUIRED';
        @links = ({ href => $api, rel => 'self', method => 'GET' },
                  { href => $web, rel => 'payer-action', method => 'GET' });
    } else {
        $status = 'CREATED';
        my $act = $d->{intent} eq 'CAPTURE' ? 'capture' : 'authorize';
        @links = ({ href => $api, rel => 'self', method => 'GET' },
                  { href => $web, rel => 'approve', method => 'GET' },
                  { href => $api, rel => 'update', method => 'PATCH' },
                  { href => "$api/$act", rel => $act, method => 'POST' });
    }

    my @units = map {
        my %u = %$_;
        $u{reference_id} //= 'default';
        $u{payee} //= { email_address => 'merchant@example.com',
                        merchant_id => 'STUBMERCHANT1' };
        \%u;
    } @$pu;

    my %full = (id => $id, intent => $d->{intent}, status => $status,
                purchase_units => \@units, create_time => _iso(),
                links => \@links);
    if (ref $src eq 'HASH' && %$src) {
        $full{payment_source} = { map { $_ => {} } keys %$src };
    }
    $ST{objects}{"paypal\0$id"} = \%full;

    my $prefer = $req->{headers}{prefer} // '';
    my $body = $prefer =~ /return=representation/i ? \%full
             : { id => $id, status => $status, links => \@links,
                 $full{payment_source}
                     ? (payment_source => $full{payment_source}) : () };

    my $ans = _json(201, $body, ['Paypal-Debug-Id', _hex(13)]);
    $ST{idem}{"paypal\0$rid"} = $ans if defined $rid;
    return { %$ans, headers => [@{ $ans->{headers} }] };
}

# JSON::PP keeps numbers that came as strings as strings; a number that
# came as a JSON number has only a numeric value
sub _json_is_string {
    my $f = B::svref_2object(\$_[0])->FLAGS;
    return ($f & B::SVp_POK()) && !($f & (B::SVf_IOK() | B::SVf_NOK())) ? 1 : 0;
}

sub _paypal_get_order {
    my ($req, $id) = @_;
    return _paypal_invalid_token() unless _paypal_authorized($req);
    my $o = $ST{objects}{"paypal\0$id"};
    return _paypal_error(404, 'RESOURCE_NOT_FOUND',
        'The specified resource does not exist.',
        _paypal_issue('/id', 'INVALID_RESOURCE_ID',
            'Specified resource ID does not exist. Please check the '
            . 'resource ID and try again.')) unless $o;
    return _json(200, $o);
}

sub _paypal_cert {
    my ($req, $name) = @_;
    my $dir = $ST{conf}{cert_dir};
    my $nf = _paypal_error(404, 'RESOURCE_NOT_FOUND',
        'The specified resource does not exist.');
    return $nf unless length $dir && $name =~ /^[A-Za-z0-9._-]+$/
                      && $name !~ /^\./;
    my $path = "$dir/$name";
    open my $fh, '<:raw', $path or return $nf;
    local $/;
    my $data = <$fh> // '';
    close $fh;
    return { action => 'answer', status => 200,
             type => 'application/x-pem-file', body => $data };
}

# ---------------------------------------------------------------------------
# Stripe

my %STRIPE_PARAMS = map { $_ => 1 } qw(amount currency automatic_payment_methods
    capture_method confirm confirmation_method customer description
    metadata off_session on_behalf_of payment_method payment_method_options
    payment_method_types receipt_email return_url setup_future_usage
    shipping statement_descriptor statement_descriptor_suffix transfer_data
    transfer_group application_fee_amount expand error_on_requires_action
    mandate mandate_data payment_method_data payment_method_configuration
    radar_options use_stripe_sdk);

my %STRIPE_MIN = (usd => 50, eur => 50, cad => 50, aud => 50, jpy => 50,
                  gbp => 30);

# nested form keys: a[b][c]=v, a[]=v, a[0]=v
sub _stripe_params {
    my ($body) = @_;
    my %p;
    for my $kv (_form_decode($body)) {
        my ($k, $v) = @$kv;
        my ($top, $rest) = $k =~ /^([^\[]+)((?:\[[^\]]*\])*)$/ or next;
        my @path = $rest =~ /\[([^\]]*)\]/g;
        my $ref = \$p{$top};
        for my $seg (@path) {
            if ($seg eq '' || $seg =~ /^\d+$/) {
                $$ref = [] unless ref $$ref eq 'ARRAY';
                my $i = $seg eq '' ? scalar @{$$ref} : $seg;
                $ref = \$$ref->[$i];
            } else {
                $$ref = {} unless ref $$ref eq 'HASH';
                $ref = \$$ref->{$seg};
            }
        }
        $$ref = $v;
    }
    return \%p;
}

sub _stripe_key_mask {
    my ($k) = @_;
    return $k if length $k <= 12;
    my ($prefix) = $k =~ /^((?:sk|rk|pk)_(?:test|live)_)/;
    $prefix //= '';
    my $stars = length($k) - length($prefix) - 4;
    return $prefix . ('*' x ($stars > 0 ? $stars : 0)) . substr($k, -4);
}

sub _stripe_auth {
    my ($req) = @_;
    my $a = $req->{headers}{authorization};
    my $key;
    if (defined $a && $a =~ /^Bearer\s+(\S+)\s*$/i) {
        $key = $1;
    } elsif (defined $a && $a =~ /^Basic\s+(\S+)\s*$/i) {
        ($key) = split /:/, decode_base64($1), 2;
    }
    if (!defined $key || $key eq '') {
        return _stripe_error($req, 401, 'invalid_request_error', undef,
            "You did not provide an API key. You need to provide your API key "
            . "in the Authorization header, using Bearer auth (e.g. "
            . "'Authorization: Bearer YOUR_SECRET_KEY'). See "
            . "https://stripe.com/docs/api#authentication for details, or we "
            . "can help at https://support.stripe.com/.");
    }
    if ($key ne $ST{conf}{stripe_key}) {
        return _stripe_error($req, 401, 'invalid_request_error', undef,
            'Invalid API Key provided: ' . _stripe_key_mask($key));
    }
    return undef;
}

sub _bool_param {
    my ($v) = @_;
    return undef unless defined $v;
    return 1 if $v eq 'true';
    return 0 if $v eq 'false';
    return -1;
}

sub _stripe_intent {
    my ($req) = @_;
    if (my $e = _stripe_auth($req)) { return $e }

    my $key = $req->{headers}{'idempotency-key'};
    my $fp = sha256_hex($req->{body} // '');
    if (defined $key) {
        if (my $s = $ST{idem}{"stripe\0$key"}) {
            if ($s->{path} ne $req->{path}) {
                return _stripe_error($req, 400, 'idempotency_error', undef,
                    "Keys for idempotent requests can only be used for the "
                    . "same endpoint they were first used for ('$req->{path}' "
                    . "vs '$s->{path}'). Try using a key other than '$key' if "
                    . "you meant to execute a different request.");
            }
            if ($s->{fp} ne $fp) {
                return _stripe_error($req, 400, 'idempotency_error', undef,
                    "Keys for idempotent requests can only be used with the "
                    . "same parameters they were first used with. Try using a "
                    . "key other than '$key' if you meant to execute a "
                    . "different request.");
            }
            my $ans = { %{ $s->{ans} } };
            $ans->{headers} = [['Request-Id', 'req_' . _rand_str(14)],
                               ['Idempotent-Replayed', 'true'],
                               grep { $_->[0] ne 'Request-Id' }
                                    @{ $s->{ans}{headers} }];
            return $ans;
        }
    }

    my $ans = _stripe_create_intent($req);
    if (defined $key && ($ans->{status} == 200 || $ans->{status} == 402)) {
        $ST{idem}{"stripe\0$key"} = { path => $req->{path}, fp => $fp,
                                      ans => $ans };
    }
    return $ans;
}

sub _stripe_create_intent {
    my ($req) = @_;
    my $p = _stripe_params($req->{body});

    for my $k (sort keys %$p) {
        next if $STRIPE_PARAMS{$k};
        return _stripe_error($req, 400, 'invalid_request_error',
            'parameter_unknown', "Received unknown parameter: $k",
            param => $k);
    }

    my $missing = sub {
        _stripe_error($req, 400, 'invalid_request_error', 'parameter_missing',
                      "Missing required param: $_[0].", param => $_[0]);
    };
    return $missing->('amount') unless defined $p->{amount} && !ref $p->{amount}
                                       && $p->{amount} ne '';
    return _stripe_error($req, 400, 'invalid_request_error',
        'parameter_invalid_integer', "Invalid integer: $p->{amount}",
        param => 'amount') unless $p->{amount} =~ /^-?\d+$/;
    return $missing->('currency') unless defined $p->{currency}
                                         && !ref $p->{currency}
                                         && $p->{currency} ne '';
    my $cur = lc $p->{currency};
    return _stripe_error($req, 400, 'invalid_request_error', undef,
        "Invalid currency: $cur. Stripe currently supports these currencies: "
        . "usd, aed, afn, ..., eur, gbp, jpy, kwd, ...", param => 'currency')
        unless $cur =~ /^[a-z]{3}$/;

    my $amount = 0 + $p->{amount};
    my $min = $STRIPE_MIN{$cur} // 1;
    if ($amount < $min) {
        my $shown = $cur eq 'jpy' ? "\x{a5}50" : $cur eq 'gbp' ? "\x{a3}0.30"
                  : $cur eq 'eur' ? "\x{20ac}0.50" : '$0.50';
        utf8::encode($shown);
        return _stripe_error($req, 400, 'invalid_request_error',
            'amount_too_small', "Amount must be at least $shown $cur",
            param => 'amount');
    }
    if ($amount > 99999999) {
        return _stripe_error($req, 400, 'invalid_request_error',
            'amount_too_large', 'Amount must be no more than $999,999.99',
            param => 'amount');
    }

    my $md = $p->{metadata} // {};
    $md = {} if !ref $md && $md eq '';
    return _stripe_error($req, 400, 'invalid_request_error',
        'parameter_invalid_empty', 'Invalid hash', param => 'metadata')
        unless ref $md eq 'HASH';
    if (keys %$md > 50) {
        return _stripe_error($req, 400, 'invalid_request_error', undef,
            'Invalid metadata: metadata can have up to 50 keys, but you '
            . 'passed in ' . scalar(keys %$md) . ' keys.', param => 'metadata');
    }
    for my $k (sort keys %$md) {
        return _stripe_error($req, 400, 'invalid_request_error', undef,
            "Invalid metadata: metadata keys can be up to 40 characters long "
            . "and values up to 500 characters long.", param => "metadata[$k]")
            if length $k > 40 || ref $md->{$k} || length $md->{$k} > 500;
    }

    my $confirm = _bool_param($p->{confirm});
    return _stripe_error($req, 400, 'invalid_request_error', undef,
        "Invalid boolean: $p->{confirm}", param => 'confirm')
        if defined $confirm && $confirm < 0;
    if (defined $p->{return_url} && !$confirm) {
        return _stripe_error($req, 400, 'invalid_request_error', undef,
            'The parameter `return_url` can only be passed when `confirm` is '
            . 'set to `true`.', param => 'return_url');
    }

    my $apm = $p->{automatic_payment_methods};
    my $types = $p->{payment_method_types};
    my %apm_out;
    if (ref $apm eq 'HASH') {
        my $en = _bool_param($apm->{enabled});
        return _stripe_error($req, 400, 'invalid_request_error', undef,
            'Invalid boolean', param => 'automatic_payment_methods[enabled]')
            if !defined $en || $en < 0;
        %apm_out = (enabled => $en ? JSON::PP::true : JSON::PP::false);
        if (defined $apm->{allow_redirects}) {
            $apm_out{allow_redirects} = $apm->{allow_redirects};
        }
    } elsif (!$types) {
        %apm_out = (enabled => JSON::PP::true);
    }
    my @types = ref $types eq 'ARRAY' ? grep { defined } @$types
              : defined $types ? ($types) : ('card');

    my $id = 'pi_' . _rand_str(24);
    my $pm = $p->{payment_method};
    my $status = 'requires_payment_method';
    my $err;
    if (defined $pm && $pm ne '') {
        $status = 'requires_confirmation';
        if ($confirm) {
            $status = 'succeeded';
            if ($pm =~ /chargeDeclinedInsufficientFunds/) {
                $err = ['card_declined', 'insufficient_funds',
                        'Your card has insufficient funds.'];
            } elsif ($pm =~ /chargeDeclined/) {
                $err = ['card_declined', 'generic_decline',
                        'Your card was declined.'];
            }
            $status = 'requires_payment_method' if $err;
        }
    }

    my $cap = $p->{capture_method} // 'automatic_async';
    my $now = time;
    my $pi = {
        id => $id, object => 'payment_intent',
        amount => $amount, amount_capturable => 0,
        amount_details => { tip => {} },
        amount_received => $status eq 'succeeded' && $cap ne 'manual'
                         ? $amount : 0,
        application => undef, application_fee_amount => undef,
        automatic_payment_methods => %apm_out ? \%apm_out : undef,
        canceled_at => undef, cancellation_reason => undef,
        capture_method => $cap,
        client_secret => "${id}_secret_" . _rand_str(25),
        confirmation_method => $p->{confirmation_method} // 'automatic',
        created => $now, currency => $cur,
        customer => $p->{customer}, description => $p->{description},
        last_payment_error => undef,
        latest_charge => $status eq 'succeeded' ? 'ch_' . _rand_str(24) : undef,
        livemode => JSON::PP::false,
        metadata => $md, next_action => undef,
        on_behalf_of => $p->{on_behalf_of},
        payment_method => $status eq 'requires_payment_method' ? undef : $pm,
        payment_method_configuration_details => undef,
        payment_method_options => { card => {
            installments => undef, mandate_options => undef, network => undef,
            request_three_d_secure => 'automatic' } },
        payment_method_types => \@types,
        processing => undef, receipt_email => $p->{receipt_email},
        review => undef, setup_future_usage => $p->{setup_future_usage},
        shipping => undef, source => undef,
        statement_descriptor => $p->{statement_descriptor},
        statement_descriptor_suffix => $p->{statement_descriptor_suffix},
        status => $status, transfer_data => undef,
        transfer_group => $p->{transfer_group},
    };

    if ($err) {
        my $charge = 'ch_' . _rand_str(24);
        $pi->{last_payment_error} = {
            charge => $charge, code => $err->[0], decline_code => $err->[1],
            doc_url => 'https://stripe.com/docs/error-codes/card-declined',
            message => $err->[2], type => 'card_error',
        };
        $pi->{latest_charge} = $charge;
        $ST{objects}{"stripe\0$id"} = $pi;
        return _stripe_error($req, 402, 'card_error', $err->[0], $err->[2],
            decline_code => $err->[1], charge => $charge,
            payment_intent => $pi);
    }

    $ST{objects}{"stripe\0$id"} = $pi;
    my $ans = _json(200, $pi, ['Request-Id', 'req_' . _rand_str(14)]);
    _stripe_common_headers($req, $ans);
    return $ans;
}

sub _stripe_get_intent {
    my ($req, $id) = @_;
    if (my $e = _stripe_auth($req)) { return $e }
    my $pi = $ST{objects}{"stripe\0$id"};
    return _stripe_error($req, 404, 'invalid_request_error', 'resource_missing',
        "No such payment_intent: '$id'", param => 'intent') unless $pi;
    return _json(200, $pi, ['Request-Id', 'req_' . _rand_str(14)]);
}

# ---------------------------------------------------------------------------
# Square

sub _square_auth {
    my ($req) = @_;
    my $a = $req->{headers}{authorization};
    if (!defined $a) {
        return _square_error(401, 'AUTHENTICATION_ERROR', 'UNAUTHORIZED',
            "Your request did not include an `Authorization` http header with "
            . "an access token. The header value is expected to be of the "
            . "format \"Bearer TOKEN\" (without quotation marks), where TOKEN "
            . "is to be replaced with your access token.");
    }
    my $t = _bearer($req);
    if (!defined $t || $t ne $ST{conf}{square_token}) {
        return _square_error(401, 'AUTHENTICATION_ERROR', 'UNAUTHORIZED',
            'This request could not be authorized.');
    }
    return undef;
}

sub _square_money_issue {
    my ($m, $field) = @_;
    return _square_error(400, 'INVALID_REQUEST_ERROR',
        'MISSING_REQUIRED_PARAMETER', 'Missing required parameter.', $field)
        unless defined $m;
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'EXPECTED_OBJECT',
        'Expected an object.', $field) unless ref $m eq 'HASH';
    return _square_error(400, 'INVALID_REQUEST_ERROR',
        'MISSING_REQUIRED_PARAMETER', 'Missing required parameter.',
        "$field.amount") unless defined $m->{amount};
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'EXPECTED_INTEGER',
        'Expected an integer value.', "$field.amount")
        if ref $m->{amount} || JSON::PP::is_bool($m->{amount})
           || _json_is_string($m->{amount}) || $m->{amount} !~ /^-?\d+$/;
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE',
        'Invalid value.', "$field.amount") if $m->{amount} < 0;
    return _square_error(400, 'INVALID_REQUEST_ERROR',
        'MISSING_REQUIRED_PARAMETER', 'Missing required parameter.',
        "$field.currency") unless defined $m->{currency};
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'INVALID_ENUM_VALUE',
        "Expected $field.currency to be a valid currency code.",
        "$field.currency") if ref $m->{currency} || $m->{currency} !~ /^[A-Z]{3}$/;
    return undef;
}

# the saved answer for a key, or an error for a reused key, or undef
sub _square_replay {
    my ($req, $key) = @_;
    return undef unless defined $key && !ref $key;
    my $s = $ST{idem}{"square\0$req->{path}\0$key"} or return undef;
    if ($s->{fp} ne sha256_hex($req->{body})) {
        return _square_error(400, 'INVALID_REQUEST_ERROR',
            'IDEMPOTENCY_KEY_REUSED',
            'The idempotency key can only be retried with the same request '
            . 'data.', 'idempotency_key');
    }
    return { %{ $s->{ans} } };
}

sub _square_save {
    my ($req, $key, $ans) = @_;
    return unless defined $key && !ref $key;
    $ST{idem}{"square\0$req->{path}\0$key"} =
        { fp => sha256_hex($req->{body}), ans => $ans };
}

sub _square_payment {
    my ($req) = @_;
    if (my $e = _square_auth($req)) { return $e }
    my $d = _decode_json_body($req);
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST',
        'Invalid JSON body.') unless $d;

    my $key = $d->{idempotency_key};
    if (my $r = _square_replay($req, $key)) { return $r }

    for my $f (qw(source_id idempotency_key)) {
        return _square_error(400, 'INVALID_REQUEST_ERROR',
            'MISSING_REQUIRED_PARAMETER', 'Missing required parameter.', $f)
            if !defined $d->{$f} || ref $d->{$f} || $d->{$f} eq '';
    }
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'VALUE_TOO_LONG',
        'Field must not be greater than 45 length', 'idempotency_key')
        if length $d->{idempotency_key} > 45;
    if (my $e = _square_money_issue($d->{amount_money}, 'amount_money')) {
        return $e;
    }

    my $auto = !defined $d->{autocomplete} || (ref $d->{autocomplete}
             ? $d->{autocomplete} : $d->{autocomplete} eq 'true');
    my $declined = $d->{source_id} =~ /declined/;
    my $status = $declined ? 'FAILED' : $auto ? 'COMPLETED' : 'APPROVED';
    my $money = { amount => 0 + $d->{amount_money}{amount},
                  currency => $d->{amount_money}{currency} };
    my $id = _rand_str(29);
    my $now = _iso(undef, 1);
    my $loc = $d->{location_id} // $ST{conf}{square_location};

    my $payment = {
        id => $id, created_at => $now, updated_at => $now,
        amount_money => $money, total_money => { %$money },
        $declined ? () : (approved_money => { %$money }),
        status => $status,
        delay_duration => 'PT168H', delay_action => 'CANCEL',
        delayed_until => _iso(time + 7 * 86400, 1),
        source_type => 'CARD',
        card_details => {
            status => $declined ? 'FAILED' : $auto ? 'CAPTURED' : 'AUTHORIZED',
            card => { card_brand => 'VISA', last_4 => '1111', exp_month => 11,
                      exp_year => 2030, fingerprint => 'sq-1-' . _rand_str(60),
                      card_type => 'CREDIT', prepaid_type => 'NOT_PREPAID',
                      bin => '411111' },
            entry_method => 'KEYED', cvv_status => 'CVV_ACCEPTED',
            avs_status => 'AVS_ACCEPTED',
            statement_description => 'SQ *DEFAULT TEST ACCOUNT',
            card_payment_timeline => { authorized_at => $now,
                                       $auto && !$declined
                                           ? (captured_at => $now) : () },
        },
        location_id => $loc, order_id => _rand_str(29),
        risk_evaluation => { created_at => $now, risk_level => 'NORMAL' },
        receipt_number => substr($id, 0, 4),
        receipt_url => "https://squareupsandbox.com/receipt/preview/$id",
        application_details => { square_product => 'ECOMMERCE_API',
                                 application_id => 'sandbox-sq0idb-stub' },
        version_token => _rand_str(43),
        map { defined $d->{$_} ? ($_ => $d->{$_}) : () }
            qw(reference_id note customer_id buyer_email_address),
    };

    my $ans;
    if ($declined) {
        $ans = _square_error(402, 'PAYMENT_METHOD_ERROR', 'GENERIC_DECLINE',
            "Authorization error: 'GENERIC_DECLINE'", undef,
            payment => $payment);
    } else {
        $ans = _json(200, { payment => $payment });
    }
    _square_save($req, $key, $ans);
    return $ans;
}

sub _square_link {
    my ($req) = @_;
    if (my $e = _square_auth($req)) { return $e }
    my $d = _decode_json_body($req);
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST',
        'Invalid JSON body.') unless $d;

    my $key = $d->{idempotency_key};
    if (my $r = _square_replay($req, $key)) { return $r }
    return _square_error(400, 'INVALID_REQUEST_ERROR', 'VALUE_TOO_LONG',
        'Field must not be greater than 192 length', 'idempotency_key')
        if defined $key && !ref $key && length $key > 192;

    my $qp = $d->{quick_pay};
    my $order = $d->{order};
    if (!$qp && !$order) {
        return _square_error(400, 'INVALID_REQUEST_ERROR',
            'MISSING_REQUIRED_PARAMETER', 'Missing required parameter.',
            'quick_pay');
    }
    my ($loc, $name, $money);
    if ($qp) {
        return _square_error(400, 'INVALID_REQUEST_ERROR', 'EXPECTED_OBJECT',
            'Expected an object.', 'quick_pay') unless ref $qp eq 'HASH';
        for my $f (qw(name location_id)) {
            return _square_error(400, 'INVALID_REQUEST_ERROR',
                'MISSING_REQUIRED_PARAMETER', 'Missing required parameter.',
                "quick_pay.$f")
                if !defined $qp->{$f} || ref $qp->{$f} || $qp->{$f} eq '';
        }
        if (my $e = _square_money_issue($qp->{price_money},
                                        'quick_pay.price_money')) {
            return $e;
        }
        ($loc, $name) = ($qp->{location_id}, $qp->{name});
        $money = { amount => 0 + $qp->{price_money}{amount},
                   currency => $qp->{price_money}{currency} };
    } else {
        return _square_error(400, 'INVALID_REQUEST_ERROR', 'EXPECTED_OBJECT',
            'Expected an object.', 'order') unless ref $order eq 'HASH';
        $loc = $order->{location_id} // $ST{conf}{square_location};
        my $li = ref $order->{line_items} eq 'ARRAY' ? $order->{line_items}[0]
                                                     : undef;
        $name = ref $li eq 'HASH' ? $li->{name} // 'Item' : 'Item';
        my $bp = ref $li eq 'HASH' ? $li->{base_price_money} : undef;
        $money = ref $bp eq 'HASH'
            ? { amount => 0 + ($bp->{amount} // 0),
                currency => $bp->{currency} // 'USD' }
            : { amount => 0, currency => 'USD' };
    }

    my $now = _iso();
    my $oid = _rand_str(29);
    my $lid = _rand_str(16, \@UPNUM);
    my $zero = { amount => 0, currency => $money->{currency} };
    my $link = {
        id => $lid, version => 1, description => $d->{description} // '',
        order_id => $oid,
        url => $ST{conf}{square_link_base} . _rand_str(8),
        long_url => 'https://connect.squareupsandbox.com/v2/online-checkout/'
                  . "sandbox-testing-panel/$loc/" . lc _rand_str(36),
        created_at => $now,
        map { defined $d->{$_} ? ($_ => $d->{$_}) : () }
            qw(checkout_options pre_populated_data payment_note),
    };
    my $ord = {
        id => $oid, location_id => $loc,
        source => { name => 'PayTest Stub Checkout' },
        line_items => [{
            uid => _rand_str(21), name => $name, quantity => '1',
            item_type => 'ITEM', base_price_money => { %$money },
            variation_total_price_money => { %$money },
            gross_sales_money => { %$money },
            total_tax_money => { %$zero }, total_discount_money => { %$zero },
            total_money => { %$money },
            total_service_charge_money => { %$zero },
        }],
        net_amounts => { total_money => { %$money },
                         tax_money => { %$zero }, discount_money => { %$zero },
                         tip_money => { %$zero },
                         service_charge_money => { %$zero } },
        created_at => $now, updated_at => $now, state => 'DRAFT', version => 1,
        total_money => { %$money }, total_tax_money => { %$zero },
        total_discount_money => { %$zero }, total_tip_money => { %$zero },
        total_service_charge_money => { %$zero },
        net_amount_due_money => { %$money },
    };

    my $ans = _json(200, { payment_link => $link,
                           related_resources => { orders => [$ord] } });
    _square_save($req, $key, $ans);
    return $ans;
}

1;
