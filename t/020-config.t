# Configuration errors fail at load time (nginx -t), naming the directive.
#
# Each block is a configuration nginx must refuse (--- must_die) and the
# message it must print.

use Test::Nginx::Socket;
use lib 't/lib';
use PayTest;

$ENV{PAY_TEST_EMPTY_SECRET} = '';
$ENV{TEST_NGINX_PAY_EMPTY_FILE} = PayTest::secret_file('empty', "\n");

repeat_each(1);

# a must_die block is 4 tests: nginx died, its error_log line, and no
# [alert] or [crit]
plan tests => repeat_each() * (blocks() * 4);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: pay_webhook without any secret
--- config
    location = /hook {
        pay_webhook stripe;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log
requires at least one "pay_webhook_secret"
--- no_error_log
[alert]
[crit]



=== TEST 2: a secret from an environment variable that is not set
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret env:PAY_TEST_NO_SUCH_VARIABLE;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log
"pay_webhook_secret": environment variable "PAY_TEST_NO_SUCH_VARIABLE" is not set
--- no_error_log
[alert]
[crit]



=== TEST 3: a secret from an empty environment variable
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret env:PAY_TEST_EMPTY_SECRET;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log
"pay_webhook_secret": the secret "env:PAY_TEST_EMPTY_SECRET" is empty
--- no_error_log
[alert]
[crit]



=== TEST 4: a secret file that cannot be read
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret file:/nonexistent/ngx_pay/secret;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log
"pay_webhook_secret": cannot open secret file "/nonexistent/ngx_pay/secret"
--- no_error_log
[alert]
[crit]



=== TEST 5: a secret file holding only a newline
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret file:$TEST_NGINX_PAY_EMPTY_FILE;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log
is empty
--- no_error_log
[alert]
[crit]



=== TEST 6: an empty literal secret
--- config
    location = /hook {
        pay_webhook stripe;
        pay_webhook_secret "";
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log
"pay_webhook_secret": the secret "" is empty
--- no_error_log
[alert]
[crit]



=== TEST 7: an unknown provider
--- config
    location = /hook {
        pay_webhook stripes;
        pay_webhook_secret whsec_x;
    }
--- must_die
--- error_log
invalid value "stripes"
--- no_error_log
[alert]
[crit]



=== TEST 8: pay_webhook is a location directive
--- http_config
    pay_webhook stripe;
--- config
    location = /t {
        return 200;
    }
--- must_die
--- error_log
"pay_webhook" directive is not allowed here
--- no_error_log
[alert]
[crit]
