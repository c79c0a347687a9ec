package PayTest::Port;

# Free loopback ports for the servers the tests start, and for "nothing
# listens here".
#
# A port the kernel picks for a bind to port 0 is in its ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range), the range it also takes the
# source port of every outgoing connection from.  Between the pick and the
# server's own bind, a connection (nginx to its upstream, a client, a
# sentinel to its Redis) could take the port, and the server would fail
# with "Address already in use": util/test-reliability's Redis did, once.
# So ports are drawn at random below the ephemeral range, where the kernel
# never puts a source port, checked free by binding them, and never handed
# out twice by one process.

use strict;
use warnings;

use Exporter qw(import);
use IO::Socket::INET;

our @EXPORT_OK = qw(free_port free_ports);

my %given;

sub ephemeral_start {
    my $start = 32768;

    if (open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        my ($first) = split ' ', (scalar(<$fh>) // '');
        $start = $first if defined $first && $first =~ /^\d+$/;
        close $fh;
    }

    return $start;
}

# the range is read once, when the module loads
my $end = ephemeral_start();
my $low = $end > 11000 ? 10000 : 1024;

sub free_port {
    die "no ports below the ephemeral range, which starts at $end\n"
        if $end - $low < 100;

    for (1 .. 2000) {
        my $port = $low + int rand($end - $low);

        next if $given{$port};

        # no ReuseAddr: a port still in TIME_WAIT is passed over too
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp',
                                      Listen => 1)
            or next;
        close $s;

        $given{$port} = 1;
        return $port;
    }

    die "no free loopback port between $low and $end\n";
}

sub free_ports {
    my ($count) = @_;

    return map { free_port() } 1 .. $count;
}

1;
