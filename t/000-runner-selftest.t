# Self-test of the test runner (bundled t/lib/Test/Nginx/Socket.pm or the
# real Test::Nginx::Socket) using only stock nginx core/standard modules.

use Test::Nginx::Socket;

repeat_each(2);

# Per repetition: 2 subtests in most blocks, plus the extra ones noted in
# each block title ("+N").
plan tests => repeat_each() * (blocks() * 2 + 24);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: plain response body (+1)
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: response_headers present, empty and absent (+4)
--- config
    location = /t {
        add_header X-Foo "bar baz";
        return 200 "ok";
    }
--- request
GET /t
--- response_headers
X-Foo: bar baz
Content-Type: text/plain
X-Absent:
! X-Also-Absent
--- response_body chomp
ok



=== TEST 3: request body reaches a proxied location (+1)
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sink;
        proxy_set_header X-Req-Body $request_body;
    }
    location = /sink {
        return 200 "[$http_x_req_body] $http_content_length\n";
    }
--- request
POST /echo
hello world
--- response_body
[hello world] 11
--- no_error_log
[error]



=== TEST 4: 200 KB request body via request eval, buffered to servroot (+2)
--- config
    location = /big {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/len;
    }
    location = /len {
        return 200 "$http_content_length\n";
    }
--- request eval
"POST /big\n" . ("a" x 204800)
--- response_body
204800
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[crit]



=== TEST 5: more_headers eval and response_body eval
--- config
    location = /t {
        return 200 "$http_x_foo|$http_x_bar";
    }
--- more_headers eval
"X-Foo: " . ("ab" x 3) . "\nX-Bar: 42"
--- request
GET /t
--- response_body eval
"ababab|42"



=== TEST 6: response_body_like and error_code
--- config
    location = /t {
        return 201 "created at $server_port\n";
    }
--- request
GET /t
--- error_code: 201
--- response_body_like: ^created at \d+$



=== TEST 7: missing file logs an error (+3)
--- config
--- request
GET /no-such-file.html
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log eval
[qr/\[error\] .*open\(\) "[^"]+no-such-file\.html" failed/, "No such file or directory"]
--- no_error_log
[alert]



=== TEST 8: block without config reuses the running nginx (+1)
--- request
GET /index.html
--- response_headers
Content-Type: text/html
--- no_error_log
[emerg]



=== TEST 9: nginx must die on a bogus directive (+2)
--- config
    location = /t {
        bogus_directive_xyz on;
    }
--- request
GET /t
--- must_die
--- error_log
[emerg]
unknown directive "bogus_directive_xyz"
--- no_error_log
[alert]



=== TEST 10: chunked response is decoded (+1)
--- config
    location = /t {
        sub_filter_types text/plain;
        sub_filter world there;
        return 200 "hello world\n";
    }
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
--- response_body
hello there



=== TEST 11: several requests with array expectations (+4)
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 202 "b\n"; }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 202]
--- response_body eval
["a\n", "b\n"]
--- no_error_log
[error]



=== TEST 12: pipelined requests (+2)
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 200 "bb\n"; }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_body eval
["a\n", "bb\n"]



=== TEST 13: raw_request and user_files
--- config
--- user_files
>>> sub/hello.txt
hello file
--- raw_request eval
"GET /sub/hello.txt HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
hello file



=== TEST 14: HTTP/1.0 request line and comments before it (+1)
--- config
    location = /t {
        return 200 "$server_protocol $request_method\n";
    }
--- request
# comment lines are skipped
    HEAD /t HTTP/1.0
--- response_headers
Content-Length: 14
--- response_body eval
""



=== TEST 15: client timeout tolerated with abort (+1)
--- config
    location = /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/len;
    }
    location = /len {
        return 200 "$http_content_length\n";
    }
--- more_headers
Content-Length: 100
--- request
POST /t
only part of the promised body
--- timeout: 200ms
--- abort
--- error_code:
--- error_log
client prematurely closed connection
--- no_error_log
[error]



=== TEST 16: main_config and http_config with env expansion (+1)
--- main_config
env TEST_NGINX_SERVER_PORT;
--- http_config
    map $uri $answer {
        default "port $TEST_NGINX_SERVER_PORT";
    }
--- config
    location = /t {
        return 200 "$answer\n";
    }
--- request
GET /t
--- response_body eval
"port $ENV{TEST_NGINX_SERVER_PORT}\n"
--- no_error_log
[emerg]
