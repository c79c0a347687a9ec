# ngx_pay: nginx dynamic module for payment webhooks at the edge.
#
#   make            build build/ngx_http_pay_module.so for the system nginx
#                   and build/ngx-pay, the command-line companion (cli/,
#                   docs/cli.md)
#   make run        build, then serve conf.example on 127.0.0.1:8080
#   make test       unit tests + the Test::Nginx suite (starts its own Redis)
#                   + the hostile-request suite + the README's tour
#                   + ngx-pay's test + the reliability test
#   make test-cli   ngx-pay against a running nginx with the module
#                   (util/test-cli; make test runs it after the suite)
#   make test-tour  the README's tour against make run's configuration
#                   (util/test-tour; make test runs it after the suite)
#   make test-health  pay_status health flipping 200/503/200 with Redis
#                   stopped and started under one running nginx
#                   (util/test-health; make test runs it after the tour)
#   make test-reliability  exactly-once delivery under retries, app failures,
#                   a Redis restart and a Sentinel failover (each plain
#                   and TLS) and a reload (util/test-reliability)
#   make unit       the C unit tests only (t/unit: core, and the glue
#                   against nginx's headers)
#   make check-layout  no circle between the module's files, core/ pure,
#                   no glue file over 1,200 lines (util/check-layout)
#   make test-asan  unit tests + the suite under AddressSanitizer + UBSan
#   make bench      wrk benchmarks against plain proxy_pass, then
#                   make bench-counters
#   make bench-counters  instructions per request with the counters on
#                   and off, under Valgrind's callgrind
#                   (util/bench-counters)
#   make test-nginx-versions  the suite against each nginx source in
#                   build/nginx-sources/ (or NGINX_SOURCES=...), each
#                   built from source (util/test-nginx-versions)
#   make install    the module, mod-http-pay.conf and its modules-enabled
#                   symlink where Debian's nginx looks, ngx-pay in
#                   $(PREFIX)/bin and its man page (DESTDIR, PREFIX,
#                   MODULES_DIR, BINDIR, ... below); make uninstall
#                   removes them
#   make deb        build/libnginx-mod-http-pay_<version>_<arch>.deb
#                   (packaging/debian, dh_nginx), with /usr/bin/ngx-pay
#   make test-deb   as root on Debian: install the .deb, serve a signed
#                   delivery through the system nginx, purge it (part of
#                   make test; skipped otherwise)
#
# NGINX_SRC=/path/to/nginx-1.2x builds against that source tree instead
# (and tests with the nginx built from it).  Targets install the Debian
# packages they need when run as root; otherwise they print the command.

SHELL := /bin/bash

TOP    := $(CURDIR)
BUILD  := $(TOP)/build
MODULE := $(BUILD)/ngx_http_pay_module.so

BUILD_PKGS := nginx nginx-dev libssl-dev libjansson-dev libhiredis-dev \
              libcurl4-openssl-dev gcc make
TEST_PKGS  := libcmocka-dev redis-server redis-sentinel libtest-base-perl \
              curl openssl prometheus
BENCH_PKGS := wrk valgrind
DEB_PKGS   := debhelper dpkg-dev

# the version is NGX_PAY_VERSION in ngx_pay_module/ngx_http_pay_version.h
VERSION  := $(shell util/version)
DEB_NAME := libnginx-mod-http-pay
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo unknown)
DEB      := $(BUILD)/$(DEB_NAME)_$(VERSION)_$(DEB_ARCH).deb
DEB_SRCS := config $(wildcard ngx_pay_module/*.[ch] ngx_pay_module/core/*.[ch] \
              cli/*.[ch] docs/ngx-pay.1 \
              packaging/debian/* packaging/debian/*/* util/build-deb \
              util/version README.md CHANGELOG.md LICENSE conf.example \
              docs/*.md docs/*/*.md)

# make install: where Debian's nginx looks.  DESTDIR stages the tree
# elsewhere (packagers); the directories can be moved one by one.
PREFIX                ?= /usr
SYSCONFDIR            ?= /etc
MODULES_DIR           ?= $(PREFIX)/lib/nginx/modules
MODULES_AVAILABLE_DIR ?= $(PREFIX)/share/nginx/modules-available
MODULES_ENABLED_DIR   ?= $(SYSCONFDIR)/nginx/modules-enabled
BINDIR                ?= $(PREFIX)/bin
MAN1DIR               ?= $(PREFIX)/share/man/man1
# Debian's nginx resolves modules/ against its prefix, /usr/share/nginx,
# where modules is a link to /usr/lib/nginx/modules; anywhere else the
# load_module line names the file itself
ifeq ($(MODULES_DIR),/usr/lib/nginx/modules)
LOAD_MODULE := modules/ngx_http_pay_module.so
else
LOAD_MODULE := $(MODULES_DIR)/ngx_http_pay_module.so
endif

export NGINX_SRC

# ngx-pay (cli/): a plain program, linked with the module's pure core
# (every signature it makes or checks is core's), libcurl, OpenSSL and
# jansson; never an nginx header (util/check-layout).  Any libcurl 7.x:
# CURLOPT_PROTOCOLS_STR from 7.85.0, CURLOPT_PROTOCOLS before it
# (cli/ngx_pay_cli_http.c)
CLI          := $(BUILD)/ngx-pay
CLI_SRCS     := $(wildcard cli/*.c)
CLI_HDRS     := $(wildcard cli/*.h) ngx_pay_module/ngx_http_pay_version.h
CORE_SRCS    := $(wildcard ngx_pay_module/core/*.c)
CORE_HDRS    := $(wildcard ngx_pay_module/core/*.h)
CLI_OBJS     := $(CLI_SRCS:cli/%.c=$(BUILD)/cli/%.o)
CLI_CORE_OBJS := $(CORE_SRCS:ngx_pay_module/core/%.c=$(BUILD)/cli/core/%.o)
CLI_CFLAGS   ?= -g -O2 -fstack-protector-strong -Wformat \
                -Werror=format-security -D_FORTIFY_SOURCE=2 -fPIE
CLI_WARN     := -Wall -Wextra -Werror
CLI_LDFLAGS  ?= -pie -Wl,-z,relro -Wl,-z,now
CLI_LIBS     := -lcurl -ljansson -lcrypto

.PHONY: all build deps run test unit check-layout test-reliability test-asan \
        bench clean install uninstall deb test-deb test-nginx-versions cli \
        test-cli

all: build

build: deps
	@util/build-module
	@$(MAKE) --no-print-directory cli

cli: $(CLI)

$(CLI): $(CLI_OBJS) $(CLI_CORE_OBJS)
	@$(CC) $(CLI_LDFLAGS) -o $@.new $^ $(CLI_LIBS)
	@mv $@.new $@
	@echo "ngx_pay: built $@"

$(BUILD)/cli/%.o: cli/%.c $(CLI_HDRS) $(CORE_HDRS)
	@mkdir -p $(@D)
	@$(CC) $(CLI_CFLAGS) $(CLI_WARN) -Ingx_pay_module/core \
	    -Ingx_pay_module -c -o $@ $<

$(BUILD)/cli/core/%.o: ngx_pay_module/core/%.c $(CORE_HDRS)
	@mkdir -p $(@D)
	@$(CC) $(CLI_CFLAGS) $(CLI_WARN) -c -o $@ $<

deps:
	@util/ensure-packages $(BUILD_PKGS)

run: build
	@util/ensure-packages curl openssl
	@util/run-demo

# the glue's unit tests (t/unit/test_ngx_*.c) need the nginx tree that
# build configures
unit: build
	@util/ensure-packages $(TEST_PKGS)
	@$(MAKE) --no-print-directory -C t/unit test

check-layout: build
	@util/check-layout

test: build
	@util/ensure-packages $(TEST_PKGS)
	@util/check-layout
	@$(MAKE) --no-print-directory -C t/unit test
	@util/run-tests
	@util/test-reliability
	@util/test-deb

test-nginx-versions: deps
	@util/ensure-packages $(TEST_PKGS) libpcre2-dev zlib1g-dev
	@util/test-nginx-versions

test-reliability: build
	@util/ensure-packages $(TEST_PKGS)
	@util/test-reliability

test-cli: build
	@util/ensure-packages $(TEST_PKGS)
	@util/test-cli

.PHONY: test-tour
test-tour: build
	@util/ensure-packages $(TEST_PKGS)
	@util/test-tour

.PHONY: test-health
test-health: build
	@util/ensure-packages $(TEST_PKGS)
	@util/test-health

test-asan: build
	@util/ensure-packages $(TEST_PKGS) dpkg-dev clang
	@$(MAKE) --no-print-directory -C t/unit asan
	@util/build-asan
	@util/run-tests --asan

bench: build
	@util/ensure-packages $(BENCH_PKGS) $(TEST_PKGS)
	@bench/run
	@util/bench-counters

.PHONY: bench-counters
bench-counters: build
	@util/ensure-packages $(BENCH_PKGS) $(TEST_PKGS)
	@util/bench-counters

# the files the package owns are left to dpkg
define refuse-if-packaged
	@if [ -z "$(DESTDIR)" ] && dpkg-query -W -f='$${Status}' $(DEB_NAME) \
	        2>/dev/null | grep -q 'ok installed'; then \
	    echo "ngx_pay: the $(DEB_NAME) package is installed; apt-get purge $(DEB_NAME) first, or use DESTDIR=" >&2; \
	    exit 1; \
	fi
endef

install: build
	$(refuse-if-packaged)
	install -d -m 755 '$(DESTDIR)$(MODULES_DIR)' \
	    '$(DESTDIR)$(MODULES_AVAILABLE_DIR)' '$(DESTDIR)$(MODULES_ENABLED_DIR)'
	install -m 644 '$(MODULE)' '$(DESTDIR)$(MODULES_DIR)/ngx_http_pay_module.so'
	printf 'load_module %s;\n' '$(LOAD_MODULE)' \
	    > '$(DESTDIR)$(MODULES_AVAILABLE_DIR)/mod-http-pay.conf'
	chmod 644 '$(DESTDIR)$(MODULES_AVAILABLE_DIR)/mod-http-pay.conf'
	ln -sfn '$(MODULES_AVAILABLE_DIR)/mod-http-pay.conf' \
	    '$(DESTDIR)$(MODULES_ENABLED_DIR)/50-mod-http-pay.conf'
	install -d -m 755 '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MAN1DIR)'
	install -m 755 '$(CLI)' '$(DESTDIR)$(BINDIR)/ngx-pay'
	install -m 644 docs/ngx-pay.1 '$(DESTDIR)$(MAN1DIR)/ngx-pay.1'
	@echo "ngx_pay: installed; check and apply with: nginx -t && nginx -s reload (or systemctl reload nginx)"

uninstall:
	$(refuse-if-packaged)
	rm -f '$(DESTDIR)$(MODULES_ENABLED_DIR)/50-mod-http-pay.conf' \
	    '$(DESTDIR)$(MODULES_AVAILABLE_DIR)/mod-http-pay.conf' \
	    '$(DESTDIR)$(MODULES_DIR)/ngx_http_pay_module.so' \
	    '$(DESTDIR)$(BINDIR)/ngx-pay' '$(DESTDIR)$(MAN1DIR)/ngx-pay.1'

deb: $(DEB)

$(DEB): $(DEB_SRCS)
	@util/ensure-packages $(BUILD_PKGS) $(DEB_PKGS)
	@util/build-deb

# skips itself (one line, success) unless root on Debian; builds the .deb
test-deb:
	@util/test-deb

clean:
	rm -rf $(BUILD) t/servroot
