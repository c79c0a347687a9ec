package PayTest;

# Test helpers of ngx_pay: signing webhook deliveries and reading the
# providers' published test vectors (t/vectors, or $PAY_VECTORS).  Call them
# fully qualified (PayTest::stripe_header(...)) from "--- ... eval"
# sections, which works under the real Test::Nginx and the bundled runner.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256_hex);
use File::Basename qw(dirname);
use File::Spec;
use IO::Socket::INET;
use MIME::Base64 ();
use POSIX ();
use PayTest::Port ();
use Time::HiRes ();

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

# A request for "--- request eval": a POST of stripe_event($id) to $path.
sub stripe_delivery {
    my ($path, $id) = @_;
    return "POST $path\n" . stripe_event($id);
}

# Its "--- more_headers" line, signed now with the default test secret.
sub stripe_signature {
    my ($id) = @_;
    return "Stripe-Signature: " . stripe_header(stripe_event($id));
}

# For "--- init": delivers stripe_event($id), signed, to 127.0.0.1:$port
# $path itself (outside the block's requests) and returns the answer's
# status code.
sub stripe_post {
    my ($port, $path, $id) = @_;
    my $body = stripe_event($id);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 10)
        or die "stripe_post: cannot connect to 127.0.0.1:$port: $!\n";
    print $s "POST $path HTTP/1.0\r\nHost: localhost\r\n",
             "Stripe-Signature: ", stripe_header($body), "\r\n",
             "Content-Length: ", length($body), "\r\n\r\n", $body;
    my $line = <$s> // '';
    close $s;
    return $line =~ m{^HTTP/1\.\d (\d{3})} ? $1 : 0;
}

# What nginx answers for an event delivered already (pay_dedupe).
our $DUPLICATE = qq({"received":true,"duplicate":true}\n);

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

# For "--- init" (run once nginx is up): waits until the block's error log
# has at least $count lines matching $re, for at most $seconds (default
# 10); returns how many there are, dies when the deadline passes first.
#
#   PayTest::wait_log(qr/redis \S+ connected/, 1);
sub error_log_path {
    my $root = $ENV{TEST_NGINX_SERVROOT} || 't/servroot';
    return File::Spec->rel2abs("$root/logs/error.log");
}

sub log_lines {
    my ($re) = @_;
    open my $fh, '<', error_log_path() or return 0;
    my $n = grep { $_ =~ $re } <$fh>;
    close $fh;
    return $n;
}

sub wait_log {
    my ($re, $count, $seconds) = @_;
    $count //= 1;
    my $deadline = time + ($seconds // 10);
    while (1) {
        my $n = log_lines($re);
        return $n if $n >= $count;
        die "wait_log: $count of $re not seen in time ($n)\n"
            if time > $deadline;
        select undef, undef, undef, 0.05;
    }
}

# Waits until $cond->() has held for $hold seconds running, for at most
# $seconds in all (default 10); dies when the deadline passes first.
sub wait_until {
    my ($cond, $hold, $seconds) = @_;
    my $deadline = time + ($seconds // 10);
    my $since;
    while (1) {
        my $now = Time::HiRes::time();
        if ($cond->()) {
            $since //= $now;
            return 1 if $now - $since >= $hold;
        } else {
            undef $since;
        }
        die "wait_until: the condition did not hold in time\n"
            if time > $deadline;
        select undef, undef, undef, 0.05;
    }
}

# t/vectors beside t/lib (t/vectors/README.md), or $PAY_VECTORS.
sub vectors_dir {
    return $ENV{PAY_VECTORS} if $ENV{PAY_VECTORS};
    my $t = dirname(dirname(File::Spec->rel2abs(__FILE__)));
    return File::Spec->catdir($t, 'vectors');
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


# Redis helpers, for the suites of the Redis store.  Core Perl only.

# Sends one command to a Redis on 127.0.0.1 over a fresh connection and
# returns its reply: a status or bulk string, an integer, undef for nil, an
# array ref for an array.  An error reply dies with Redis's message.
# $where is a port, or { port => N, db => N, password => S, host => IP }:
# AUTH and SELECT then go first on the same connection.
#
#   PayTest::redis_command($port, 'GET', 'pay:webhook:stripe:evt_1');
#   PayTest::redis_command({ port => $port, db => 3 }, 'SET', $k, 'D200');
sub redis_command {
    my ($where, @args) = @_;
    my %o = ref $where ? %$where : (port => $where);

    my $host = $o{host} // '127.0.0.1';
    my $s = IO::Socket::INET->new(
        PeerAddr => $host, PeerPort => $o{port}, Proto => 'tcp',
        Timeout => 5,
    ) or die "redis_command: cannot connect to $host:$o{port}: $!\n";

    my @commands;
    push @commands, [ 'AUTH', (defined $o{user} ? $o{user} : ()),
                      $o{password} ] if defined $o{password};
    push @commands, [ 'SELECT', $o{db} ] if $o{db};
    push @commands, \@args;

    print $s map { _resp_command(@$_) } @commands;

    my ($reply, $error);
    for my $c (@commands) {
        ($reply, $error) = _resp_reply($s);
        die "redis_command: $c->[0]: $error\n" if defined $error;
    }

    close $s;
    return $reply;
}

sub _resp_command {
    return join '', '*' . @_ . "\r\n",
                    map { '$' . length($_) . "\r\n$_\r\n" } @_;
}

# (reply, undef) or (undef, error message)
sub _resp_reply {
    my ($s) = @_;

    local $/ = "\r\n";
    my $line = <$s>;
    die "redis_command: connection closed\n" unless defined $line;
    chomp $line;

    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return ($rest, undef) if $type eq '+' || $type eq ':';
    return (undef, $rest) if $type eq '-';

    if ($type eq '$') {
        return (undef, undef) if $rest < 0;
        my $data = '';
        while (length $data < $rest + 2) {
            my $n = read $s, $data, $rest + 2 - length $data, length $data;
            die "redis_command: connection closed\n" unless $n;
        }
        return (substr($data, 0, $rest), undef);
    }

    if ($type eq '*') {
        return (undef, undef) if $rest < 0;
        my @items;
        for (1 .. $rest) {
            my ($item, $error) = _resp_reply($s);
            return (undef, $error) if defined $error;
            push @items, $item;
        }
        return (\@items, undef);
    }

    die "redis_command: not a RESP reply: $line\n";
}

# Starts a private redis-server on 127.0.0.1 (a free port, or port => N to
# start one again where a stopped one was) without persistence, and
# returns its port once it answers.  password => S adds --requirepass,
# unixsocket => PATH a unix socket as well, tls => { port, cert, key, ca,
# auth_clients } a TLS port as well, args => [...] more arguments, bind =>
# IP another loopback address than 127.0.0.1 (stopped with
# redis_stop("IP:PORT")).  Its output goes to
# t/tmp/redis-PORT.log.  Stopped with redis_stop($port)
# or when the test script exits.
my %redis_servers;    # port => pid

sub redis_server {
    my (%o) = @_;

    my $port = $o{port};
    if (!$port) {
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
            Listen => 1, ReuseAddr => 1,
        ) or die "cannot find a free port: $!";
        $port = $s->sockport;
        close $s;
    }

    # another address, the same port: its own entry
    my $bind = $o{bind} // '127.0.0.1';
    my $id = $bind eq '127.0.0.1' ? $port : "$bind:$port";
    die "redis_server: port $port is already served by a test Redis\n"
        if $redis_servers{$id};

    my $dir = File::Spec->rel2abs(File::Spec->catdir('t', 'tmp'));
    mkdir $dir unless -d $dir;

    my @cmd = ('redis-server', '--port', $port, '--bind', $bind,
               '--save', '', '--appendonly', 'no', '--daemonize', 'no',
               '--dir', $dir, '--logfile', '');
    push @cmd, '--requirepass', $o{password} if defined $o{password};
    push @cmd, '--unixsocket', $o{unixsocket} if defined $o{unixsocket};
    if (my $t = $o{tls}) {
        # TLS on tls_port beside the plain port (for the test's own looks)
        push @cmd, '--tls-port', $t->{port}, '--tls-cert-file', $t->{cert},
                   '--tls-key-file', $t->{key},
                   '--tls-ca-cert-file', $t->{ca},
                   '--tls-auth-clients', $t->{auth_clients} ? 'yes' : 'no';
    }
    push @cmd, @{ $o{args} } if $o{args};

    my $pid = fork;
    die "cannot fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>>', "$dir/redis-$id.log";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }

    $redis_servers{$id} = $pid;

    # up once it answers anything (NOAUTH included)
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(
            PeerAddr => $bind, PeerPort => $port, Proto => 'tcp',
        );
        if ($s) {
            print $s "PING\r\n";
            my $line = <$s>;
            close $s;
            return $port if defined $line;
        }
        die "redis_server: redis-server exited, see $dir/redis-$id.log\n"
            if waitpid($pid, POSIX::WNOHANG()) == $pid;
        select undef, undef, undef, 0.1;
    }

    redis_stop($id);
    die "redis_server: no answer on port $port, see $dir/redis-$id.log\n";
}

# Starts a redis-sentinel on a free port of 127.0.0.1 watching the master
# 127.0.0.1:$master as $name (quorum 2, down after 1 s, failover timeout
# 5 s), its configuration in t/tmp; returns its port once it answers.
# Stopped with redis_stop($port) or when the test script exits.
my @sentinel_files;

sub redis_sentinel {
    my ($master, $name) = @_;

    my $port = free_port();
    my $dir = File::Spec->rel2abs(File::Spec->catdir('t', 'tmp'));
    mkdir $dir unless -d $dir;

    my $conf = "$dir/sentinel-$$-$port.conf";
    open my $fh, '>', $conf or die "redis_sentinel: $conf: $!";
    print $fh "port $port\nbind 127.0.0.1\ndaemonize no\ndir $dir\n",
              "logfile \"\"\n",
              "sentinel monitor $name 127.0.0.1 $master 2\n",
              "sentinel down-after-milliseconds $name 1000\n",
              "sentinel failover-timeout $name 5000\n",
              "sentinel parallel-syncs $name 1\n";
    close $fh;

    my $pid = fork;
    die "cannot fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>>', "$dir/sentinel-$port.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-sentinel', $conf or POSIX::_exit(127);
    }

    $redis_servers{$port} = $pid;
    push @sentinel_files, $conf, "$dir/sentinel-$port.log";

    for (1 .. 100) {
        my $r = eval { redis_command($port, 'PING') };
        return $port if defined $r;
        select undef, undef, undef, 0.1;
    }

    die "redis_sentinel: no answer on port $port\n";
}

# Stops a Redis started by redis_server() and waits until it has exited.
# The Redis TLS tests' certificates (t/lib/redis-tls-pki), made once in
# t/tmp/redis-tls: returns the directory's absolute path.
sub redis_tls_pki {
    my $dir = File::Spec->rel2abs('t/tmp/redis-tls');
    system('t/lib/redis-tls-pki', $dir) == 0
        or die "redis_tls_pki: t/lib/redis-tls-pki failed\n";
    return $dir;
}

# The pid of a redis-server started by redis_server() (to SIGSTOP it).
sub redis_pid {
    my ($port) = @_;
    return $redis_servers{$port};
}

sub redis_stop {
    my ($port) = @_;
    my $pid = delete $redis_servers{$port} or return;
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

END {
    return unless $$ == $owner;
    local $?;
    for my $port (keys %redis_servers) {
        redis_stop($port);
        unlink File::Spec->rel2abs("t/tmp/redis-$port.log");
    }
    unlink @sentinel_files;
}


# Square: base64 HMAC-SHA256 (or SHA-1) of notification URL . body, with the
# signature key as it is (Digest::SHA's base64 leaves the padding out).
sub square_signature {
    my ($url, $body, $key, $sha1) = @_;
    my $mac = $sha1 ? Digest::SHA::hmac_sha1_base64("$url$body", $key)
                    : Digest::SHA::hmac_sha256_base64("$url$body", $key);
    $mac .= '=' while length($mac) % 4;
    return $mac;
}

# Standard Webhooks: "v1,<base64 HMAC-SHA256 of id.ts.body>" with the key
# the base64-decoding of what follows "whsec_".
sub standard_signature {
    my ($secret, $id, $ts, $body) = @_;
    (my $b64 = $secret) =~ s/^whsec_//;
    my $mac = Digest::SHA::hmac_sha256_base64("$id.$ts.$body",
                                              MIME::Base64::decode_base64($b64));
    $mac .= '=' while length($mac) % 4;
    return "v1,$mac";
}

# The three Standard Webhooks headers for "--- more_headers", signed now
# (or at $ts) with each secret given.
sub standard_headers {
    my ($body, $id, $ts, @secrets) = @_;
    $ts = time() unless defined $ts;
    @secrets = ('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') unless @secrets;
    my $sig = join ' ', map { standard_signature($_, $id, $ts, $body) } @secrets;
    return "webhook-id: $id\nwebhook-timestamp: $ts\nwebhook-signature: $sig";
}


# A loopback port nothing listens on (for "the provider is down", or for
# a server a test starts): below the kernel's ephemeral range, so that no
# outgoing connection takes it meanwhile (PayTest/Port.pm).
sub free_port {
    return PayTest::Port::free_port();
}


# Starts a second nginx (one process, no daemon) with this module and the
# given http{} body, for suites that need two instances on one store (a
# fleet).  Uses TEST_NGINX_BINARY and TEST_NGINX_LOAD_MODULES as the suite
# does; its prefix is t/tmp/nginx-NAME/.  Returns once it accepts on the
# port it was given in the body as $port (replaced by a free port, which is
# returned).  Stopped when the test script exits.
#
#   my $port = PayTest::nginx_instance('second', 'server { listen $port; ... }');
my %nginx_instances;    # name => pid

sub nginx_instance {
    my ($name, $http) = @_;

    my $port = free_port();
    my $dir = File::Spec->rel2abs(File::Spec->catdir('t', 'tmp',
                                                     "nginx-$name"));
    for my $d ($dir, "$dir/logs", "$dir/conf", "$dir/tmp") {
        mkdir $d unless -d $d;
    }

    my $binary = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $modules = join '', map { "load_module $_;\n" }
                           grep { length } split /\s+/,
                           $ENV{TEST_NGINX_LOAD_MODULES} // '';
    my $user = $> == 0 ? "user root;\n" : '';

    $http =~ s/\$port\b/$port/g;

    open my $fh, '>', "$dir/conf/nginx.conf" or die "nginx_instance: $!";
    print $fh <<"EOC";
${modules}${user}daemon off;
master_process off;
worker_processes 1;
error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
events {
    worker_connections 64;
}
http {
    access_log off;
    client_body_temp_path $dir/tmp/client_body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
$http
}
EOC
    close $fh;

    my $pid = fork;
    die "cannot fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>>', "$dir/logs/stderr.log";
        open STDERR, '>&', \*STDOUT;
        exec $binary, '-p', "$dir/", '-c', "$dir/conf/nginx.conf"
            or POSIX::_exit(127);
    }

    $nginx_instances{$name} = $pid;

    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        if ($s) {
            close $s;
            return $port;
        }
        die "nginx_instance: nginx exited, see $dir/logs/\n"
            if waitpid($pid, POSIX::WNOHANG()) == $pid;
        select undef, undef, undef, 0.1;
    }

    die "nginx_instance: no answer on port $port, see $dir/logs/\n";
}

END {
    return unless $$ == $owner;
    local $?;
    for my $pid (values %nginx_instances) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}


# How many requests the blocks send (an array in "--- request eval" is one
# request each), for exact plans: checks run once per request.
sub requests {
    my $n = 0;
    for my $block (@_) {
        my $r = $block->request;
        $n += ref $r eq 'ARRAY' ? scalar @$r : 1;
    }
    return $n;
}


# A pattern for "--- response_body_like": one line of JSON (and maybe a LF)
# that has, anywhere in it, each member given as name => a regex fragment
# for its value, in any order.  For the intent suites (t/06*.t):
#
#   PayTest::json_like(provider => '"stripe"', amount => '2000')
sub json_like {
    my (@pairs) = @_;
    my $re = '^\{';
    while (@pairs) {
        my ($name, $value) = splice @pairs, 0, 2;
        $re .= '(?=[^\n]*"' . quotemeta($name) . '":' . $value . '[,}\]])';
    }
    return $re . '[^\n]*\}\n?$';
}

# promtool's verdict on a Prometheus text exposition: "" when
# "promtool check metrics" (Debian's prometheus package) passes it, else
# its output and exit status.  For add_response_body_check in t/09*.t.
sub promtool_check {
    my ($text) = @_;
    my $dir = File::Spec->rel2abs(File::Spec->catdir('t', 'tmp'));
    mkdir $dir unless -d $dir;
    my $file = "$dir/promtool-$$.txt";
    open my $fh, '>', $file or die "promtool_check: $file: $!";
    print $fh $text;
    close $fh;
    my $out = `promtool check metrics < '$file' 2>&1`;
    my $rc = $? >> 8;
    unlink $file;
    return $rc == 0 ? '' : "promtool exit $rc: $out";
}

# Every response that is a pay_status page (it starts with the module's
# first # HELP) is given to promtool: one subtest each.
sub check_pages_with_promtool {
    Test::Nginx::Socket::add_response_body_check(sub {
        my ($block, $body, $req_idx) = @_;
        return unless defined $body && $body =~ /\A# HELP ngx_pay_/;
        Test::More::is(promtool_check($body), '',
                       $block->name . " - promtool check metrics"
                       . " (req $req_idx)");
    });
}

# A pattern for "--- response_body_like": the body has each of these
# lines, whole, in any order (a pay_status page):
#   PayTest::lines_like('ngx_pay_info{version="0.3.0"} 1', ...)
sub lines_like {
    return '(?ms)' . join '', map { "(?=.*^\Q$_\E\n)" } @_;
}

# The same for pieces of one line (a JSON page), in any order.
sub pieces_like {
    return '(?s)' . join '', map { "(?=.*\Q$_\E)" } @_;
}

# A counter's value in a pay_status page, -1 when the series is absent:
#   PayTest::metric($body, 'ngx_pay_webhooks_total',
#                   provider => 'stripe', outcome => 'forwarded')
sub metric {
    my ($text, $name, @labels) = @_;
    my @pairs;
    while (@labels) {
        my ($k, $v) = splice @labels, 0, 2;
        push @pairs, qq($k="$v");
    }
    my $series = $name . '{' . join(',', @pairs) . '}';
    for my $line (split /\n/, $text) {
        return $1 if $line =~ /^\Q$series\E (\S+)$/;
    }
    return -1;
}

1;
