# ftpharness — make targets. `make test` is the one test command: it
# installs the Debian FTP servers the tests need (as root) and runs every
# test, including the conformance matrix against all local servers.
GO       ?= go
BIN      := bin
PKGS      = $(shell $(GO) list ./... | grep -v -e '/suites$$' -e '/matrix$$')
FUZZTIME ?= 60s

.PHONY: all build test test-deps test-containers unit lint fuzz bench bench-load servers matrix mutation docs run clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

## servers: install vsftpd, proftpd, pure-ftpd, pyftpdlib (+ twisted, inetutils) side by side
servers:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "make servers: installing the Debian FTP servers needs root: run 'sudo make servers' once, then 'make test' again" >&2; exit 1; \
	fi
	scripts/install-servers

## test-deps: headless Chromium for the HTML report tests
test-deps:
	scripts/install-test-deps

## test: everything (unit tests, real servers, conformance matrix vs expectations)
test: servers test-deps lint
	@# every step runs in a lane, three lanes at a time (scripts/test-lanes,
	@# FTPH_TEST_LANES): they wait on servers' timers far more than they use
	@# the CPU (a mutation run uses ~5 % of a core), so lanes overlap their
	@# waits; all six at once put the load average of two cores over 20 and
	@# timing checks then lost races in CI. The containers lane starts
	@# first, beside the light lanes (quick-tls-seeds, mutation-pyftpdlib,
	@# then unit): vsftpd's logins in a container go through Docker's
	@# fuse-overlayfs here and timed out beside the vsftpd-heavy lanes
	@# (mutation-vsftpd, matrix), which start as the light ones end; short
	@# steps share a lane, one after the other.
	@# Lanes share the local servers safely: a server serving a shared
	@# account's home (inetutils, anonymous pure-ftpd) holds it with a lock
	@# (servers/common.go holdHome), and one of another lane waits for it.
	@# unit: every package's tests but ./suites and ./matrix (./servers
	@# starts the Debian servers: a lane now that their homes are locked, so
	@# its ~4 minutes no longer come before the long runs); ./suites'
	@# catalog test (./suites itself is the conformance run, checked per
	@# server below; its catalog test is not: one spec per catalog row, and
	@# the RFC sections each spec cites equal its row's); then the CI
	@# shapes in Docker, quick, here rather than in the containers lane:
	@# the GitHub workflow's calls (TestContainersWorkflow, ~90 s) and the
	@# sharded load run (TestContainersShards, ~25 s); ./servers' inetutils
	@# may wait ~3 minutes for the matrix lane's to free their homes;
	@# matrix: every local server's verdicts against fixtures/expectations
	@# over IPv4, then over IPv6 (TestExpectations ~4 min,
	@# TestExpectationsIPv6 ~3 min), then the implicit FTPS and TLS-required
	@# columns (TestExpectationsTLSImplicit, TestExpectationsTLSRequired,
	@# ~3 min: the quick tests' -skip leaves them out, and no lane ran them);
	@# quick-tls-seeds: matrix's quick tests (~2.5 min), each server's FTPS
	@# variant over ftpes:// (TestExpectationsTLS, fixtures/expectations/tls
	@# laid over, ~2 min), then the suite twice (--ginkgo.seed 1 and 7)
	@# against pyftpdlib and through the pasv-port-cooldown proxy with equal
	@# verdicts (TestSeedsAgree, ~5.5 min): three short steps, one lane;
	@# mutation-pyftpdlib, mutation-vsftpd: the mutation matrix, a lane per
	@# server (FTPH_MUTATION_SERVERS; ~7 minutes each where one pool of 4
	@# for both took ~19; vsftpd 5 runs at once, FTPH_MUTATION_PARALLEL, as
	@# its runs are the longer ones, pyftpdlib 4): every fault of
	@# servers/faulty kills the checks it declares where they pass clean,
	@# nothing else changes, each server scores 95 % or more; a fault whose
	@# outcome differs from its declaration runs again and only what
	@# repeats fails (with this many runs on two cores a timing check loses
	@# a race now and then; what did not repeat is logged as FLAKY);
	@# FTPH_BIG_FILE_MIB=16: the held-transfer checks' file is 16 MiB, not
	@# 64, where nothing but the kernel sits between client and server (the
	@# local servers, the fault proxy): a quarter of the bytes to upload
	@# and drain per worker (64 MiB doubled the mutation lanes); the
	@# containers lane keeps the default, as docker-proxy holds 16 MiB;
	@# containers: the suites against the server images in Docker
	@# (TestContainers; skipped without a daemon unless
	@# FTPH_REQUIRE_DOCKER=1, set by .ci/run)
	CI=$${CI:-} FTPH_REQUIRE_SERVERS=1 FTPH_BIG_FILE_MIB=16 scripts/test-lanes \
	  "containers: FTPH_BIG_FILE_MIB= scripts/test-digest $(GO) test -count=1 -timeout 40m -v -run '^TestContainers$$' ./matrix" \
	  "quick-tls-seeds: $(GO) test -count=1 -timeout 12m -skip '^(TestExpectations.*|TestMutation|TestSeedsAgree|TestContainers.*)$$' ./matrix && scripts/test-digest $(GO) test -count=1 -timeout 30m -v -run '^TestExpectationsTLS$$' ./matrix && scripts/test-digest $(GO) test -count=1 -timeout 20m -v -run TestSeedsAgree ./matrix" \
	  "mutation-pyftpdlib: FTPH_MUTATION_SERVERS=pyftpdlib scripts/test-digest $(GO) test -count=1 -timeout 40m -v -run TestMutation ./matrix" \
	  "unit: $(GO) test -count=1 -timeout 30m $(PKGS) && $(GO) test -count=1 -run TestCatalogConsistency ./suites && scripts/test-digest $(GO) test -count=1 -timeout 20m -v -run '^(TestContainersWorkflow|TestContainersShards)$$' ./matrix" \
	  "mutation-vsftpd: FTPH_MUTATION_SERVERS=vsftpd FTPH_MUTATION_PARALLEL=5 scripts/test-digest $(GO) test -count=1 -timeout 40m -v -run TestMutation ./matrix" \
	  "matrix: scripts/test-digest $(GO) test -count=1 -timeout 40m -v -run '^(TestExpectations|TestExpectationsIPv6|TestExpectationsTLSImplicit|TestExpectationsTLSRequired)$$' ./matrix"

## test-containers: build the server images (scripts/build-images, a tag per run,
## removed after), run the full suite against each server container with its
## ports published on 127.0.0.1, the NAT cases (vsftpd advertising its container
## address, a range published in part, both also over FTPS, a shifted range), vsftpd
## over explicit and implicit FTPS, vsftpd over IPv6 on a ULA network (skipped
## where Docker has no IPv6) and the compose harness job
test-containers:
	CI=$${CI:-} scripts/test-digest $(GO) test -count=1 -timeout 40m -v -run TestContainers ./matrix

## unit: tests that need no Debian server
unit:
	$(GO) test -count=1 -short ./ftp/... ./target/... ./suites/report/... ./suites/catalog/... ./fixtures/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: each fuzz target for FUZZTIME (default 60s)
fuzz:
	@for t in $$($(GO) test ./ftp -list '^Fuzz' | grep '^Fuzz'); do \
	  echo "== $$t"; $(GO) test ./ftp -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

## bench: benchmarks (speed and memory targets live here, side by side with peers)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-load: the load generator side by side with curl and against the sink (prints the ratios)
bench-load:
	loadgen/bench-load.sh

## matrix: run the suites against every local server; write docs/matrix.{md,json}
matrix: build servers
	$(BIN)/ftpconform --matrix=all --matrix-out=docs --matrix-expect=fixtures/expectations

## mutation: run the suites through the fault proxy once per fault (focused, as TestMutation) on
## pyftpdlib and vsftpd; write docs/mutation-pyftpdlib.{md,json} and docs/mutation-vsftpd.{md,json}
mutation: build servers
	$(BIN)/ftpconform --mutation=pyftpdlib,vsftpd --mutation-focused --matrix-parallel=4 --matrix-out=docs

## docs: regenerate the README screenshots from real runs
docs:
	scripts/docs

## run: the main job — the conformance suites against the embedded server
run:
	$(GO) run ./cmd/ftpconform

clean:
	rm -rf $(BIN)
