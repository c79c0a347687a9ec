package PayTest;

# Test helpers of ngx_pay: signing webhook deliveries and reading the
# official test vectors (../shared/vectors, or $PAY_VECTORS).  Call them
# fully qualified (PayTest::stripe_header(...)) from "--- ... eval"
# sections, which works under the real Test::Nginx and the bundled runner.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256_hex);
use File::Basename qw(dirname);
use File::Spec;
use IO::Socket::INET;
use POSIX ();

# Signs like Stripe: v1 = hex HMAC-SHA256(secret as-is, "<t>.<body>").
sub stripe_v1 {
    my ($secret, $t, $body) = @_;
    return hmac_sha256_hex("$t.$body", $secret);
}

# A Stripe-Signature value with one v1 per secret, current time by default.
sub stripe_header {
    my ($body, $t, @secrets) = @_;
    $t = time() unless defined $t;
    @secrets = ('whsec_test_secret') unless @secrets;
    return join ',', "t=$t", map { 'v1=' . stripe_v1($_, $t, $body) } @secrets;
}

# A Stripe event body of about $size bytes, with the given id.
sub stripe_event {
    my ($id, $size) = @_;
    my $head = qq({"id":"$id","object":"event","type":"payment_intent.succeeded",)
             . qq("livemode":false,"data":{"object":{"pad":");
    my $tail = qq("}}});
    my $pad = ($size // 0) - length($head) - length($tail);
    return $head . ('x' x ($pad > 0 ? $pad : 0)) . $tail;
}

# Writes a secret file under t/tmp and returns
# its absolute path (secrets are read when nginx loads its configuration).
sub secret_file {
    my ($name, $content) = @_;
    my $dir = File::Spec->rel2abs(File::Spec->catdir('t', 'tmp'));
    mkdir $dir unless -d $dir;
    my $path = File::Spec->catfile($dir, "secret-$name");
    open my $fh, '>:raw', $path or die "cannot write $path: $!";
    print $fh $content;
    close $fh;
    return $path;
}

# A TCP server on a free loopback port that accepts connections and never
# answers (an app that hangs), for upstream timeouts.  Returns the port; the
# server is killed when the test script exits.
my @servers;
my $owner = $$;    # a forked child that exits must not kill them

sub stall_server {
    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 64, ReuseAddr => 1,
    ) or die "cannot listen: $!";
    my $port = $listen->sockport;
    my $pid = fork;
    die "cannot fork: $!" unless defined $pid;
    if ($pid == 0) {
        my @held;
        while (my $c = $listen->accept) {
            push @held, $c;    # read nothing, answer nothing
        }
        POSIX::_exit(0);
    }
    close $listen;
    push @servers, $pid;
    return $port;
}

END {
    return unless $$ == $owner;
    local $?;    # waitpid must not change the script's exit status
    for my $pid (@servers) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
}

sub vectors_dir {
    return $ENV{PAY_VECTORS} if $ENV{PAY_VECTORS};
    my $t = dirname(dirname(File::Spec->rel2abs(__FILE__)));
    return File::Spec->catdir(dirname(dirname($t)), 'shared', 'vectors');
}

# The exact bytes of a vector file, e.g. vector('stripe_s3_body.json').
sub vector {
    my ($name) = @_;
    my $path = File::Spec->catfile(vectors_dir(), $name);
    open my $fh, '<:raw', $path or die "cannot open test vector $path: $!";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

1;
