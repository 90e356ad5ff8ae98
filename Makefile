# Steward: build, run and test. `make run` and `make test` work on a fresh
# Debian 12 machine as root: they install what is missing first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
HOME_DIR   ?= ./steward-home
LISTEN     ?= 127.0.0.1:8080
PYTHON     ?= /usr/bin/python3
PYTEST     ?= $(PYTHON) -m pytest
# the end-to-end tests mostly wait on servers and builds: run several at once
PYTEST_JOBS ?= 4

# Debian packages: build, run, and test (clients driven by the end-to-end tests)
BUILD_PKGS = gcc meson ninja-build pkg-config libmicrohttpd-dev libsqlite3-dev libxml2-dev \
             libjansson-dev libsodium-dev libcurl4-openssl-dev libcmocka-dev scdoc tzdata \
             libgnutls28-dev
# bubblewrap: what the SSH nodes of the tests (this machine) sandbox their steps with
TEST_PKGS  = python3-pytest python3-pytest-xdist python3-requests python3-jenkins jenkins-job-builder curl clang \
             systemd openssl openssh-server bubblewrap \
             mono-mcs chromium chromium-driver python3-selenium prometheus

PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all build deps test-deps run test unit e2e browser asan install clean stress-test soak torture fuzz bench compat-doc

all: build

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

# Installs only what is missing, so a machine that has everything never
# touches the network.
deps:
	@missing=$$(for p in $(BUILD_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

test-deps: deps
	@missing=$$(for p in $(TEST_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

run: deps build
	$(BUILD)/steward --home $(HOME_DIR) serve --listen $(LISTEN)

unit: build
	meson test -C $(BUILD) --print-errorlogs

# docs/COMPAT.md's list of what Steward runs, from src/core/support.c (the unit tests check it)
compat-doc: build
	$(BUILD)/tests/unit/core_test_support --write-doc docs/COMPAT.md

e2e: build
	STEWARD_BIN=$(abspath $(BUILD)/steward) $(PYTEST) -q -n $(PYTEST_JOBS) tests/e2e

browser: build
	@if [ -d tests/browser ]; then \
	  STEWARD_BIN=$(abspath $(BUILD)/steward) $(PYTEST) -q tests/browser; fi

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	meson test -C $(ASAN_BUILD) --print-errorlogs
	STEWARD_BIN=$(abspath $(ASAN_BUILD)/steward) STEWARD_SANITIZED=1 $(PYTEST) -q -n $(PYTEST_JOBS) tests/e2e

test: test-deps
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) torture CYCLES=20
	$(MAKE) browser
	$(MAKE) soak MINUTES=1
	$(MAKE) asan
	tests/lint/layers.sh

# A mixed load for MINUTES; memory and descriptors must stay flat (tests/soak/soak.py)
MINUTES ?= 10
soak: build
	$(PYTHON) tests/soak/soak.py --bin $(BUILD)/steward --minutes $(MINUTES)

# The whole `make test`, N times in a row, while stress-ng loads the machine
# (two CPU hogs and one I/O hog, ended with the runs, or after 30 minutes a run).
N ?= 10
stress-test: test-deps
	@dpkg -s stress-ng >/dev/null 2>&1 || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q stress-ng; }
	@stress-ng --cpu 2 --io 1 --timeout $$(( $(N) * 1800 ))s --quiet & load=$$!; \
	trap 'kill $$load 2>/dev/null; wait $$load 2>/dev/null' EXIT; \
	for i in $$(seq 1 $(N)); do \
	  echo "== stress-test: run $$i of $(N), under stress-ng --cpu 2 --io 1"; \
	  start=$$(date +%s); \
	  $(MAKE) --no-print-directory test || { echo "== stress-test: run $$i of $(N) FAILED"; exit 1; }; \
	  echo "== stress-test: run $$i of $(N) passed in $$(( $$(date +%s) - start )) s"; \
	done; \
	echo "== stress-test: $(N) of $(N) runs passed"

# kill -9 the server CYCLES times under concurrent triggers, then check every 201 and
# every build (tests/torture/torture.py)
CYCLES ?= 1000
torture: build
	$(PYTHON) tests/torture/torture.py --bin $(BUILD)/steward --cycles $(CYCLES)

# the binary, steward(1) and the bash completion, under $(DESTDIR)$(PREFIX); on this
# machine itself (no DESTDIR, as root), also the user builds run as
install: build
	meson configure $(BUILD) -Dprefix=$(abspath $(PREFIX))
	ninja -C $(BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd steward-build >/dev/null; then \
	  useradd --system --user-group --home-dir /nonexistent --no-create-home \
	    --shell /usr/sbin/nologin --comment "Steward builds" steward-build; \
	fi

# every libFuzzer target of tests/fuzz/ for FUZZ_SECONDS each, one after the other;
# crashes are kept under FUZZ_DIR (tests/fuzz/run.sh)
FUZZ_SECONDS ?= 60
FUZZ_DIR     ?= /tmp/steward-fuzz
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_DIR=$(FUZZ_DIR) $(if $(FUZZ_TARGETS),FUZZ_TARGETS="$(FUZZ_TARGETS)") \
	  tests/fuzz/run.sh

# every benchmark against its baselines, into one table: bench/out/bench-DATE-COMMIT.tsv
# (bench/run.sh, docs/PERFORMANCE.md); about 15 minutes, BENCH_QUICK=1 for a short smoke run
bench: build
	@missing=$$(for p in nginx-light wrk webhook python3-jenkins curl time binutils; do \
	  dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	BENCH_BIN=$(abspath $(BUILD)/steward) bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
