# SPDX-License-Identifier: BSD-2-Clause
# Front door: make | make test | make run | make fuzz | make bench | make soak | make format |
# make lint
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CONFIG ?= etc/switchboard.cfg
FUZZ_SECONDS ?= 30
CMAKE_GEN = cmake -S . -Wno-dev

.PHONY: all build test tsan run fuzz bench soak format lint deps clean

all: build

build:
	@$(CMAKE_GEN) -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)

deps:
	@scripts/deps.sh

# Unit tests, torture corpora and fuzz-corpus replay, under ASan+UBSan; then the instruction-count
# check of tests/perf (callgrind) over the core library of the -O2 build (`build`, no sanitizer).
test: deps
	@$(CMAKE_GEN) -B build-test -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON >/dev/null
	@cmake --build build-test -j $(JOBS)
	@$(CMAKE_GEN) -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS) --target sbcore
	@SB_PERF_BUILD=build tests/run.sh build-test

# ThreadSanitizer over the threaded unit tests and an e2e subset with 2 workers (tests/tsan.sh);
# not part of `make test`: it roughly doubles the run time.
tsan: deps
	@$(CMAKE_GEN) -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSB_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@tests/tsan.sh build-tsan

# The server in the foreground, logging to stderr. The database named by the config's usrloc
# db_url gets its missing tables first (run/ is created for the default SQLite file).
RUN_DB_URL = $(shell sed -n 's/^modparam("usrloc", *"db_url", *"\([^"]*\)").*/\1/p' $(CONFIG) | head -n 1)
run: deps build
	@mkdir -p run
	@if [ -n '$(RUN_DB_URL)' ]; then ./build/sbctl -d '$(RUN_DB_URL)' db init >/dev/null; fi
	./build/switchboard -F -E -f $(CONFIG)

fuzz: deps
	@CC=clang $(CMAKE_GEN) -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSB_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# Micro-benchmarks of the -O2 build; fails when any of them does (a wrong answer, not a slow one).
# Then the system benchmark (scripts/bench.sh, bench/README.md): Switchboard, Kamailio and the null
# relay under sipp; BENCH_SYSTEM=0 skips it, BENCH_* variables tune it. Every run appends its
# figures to bench/results.md (scripts/bench-record.sh; BENCH_RECORD=0: not; BENCH_NOTE: a remark).
BENCH_SYSTEM ?= 1
BENCH_NOTE ?=
bench: build
	@res=$${BENCH_OUT:-build/bench-results}; mkdir -p "$$res"; : >"$$res/micro.txt"; rc=0; \
	for b in build/bench_*; do [ -x "$$b" ] || continue; \
		out=$$("$$b" 2>&1) || { rc=1; out="$$out (FAILED)"; }; \
		printf '%s\n' "$$out" | tee -a "$$res/micro.txt"; done; \
	table=""; if [ "$(BENCH_SYSTEM)" != 0 ]; then scripts/bench.sh build || rc=1; \
		table="$$res/compare.md"; fi; \
	scripts/bench-record.sh -m "$$res/micro.txt" $${table:+-t "$$table"} -n '$(BENCH_NOTE)'; exit $$rc

# RSS of the stateful config over a 10-minute mixed load (scripts/bench-soak.sh): flat within 2 %
# after warm-up, or it fails. BENCH_SOAK_MINUTES changes the length. Not part of `make test`.
soak: build
	@scripts/bench-soak.sh build

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

lint:
	@scripts/lint.sh

clean:
	rm -rf build build-test build-fuzz build-tsan
