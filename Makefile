# The two commands a newcomer needs: `make run` and `make test`.
# Everything else is a step they call.

BUILD     ?= build
RELEASE   := $(BUILD)/release
ASAN      := $(BUILD)/asan
FUZZ      := $(BUILD)/fuzz
CONFIG    ?= etc/moat.cf
WERROR    ?= $(if $(CI),ON,OFF)
FUZZ_SECONDS ?= 20

# Debian 12 packages the build, the tests and the benchmarks need.
PACKAGES := build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev \
            libasio-dev libfmt-dev libssl-dev libc-ares-dev liblmdb-dev \
            libpcre2-dev googletest libgtest-dev libbenchmark-dev \
            python3 swaks postfix postfix-pcre fail2ban nsd python3-spf python3-dns python3-yaml \
            redis-server postgrey postfix-policyd-spf-python publicsuffix

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: deps build build-asan run test unit integration fuzz bench format clean

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing && \
	  for service in nsd redis-server postgrey; do \
	    if echo " $$missing " | grep -q " $$service "; then \
	      echo "stopping and disabling the system $$service the package started (tests run their own)"; \
	      $(SUDO) systemctl disable --now $$service.service 2>/dev/null || true; \
	      $(SUDO) service $$service stop 2>/dev/null || true; \
	      $(SUDO) update-rc.d $$service disable 2>/dev/null || true; \
	    fi; \
	  done; \
	fi

# The release build compiles the benchmark programs too, so they never rot.
$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOAT_WERROR=$(WERROR) -DMOAT_BENCH=ON

$(ASAN)/build.ninja:
	cmake -S . -B $(ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMOAT_SANITIZE=ON -DMOAT_WERROR=$(WERROR)

$(FUZZ)/build.ninja:
	cmake -S tests/fuzz -B $(FUZZ) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(RELEASE)/build.ninja
	ninja -C $(RELEASE)

build-asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)

run: build
	mkdir -p var/mail var/log
	$(RELEASE)/moat serve -c $(CONFIG)

unit: build build-asan
	$(RELEASE)/moat_unit_tests && $(ASAN)/moat_unit_tests

integration: build build-asan
	/usr/bin/python3 tests/integration/run.py $(RELEASE)/moat $(ASAN)/moat

fuzz: deps $(FUZZ)/build.ninja
	ninja -C $(FUZZ)
	tests/fuzz/run $(FUZZ) $(FUZZ_SECONDS)

test: build build-asan $(FUZZ)/build.ninja
	ninja -C $(FUZZ)
	tests/run-all $(RELEASE) $(ASAN) $(FUZZ) $(FUZZ_SECONDS)

# Every benchmark, each appending its figures to bench/RESULTS.md (a few
# minutes; the greylisting and policy ones need root for postgrey).
bench: build
	cmake -S . -B $(RELEASE) -DMOAT_BENCH=ON && ninja -C $(RELEASE)
	$(RELEASE)/table_bench
	$(RELEASE)/restriction_bench
	/usr/bin/python3 bench/smtp_bench.py --moat $(RELEASE)/moat
	/usr/bin/python3 bench/dnsbl_bench.py --bench $(RELEASE)/dnsbl_bench
	/usr/bin/python3 bench/spf_bench.py --bench $(RELEASE)/spf_bench
	/usr/bin/python3 bench/greylist_bench.py --bench $(RELEASE)/greylist_bench
	/usr/bin/python3 bench/policy_bench.py --moat $(RELEASE)/moat --bench $(RELEASE)/greylist_bench

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD)
