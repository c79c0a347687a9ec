package Test::Nginx::Socket;

# Fallback test runner for the ngx_pay test suite.
#
# The Makefile runs "prove -I t/lib -r t/", so this file is found before any
# installed Test::Nginx::Socket. When another Test/Nginx/Socket.pm exists
# anywhere else in @INC (the real CPAN / openresty test-nginx module), it is
# loaded in place of this file and nothing bundled is used. Only when
# "perl -MTest::Nginx::Socket" would fail without t/lib does the bundled
# runner (Test/Nginx/Bundled.pm, same package name) take over. The .t files
# must therefore stay valid under both; see the POD below.

use strict;
use warnings;

use Cwd ();
use File::Spec ();

BEGIN {
    my $rel = 'Test/Nginx/Socket.pm';
    my $me = Cwd::abs_path(__FILE__);
    my $real;
    for my $dir (grep { !ref } @INC) {
        my $candidate = File::Spec->catfile($dir, $rel);
        next unless -f $candidate;
        my $abs = Cwd::abs_path($candidate);
        next if !defined $abs || $abs eq $me;
        $real = $abs;
        last;
    }

    if ($real) {
        # "do" compiles the real module into this same package, so its own
        # import() and exports are what "use Test::Nginx::Socket" gets.
        $INC{$rel} = $real;
        my $loaded = do $real;
        die "failed to load $real: ", ($@ || $! || 'false return value'), "\n"
            unless $loaded;
    } else {
        print STDERR "# using bundled Test::Nginx::Socket runner\n";
        require Test::Nginx::Bundled;
    }
}

1;
__END__

=head1 NAME

Test::Nginx::Socket (bundled) - minimal stand-in for openresty's
Test::Nginx::Socket, used only when the real module is not installed

=head1 SYNOPSIS

    use Test::Nginx::Socket;

    repeat_each(2);
    plan tests => repeat_each() * (blocks() * 3);
    no_shuffle();
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello
    --- no_error_log
    [error]

=head1 DESCRIPTION

Test files are written for the real Test::Nginx::Socket; this runner
implements the subset of its block format that the project uses, with the
same meaning and, importantly, the same number of subtests per block, so
the explicit C<plan tests =E<gt> ...> counts hold under both runners.

Like the real module it is a L<Test::Base> subclass: blocks, filters
(C<eval>, C<chomp>, ...), C<--- ONLY>, C<--- SKIP>, C<--- LAST>, C<plan>,
C<blocks()> and the Test::More functions Test::Base re-exports (C<is>,
C<like>, C<ok>, C<pass>, C<fail>, C<diag>, ...) come from Test::Base.

=head2 Functions

C<run_tests>, C<repeat_each>, C<no_shuffle> (blocks always run in file
order; the bundled runner never shuffles), C<use_hup>, C<master_on>,
C<master_off>, C<master_process_enabled>, C<workers>,
C<worker_connections>, C<log_level>, C<no_long_string>,
C<no_root_location>, C<env_to_nginx>, C<check_accum_error_log>,
C<server_port> (also C<$Test::Nginx::Socket::ServerPort>), C<server_addr>,
C<server_name>, C<server_root>, C<html_dir>, C<timeout>, C<bail_out>,
C<is_str>, C<add_block_preprocessor>, C<add_cleanup_handler>,
C<add_response_body_check> (called after the built-in checks of every
response with the block, the body, the request index and the repeat).

=head2 Sections

=over

=item Configuration

C<main_config>, C<post_main_config>, C<http_config>, C<config> (inside the
default server), C<user_files> (C<E<gt>E<gt>E<gt> name [date]> lines or an
eval'd array), C<log_level>, C<server_name>, C<init>, C<must_die>,
C<skip_eval>.
C<$TEST_NGINX_*> is replaced by the environment value in C<config>,
C<http_config>, C<main_config>, C<post_main_config> and C<user_files> -
the sections the real module expands; an undefined variable bails out.
C<$TEST_NGINX_RAND_PORT_N> becomes a free port, fixed for the block.

A block without C<--- config> reuses the running nginx (no restart), as
the real module does.

=item Requests

C<request> (C<METHOD [URI [VERSION]]>, then the body; leading blank and
C<#> comment lines are dropped; an array gives several requests),
C<more_headers> (string or array per request), C<pipelined_requests>,
C<raw_request> (string or array of packets), C<raw_request_middle_delay>,
C<timeout> (C<5>, C<10s>, C<50ms>; default 3s or C<TEST_NGINX_TIMEOUT>; it
bounds each wait for socket activity), C<abort>, C<wait>,
C<ignore_response>.

Requests get C<Host: localhost> and C<Connection: close> unless
more_headers has them. When the body is non-empty, the request is not
chunked and more_headers has no C<Content-Length:>, the body is stripped of
leading and trailing whitespace and a C<Content-Length> is added - exactly
what the real module sends.

=item Checks

C<error_code>, C<error_code_like>, C<raw_response_headers_like>,
C<raw_response_headers_unlike>, C<response_headers>,
C<response_headers_like>, C<response_body>, C<response_body_like>,
C<response_body_unlike>, C<error_log>, C<no_error_log>, C<access_log>,
C<no_access_log>. For several requests the expected values must be arrays.
C<$ServerPort> in expected bodies and header values becomes the port.

In C<response_headers>, C<Name: value> compares the (joined) value,
C<Name:> expects an empty or absent header and C<! Name> expects the name
to be absent from the raw headers.

Log patterns: a plain section is one literal substring per line; C<eval>
may give a C<qr//> or an array of strings and C<qr//>s. By default each
check sees only the error.log lines written since the previous check;
with C<must_die>, nginx's stderr counts as log lines (Debian's nginx logs
config errors only there).

=back

Sections that would change the subtest count and are not implemented
(C<skip_nginx>, C<todo>, C<grep_error_log>, C<http2>, C<stap>,
C<tcp_listen>, ...) make the runner bail out rather than miscount.

=head2 Subtest counting

Learned from openresty/test-nginx F<lib/Test/Nginx/Socket.pm>
(C<run_test_helper>, C<check_error_code>, C<check_response_headers>,
C<check_response_body>, C<check_error_log>) and F<lib/Test/Nginx/Util.pm>
(C<run_test>, C<parse_headers>). Per block and per C<repeat_each>
repetition:

=over

=item * for each request (or pipelined request):

1 for the status code (always, expecting 200 by default);
1 each for C<raw_response_headers_like> / C<_unlike> when present;
1 per distinct header name in C<response_headers> (or in
C<response_headers_like>, used only without C<response_headers>);
1 for C<response_body> or else C<response_body_like> / C<_unlike>;

=item * after each request (so N requests check the logs N times):

1 per C<error_log> pattern, 1 per C<no_error_log> pattern, and likewise
for C<access_log> / C<no_access_log>;

=item * C<must_die> blocks: 1 ("die as expected", or the exit code when
the value is a number) plus the log pattern checks, per repetition;

=item * C<skip_eval: N: code>: N skipped subtests per repetition when
the code is true.

=back

Failures may add subtests (a client timeout adds
C<ERROR: client socket timed out>, an nginx start failure adds one), as
in the real module; the plan then no longer matches, which is itself
reported.

=head2 Generated nginx.conf

Under C<TEST_NGINX_SERVROOT> (default F<t/servroot>): F<conf/nginx.conf>,
F<logs/error.log>, F<logs/access.log>, F<logs/nginx.pid>, F<html/> and
the C<*_temp> directories. The file has the C<load_module> lines, then
C<worker_processes>, C<daemon on>, C<master_process>, C<error_log> (level
C<debug> unless changed), C<pid>, the C<env_to_nginx> lines, C<user root>
when running as root (as the real module does, so workers can write to
servroot), C<main_config>, then
C<http { access_log; default_type text/plain; keepalive_timeout 68;
*_temp_path; http_config; server { listen PORT; server_name localhost;
client_max_body_size 30M; config; location / {...} } }>,
C<post_main_config> and C<events { accept_mutex off; worker_connections 64;
[use TYPE;] }>. The C<*_temp_path> lines keep distribution builds, whose
compiled-in temp paths are outside the prefix, inside servroot. nginx runs
as C<nginx -p servroot/ -c conf/nginx.conf>.

Each block with a config stops nginx (QUIT, then KILL after the timeout),
recreates conf/, html/ and logs/ and starts nginx again; with
C<TEST_NGINX_USE_HUP> (or C<use_hup()>) later blocks instead truncate the
logs, rewrite the files, send HUP, poll a C<Test-Nginx> server for the
new config version and wait for the old workers to exit (nginx signals
them only some time after the new ones answer). A C<must_die> block always
restarts. nginx is stopped at exit unless C<TEST_NGINX_NO_CLEAN>.

=head2 Environment

C<TEST_NGINX_BINARY> (default: C<nginx> in C<PATH>, else
F</usr/sbin/nginx>), C<TEST_NGINX_LOAD_MODULES>,
C<TEST_NGINX_SERVER_PORT> / C<TEST_NGINX_PORT> (default 1984),
C<TEST_NGINX_SERVROOT>, C<TEST_NGINX_LOG_LEVEL>,
C<TEST_NGINX_MASTER_PROCESS>, C<TEST_NGINX_WORKERS>, C<TEST_NGINX_USE_HUP>,
C<TEST_NGINX_NO_CLEAN>, C<TEST_NGINX_TIMEOUT>, C<TEST_NGINX_EVENT_TYPE>,
C<TEST_NGINX_WORKER_USER>, C<TEST_NGINX_SLEEP>,
C<TEST_NGINX_CHECK_ACCUM_ERR_LOG>. C<TEST_NGINX_SERVER_PORT> and
C<TEST_NGINX_SERVER_ROOT> are set for the config sections.

=cut
