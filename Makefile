# ngx_pay: nginx dynamic module for payment webhooks at the edge.
#
#   make            build build/ngx_http_pay_module.so for the system nginx
#   make run        build, then serve conf.example on 127.0.0.1:8080
#   make test       unit tests + the Test::Nginx suite (starts its own Redis)
#                   + the hostile-request suite + the README's tour
#                   + the reliability test
#   make test-tour  the README's tour against make run's configuration
#                   (util/test-tour; make test runs it after the suite)
#   make test-reliability  exactly-once delivery under retries, app failures,
#                   a Redis restart and a reload (util/test-reliability)
#   make unit       the C unit tests only (t/unit: core, and the glue
#                   against nginx's headers)
#   make test-asan  unit tests + the suite under AddressSanitizer + UBSan
#   make bench      wrk benchmarks against plain proxy_pass
#
# NGINX_SRC=/path/to/nginx-1.2x builds against that source tree instead
# (and tests with the nginx built from it).  Targets install the Debian
# packages they need when run as root; otherwise they print the command.

SHELL := /bin/bash

TOP    := $(CURDIR)
BUILD  := $(TOP)/build
MODULE := $(BUILD)/ngx_http_pay_module.so

BUILD_PKGS := nginx nginx-dev libssl-dev libjansson-dev libhiredis-dev \
              gcc make
TEST_PKGS  := libcmocka-dev redis-server libtest-base-perl curl openssl
BENCH_PKGS := wrk

export NGINX_SRC

.PHONY: all build deps run test unit test-reliability test-asan bench clean

all: build

build: deps
	@util/build-module

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

test: build
	@util/ensure-packages $(TEST_PKGS)
	@$(MAKE) --no-print-directory -C t/unit test
	@util/run-tests
	@util/test-reliability

test-reliability: build
	@util/ensure-packages $(TEST_PKGS)
	@util/test-reliability

.PHONY: test-tour
test-tour: build
	@util/ensure-packages $(TEST_PKGS)
	@util/test-tour

test-asan: build
	@util/ensure-packages $(TEST_PKGS) dpkg-dev clang
	@$(MAKE) --no-print-directory -C t/unit asan
	@util/build-asan
	@util/run-tests --asan

bench: build
	@util/ensure-packages $(BENCH_PKGS) $(TEST_PKGS)
	@bench/run

clean:
	rm -rf $(BUILD) t/servroot
