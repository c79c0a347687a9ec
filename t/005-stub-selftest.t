# The test helpers themselves, without nginx: PayTest::PKI (the test PKI,
# PayPal signing, CRC-32) and PayTest::Stub (the providers' stand-in).
#
#   prove -I t/lib t/005-stub-selftest.t

use strict;
use warnings;

use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use PayTest;
use PayTest::PKI;
use PayTest::Stub;

my $tmp = tempdir('pay-stub-selftest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8->canonical;

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "cannot open $path: $!";
    local $/;
    my $d = <$fh>;
    close $fh;
    return $d;
}

sub openssl_ok {
    my (@args) = @_;
    my $out = qx{openssl @args 2>&1};
    return ($? == 0, $out);
}

# ---------------------------------------------------------------------------
# PKI

is PayTest::PKI::crc32('123456789'), 3421780262, 'crc32 check value';
is PayTest::PKI::crc32('test_string'), 157791623, 'crc32 of test_string';
is PayTest::PKI::crc32(''), 0, 'crc32 of nothing';
is PayTest::PKI::crc32(PayTest::vector('paypal_p2_body.json')), 524928637,
   'crc32 of the P2 vector body';

is PayTest::PKI::paypal_message(
       body => PayTest::vector('paypal_p2_body.json'),
       transmission_id => '8ad71ae0-4e5e-11ef-b16d-8fad525a7f7b',
       transmission_time => '2024-07-30T10:29:03Z',
       webhook_id => 'WEBHOOK_ID'),
   PayTest::vector('paypal_p2_signed_message.txt') =~ s/\s+\z//r,
   'the signed message of P2';

my $t0 = time;
my $pki = PayTest::PKI::make("$tmp/pki");
ok $pki && -d $pki->{dir}, 'PKI made';
note sprintf 'PKI made in %.2f s', time - $t0;    # not asserted: no timings

for my $n (qw(root leaf sandbox rogue othername expired)) {
    ok -s $pki->{$n} && -s $pki->{"${n}_key"}, "$n.pem and $n.key exist";
}
ok -s $pki->{bundle}, 'bundle.pem exists';

my $root_before = slurp($pki->{root});
my $again = PayTest::PKI::make("$tmp/pki");
is slurp($again->{root}), $root_before, 'make() again reuses the files';
is_deeply $again, $pki, '... and returns the same paths';

{
    my $root = $pki->{root};
    my ($ok, $out) = openssl_ok("verify -CAfile $root -verify_hostname "
        . "messageverificationcerts.paypal.com $pki->{leaf}");
    ok $ok, 'leaf chains to the root with the live name' or diag $out;

    ($ok, $out) = openssl_ok("verify -CAfile $root -verify_hostname "
        . "messageverificationcerts.sandbox.paypal.com $pki->{sandbox}");
    ok $ok, 'sandbox leaf chains to the root with its name' or diag $out;

    ($ok, $out) = openssl_ok("verify -CAfile $root $pki->{rogue}");
    ok !$ok, 'rogue does not chain to the root';

    ($ok, $out) = openssl_ok("verify -CAfile $root $pki->{othername}");
    ok $ok, 'othername chains to the root' or diag $out;
    ($ok, $out) = openssl_ok("verify -CAfile $root -verify_hostname "
        . "messageverificationcerts.paypal.com $pki->{othername}");
    ok !$ok, '... but not with the PayPal name';

    ($ok, $out) = openssl_ok("verify -CAfile $root $pki->{expired}");
    ok !$ok && $out =~ /expired/, 'expired is expired';
    ($ok, $out) = openssl_ok("verify -CAfile $root -attime 1590000000 "
        . "$pki->{expired}");
    ok $ok, '... and was valid in 2020' or diag $out;

    my $text = qx{openssl x509 -in $pki->{leaf} -noout -text 2>&1};
    like $text, qr/Public-Key: \(2048 bit\)/, 'RSA 2048';
    like $text, qr/sha256WithRSAEncryption/, 'SHA-256';
    like $text, qr/DNS:messageverificationcerts\.paypal\.com/, 'name in SAN';
    like $text, qr/Subject: CN\s*=\s*messageverificationcerts\.paypal\.com/,
         'name in CN';
}

{
    my $msg = 'tid|2024-01-01T00:00:00Z|WH_ID_1|123';
    my $sig = PayTest::PKI::sign($pki->{leaf_key}, $msg);
    like $sig, qr{^[A-Za-z0-9+/]{342}==$}, 'sign: one line of base64, 256 bytes';

    open my $fh, '>:raw', "$tmp/msg" or die;
    print $fh $msg;
    close $fh;
    open $fh, '>:raw', "$tmp/sig" or die;
    print $fh decode_base64($sig);
    close $fh;
    system("openssl x509 -in $pki->{leaf} -pubkey -noout > $tmp/pub.pem");
    my ($ok, $out) = openssl_ok("dgst -sha256 -verify $tmp/pub.pem "
        . "-signature $tmp/sig $tmp/msg");
    ok $ok && $out =~ /Verified OK/, 'the signature verifies with the leaf'
        or diag $out;
}

{
    my $body = '{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}';
    my $h = PayTest::PKI::paypal_headers(body => $body, key => $pki->{leaf_key},
        cert_url => 'https://api.paypal.com/v1/notifications/certs/CERT-1',
        webhook_id => 'WH1', transmission_id => 'tid-1',
        transmission_time => '2024-07-30T10:29:03Z');
    my %h = map { /^([^:]+): (.*)$/ ? ($1, $2) : () } split /\n/, $h;
    is scalar(split /\n/, $h), 5, 'paypal_headers: five lines';
    is $h{'Paypal-Transmission-Id'}, 'tid-1', 'transmission id';
    is $h{'Paypal-Transmission-Time'}, '2024-07-30T10:29:03Z', 'time';
    is $h{'Paypal-Cert-Url'},
       'https://api.paypal.com/v1/notifications/certs/CERT-1', 'cert url';
    is $h{'Paypal-Auth-Algo'}, 'SHA256withRSA', 'algo';
    is $h{'Paypal-Transmission-Sig'}, PayTest::PKI::sign($pki->{leaf_key},
        'tid-1|2024-07-30T10:29:03Z|WH1|' . PayTest::PKI::crc32($body)),
       'signature of id|time|webhook_id|crc32';

    my $d = PayTest::PKI::paypal_headers(body => $body, key => $pki->{leaf_key});
    like $d, qr/^Paypal-Transmission-Id: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/m,
         'default transmission id is UUID-like';
    like $d, qr/^Paypal-Transmission-Time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m,
         'default transmission time is RFC 3339';
}

{
    # concurrent make() on a new directory: one PKI, all see it whole
    my $dir = "$tmp/pki2";
    my @kids;
    for (1 .. 3) {
        my $pid = fork // die;
        if (!$pid) {
            my $p = eval { PayTest::PKI::make($dir) };
            my $ok = $p && -s $p->{root} && -s $p->{expired_key};
            POSIX::_exit($ok ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $bad = 0;
    for (@kids) { waitpid $_, 0; $bad++ if $? }
    is $bad, 0, 'concurrent make() calls all succeed';
    my $p = PayTest::PKI::make($dir);
    my ($ok) = openssl_ok("verify -CAfile $p->{root} $p->{leaf}");
    ok $ok, '... and the result is one consistent PKI';
}

# ---------------------------------------------------------------------------
# the stub

my $port = PayTest::Stub::start(cert_dir => $pki->{dir});
ok $port, "stub on port $port";
$ENV{TEST_NGINX_STUB_PORT} = $port;

# one HTTP answer from a socket: (status, headers{lc}, body); what is read
# past it stays for the next call
my %left;

sub read_response {
    my ($s, $timeout) = @_;
    my $buf = delete $left{"$s"} // '';
    my $sel = IO::Select->new($s);
    my $deadline = time + ($timeout // 5);
    my ($status, %h, $len);
    while (1) {
        if (!defined $status && $buf =~ /\r\n\r\n/) {
            my $i = index $buf, "\r\n\r\n";
            my $head = substr $buf, 0, $i + 4, '';
            my @l = split /\r\n/, $head;
            ($status) = (shift @l) =~ m{^HTTP/1\.\d (\d+)};
            for (@l) { $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
            $len = $h{'content-length'} // 0;
            if ($status == 100) { undef $status; %h = (); next }
        }
        if (defined $status && length $buf >= $len) {
            my $body = substr $buf, 0, $len, '';
            $left{"$s"} = $buf;
            return ($status, \%h, $body);
        }
        my $left = $deadline - time;
        return () if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $s, $buf, 65536, length $buf;
        return () unless $n;
    }
}

sub connect_stub {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5);
    die "cannot connect to the stub: $!" unless $s;
    return $s;
}

sub request {
    my ($method, $path, %o) = @_;
    my $body = $o{body} // '';
    my $v = $o{version} // 'HTTP/1.1';
    my $r = "$method $path $v\r\nHost: api.example\r\n";
    for my $h (@{ $o{headers} || [] }) { $r .= "$h\r\n" }
    $r .= "Content-Length: " . length($body) . "\r\n"
        if length $body || $method eq 'POST';
    $r .= "Connection: close\r\n" if $v eq 'HTTP/1.1';
    $r .= "\r\n$body";
    my $s = connect_stub();
    print $s $r;
    my ($st, $h, $b) = read_response($s, $o{timeout});
    close $s;
    my $data = eval { JSON::PP->new->utf8->decode($b // '') };
    return ($st, $data, $h, $b);
}

my $basic = 'Authorization: Basic '
          . encode_base64('paypal_client_id:paypal_client_secret', '');
my $form = 'Content-Type: application/x-www-form-urlencoded';
my $ctj = 'Content-Type: application/json';

# --- PayPal OAuth

my ($st, $d, $h, $raw);

($st, $d) = request('POST', '/v1/oauth2/token', headers => [
    'Authorization: Basic ' . encode_base64('paypal_client_id:wrong', ''),
    $form], body => 'grant_type=client_credentials');
is $st, 401, 'token: wrong secret is 401';
is_deeply $d, { error => 'invalid_client',
                error_description => 'Client Authentication failed' },
          '... with PayPal\'s body';

($st, $d) = request('POST', '/v1/oauth2/token', headers => [$basic, $form],
                    body => 'grant_type=client_credentials');
is $st, 200, 'token: 200';
like $d->{access_token}, qr/^A21AA\S+$/, '... access_token A21AA...';
is $d->{token_type}, 'Bearer', '... Bearer';
is $d->{expires_in}, 32400, '... expires_in 32400';
is $d->{app_id}, 'APP-80W284485P519543T', '... app_id';
ok $d->{scope} && $d->{nonce}, '... scope and nonce';
my $token = $d->{access_token};
my $bearer = "Authorization: Bearer $token";

is PayTest::Stub::count('/v1/oauth2/token'), 2, 'count: 2 token requests';

# --- PayPal verify-webhook-signature

my $event = '{"id":"WH-9","event_version":"1.0","resource":{"amount":1.0,"z":{},"a":[]}}';
my $vbody = sub {
    my (%o) = @_;
    my %f = (auth_algo => 'SHA256withRSA',
             cert_url => 'https://api.paypal.com/v1/notifications/certs/CERT-1',
             transmission_id => 'tid', transmission_sig => 'good-signature',
             transmission_time => '2024-07-30T10:29:03Z',
             webhook_id => 'WH_ID_1', %o);
    return '{' . join(',', map { qq("$_":) . $json->encode($f{$_}) }
                           sort keys %f)
         . qq(,"webhook_event":$event});
};

($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
                    headers => [$ctj], body => $vbody->());
is $st, 401, 'verify: no token is 401';
is $d->{error}, 'invalid_token', '... invalid_token';

($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
    headers => ['Authorization: Bearer A21AAnotissued', $ctj],
    body => $vbody->());
is $st, 401, 'verify: a token never issued is 401';

($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
                    headers => [$bearer, $ctj], body => $vbody->());
is $st, 200, 'verify: 200';
is_deeply $d, { verification_status => 'SUCCESS' }, '... SUCCESS';
is PayTest::Stub::last_body('/v1/notifications/verify-webhook-signature'),
   $vbody->(), 'the raw body is recorded';
like PayTest::Stub::last_body('/v1/notifications/verify-webhook-signature'),
   qr/"webhook_event":\Q$event\E\}$/, '... webhook_event verbatim';

($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
    headers => [$bearer, $ctj], body => $vbody->(transmission_sig => 'bad'));
is_deeply $d, { verification_status => 'FAILURE' }, 'verify: bad sig FAILURE';
($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
    headers => [$bearer, $ctj], body => $vbody->(webhook_id => 'OTHER'));
is_deeply $d, { verification_status => 'FAILURE' },
          'verify: other webhook id FAILURE';

($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
    headers => [$bearer, $ctj],
    body => '{"auth_algo":"SHA256withRSA","webhook_event":{}}');
is $st, 400, 'verify: missing fields is 400';
is $d->{name}, 'VALIDATION_ERROR', '... VALIDATION_ERROR';
is_deeply [sort map { $_->{field} } @{ $d->{details} }],
          [qw(cert_url transmission_id transmission_sig transmission_time
              webhook_id)], '... with each missing field';

PayTest::Stub::set(paypal_webhook_id => 'WH_OTHER',
                   paypal_good_signature => 'sig2');
($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
    headers => [$bearer, $ctj],
    body => $vbody->(webhook_id => 'WH_OTHER', transmission_sig => 'sig2'));
is_deeply $d, { verification_status => 'SUCCESS' }, 'set: new webhook id';

# --- PayPal orders

my $order = '{"intent":"CAPTURE","purchase_units":[{"amount":'
          . '{"currency_code":"USD","value":"20.00"}}],'
          . '"application_context":{"return_url":"https://shop.example/ok"}}';
($st, $d, $h) = request('POST', '/v2/checkout/orders',
    headers => [$bearer, $ctj, 'PayPal-Request-Id: rq-1'], body => $order);
is $st, 201, 'order: 201';
like $d->{id}, qr/^[A-Z0-9]{17}$/, '... id';
is $d->{status}, 'CREATED', '... CREATED';
my %rel = map { $_->{rel} => $_ } @{ $d->{links} };
is $rel{approve}{href},
   "https://www.sandbox.paypal.com/checkoutnow?token=$d->{id}",
   '... approve link';
is $rel{self}{method}, 'GET', '... self link';
ok $rel{capture}, '... capture link';
my $oid = $d->{id};

($st, $d) = request('POST', '/v2/checkout/orders',
    headers => [$bearer, $ctj, 'PayPal-Request-Id: rq-1'], body => $order);
is $d->{id}, $oid, 'order: same PayPal-Request-Id, same order';
($st, $d) = request('POST', '/v2/checkout/orders',
    headers => [$bearer, $ctj, 'PayPal-Request-Id: rq-2'], body => $order);
isnt $d->{id}, $oid, 'order: another PayPal-Request-Id, another order';

($st, $d) = request('POST', '/v2/checkout/orders',
    headers => [$bearer, $ctj, 'Prefer: return=representation'],
    body => '{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":'
          . '"EUR","value":"5.00"}}],"payment_source":{"paypal":'
          . '{"experience_context":{"return_url":"https://shop.example/ok"}}}}');
is $st, 201, 'order with payment_source: 201';
is $d->{status}, 'PAYER_ACTION_REQUIRED', '... PAYER_ACTION_REQUIRED';
%rel = map { $_->{rel} => $_ } @{ $d->{links} };
ok $rel{'payer-action'} && !$rel{approve}, '... payer-action link';
is $d->{purchase_units}[0]{amount}{value}, '5.00', '... representation';

($st, $d) = request('POST', '/v2/checkout/orders', headers => [$bearer, $ctj],
    body => '{"intent":"CAPTURE","purchase_units":[{"amount":'
          . '{"currency_code":"JPY","value":"20.50"}}]}');
is $st, 400, 'order: JPY with decimals is 400';
is $d->{details}[0]{issue}, 'DECIMAL_PRECISION', '... DECIMAL_PRECISION';

($st, $d) = request('POST', '/v2/checkout/orders', headers => [$bearer, $ctj],
    body => '{"intent":"CAPTURE","purchase_units":[{"amount":'
          . '{"currency_code":"USD","value":20.00}}]}');
is $st, 400, 'order: value as a JSON number is 400';

($st, $d) = request('POST', '/v2/checkout/orders', headers => [$bearer, $ctj],
    body => '{"intent":"CAPTURE","purchase_units":[{"amount":'
          . '{"currency_code":"KWD","value":"1.000"}}]}');
is $st, 400, 'order: KWD 1.000 is 400 (precision first)';

PayTest::Stub::revoke_tokens();
($st, $d) = request('POST', '/v2/checkout/orders',
    headers => [$bearer, $ctj], body => $order);
is $st, 401, 'revoke_tokens: the token is refused';

# --- certificates

($st, undef, $h, $raw) = request('GET', '/v1/notifications/certs/leaf.pem');
is $st, 200, 'cert: 200';
is $raw, slurp($pki->{leaf}), '... the leaf PEM';
($st) = request('GET', '/v1/notifications/certs/nope.pem');
is $st, 404, 'cert: missing is 404';
($st) = request('GET', '/v1/notifications/certs/..%2Froot.key');
is $st, 404, 'cert: no way out of the directory';

# --- Stripe

my $sk = 'Authorization: Bearer sk_test_stub';
my $pibody = 'amount=2000&currency=usd&automatic_payment_methods[enabled]=true'
           . '&metadata[order]=o-1';

($st, $d) = request('POST', '/v1/payment_intents',
    headers => ['Authorization: Bearer sk_test_wrongkey1234', $form],
    body => $pibody);
is $st, 401, 'stripe: wrong key is 401';
is $d->{error}{type}, 'invalid_request_error', '... invalid_request_error';
like $d->{error}{message}, qr/^Invalid API Key provided: sk_test_\*+1234$/,
     '... masked key';

($st, $d, $h) = request('POST', '/v1/payment_intents',
    headers => [$sk, $form, 'Idempotency-Key: ik-1'], body => $pibody);
is $st, 200, 'stripe: 200';
like $d->{id}, qr/^pi_\w{24}$/, '... pi_ id';
is $d->{object}, 'payment_intent', '... object';
is $d->{amount}, 2000, '... amount';
is $d->{currency}, 'usd', '... currency';
is $d->{status}, 'requires_payment_method', '... status';
like $d->{client_secret}, qr/^\Q$d->{id}\E_secret_\w+$/, '... client_secret';
ok $d->{automatic_payment_methods}{enabled}, '... automatic_payment_methods';
is $d->{metadata}{order}, 'o-1', '... metadata';
like $h->{'request-id'}, qr/^req_/, '... Request-Id';
my $pid = $d->{id};

($st, $d, $h) = request('POST', '/v1/payment_intents',
    headers => [$sk, $form, 'Idempotency-Key: ik-1'], body => $pibody);
is $d->{id}, $pid, 'stripe: same key and body, same intent';
is $h->{'idempotent-replayed'}, 'true', '... Idempotent-Replayed';

($st, $d) = request('POST', '/v1/payment_intents',
    headers => [$sk, $form, 'Idempotency-Key: ik-1'],
    body => 'amount=3000&currency=usd');
is $st, 400, 'stripe: same key, other body is 400';
is $d->{error}{type}, 'idempotency_error', '... idempotency_error';

($st, $d) = request('POST', '/v1/payment_intents', headers => [$sk, $form],
                    body => 'currency=usd');
is $st, 400, 'stripe: missing amount is 400';
is $d->{error}{code}, 'parameter_missing', '... parameter_missing';
is $d->{error}{param}, 'amount', '... param amount';

($st, $d) = request('POST', '/v1/payment_intents', headers => [$sk, $form],
                    body => 'amount=2000&currency=usd&bogus=1');
is $d->{error}{code}, 'parameter_unknown', 'stripe: unknown param';

PayTest::Stub::fail('/v1/payment_intents', 402, code => 'card_declined');
($st, $d) = request('POST', '/v1/payment_intents', headers => [$sk, $form],
                    body => $pibody);
is $st, 402, 'fail 402: 402';
is_deeply [@{ $d->{error} }{qw(type code decline_code message)}],
          ['card_error', 'card_declined', 'generic_decline',
           'Your card was declined.'], '... Stripe\'s card error';

PayTest::Stub::fail('/v1/payment_intents', 503, times => 2);
my @st = map { (request('POST', '/v1/payment_intents',
                        headers => [$sk, $form], body => $pibody))[0] } 1 .. 3;
is_deeply \@st, [503, 503, 200], 'fail 503 times=2: 503, 503, then 200';

# --- Square

my $sq = 'Authorization: Bearer sq_token_stub';
my $paybody = '{"source_id":"cnon:card-nonce-ok","idempotency_key":"sq-1",'
            . '"amount_money":{"amount":2000,"currency":"USD"},'
            . '"autocomplete":false,"location_id":"L123"}';
($st, $d) = request('POST', '/v2/payments', headers => [$ctj], body => $paybody);
is $st, 401, 'square: no token is 401';
is $d->{errors}[0]{category}, 'AUTHENTICATION_ERROR', '... category';
is $d->{errors}[0]{code}, 'UNAUTHORIZED', '... code';

($st, $d) = request('POST', '/v2/payments', headers => [$sq, $ctj],
                    body => $paybody);
is $st, 200, 'square payment: 200';
is $d->{payment}{status}, 'APPROVED', '... APPROVED (autocomplete false)';
is $d->{payment}{amount_money}{amount}, 2000, '... amount';
is $d->{payment}{location_id}, 'L123', '... location';
my $sqid = $d->{payment}{id};
($st, $d) = request('POST', '/v2/payments', headers => [$sq, $ctj],
                    body => $paybody);
is $d->{payment}{id}, $sqid, 'square: same key and body, same payment';
($st, $d) = request('POST', '/v2/payments', headers => [$sq, $ctj],
                    body => $paybody =~ s/2000/2100/r);
is $st, 400, 'square: same key, other body is 400';
is $d->{errors}[0]{code}, 'IDEMPOTENCY_KEY_REUSED', '... IDEMPOTENCY_KEY_REUSED';
($st, $d) = request('POST', '/v2/payments', headers => [$sq, $ctj],
    body => '{"idempotency_key":"sq-2","amount_money":{"amount":1,"currency":"USD"}}');
is $d->{errors}[0]{field}, 'source_id', 'square: missing source_id named';

my $linkbody = '{"idempotency_key":"ln-1","quick_pay":{"name":"Order 1",'
             . '"price_money":{"amount":2000,"currency":"USD"},'
             . '"location_id":"L123"}}';
($st, $d) = request('POST', '/v2/online-checkout/payment-links',
                    headers => [$sq, $ctj], body => $linkbody);
is $st, 200, 'square link: 200';
like $d->{payment_link}{url}, qr{^https://square\.link/u/\w{8}$}, '... url';
is $d->{payment_link}{order_id}, $d->{related_resources}{orders}[0]{id},
   '... order_id of the related order';
my $lid = $d->{payment_link}{id};
($st, $d) = request('POST', '/v2/online-checkout/payment-links',
                    headers => [$sq, $ctj], body => $linkbody);
is $d->{payment_link}{id}, $lid, 'square link: same key, same link';

# --- control

is PayTest::Stub::count('/v2/payments'), 5, 'count of /v2/payments';
my @r = PayTest::Stub::requests('/v2/online-checkout/payment-links');
is scalar @r, 2, 'requests: two recorded';
is $r[0]{method}, 'POST', '... method';
is $r[0]{headers}{authorization}, 'Bearer sq_token_stub', '... headers';
is $r[0]{body}, $linkbody, '... raw body';

my $ua = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
    or die;
print $ua "GET /__stub/count?path=/v2/payments HTTP/1.0\r\n\r\n";
my ($cs, undef, $cb) = read_response($ua);
is $cb, "5\n", 'GET /__stub/count answers a plain number';

PayTest::Stub::reset();
is PayTest::Stub::count('/v2/payments'), 0, 'reset: counts forgotten';
is scalar(() = PayTest::Stub::requests()), 0, 'reset: requests forgotten';
($st, $d) = request('POST', '/v1/notifications/verify-webhook-signature',
    headers => [$bearer, $ctj], body => $vbody->());
is $st, 401, 'reset: tokens forgotten';

# --- HTTP

{
    # keep-alive: two requests on one HTTP/1.1 connection, then a chunked one
    my $s = connect_stub();
    print $s "GET /v1/notifications/certs/root.pem HTTP/1.1\r\nHost: x\r\n\r\n";
    my ($s1, $h1, $b1) = read_response($s);
    print $s "POST /v1/oauth2/token HTTP/1.1\r\nHost: x\r\n$basic\r\n$form\r\n"
           . "Transfer-Encoding: chunked\r\n\r\n"
           . "5\r\ngrant\r\n18;ext=1\r\n_type=client_credentials\r\n0\r\n\r\n";
    my ($s2, $h2, $b2) = read_response($s);
    is $s1, 200, 'keep-alive: first answer';
    is $h1->{connection}, 'keep-alive', '... connection kept';
    is $s2, 200, 'keep-alive + chunked body: second answer';
    like $b2, qr/"access_token":"A21AA/, '... a token';
    close $s;

    # pipelined HTTP/1.1, then HTTP/1.0 (closed after the answer)
    $s = connect_stub();
    print $s "GET /__stub/ping HTTP/1.1\r\nHost: x\r\n\r\n"
           . "GET /__stub/ping HTTP/1.1\r\nHost: x\r\n\r\n";
    my @a = map { (read_response($s))[2] } 1 .. 2;
    is_deeply \@a, ["pong\n", "pong\n"], 'pipelined requests';
    close $s;

    $s = connect_stub();
    print $s "POST /v1/oauth2/token HTTP/1.0\r\n$basic\r\n$form\r\n"
           . "Content-Length: 29\r\n\r\ngrant_type=client_credentials";
    my ($s3, $h3) = read_response($s);
    is $s3, 200, 'HTTP/1.0 with Content-Length';
    is $h3->{connection}, 'close', '... Connection: close';
    my $n = sysread $s, my $buf, 10;
    is $n, 0, '... and closed';
    close $s;

    # Expect: 100-continue
    $s = connect_stub();
    print $s "POST /v1/oauth2/token HTTP/1.1\r\nHost: x\r\n$basic\r\n$form\r\n"
           . "Expect: 100-continue\r\nContent-Length: 29\r\n\r\n";
    my $sel = IO::Select->new($s);
    my $cont = '';
    sysread $s, $cont, 100 if $sel->can_read(2);
    like $cont, qr{^HTTP/1\.1 100 Continue\r\n\r\n}, '100 Continue';
    print $s "grant_type=client_credentials";
    my ($s4) = read_response($s);
    is $s4, 200, '... then the answer';
    close $s;
}

# --- faults

{
    PayTest::Stub::fail('/v1/payment_intents', 'timeout');
    my $held = connect_stub();
    print $held "POST /v1/payment_intents HTTP/1.1\r\nHost: x\r\n$sk\r\n"
              . "Content-Length: 0\r\n\r\n";
    my $sel = IO::Select->new($held);
    ok !$sel->can_read(0.3), 'timeout: no answer';

    # meanwhile other connections are served
    ($st) = request('GET', '/__stub/ping');
    is $st, 200, '... while other connections are served';
    close $held;

    PayTest::Stub::fail('/v1/payment_intents', 'close');
    my $s = connect_stub();
    print $s "POST /v1/payment_intents HTTP/1.1\r\nHost: x\r\n$sk\r\n"
           . "Content-Length: 0\r\n\r\n";
    $sel = IO::Select->new($s);
    my $n = $sel->can_read(2) ? sysread($s, my $buf, 100) : -1;
    is $n, 0, 'close: closed without an answer';
    close $s;

    PayTest::Stub::fail('/v2/payments', 'delay', ms => 300);
    my $t = time;
    ($st, $d) = request('POST', '/v2/payments', headers => [$sq, $ctj],
                        body => $paybody);
    ok time - $t >= 0.25 && $st == 200, 'delay: the normal answer, late';

    PayTest::Stub::fail('/v2/checkout/orders', 503, times => -1,
                        retry_after => 2);
    ($st, $d, $h) = request('POST', '/v2/checkout/orders', headers => [$ctj]);
    is $st, 503, 'paypal 503';
    is $d->{name}, 'SERVICE_UNAVAILABLE', '... PayPal\'s error shape';
    is $h->{'retry-after'}, 2, '... Retry-After';
    ($st) = request('POST', '/v2/checkout/orders', headers => [$ctj]);
    is $st, 503, 'times=-1: still failing';
    PayTest::Stub::fail('/v2/checkout/orders', 503, times => 0);
    ($st) = request('POST', '/v2/checkout/orders', headers => [$ctj]);
    is $st, 401, 'times=0: cleared';

    PayTest::Stub::fail('/v2/payments', 500);
    ($st, $d) = request('POST', '/v2/payments', headers => [$sq, $ctj],
                        body => $paybody);
    is_deeply [$st, @{ $d->{errors}[0] }{qw(category code)}],
              [500, 'API_ERROR', 'INTERNAL_SERVER_ERROR'],
              'square 500 shape';
}

# --- a forked child that exits leaves the stub running

{
    my $pid = fork // die;
    if (!$pid) { exit 0 }    # runs END blocks
    waitpid $pid, 0;
    ($st) = request('GET', '/__stub/ping');
    is $st, 200, 'a forked child exiting does not stop the stub';
}

done_testing();
