package Test::Nginx::Socket;

# Bundled implementation of the Test::Nginx::Socket block format.
#
# This file is loaded by t/lib/Test/Nginx/Socket.pm only when no other
# Test/Nginx/Socket.pm exists in @INC; it deliberately defines its subs in
# the Test::Nginx::Socket package so .t files see the same API either way.
# The supported sections and the subtest counting rules are documented in
# the POD of t/lib/Test/Nginx/Socket.pm.

use strict;
use warnings;

use Test::Base -base;

use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use POSIX qw(WNOHANG);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    run_tests repeat_each no_shuffle use_hup
    master_on master_off master_process_enabled workers worker_connections
    log_level no_long_string no_root_location env_to_nginx
    check_accum_error_log server_port server_addr server_name
    server_root html_dir timeout bail_out is_str
    add_block_preprocessor add_cleanup_handler add_response_body_check
);

# ---------------------------------------------------------------------------
# Settings (environment first, then the setter functions below)

our $ServerPort   = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerAddr   = '127.0.0.1';
our $ServerName   = 'localhost';
our $NginxBinary  = $ENV{TEST_NGINX_BINARY} || find_nginx_binary();
our $LogLevel     = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $Workers      = $ENV{TEST_NGINX_WORKERS} || 1;
our $WorkerConnections = 64;
our $Timeout      = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $UseHup       = $ENV{TEST_NGINX_USE_HUP};
our $EventType    = $ENV{TEST_NGINX_EVENT_TYPE};
our $LoadModules  = $ENV{TEST_NGINX_LOAD_MODULES};
our $WorkerUser   = $ENV{TEST_NGINX_WORKER_USER};
our $Sleep        = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $RepeatEach   = 1;
our $NoRootLocation = 0;
our $NoLongString = 0;
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @ResponseBodyChecks;

# An absolute prefix keeps the absolute paths written into nginx.conf valid.
our $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
our $LogDir     = "$ServRoot/logs";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $PidFile    = "$LogDir/nginx.pid";
our $StderrFile = "$LogDir/nginx-stderr.log";
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

# Run state
my $PrevConfig;          # config of the nginx currently running, if any
my $FirstBlock = 1;      # HUP mode never reloads an nginx left by another file
my $ConfigVersion = '';  # served on /ver so a HUP reload can be confirmed
my $ErrLogPos = 0;       # where the next error.log read starts
my @StartupStderr;       # nginx's own stderr at start-up, seen as log lines

# Sections that would change the number of subtests; refusing them is
# better than silently running a different count than the real module.
my @UnsupportedSections = qw(
    skip_nginx skip_nginx2 skip_openssl skip_slave todo todo_nginx
    http2 http3 stap grep_error_log grep_error_log_out shutdown_error_log
    no_shutdown_error_log udp_listen tcp_listen response_body_filters
    request_eval response_body_eval
);

# ---------------------------------------------------------------------------
# Functions exported to .t files

sub repeat_each (@)       { $RepeatEach = shift if @_; return $RepeatEach }
sub workers (@)           { $Workers = shift if @_; return $Workers }
sub worker_connections (@) { $WorkerConnections = shift if @_; return $WorkerConnections }
sub log_level (@)         { $LogLevel = shift if @_; return $LogLevel }
sub server_port (@)       { $ServerPort = shift if @_; return $ServerPort }
sub server_addr (@)       { $ServerAddr = shift if @_; return $ServerAddr }
sub server_name (@)       { $ServerName = shift if @_; return $ServerName }
sub timeout (@)           { $Timeout = shift if @_; return $Timeout }
sub server_root ()        { return $ServRoot }
sub html_dir ()           { return $HtmlDir }
sub no_shuffle ()         { }    # blocks always run in file order
sub use_hup ()            { $UseHup = 1 }
sub master_on ()          { $MasterProcessEnabled = 'on' }
sub master_off ()         { $MasterProcessEnabled = 'off' }
sub no_long_string ()     { $NoLongString = 1 }
sub no_root_location ()   { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

sub master_process_enabled (@) {
    $MasterProcessEnabled = shift() ? 'on' : 'off' if @_;
    return $MasterProcessEnabled;
}

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" unless @_;
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail_out (@) {
    run_cleanup_handlers();
    Test::More::BAIL_OUT(join '', @_);
}

# String comparison that keeps failure output short for long or binary
# bodies (the real module uses Test::LongString for the same purpose).
sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc) if ref $expected eq 'Regexp';
    my $long = grep { defined && length > 256 } $got, $expected;
    return Test::More::is($got, $expected, $desc) if $NoLongString || !$long;
    my $same = defined $got && defined $expected && $got eq $expected;
    my $ok = Test::More::ok($same, $desc);
    Test::More::diag(describe_difference($got, $expected)) unless $same;
    return $ok;
}

sub run_tests () {
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;
    for my $block (Test::Base::blocks()) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value(name => "$0 " . $block->name);
        run_block($block);
    }
    run_cleanup_handlers();
}

# ---------------------------------------------------------------------------
# One test block

sub run_block {
    my ($block) = @_;
    my $name = $block->name;

    for my $section (@UnsupportedSections) {
        bail_out("$name - section '--- $section' is not supported by the bundled "
                 . "Test::Nginx::Socket runner; install the real Test::Nginx")
            if defined $block->$section;
    }

    my %rand_ports;
    my $config = expand_env(scalar $block->config, $name, \%rand_ports);
    local $LogLevel = $block->log_level || $LogLevel;

    my ($skip_count, $skip_reason) = skip_eval_result($block);
    if (defined $skip_count) {
        SKIP: { Test::More::skip("$name - $skip_reason", $skip_count * $RepeatEach) }
        return;
    }

    if (defined $block->must_die) {
        run_must_die($block, $config, \%rand_ports);
        return;
    }

    if (defined $config) {
        prepare_nginx($block, $config, \%rand_ports) or return;
    } elsif (!defined $PrevConfig) {
        bail_out("$name - No '--- config' section specified and could not get previous one");
    }

    if (defined(my $init = $block->init)) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogPos = 0;
    for my $rep (0 .. $RepeatEach - 1) {
        write_user_files($block, \%rand_ports) if $rep > 0;
        run_requests($block, $rep);
    }
}

# "--- skip_eval: N: perl-code" skips N subtests per repetition when true.
sub skip_eval_result {
    my ($block) = @_;
    my $spec = $block->skip_eval;
    return unless defined $spec;
    my ($count, $code) = $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
        or bail_out($block->name . " - invalid --- skip_eval spec: $spec");
    my $skip = eval $code;
    bail_out($block->name . " - skip_eval - failed to eval \"$code\": $@") if $@;
    return $skip ? ($count, 'skip_eval') : ();
}

# Start nginx for a block's config, or reload it with HUP when allowed.
sub prepare_nginx {
    my ($block, $config, $rand_ports) = @_;
    my $pid = running_nginx_pid();
    my $first = $FirstBlock;
    $FirstBlock = 0;
    $PrevConfig = $config;

    if ($UseHup) {
        master_on();    # nginx cannot reload without a master process
        $ConfigVersion = random_string(10);
        return reload_nginx($block, $config, $rand_ports, $pid) if $pid && !$first;
    }

    stop_nginx($pid, $block->name) if $pid;
    setup_server_root();
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);
    return start_nginx($block->name);
}

sub reload_nginx {
    my ($block, $config, $rand_ports, $pid) = @_;
    my $name = $block->name;

    # nginx appends to its logs, so truncating them in place gives this
    # block a fresh error.log without needing a reopen signal.
    for my $log ($ErrLogFile, $AccLogFile) {
        open my $fh, '>', $log or bail_out("$name - cannot truncate $log: $!");
        close $fh;
    }
    @StartupStderr = ();
    remove_tree($HtmlDir);
    make_html_dir();
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);

    my @old_workers = child_pids($pid);
    kill HUP => $pid or bail_out("$name - cannot send HUP to nginx $pid: $!");
    return wait_for_reload($name, \@old_workers);
}

# After a HUP the new workers answer the dedicated "Test-Nginx" server with
# the new config version, but the master only tells the old workers to quit
# a while later; wait for both so no request reaches the old config.
sub wait_for_reload {
    my ($name, $old_workers) = @_;
    my $deadline = time + $Timeout;
    my $request = "GET /ver HTTP/1.1\r\nHost: Test-Nginx\r\nConnection: close\r\n\r\n";
    my $reloaded;
    while (time < $deadline) {
        if (!$reloaded) {
            my ($raw) = send_request([$request], 1, 0);
            my ($res) = parse_response($raw // '', 0);
            $reloaded = $res && !$res->{error} && $res->{body} eq $ConfigVersion;
        }
        return 1 if $reloaded && !grep { process_alive($_) } @$old_workers;
        sleep $Sleep;
    }
    Test::More::fail($reloaded
        ? "$name - old nginx workers still running ${Timeout}s after HUP"
        : "$name - failed to reload configuration with HUP within ${Timeout}s");
    Test::More::diag(tail_of_file($ErrLogFile));
    return 1;    # the old configuration may still serve; let the checks report
}

sub child_pids {
    my ($ppid) = @_;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $in, '<', $stat or next;
        my $line = <$in> // '';
        close $in;
        push @pids, $1 if $line =~ /^(\d+) \(.*\) [^Z] (\d+) /s && $2 == $ppid;
    }
    return @pids;
}

sub run_must_die {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;

    stop_nginx(running_nginx_pid(), $name);
    $FirstBlock = 0;
    $PrevConfig = $config;
    setup_server_root();
    write_user_files($block, $rand_ports);
    write_config_file($block, $config // '', $rand_ports);

    $ErrLogPos = 0;
    for my $rep (0 .. $RepeatEach - 1) {
        my $status = exec_nginx();
        if ($status == -1) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif ($status & 128) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            Test::More::is($status >> 8, $must_die, "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        check_logs($block, $rep);

        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; killing it (req $rep)\n";
            wait_for_pid_file();
            stop_nginx(running_nginx_pid(), $name);
        }
    }
}

# ---------------------------------------------------------------------------
# nginx process management

sub find_nginx_binary {
    for my $dir (split /:/, $ENV{PATH} // '') {
        return "$dir/nginx" if $dir ne '' && -f "$dir/nginx" && -x _;
    }
    return '/usr/sbin/nginx';
}

# Run "nginx -p servroot/ -c conf" in the foreground part of its daemon
# start-up; returns the wait status and records nginx's stderr.
sub exec_nginx {
    bail_out("Cannot find the nginx executable: $NginxBinary")
        unless -f $NginxBinary && -x _;

    my $pid = fork;
    bail_out("fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $StderrFile;
        exec $NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile
            or POSIX::_exit(127);
    }

    # with "daemon on" the foreground process exits right after start-up
    my $deadline = time + 10;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time > $deadline) {
            kill KILL => $pid;
            waitpid($pid, 0);
            last;
        }
        sleep 0.005;
    }
    my $status = $? == (127 << 8) ? -1 : $?;

    @StartupStderr = ();
    if (open my $in, '<', $StderrFile) {
        @StartupStderr = <$in>;
        close $in;
    }
    return $status;
}

# nginx itself retries a busy port for a few seconds before giving up.
sub start_nginx {
    my ($name) = @_;
    my $status = exec_nginx();
    return start_failed($name, "nginx failed to start (wait status $status)") if $status;
    return 1 if wait_for_pid_file();
    return start_failed($name, "nginx exited right after start-up");
}

sub start_failed {
    my ($name, $why) = @_;
    undef $PrevConfig;
    Test::More::fail("$name - $why");
    Test::More::diag("nginx stderr:\n", @StartupStderr) if @StartupStderr;
    Test::More::diag("tail of $ErrLogFile:\n", tail_of_file($ErrLogFile));
    return 0;
}

# The pid file is written after the listening sockets are open, so once
# it names a live process the server accepts connections.
sub wait_for_pid_file {
    my $deadline = time + $Timeout;
    while (time < $deadline) {
        return 1 if running_nginx_pid();
        sleep 0.01;
    }
    return 0;
}

sub running_nginx_pid {
    open my $in, '<', $PidFile or return undef;
    my $pid = <$in>;
    close $in;
    return undef unless defined $pid && $pid =~ /^\s*(\d+)/;
    return process_alive($1) ? $1 : undef;
}

# A zombie counts as gone: nothing may reap nginx if PID 1 does not.
sub process_alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    open my $in, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$in> // '';
    close $in;
    return $stat !~ /^\d+ \(.*\) Z/s;
}

sub stop_nginx {
    my ($pid, $name) = @_;
    return unless $pid;
    kill QUIT => $pid;
    my $deadline = time + $Timeout;
    sleep 0.01 while process_alive($pid) && time < $deadline;
    if (process_alive($pid)) {
        warn "$name - nginx $pid did not quit in ${Timeout}s; killing it\n";
        kill KILL => -$pid;    # the daemon leads its own process group
        kill KILL => $pid;
        sleep 0.01 while process_alive($pid);
    }
    unlink $PidFile;
}

sub run_cleanup_handlers {
    $_->() for @CleanupHandlers;
}

END {
    local $?;    # keep the test script's exit status
    stop_nginx(running_nginx_pid(), 'END') unless $ENV{TEST_NGINX_NO_CLEAN};
}

# ---------------------------------------------------------------------------
# Server root and config

sub setup_server_root {
    remove_tree($ConfDir, $HtmlDir, $LogDir,
                glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
    make_path($ServRoot, $LogDir, $ConfDir);
    make_html_dir();
}

sub make_html_dir {
    make_path($HtmlDir);
    write_file("$HtmlDir/index.html",
        '<html><head><title>It works!</title></head><body>It works!</body></html>');
}

sub write_file {
    my ($path, $data) = @_;
    open my $out, '>', $path or bail_out("Can't open $path for writing: $!");
    binmode $out;
    print $out $data;
    close $out;
}

sub write_user_files {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files or return;

    if (!ref $files) {
        my @parsed;
        for my $line (split /^/m, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @parsed, [$1, '', $2];
            } elsif (@parsed) {
                $parsed[-1][1] .= $line;
            }
        }
        $files = \@parsed;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong --- user_files value: only a string or an ARRAY is accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        make_path($1) if $path =~ m{^(.*)/} && !-d $1;
        write_file($path, expand_env($body // '', $name, $rand_ports));
        if ($date) {
            local $ENV{TZ} = 'GMT';
            system('touch', '-t', $date, $path) == 0
                or bail_out("$name - touch -t $date $path failed");
        }
    }
}

sub write_config_file {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;
    my $main_config = expand_env(scalar $block->main_config, $name, $rand_ports) // '';
    my $post_main_config = expand_env(scalar $block->post_main_config, $name, $rand_ports) // '';
    my $http_config = expand_env(scalar $block->http_config, $name, $rand_ports) // '';
    my $server_name = $block->server_name // $ServerName;

    my $modules = join '', map { "load_module $_;\n" } grep { length } split /\s+/, $LoadModules // '';
    my $env = join '', map { /\s/ ? "env '$_';\n" : "env $_;\n" } @EnvToNginx;

    # Distribution builds (Debian's) hard-code temp paths outside the
    # prefix; keep them under servroot unless http_config sets its own.
    my $temp_paths = '';
    for my $kind (qw(client_body proxy fastcgi uwsgi scgi)) {
        next if $http_config =~ /\b${kind}_temp_path\b/;
        $temp_paths .= "    ${kind}_temp_path $ServRoot/${kind}_temp;\n";
    }

    my $root_location = $NoRootLocation ? '' : <<"EOC";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
EOC

    # a second server tells a HUP reload apart from the old configuration
    my $version_server = !$UseHup ? '' : <<"EOC";
    server {
        listen $ServerPort;
        server_name 'Test-Nginx';
        location = /ver {
            return 200 '$ConfigVersion';
        }
    }
EOC

    my $use_events = $EventType ? "    use $EventType;\n" : '';
    my $user = defined $WorkerUser ? "user $WorkerUser;\n"
             : $> == 0             ? "user root;\n"
             :                       '';

    write_file($ConfFile, <<"EOC");
${modules}worker_processes $Workers;
daemon on;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $LogLevel;
pid $PidFile;
$env$user
$main_config

http {
    access_log $AccLogFile;
    default_type text/plain;
    keepalive_timeout 68;
$temp_paths
$http_config

    server {
        listen $ServerPort;
        server_name '$server_name';
        client_max_body_size 30M;

$config

$root_location    }
$version_server}

$post_main_config

events {
    accept_mutex off;
    worker_connections $WorkerConnections;
$use_events}
EOC
}

# Replace $TEST_NGINX_* with environment values, as the real module does
# for the config sections and user files.
sub expand_env {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{env_value($1, $name, $rand_ports)}ge;
    return $text;
}

sub env_value {
    my ($var, $name, $rand_ports) = @_;
    if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
        return $rand_ports->{$var} //= free_port($name, $rand_ports);
    }
    bail_out("$name - No environment $var defined.\n") unless defined $ENV{$var};
    return $ENV{$var};
}

sub free_port {
    my ($name, $rand_ports) = @_;
    my %used = map { $_ => 1 } $ServerPort, values %$rand_ports;
    for (1 .. 1000) {
        my $port = 1985 + int rand(65535 - 1985);
        next if $used{$port};
        my $sock = IO::Socket::INET->new(LocalAddr => $ServerAddr,
                                         LocalPort => $port, Proto => 'tcp')
            or next;
        close $sock;
        return $port;
    }
    bail_out("$name - Cannot find an available listening port number");
}

# ---------------------------------------------------------------------------
# Requests

sub run_requests {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my @requests = build_requests($block);
    my $timeout = parse_time(scalar $block->timeout) // $Timeout;
    my $total = 0;
    $total += $_->{responses} for @requests;
    my $need_array = $total > 1;
    my $req_idx = 0;

    for my $req (@requests) {
        my ($raw, $err) = send_request($req->{packets}, $timeout,
                                       parse_time(scalar $block->raw_request_middle_delay));
        if ($err && ($err ne 'timeout' || !defined $block->abort)) {
            Test::More::fail($err eq 'timeout'
                             ? "ERROR: client socket timed out - $name"
                             : "$name - $err");
        }

        for (1 .. $req->{responses}) {
            my $res;
            unless (defined $block->ignore_response) {
                ($res, $raw) = parse_response($raw, $req->{head});
                if ($res && $res->{error}) {
                    Test::More::fail("$name - $res->{error}");
                    undef $res;
                }
                check_response($block, $res, $req_idx, $rep, $need_array);
            }
            if (++$req_idx < $total) {
                sleep parse_time(scalar $block->wait) if $block->wait;
                check_logs($block, $rep);
            }
        }
    }

    sleep parse_time(scalar $block->wait) if $block->wait;
    check_logs($block, $rep);
}

# Returns a list of { packets, responses, head } hashes, one per connection.
sub build_requests {
    my ($block) = @_;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        my @packets = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        my $is_head = join('', @packets) =~ /^\s*HEAD\s/ ? 1 : 0;
        return +{ packets => \@packets, responses => 1, head => $is_head };
    }

    my $more = $block->more_headers // '';
    my $headers_for = sub {
        my ($i) = @_;
        return $more unless ref $more eq 'ARRAY';
        return $more->[$i] // bail_out("$name - --- more_headers lacks data for request $i");
    };

    if (defined(my $reqs = $block->pipelined_requests)) {
        bail_out("$name - invalid entries in --- pipelined_requests") if ref $reqs ne 'ARRAY';
        my $data = join '', map {
            build_http_request($name, $reqs->[$_], $headers_for->($_),
                               $_ == $#$reqs ? 'close' : 'keep-alive')
        } 0 .. $#$reqs;
        return +{ packets => [$data], responses => scalar @$reqs, head => 0 };
    }

    my $request = $block->request;
    bail_out("$name - request empty") unless defined $request;
    if (!ref $request) {
        # leading blank lines and "# comment" lines are allowed
        1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
    }
    my @list = ref $request eq 'ARRAY' ? @$request : ($request);
    bail_out("$name - --- request must be a string or an array of strings"
             . " (packet arrays are not supported by the bundled runner)")
        if grep { ref } @list;

    return map {
        my $text = build_http_request($name, $list[$_], $headers_for->($_), 'close');
        +{ packets => [$text], responses => 1, head => $text =~ /^HEAD\s/ ? 1 : 0 }
    } 0 .. $#list;
}

# "METHOD [URI [VERSION]]\nbody" plus more_headers -> wire format.
sub build_http_request {
    my ($name, $text, $more_headers, $connection) = @_;
    utf8::encode($text) if utf8::is_utf8($text);

    my ($first, $body) = split /\n/, $text // '', 2;
    $body //= '';
    bail_out("$name - Request line should be non-empty")
        unless defined $first && $first =~ /\S/;
    my ($method, $uri, $version) = $first =~ /^\s*(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be 'meth [url [version]]'"
                    . " but got \"$first\".");
    $uri //= '/';
    $version //= 'HTTP/1.1';

    my ($headers, $chunked) = parse_more_headers($more_headers);

    # Like the real module: an automatic Content-Length comes with a
    # body stripped of surrounding whitespace.
    my $length_header = '';
    if (!$chunked && $body ne '' && $headers !~ /(?:^|\n)Content-Length:/) {
        $body =~ s/^\s+|\s+$//gs;
        $length_header = "Content-Length: " . length($body) . "\r\n";
    }

    my $auto = '';
    $auto .= "Host: $ServerName\r\n" if $headers !~ /(?:^|\n)Host:/i;
    $auto .= "Connection: $connection\r\n" if $headers !~ /(?:^|\n)Connection/i;

    return "$method $uri $version\r\n$auto$headers$length_header\r\n$body";
}

sub parse_more_headers {
    my ($text) = @_;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $text // '') {
        next if $line =~ /^\s*#/;
        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';
        $chunked = 1 if lc $key eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# Send the packets on one connection and read until the server closes it.
# $timeout bounds each wait for socket activity, not the whole exchange.
# Returns (raw response, error) where error is undef, 'timeout' or text.
sub send_request {
    my ($packets, $timeout, $middle_delay) = @_;

    my $sock;
    my $deadline = time + $Timeout;
    while (1) {
        $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr, PeerPort => $ServerPort,
                                      Proto => 'tcp', Timeout => $timeout);
        last if $sock;
        return (undef, "Can't connect to $ServerAddr:$ServerPort: $! (aborted)")
            if time > $deadline;
        sleep 0.05;
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my @queue = @$packets;
    my $out = shift @queue;
    my ($offset, $resp, $writing) = (0, '', 1);

    while (1) {
        my $reader = IO::Select->new($sock);
        my $writer = $writing ? IO::Select->new($sock) : undef;
        $! = 0;    # an empty result with EINTR is a signal, not a timeout
        my ($readable, $writable) = IO::Select->select($reader, $writer, undef, $timeout);
        if (!$readable) {
            next if $!{EINTR};
            close $sock;
            return ($resp, 'timeout');
        }

        if (@$readable) {
            my $n = sysread $sock, my $buf, 65536;
            if (!defined $n) {
                next if $!{EAGAIN} || $!{EINTR};
                close $sock;
                return ($resp, "HTTP response read failure: $!");
            }
            last if $n == 0;
            $resp .= $buf;
        }

        if ($writing && @$writable) {
            my $n = syswrite $sock, $out, length($out) - $offset, $offset;
            if (!defined $n) {
                next if $!{EAGAIN} || $!{EINTR};
                $writing = 0;    # the server may have answered early; keep reading
                next;
            }
            $offset += $n;
            next if $offset < length $out;
            if (@queue) {
                sleep $middle_delay if $middle_delay;
                ($out, $offset) = (shift(@queue), 0);
            } else {
                $writing = 0;
            }
        }
    }
    close $sock;
    return ($resp, undef);
}

# Returns (response, leftover bytes). The response is undef for an empty
# reply, or a hash with code, raw_headers, headers, body and maybe error.
sub parse_response {
    my ($raw, $is_head) = @_;
    return (undef, '') if !defined $raw || $raw eq '';

    my ($raw_headers, $rest) = $raw =~ /\A(.*?\r?\n)\r?\n(.*)\z/s ? ($1, $2) : ($raw, '');
    my %res = (raw_headers => $raw_headers, headers => {}, body => $rest);
    my ($status, @lines) = split /\r?\n/, $raw_headers;
    ($res{code}) = ($status // '') =~ m{^HTTP/\d+(?:\.\d+)?\s+(\d+)};
    for my $line (@lines) {
        push @{ $res{headers}{lc $1} }, $2 if $line =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/;
    }

    my $code = $res{code} // 0;
    return (\%res, '') if $code == 304 || $code == 101;

    my $left = '';
    if (lc(header(\%res, 'Transfer-Encoding') // '') eq 'chunked') {
        ($res{body}, $left, $res{error}) = decode_chunked($rest);
    } elsif (defined(my $len = header(\%res, 'Content-Length'))) {
        if (length $rest > $len) {
            $left = substr $rest, $len;
            $res{body} = substr $rest, 0, $len;
        } elsif (length $rest < $len && !$is_head) {
            warn "WARNING: response body truncated: $len expected, but got "
                 . length($rest) . "\n";
        }
    }
    return (\%res, $left);
}

sub decode_chunked {
    my ($raw) = @_;
    my $body = '';
    while (1) {
        return ($body, '', 'invalid chunked body received: no last chunk found')
            unless $raw =~ /\G[ \t]*([0-9a-fA-F]+)[^\r\n]*\r\n/gc;
        my $size = hex $1;
        if ($size == 0) {
            # skip trailers up to the empty line that ends the message
            1 while $raw =~ /\G[^\r\n]+\r\n/gc;
            $raw =~ /\G\r\n/gc;
            return ($body, substr($raw, pos($raw) // 0), undef);
        }
        my $start = pos $raw;
        return ($body, '', 'invalid chunked data received (not enough octets for the data section)')
            if length($raw) < $start + $size;
        $body .= substr $raw, $start, $size;
        pos($raw) = $start + $size;
        return ($body, '', 'invalid chunked data received (expected CRLF)')
            unless $raw =~ /\G\r\n/gc;
    }
}

# Case-insensitive lookup; repeated headers are joined with ", ".
sub header {
    my ($res, $name) = @_;
    my $values = $res->{headers}{lc $name} or return undef;
    return join ', ', @$values;
}

# ---------------------------------------------------------------------------
# Checks

# Expected values for multi-request blocks must be arrays, one per request.
sub indexed_value {
    my ($name, $value, $req_idx, $need_array) = @_;
    if (ref $value eq 'ARRAY') {
        return $value->[$req_idx] if $need_array || $req_idx == 0;
    } elsif (!$need_array) {
        return $value;
    }
    bail_out("$name - You asked for many requests, the expected results should be arrays as well.");
}

sub check_response {
    my ($block, $res, $req_idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $value_of = sub { indexed_value($name, $_[0], $req_idx, $need_array) };
    my $raw_headers = $res ? $res->{raw_headers} : '';

    my $code = ($res && $res->{code}) || '';
    if (defined $block->error_code_like) {
        my $pat = $value_of->(scalar $block->error_code_like);
        Test::More::like($code, qr/$pat/sm, "$name - status code ok");
    } else {
        my $expected = defined $block->error_code ? $value_of->(scalar $block->error_code) : 200;
        Test::More::is($code, $expected, "$name - status code ok");
    }

    if (defined $block->raw_response_headers_like) {
        my $pat = $value_of->(scalar $block->raw_response_headers_like);
        Test::More::like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $pat = $value_of->(scalar $block->raw_response_headers_unlike);
        Test::More::unlike($raw_headers, qr/$pat/s, "$name - raw resp headers unlike");
    }

    if (defined $block->response_headers) {
        my ($names, $expected) = parse_expected_headers($value_of->(scalar $block->response_headers));
        for my $key (@$names) {
            my $val = $expected->{$key};
            if (!defined $val) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                                   "$name - header $key not present in the raw headers");
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            Test::More::is(($res && header($res, $key)) // '', $val, "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        my ($names, $expected) = parse_expected_headers($value_of->(scalar $block->response_headers_like));
        for my $key (@$names) {
            my $pat = $expected->{$key} // '';
            Test::More::like(($res && header($res, $key)) // '', qr/^$pat$/,
                             "$name - header $key like ok");
        }
    }

    my $body = $res ? $res->{body} : undef;
    if (defined $block->response_body) {
        my $expected = $value_of->(scalar $block->response_body);
        $expected =~ s/\$ServerPort\b/$ServerPort/g if defined $expected && !ref $expected;
        my $desc = "$name - response_body - response is expected (repeated req $rep, req $req_idx)";
        if (ref $expected) {
            Test::More::like($body, $expected, "$name - response_body - like (repeated req $rep, req $req_idx)");
        } else {
            is_str($body, $expected, $desc);
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $pat = $value_of->($type eq 'like' ? $block->response_body_like
                                              : $block->response_body_unlike);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        my $summary = summarize($body);
        my $desc = "$name - response_body_$type - response is expected ($summary)";
        $type eq 'like' ? Test::More::like($body, qr/$pat/s, $desc)
                        : Test::More::unlike($body, qr/$pat/s, $desc);
    }

    # as the real module: every check sees every response's body
    for my $check (@ResponseBodyChecks) {
        $check->($block, $body, $req_idx, $rep, undef);
    }
}

# "Name: value" lines; "! Name" means absent. Returns the distinct names in
# first-seen order (one subtest each) and their expected values.
sub parse_expected_headers {
    my ($text) = @_;
    my (@names, %expected);
    for my $line (split /\n/, $text // '') {
        $line =~ s/^\s+|\s+$//g;
        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;
        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
            $key //= '';
        }
        push @names, $key unless exists $expected{$key};
        $expected{$key} = $val;
    }
    return (\@names, \%expected);
}

# error_log / no_error_log / access_log / no_access_log: one subtest per
# pattern each time the logs are checked (after every request).
sub check_logs {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $lines = read_error_log();

    check_log_patterns($name, $lines, scalar $block->error_log, 1, 'error.log', $rep);
    check_log_patterns($name, $lines, scalar $block->no_error_log, 0, 'error.log', $rep);
    warn_about_serious_lines($block, $lines);

    return if defined $block->ignore_response;
    if (defined $block->access_log || defined $block->no_access_log) {
        my $access = read_lines($AccLogFile);
        check_log_patterns($name, $access, scalar $block->access_log, 1, 'access.log', $rep);
        check_log_patterns($name, $access, scalar $block->no_access_log, 0, 'access.log', $rep);
    }
}

# A string gives one literal pattern per line; eval may give a qr// or an
# array of strings and qr//s.
sub log_patterns {
    my ($spec) = @_;
    return () unless defined $spec;
    return @$spec if ref $spec eq 'ARRAY';
    return ($spec) if ref $spec;
    chomp $spec;
    return split /\n+/, $spec;
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub check_log_patterns {
    my ($name, $lines, $spec, $want, $file, $rep) = @_;
    for my $pat (log_patterns($spec)) {
        next unless defined $pat;
        my ($hit) = grep { line_matches($_, $pat) } @$lines;
        my $shown = printable($pat);
        if ($want) {
            Test::More::ok(defined $hit, defined $hit
                ? "$name - pattern \"$shown\" matches a line in $file (req $rep)"
                : "$name - pattern \"$shown\" should match a line in $file (req $rep)");
        } elsif (defined $hit) {
            Test::More::fail("$name - pattern \"$shown\" should not match any line in $file"
                             . " but matches line \"" . printable($hit) . "\" (req $rep)");
        } else {
            Test::More::pass("$name - pattern \"$shown\" does not match a line in $file (req $rep)");
        }
    }
}

# Like the real module, surface alert/crit/emerg lines nobody asked about.
sub warn_about_serious_lines {
    my ($block, $lines) = @_;
    my @pats = map { log_patterns($_) } $block->error_log, $block->no_error_log;
    for my $level (qw(alert crit emerg)) {
        next if grep { defined && index("$_", "[$level") >= 0 } @pats;
        warn "WARNING: ", $block->name, " - ", printable($_), "\n"
            for grep { /\[$level\]/ } @$lines;
    }
}

# Lines of error.log since the previous read (all of it with
# check_accum_error_log), preceded by nginx's start-up stderr on the first
# read: source builds log start-up messages to error.log as well.
sub read_error_log {
    sleep $Sleep * 3;    # let workers finish writing, e.g. in the log phase
    my @lines = $ErrLogPos == 0 || $CheckAccumErrLog ? @StartupStderr : ();
    open my $in, '<', $ErrLogFile or return \@lines;
    seek $in, $ErrLogPos, 0 unless $CheckAccumErrLog;
    push @lines, <$in>;
    $ErrLogPos = tell $in unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub read_lines {
    my ($file) = @_;
    open my $in, '<', $file or return [];
    my @lines = <$in>;
    close $in;
    return \@lines;
}

# ---------------------------------------------------------------------------
# Small helpers

sub parse_time {
    my ($t) = @_;
    return undef unless defined $t;
    return $1 / 1000 if $t =~ /^\s*([\d.]+)\s*ms\s*$/;
    return $1 if $t =~ /^\s*([\d.]+)\s*s?\s*$/;
    return $t;
}

sub random_string {
    my ($len) = @_;
    my @chars = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');
    return join '', map { $chars[rand @chars] } 1 .. $len;
}

sub printable {
    my ($s) = @_;
    $s = "$s";
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub summarize {
    my ($s) = @_;
    return '' unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\s+/ /g;
    return length $s > 80 ? substr($s, 0, 77) . '...' : $s;
}

sub tail_of_file {
    my ($file) = @_;
    my $lines = read_lines($file);
    return "(empty or missing)\n" unless @$lines;
    my $first = @$lines > 20 ? @$lines - 20 : 0;
    return join '', @$lines[$first .. $#$lines];
}

sub describe_difference {
    my ($got, $expected) = @_;
    return "got undef, expected a string" unless defined $got;
    return "got a string, expected undef" unless defined $expected;
    my $at = 0;
    $at++ while $at < length $got && $at < length $expected
                && substr($got, $at, 1) eq substr($expected, $at, 1);
    my $excerpt = sub {
        my $s = substr $_[0], $at, 40;
        $s =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge;
        return "\"$s\"";
    };
    return sprintf "lengths: got %d, expected %d; strings begin to differ at char %d\n"
                 . "got:      %s\nexpected: %s",
                   length $got, length $expected, $at + 1,
                   $excerpt->($got), $excerpt->($expected);
}

1;
