package PayTest::PKI;

# A test PKI for PayPal's certificate checks, made at test time with the
# openssl CLI, and PayPal-style signing of webhook deliveries.  Core Perl
# only.
#
#   use PayTest::PKI;
#
#   my $pki = PayTest::PKI::make('t/tmp/pki');     # idempotent
#   # $pki->{root}, $pki->{leaf}, $pki->{leaf_key}, ... (absolute paths)
#
#   my $sig = PayTest::PKI::sign($pki->{leaf_key}, "id|time|WH_ID_1|123");
#
#   --- more_headers eval
#   PayTest::PKI::paypal_headers(body => $body, key => $pki->{leaf_key},
#       cert_url => 'https://api.paypal.com/v1/notifications/certs/CERT-1',
#       webhook_id => 'WH_ID_1')
#
# make($dir) creates, in $dir (reusing them when all are there already):
#
#   file                    what                                     hash keys
#   root.pem / root.key     test root CA "ngx_pay Test Root CA",     root, root_key
#                           CA:TRUE, valid 2019-01-01 .. 2049-12-31
#   leaf.pem / leaf.key     messageverificationcerts.paypal.com,     leaf, leaf_key
#                           signed by the root (served alone at the
#                           cert URL, as PayPal does)
#   sandbox.pem / .key      messageverificationcerts.sandbox.paypal.com, sandbox,
#                           signed by the root                       sandbox_key
#   rogue.pem / .key        messageverificationcerts.paypal.com,     rogue, rogue_key
#                           self-signed (not from the root)
#   othername.pem / .key    evil.example.com, signed by the root     othername,
#                                                                    othername_key
#   expired.pem / .key      messageverificationcerts.paypal.com,     expired,
#                           signed by the root, valid 2020-01-01 ..  expired_key
#                           2021-01-01 only
#   bundle.pem              leaf.pem followed by root.pem            bundle
#
# All keys RSA 2048 (PKCS#8 PEM), all signatures SHA-256, each leaf's name
# in both its CN and a subjectAltName DNS entry; leaves (but the expired
# one) are valid from a day before make() made them for ten years, with
# CA:FALSE, digitalSignature + keyEncipherment, serverAuth.  The hash also
# has dir, live_name, sandbox_name and other_name.
#
# Concurrent callers (several .t files at once) are serialized by a lock
# file "$dir.lock"; the files are made in a temporary sibling directory
# and renamed into place, so $dir never holds a half-made PKI.

use strict;
use warnings;

use Carp qw(croak);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec;
use Fcntl qw(:flock);
use MIME::Base64 qw(encode_base64);
use POSIX ();

our $LIVE_NAME    = 'messageverificationcerts.paypal.com';
our $SANDBOX_NAME = 'messageverificationcerts.sandbox.paypal.com';
our $OTHER_NAME   = 'evil.example.com';

my @NAMES = qw(root leaf sandbox rogue othername expired);
my @FILES = ((map { ("$_.pem", "$_.key") } @NAMES), 'bundle.pem');

sub _paths {
    my ($dir) = @_;
    my %p = (dir => $dir, live_name => $LIVE_NAME,
             sandbox_name => $SANDBOX_NAME, other_name => $OTHER_NAME);
    for my $n (@NAMES) {
        $p{$n} = File::Spec->catfile($dir, "$n.pem");
        $p{"${n}_key"} = File::Spec->catfile($dir, "$n.key");
    }
    $p{bundle} = File::Spec->catfile($dir, 'bundle.pem');
    return \%p;
}

sub _complete {
    my ($dir) = @_;
    for my $f (@FILES) {
        return 0 unless -s File::Spec->catfile($dir, $f);
    }
    return 1;
}

sub make {
    my ($dir) = @_;
    croak "PayTest::PKI::make: a directory is needed" unless defined $dir;
    $dir = File::Spec->rel2abs($dir);
    $dir =~ s{/+\z}{};

    return _paths($dir) if _complete($dir);

    my $parent = dirname($dir);
    make_path($parent) unless -d $parent;

    open my $lock, '>>', "$dir.lock" or croak "cannot open $dir.lock: $!";
    flock $lock, LOCK_EX or croak "cannot lock $dir.lock: $!";

    if (!_complete($dir)) {
        my $tmp = "$dir.tmp.$$." . int(rand 1e9);
        remove_tree($tmp);
        make_path($tmp);
        my $ok = eval { _generate($tmp); 1 };
        my $err = $@;
        if (!$ok) {
            remove_tree($tmp);
            croak "PayTest::PKI::make: $err";
        }
        unlink map { File::Spec->catfile($tmp, $_) }
               grep { !/^(?:[a-z]+\.(?:pem|key))$/ } _ls($tmp);
        remove_tree(File::Spec->catdir($tmp, 'ca'));

        # a missing or empty $dir is replaced at once; else file by file
        # (under the lock, so no other make() sees it half done)
        rmdir $dir if -d $dir;    # fails unless empty
        if (!rename $tmp, $dir) {
            make_path($dir);
            for my $f (@FILES) {
                rename File::Spec->catfile($tmp, $f),
                       File::Spec->catfile($dir, $f)
                    or croak "cannot move $f into $dir: $!";
            }
            remove_tree($tmp);
        }
    }

    close $lock;
    return _paths($dir);
}

sub _ls {
    my ($dir) = @_;
    opendir my $dh, $dir or return ();
    my @f = grep { !/^\.\.?\z/ } readdir $dh;
    closedir $dh;
    return @f;
}

# runs openssl quietly; dies with its output when it fails
sub _openssl {
    my ($dir, @args) = @_;
    my $log = File::Spec->catfile($dir, 'openssl.log');
    my $pid = fork;
    croak "cannot fork: $!" unless defined $pid;
    if ($pid == 0) {
        chdir $dir or POSIX::_exit(126);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $log;
        open STDERR, '>&', \*STDOUT;
        exec 'openssl', @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return if $? == 0;
    my $out = _slurp($log) // '';
    die "openssl @args[0 .. 1] failed (status $?): $out\n";
}

sub _slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return undef;
    local $/;
    my $d = <$fh>;
    close $fh;
    return $d;
}

sub _spew {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or die "cannot write $path: $!\n";
    print $fh $data;
    close $fh or die "cannot write $path: $!\n";
}

sub _asn1_time {
    my ($t) = @_;
    return POSIX::strftime('%Y%m%d%H%M%SZ', gmtime $t);
}

sub _generate {
    my ($d) = @_;

    # the keys first, all at once (RSA key generation is the slow part)
    my @kids;
    for my $n (@NAMES) {
        my $pid = fork;
        die "cannot fork: $!\n" unless defined $pid;
        if ($pid == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', "$d/$n.keylog";
            exec 'openssl', 'genpkey', '-algorithm', 'RSA',
                 '-pkeyopt', 'rsa_keygen_bits:2048', '-out', "$d/$n.key"
                or POSIX::_exit(127);
        }
        push @kids, [$pid, $n];
    }
    my @failed;
    for my $k (@kids) {
        waitpid $k->[0], 0;
        push @failed, $k->[1] if $? != 0 || !-s "$d/$k->[1].key";
    }
    die "openssl genpkey failed for @failed: "
        . (_slurp("$d/$failed[0].keylog") // '') . "\n" if @failed;
    unlink map { "$d/$_.keylog" } @NAMES;

    mkdir "$d/ca" or die "cannot mkdir $d/ca: $!\n";
    _spew("$d/ca/index.txt", '');
    _spew("$d/ca/serial", sprintf("%08X%08X\n", int(rand 2**31), int(rand 2**31)));
    _spew("$d/ca/index.txt.attr", "unique_subject = no\n");

    _spew("$d/ca/ca.cnf", <<'EOF');
[ ca ]
default_ca = test_ca

[ test_ca ]
database        = ca/index.txt
new_certs_dir   = ca
serial          = ca/serial
default_md      = sha256
policy          = policy_any
unique_subject  = no
email_in_dn     = no
copy_extensions = none
preserve        = yes

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = unused

[ root_ext ]
basicConstraints     = critical,CA:TRUE
keyUsage             = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF

    my $now = time;
    my $from = _asn1_time($now - 86400);
    my $to   = _asn1_time($now + 3650 * 86400);

    my %cert = (
        root      => ['ngx_pay Test Root CA', undef, 1, '20190101000000Z',
                      '20491231235959Z'],
        leaf      => [$LIVE_NAME,    'root', 0, $from, $to],
        sandbox   => [$SANDBOX_NAME, 'root', 0, $from, $to],
        rogue     => [$LIVE_NAME,    undef,  0, $from, $to],
        othername => [$OTHER_NAME,   'root', 0, $from, $to],
        expired   => [$LIVE_NAME,    'root', 0, '20200101000000Z',
                      '20210101000000Z'],
    );

    for my $n (@NAMES) {
        my ($cn, $issuer, $is_ca, $start, $end) = @{ $cert{$n} };

        _openssl($d, 'req', '-new', '-config', 'ca/ca.cnf',
                 '-key', "$n.key", '-subj', "/CN=$cn", '-out', "ca/$n.csr");

        my @ext;
        if ($is_ca) {
            @ext = ('-extensions', 'root_ext');
        } else {
            my $aki = defined $issuer ? "authorityKeyIdentifier = keyid\n" : '';
            _spew("$d/ca/$n.ext", "[ leaf_ext ]\n"
                . "basicConstraints = critical,CA:FALSE\n"
                . "keyUsage = critical,digitalSignature,keyEncipherment\n"
                . "extendedKeyUsage = serverAuth\n"
                . "subjectKeyIdentifier = hash\n"
                . $aki
                . "subjectAltName = DNS:$cn\n");
            @ext = ('-extfile', "ca/$n.ext", '-extensions', 'leaf_ext');
        }

        my @signer = defined $issuer
            ? ('-cert', "$issuer.pem", '-keyfile', "$issuer.key")
            : ('-selfsign', '-keyfile', "$n.key");

        _openssl($d, 'ca', '-batch', '-config', 'ca/ca.cnf', '-notext',
                 '-rand_serial', '-md', 'sha256', @signer,
                 '-startdate', $start, '-enddate', $end, @ext,
                 '-in', "ca/$n.csr", '-out', "$n.pem");

        die "openssl ca made no $n.pem\n" unless -s "$d/$n.pem";
    }

    _spew("$d/bundle.pem", _slurp("$d/leaf.pem") . _slurp("$d/root.pem"));
    unlink "$d/openssl.log";
}


# base64 (one line) of SHA256withRSA (PKCS#1 v1.5) of $message with the
# private key in $keyfile.
sub sign {
    my ($keyfile, $message) = @_;
    croak "PayTest::PKI::sign: no key file $keyfile" unless -r $keyfile;

    my $tmp = File::Spec->catfile(File::Spec->tmpdir,
                                  "pay-pki-msg-$$-" . int(rand 1e9));
    _spew($tmp, $message);

    my $pid = open my $fh, '-|';
    croak "cannot fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec 'openssl', 'dgst', '-sha256', '-binary', '-sign', $keyfile, $tmp
            or POSIX::_exit(127);
    }
    binmode $fh;
    local $/;
    my $sig = <$fh>;
    close $fh;
    my $status = $?;
    unlink $tmp;
    croak "PayTest::PKI::sign: openssl dgst -sign failed ($status)"
        if $status != 0 || !defined $sig || !length $sig;

    return encode_base64($sig, '');
}


# zlib's CRC-32 (unsigned), as PayPal signs it.
my @CRC_TABLE;

sub crc32 {
    my ($data) = @_;
    if (!@CRC_TABLE) {
        for my $n (0 .. 255) {
            my $c = $n;
            for (1 .. 8) {
                $c = ($c & 1) ? (0xEDB88320 ^ ($c >> 1)) : ($c >> 1);
            }
            $CRC_TABLE[$n] = $c;
        }
    }
    my $crc = 0xFFFFFFFF;
    for my $b (unpack 'C*', $data) {
        $crc = $CRC_TABLE[($crc ^ $b) & 0xFF] ^ ($crc >> 8);
    }
    return ($crc ^ 0xFFFFFFFF) & 0xFFFFFFFF;
}

# a fresh UUID-like transmission id (version 1 layout, as PayPal's)
sub transmission_id {
    return sprintf '%08x-%04x-11ef-%04x-%06x%06x',
        int(rand 2**32), int(rand 2**16), 0x8000 | int(rand 2**14),
        int(rand 2**24), int(rand 2**24);
}

sub rfc3339 {
    my ($t) = @_;
    return POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($t // time));
}

# the signed message: transmission_id|transmission_time|webhook_id|crc32
sub paypal_message {
    my (%a) = @_;
    croak "paypal_message: body, transmission_id, transmission_time and "
        . "webhook_id are needed"
        if grep { !defined $a{$_} }
               qw(body transmission_id transmission_time webhook_id);
    return join '|', $a{transmission_id}, $a{transmission_time},
                     $a{webhook_id}, crc32($a{body});
}

# The five PayPal headers of a delivery of $args{body}, as a
# "--- more_headers" string (lines "Name: value", joined by "\n").
#
#   body               the exact body bytes (required)
#   key                the private key file to sign with (required
#                      unless sig is given)
#   cert_url           default https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-test
#   webhook_id         default WH_ID_1
#   transmission_id    default a fresh UUID-like id
#   transmission_time  default now, "YYYY-MM-DDTHH:MM:SSZ"
#   algo               default SHA256withRSA
#   sig                a Paypal-Transmission-Sig to send instead of the
#                      computed one (for bad signatures)
sub paypal_headers {
    my (%a) = @_;
    croak "paypal_headers: body is needed" unless defined $a{body};

    my $tid   = $a{transmission_id}   // transmission_id();
    my $ttime = $a{transmission_time} // rfc3339();
    my $whid  = $a{webhook_id}        // 'WH_ID_1';
    my $url   = $a{cert_url}
        // 'https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-test';
    my $algo  = $a{algo} // 'SHA256withRSA';

    my $sig = $a{sig};
    if (!defined $sig) {
        croak "paypal_headers: key (a private key file) is needed"
            unless defined $a{key};
        $sig = sign($a{key}, paypal_message(
            body => $a{body}, transmission_id => $tid,
            transmission_time => $ttime, webhook_id => $whid));
    }

    return join "\n",
        "Paypal-Transmission-Id: $tid",
        "Paypal-Transmission-Time: $ttime",
        "Paypal-Transmission-Sig: $sig",
        "Paypal-Cert-Url: $url",
        "Paypal-Auth-Algo: $algo";
}

1;
