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
	CI=$${CI:-} FTPH_REQUIRE_SERVERS=1 $(GO) test -count=1 -timeout 30m $(PKGS)
	@# ./suites itself is the conformance run (its verdicts are checked per
	@# server below); its catalog test is not: one spec per catalog row, and
	@# the RFC sections each spec cites equal its row's
	$(GO) test -count=1 -run TestCatalogConsistency ./suites
	@# the long runs side by side, a lane each (scripts/test-lanes): they wait
	@# on servers' timers far more than they use the CPU (a mutation run uses
	@# ~5 % of a core), so lanes overlap their waits. matrix: matrix's quick
	@# tests, then every local server's verdicts against fixtures/expectations
	@# over IPv4, then over IPv6 (TestExpectations, TestExpectationsIPv6: one
	@# lane, because inetutils and pure-ftpd take their roots from the homes
	@# of shared system accounts, so two instances must not run at once; the
	@# unit tests above stay out of the lanes for the same reason: ./servers
	@# starts them); tls: each server's FTPS variant over ftpes://
	@# (TestExpectationsTLS, fixtures/expectations/tls laid over; a lane of its
	@# own: none of them uses a shared home but pure-ftpd's anonymous account,
	@# whose lock it waits for); seeds: the suite twice (--ginkgo.seed 1 and 7) against
	@# pyftpdlib and through the pasv-port-cooldown proxy with equal verdicts;
	@# mutation: the mutation matrix on pyftpdlib and vsftpd in one pool (every
	@# fault of servers/faulty kills the checks it declares where they pass
	@# clean, nothing else changes, each server scores 95 % or more; one lane,
	@# not one per server: with six lanes on two cores the timing checks of
	@# the mutation runs flaked in a clean-clone run);
	@# containers: the suites against the server images in Docker (skipped
	@# without a daemon unless FTPH_REQUIRE_DOCKER=1, set by .ci/run)
	CI=$${CI:-} FTPH_REQUIRE_SERVERS=1 scripts/test-lanes \
	  "matrix: $(GO) test -count=1 -timeout 5m -skip '^(TestExpectations.*|TestMutation|TestSeedsAgree|TestContainers.*)$$' ./matrix && scripts/test-digest $(GO) test -count=1 -timeout 40m -v -run '^(TestExpectations|TestExpectationsIPv6)$$' ./matrix" \
	  "tls: scripts/test-digest $(GO) test -count=1 -timeout 30m -v -run '^TestExpectationsTLS$$' ./matrix" \
	  "seeds: scripts/test-digest $(GO) test -count=1 -timeout 20m -v -run TestSeedsAgree ./matrix" \
	  "mutation: scripts/test-digest $(GO) test -count=1 -timeout 40m -v -run TestMutation ./matrix" \
	  "containers: $(MAKE) --no-print-directory test-containers"

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
