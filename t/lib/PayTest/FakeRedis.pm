package PayTest::FakeRedis;

# A small fake Redis server for fault tests of the Redis store: it speaks
# just enough RESP for what ngx_pay sends, in memory, and can misbehave on
# purpose.  Core Perl only.
#
#   use PayTest::FakeRedis;
#
#   my $fake = PayTest::FakeRedis->start(mode => 'delay', delay_ms => 600);
#   ... pay_store main redis=127.0.0.1:${\ $fake->port } timeout=250ms; ...
#   my @seen = $fake->commands;    # "CONNECT", "AUTH", "SET pay:k", ...
#   $fake->stop;                   # also done when $fake goes out of scope
#
# start() forks a server on a free 127.0.0.1 port and returns once it
# listens.  Options:
#
#   mode       what data commands (SET, GET, EVAL, DEL) get:
#                ok       correct answers (the default);
#                delay    correct answers, each delay_ms late (replies stay
#                         in order: what follows a late one waits for it);
#                garbage  bytes that are not RESP ("HTTP/1.1 400 ...");
#                drop     the start of a bulk reply, then the connection is
#                         closed;
#                big      SET ... GET, GET and the claim EVAL answer a done
#                         record of big_bytes payload ("D" + "x" x N);
#                array    every data command is answered with the start of
#                         an array of array_elements elements, then
#                         big_bytes of its elements (bulk strings of 8 KiB),
#                         never the end: a reply made of parts, none of
#                         them big;
#                refuse   nothing listens: port() is a free port, closed.
#              AUTH, SELECT and PING are always answered at once, correctly.
#   delay_ms   for delay (default 600).
#   big_bytes  for big and array (default 1048576).
#   array_elements  for array (default 1000).
#   password   require AUTH with it; NOAUTH before, WRONGPASS if wrong.
#   fail_key   a data command whose key contains this string gets an error
#              reply ("-ERR injected failure") instead, the first
#              fail_times (default 1) such commands only; in ok mode, the
#              others are answered correctly.
#   version    7 (default) accepts SET with NX and GET; below 7 it is
#              "ERR syntax error", as in Redis 6.2 and older.
#   tamper     a code ref, sub { my ($key, $value) = @_; ...; $value }:
#              in ok mode, every stored value that GET, SET ... GET or
#              the claim EVAL returns goes through it and its result is
#              sent instead (what is stored does not change): records
#              that someone with access to Redis altered.
#
# The ok semantics: SET k v [NX|XX] [PX ms|EX s] [GET], GET, DEL, SELECT
# (16 databases), PING, AUTH, and EVAL of ngx_pay's three scripts
# (recognised by their text: claim, complete, release).  Keys expire.
#
# commands() lists what the server received, one string per command: the
# command name in upper case and, for keyed commands, the key ("GET pay:k",
# "EVAL pay:k"); "AUTH" never shows its argument, "SELECT 3" shows the
# database; "CONNECT" marks each accepted connection.

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

my $CRLF = "\r\n";

sub start {
    my ($class, %opt) = @_;

    my $mode = $opt{mode} // 'ok';
    die "PayTest::FakeRedis: unknown mode '$mode'\n"
        unless $mode =~ /^(?:ok|delay|garbage|drop|big|array|refuse)$/;

    my $self = bless {
        mode  => $mode,
        owner => $$,
        pid   => undef,
        log   => undef,
    }, $class;

    if ($mode eq 'refuse') {
        my $s = _listen(1);
        $self->{port} = $s->sockport;
        close $s;
        return $self;
    }

    my $listen = _listen(128);
    $self->{port} = $listen->sockport;

    $self->{log} = "/tmp/pay-fake-redis-$$-$self->{port}.log";
    open my $fh, '>', $self->{log} or die "cannot write $self->{log}: $!";
    close $fh;

    my $pid = fork;
    die "PayTest::FakeRedis: cannot fork: $!" unless defined $pid;

    if ($pid == 0) {
        local $SIG{PIPE} = 'IGNORE';
        eval { _serve($listen, { %opt, mode => $mode }, $self->{log}) };
        POSIX::_exit(0);
    }

    close $listen;
    $self->{pid} = $pid;

    return $self;
}

sub port { $_[0]{port} }

sub mode { $_[0]{mode} }

sub commands {
    my $self = shift;
    return () unless $self->{log};
    open my $fh, '<', $self->{log} or return ();
    chomp(my @lines = <$fh>);
    close $fh;
    return @lines;
}

sub stop {
    my $self = shift;
    return unless $$ == $self->{owner};
    local $?;    # called from DESTROY at exit: keep the script's status
    if ($self->{pid}) {
        kill 'KILL', $self->{pid};
        waitpid $self->{pid}, 0;
        $self->{pid} = undef;
    }
    if ($self->{log}) {
        unlink $self->{log};
        $self->{log} = undef;
    }
}

sub DESTROY { $_[0]->stop }


sub _listen {
    my $backlog = shift;
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => $backlog, ReuseAddr => 1,
    ) or die "PayTest::FakeRedis: cannot listen: $!";
    return $s;
}

sub _now_ms { return Time::HiRes::time() * 1000 }


# the server, in the child

sub _serve {
    my ($listen, $opt, $log) = @_;

    my $sel = IO::Select->new($listen);
    my %conns;                      # fileno => connection
    my %store;                      # "db\0key" => [value, expires_ms or 0]

    open my $logfh, '>>', $log or die;
    $logfh->autoflush(1);

    for (;;) {
        my $now = _now_ms();
        my $wait = 1;

        for my $c (values %conns) {
            _flush($c, $now, $sel, \%conns);
            if ($c->{out} && @{ $c->{out} }) {
                my $due = ($c->{out}[0][0] - $now) / 1000;
                $wait = $due if $due < $wait;
            }
        }

        $wait = 0 if $wait < 0;

        for my $fh ($sel->can_read($wait)) {
            if ($fh == $listen) {
                my $s = $listen->accept or next;
                $s->autoflush(1);
                $sel->add($s);
                $conns{ fileno $s } = {
                    sock => $s, in => '', out => [], last => 0,
                    db => 0, authed => !defined $opt->{password},
                };
                print $logfh "CONNECT\n";
                next;
            }

            my $c = $conns{ fileno $fh } or next;
            my $n = sysread $fh, my $buf, 65536;

            if (!$n) {
                _close($c, $sel, \%conns);
                next;
            }

            $c->{in} .= $buf;

            while (defined(my $argv = _parse(\$c->{in}))) {
                next unless @$argv;
                _log_command($logfh, $argv);
                _command($c, $argv, $opt, \%store);
            }
        }
    }
}

sub _close {
    my ($c, $sel, $conns) = @_;
    $sel->remove($c->{sock});
    delete $conns->{ fileno $c->{sock} };
    close $c->{sock};
}

# writes every reply that is due; "close" items drop the connection
sub _flush {
    my ($c, $now, $sel, $conns) = @_;

    while (@{ $c->{out} } && $c->{out}[0][0] <= $now) {
        my ($due, $bytes, $close) = @{ shift @{ $c->{out} } };
        my $off = 0;

        while ($off < length $bytes) {
            my $w = syswrite $c->{sock}, $bytes, length($bytes) - $off, $off;
            if (!defined $w) {
                _close($c, $sel, $conns);
                return;
            }
            $off += $w;
        }

        if ($close) {
            _close($c, $sel, $conns);
            return;
        }
    }
}

# one command off the buffer: an array ref, or undef when incomplete
sub _parse {
    my $in = shift;

    return undef unless length $$in;

    if (substr($$in, 0, 1) ne '*') {
        # inline command, as redis-cli or a human sends it
        my $eol = index $$in, "\n";
        return undef if $eol < 0;
        my $line = substr $$in, 0, $eol + 1, '';
        $line =~ s/\r?\n\z//;
        return [ split ' ', $line ];
    }

    my $pos = index $$in, $CRLF;
    return undef if $pos < 0;
    my $n = substr $$in, 1, $pos - 1;
    $pos += 2;

    my @argv;
    for (1 .. $n) {
        my $eol = index $$in, $CRLF, $pos;
        return undef if $eol < 0;
        my $len = substr $$in, $pos + 1, $eol - $pos - 1;
        $pos = $eol + 2;
        return undef if length($$in) < $pos + $len + 2;
        push @argv, substr $$in, $pos, $len;
        $pos += $len + 2;
    }

    substr $$in, 0, $pos, '';
    return \@argv;
}

sub _log_command {
    my ($fh, $argv) = @_;
    my $name = uc $argv->[0];
    my $line = $name;

    if ($name eq 'SELECT') {
        $line .= " $argv->[1]" if defined $argv->[1];
    } elsif ($name eq 'EVAL') {
        $line .= " $argv->[3]" if defined $argv->[3];
    } elsif ($name =~ /^(?:SET|GET|DEL)$/) {
        $line .= " $argv->[1]" if defined $argv->[1];
    }

    print $fh "$line\n";
}

sub _bulk {
    my $v = shift;
    return "\$-1$CRLF" unless defined $v;
    return '$' . length($v) . $CRLF . $v . $CRLF;
}

sub _reply {
    my ($c, $bytes, $delay, $close) = @_;
    my $due = _now_ms() + ($delay // 0);

    # in order: nothing overtakes a reply that is late
    $due = $c->{last} if $due < $c->{last};
    $c->{last} = $due;

    push @{ $c->{out} }, [ $due, $bytes, $close ];
}

sub _get {
    my ($store, $db, $key) = @_;
    my $e = $store->{"$db\0$key"} or return undef;
    if ($e->[1] && $e->[1] <= _now_ms()) {
        delete $store->{"$db\0$key"};
        return undef;
    }
    return $e->[0];
}

# a stored value on its way out, through the tamper option if there is one
sub _tampered {
    my ($opt, $key, $v) = @_;
    return $v unless defined $v && $opt->{tamper};
    return $opt->{tamper}->($key, $v);
}

sub _set {
    my ($store, $db, $key, $value, $px) = @_;
    $store->{"$db\0$key"} = [ $value, $px ? _now_ms() + $px : 0 ];
}

sub _command {
    my ($c, $argv, $opt, $store) = @_;
    my $name = uc $argv->[0];
    my $mode = $opt->{mode};
    my $version = $opt->{version} // 7;

    if ($name eq 'AUTH') {
        if (!defined $opt->{password}) {
            return _reply($c, "-ERR AUTH <password> called without any "
                . "password configured for the default user$CRLF");
        }
        if (defined $argv->[-1] && $argv->[-1] eq $opt->{password}) {
            $c->{authed} = 1;
            return _reply($c, "+OK$CRLF");
        }
        return _reply($c, "-WRONGPASS invalid username-password pair or "
            . "user is disabled.$CRLF");
    }

    if (!$c->{authed}) {
        return _reply($c, "-NOAUTH Authentication required.$CRLF");
    }

    if ($name eq 'PING') {
        return _reply($c, "+PONG$CRLF");
    }

    if ($name eq 'SELECT') {
        my $db = $argv->[1] // '';
        if ($db =~ /^\d+$/ && $db < 16) {
            $c->{db} = $db;
            return _reply($c, "+OK$CRLF");
        }
        return _reply($c, "-ERR DB index is out of range$CRLF");
    }

    if ($name !~ /^(?:SET|GET|DEL|EVAL)$/) {
        return _reply($c, "-ERR unknown command '$argv->[0]'$CRLF");
    }

    # the faults, for data commands only

    if (defined $opt->{fail_key}) {
        my $key = $name eq 'EVAL' ? $argv->[3] : $argv->[1];
        $opt->{fail_left} //= $opt->{fail_times} // 1;

        if (defined $key && index($key, $opt->{fail_key}) >= 0
            && $opt->{fail_left} > 0)
        {
            $opt->{fail_left}--;
            return _reply($c, "-ERR injected failure$CRLF");
        }
    }

    if ($mode eq 'garbage') {
        return _reply($c, "HTTP/1.1 400 Bad Request$CRLF$CRLF");
    }

    if ($mode eq 'drop') {
        return _reply($c, "\$1000${CRLF}Dpartial", 0, 1);
    }

    if ($mode eq 'array') {
        my $n = int(($opt->{big_bytes} // 1048576) / 8192);
        return _reply($c, '*' . ($opt->{array_elements} // 1000) . $CRLF
                          . (_bulk('x' x 8180) x $n));
    }

    my $big = 'D' . ('x' x ($opt->{big_bytes} // 1048576));
    my $delay = $mode eq 'delay' ? ($opt->{delay_ms} // 600) : 0;
    my $db = $c->{db};

    if ($name eq 'GET') {
        return _reply($c, _bulk($big)) if $mode eq 'big';
        return _reply($c, _bulk(_tampered($opt, $argv->[1],
                                          _get($store, $db, $argv->[1]))),
                      $delay);
    }

    if ($name eq 'DEL') {
        my $n = 0;
        for my $k (@$argv[1 .. $#$argv]) {
            $n++ if defined _get($store, $db, $k);
            delete $store->{"$db\0$k"};
        }
        return _reply($c, ":$n$CRLF", $delay);
    }

    if ($name eq 'SET') {
        my (undef, $key, $value, @o) = @$argv;
        my ($nx, $xx, $get, $px);

        while (@o) {
            my $w = uc shift @o;
            if    ($w eq 'NX')  { $nx = 1 }
            elsif ($w eq 'XX')  { $xx = 1 }
            elsif ($w eq 'GET') { $get = 1 }
            elsif ($w eq 'PX')  { $px = shift @o }
            elsif ($w eq 'EX')  { $px = 1000 * (shift @o // 0) }
            else { return _reply($c, "-ERR syntax error$CRLF") }
        }

        if (($nx && $xx) || ($nx && $get && $version < 7)) {
            return _reply($c, "-ERR syntax error$CRLF");
        }

        if (defined $px && ($px !~ /^\d+$/ || $px == 0)) {
            return _reply($c, "-ERR invalid expire time in 'set' command$CRLF");
        }

        return _reply($c, _bulk($big)) if $mode eq 'big' && $get;

        my $old = _get($store, $db, $key);
        my $do = !(($nx && defined $old) || ($xx && !defined $old));
        _set($store, $db, $key, $value, $px) if $do;

        my $r = $get ? _bulk(_tampered($opt, $key, $old))
              : $do ? "+OK$CRLF" : _bulk(undef);
        return _reply($c, $r, $delay);
    }

    # EVAL script numkeys key args...: ngx_pay's scripts, by their text
    my (undef, $script, $numkeys, $key, @args) = @$argv;

    if (!defined $key || ($numkeys // '') ne '1') {
        return _reply($c, "-ERR wrong number of arguments$CRLF");
    }

    my $cur = _get($store, $db, $key);

    if ($script =~ /'DEL'/) {
        if (defined $cur && defined $args[0] && $cur eq $args[0]) {
            delete $store->{"$db\0$key"};
            return _reply($c, ":1$CRLF", $delay);
        }
        return _reply($c, ":0$CRLF", $delay);
    }

    if ($script =~ /ARGV\[3\]/) {
        if (defined $cur && defined $args[0] && $cur eq $args[0]) {
            _set($store, $db, $key, $args[1], $args[2]);
            return _reply($c, ":1$CRLF", $delay);
        }
        return _reply($c, ":0$CRLF", $delay);
    }

    if ($script =~ /return v/) {
        return _reply($c, _bulk($big)) if $mode eq 'big';
        if (defined $cur && $cur ne 'U') {
            return _reply($c, _bulk(_tampered($opt, $key, $cur)), $delay);
        }
        _set($store, $db, $key, $args[0], $args[1]);
        # an unknown record ("U") is taken over: 1
        return _reply($c, defined $cur ? ":1$CRLF" : _bulk(undef), $delay);
    }

    return _reply($c, "-NOSCRIPT unknown script$CRLF");
}

1;
