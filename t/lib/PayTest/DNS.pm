package PayTest::DNS;

# A tiny DNS server for the tests, on a free UDP port of 127.0.0.1, in a
# forked process: every A query is answered with the IPv4 address written
# last with set() (TTL 0, so nginx's resolver asks again each time), any
# other query with no answer.  Core Perl only.
#
#   my $dns = PayTest::DNS->start(address => '127.0.0.1');
#   $dns->port;                    # for "resolver 127.0.0.1:PORT ipv6=off"
#   $dns->set('127.0.0.2');        # the next answers
#   $dns->stop;                    # also when the test script exits

use strict;
use warnings;

use File::Spec;
use IO::Socket::INET;
use POSIX ();

my $owner = $$;
my @all;

sub start {
    my ($class, %o) = @_;

    my $dir = File::Spec->rel2abs(File::Spec->catdir('t', 'tmp'));
    mkdir $dir unless -d $dir;

    my $sock = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp',
    ) or die "PayTest::DNS: cannot bind: $!";

    my $self = bless {
        port => $sock->sockport,
        file => File::Spec->catfile($dir, "dns-$$-" . $sock->sockport),
    }, $class;

    $self->set($o{address} // '127.0.0.1');

    my $pid = fork;
    die "PayTest::DNS: cannot fork: $!" unless defined $pid;

    if ($pid == 0) {
        _serve($sock, $self->{file});
        POSIX::_exit(0);
    }

    close $sock;
    $self->{pid} = $pid;
    push @all, $self;

    return $self;
}

sub port { $_[0]{port} }

# written whole, then renamed: a query never reads half an address
sub set {
    my ($self, $address) = @_;
    my $tmp = "$self->{file}.new";
    open my $fh, '>', $tmp or die "PayTest::DNS: $tmp: $!";
    print $fh $address;
    close $fh;
    rename $tmp, $self->{file} or die "PayTest::DNS: rename: $!";
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'KILL', $pid;
    waitpid $pid, 0;
    unlink $self->{file};
}

sub _serve {
    my ($sock, $file) = @_;

    while (1) {
        my $peer = $sock->recv(my $q, 512) // next;
        next if length $q < 12;

        my ($id, $flags, $qd) = unpack 'n n n', $q;
        next if $qd != 1;

        # the question: labels up to a zero byte, then type and class
        my $end = index $q, "\0", 12;
        next if $end < 0 || length $q < $end + 5;
        my $question = substr $q, 12, $end + 5 - 12;
        my ($type) = unpack 'n', substr $q, $end + 1, 2;

        my $answer = '';
        my $an = 0;

        if ($type == 1) {
            open my $fh, '<', $file or next;
            my $address = <$fh>;
            close $fh;
            my @octets = split /\./, $address;
            # a pointer to the question's name, A, IN, TTL 0, 4 bytes
            $answer = pack('n n n N n C4', 0xc00c, 1, 1, 0, 4, @octets);
            $an = 1;
        }

        # a response, recursion available, the id and question echoed
        my $head = pack 'n n n n n n', $id, 0x8180 | ($flags & 0x0100),
                        1, $an, 0, 0;
        $sock->send($head . $question . $answer, 0, $peer);
    }
}

END {
    return unless $$ == $owner;
    local $?;
    $_->stop for @all;
}

1;
