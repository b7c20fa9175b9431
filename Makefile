# reconcile — see README.md.
GO      ?= go
BIN     ?= bin/reconcile
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
DEMO    ?= demo-out
M       := 201403251000001147

.PHONY: build test demo bench bench-monthly bench-peers fuzz lint clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/reconcile

# The whole test suite: unit tests, the real sshd and Chromium tests, the CLI
# end to end. .ci/run installs what they need first.
test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) test -count=1 -timeout 20m ./...

# Reconcile the bundled sample (two GBK settle dates, a refund across them,
# a ledger with honest discrepancies) into a fresh SQLite file. Exit code 1
# from reconcile means "findings", which the sample has on purpose.
demo: build
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@for d in 20240311 20240312; do \
	  echo "== reconcile run --date $$d"; \
	  ./$(BIN) run --merchant $(M) --date $$d --source testdata/fixtures/demo/statements \
	    --ledger testdata/fixtures/demo/ledger.csv --db $(DEMO)/reconcile.db --out $(DEMO)/reports; \
	  rc=$$?; [ $$rc -le 1 ] || exit $$rc; \
	done
	@echo "== reports: $(DEMO)/reports/$(M)/20240311 and $(DEMO)/reports/$(M)/20240312 (discrepancies.csv, summary.json, report.html)"

# End to end on a generated million-payment GBK day (cached in $(BENCH_DIR),
# keyed by the generator's configuration and source): floors measured on the
# same file, `reconcile run` with a fresh store BENCH_RUNS times (medians:
# wall, CPU, peak RSS, rows/s, ratios to the floors), findings checked against
# the planted ones. Then the Go micro-benchmarks of the parser, store, ledger
# import, matcher and job (a day matched, a ledger overlaid), once each.
BENCH_DIR  ?= /tmp/reconcile-bench
BENCH_RUNS ?= 3
BENCH_GEN   = $(shell sha256sum gen/gen.go | cut -c1-12)
bench:
	@mkdir -p $(BENCH_DIR)
	$(GO) build -o $(BENCH_DIR)/reconcile ./cmd/reconcile
	$(GO) build -o $(BENCH_DIR)/reconcile-bench ./cmd/reconcile-bench
	$(BENCH_DIR)/reconcile-bench -dir $(BENCH_DIR) -bin $(BENCH_DIR)/reconcile -runs $(BENCH_RUNS) -gen-hash $(BENCH_GEN)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 30m ./recon/ ./recon/parse/ ./recon/match/ ./store/ ./ledger/ ./job/

# `reconcile run --month` on a generated month (daily JYMX files and the
# monthly file repeating them, with planted differences): run 1 cold on a
# fresh store, then warm runs, median held to 90 s; findings checked.
BENCH_MONTH_DAYS     ?= 30
BENCH_MONTH_PAYMENTS ?= 1000000
bench-monthly:
	@mkdir -p $(BENCH_DIR)
	$(GO) build -o $(BENCH_DIR)/reconcile ./cmd/reconcile
	$(GO) build -o $(BENCH_DIR)/reconcile-bench ./cmd/reconcile-bench
	$(BENCH_DIR)/reconcile-bench -monthly -days $(BENCH_MONTH_DAYS) -payments $(BENCH_MONTH_PAYMENTS) \
	  -dir $(BENCH_DIR) -bin $(BENCH_DIR)/reconcile -runs $(BENCH_RUNS) -gen-hash $(BENCH_GEN)

# The same data through DuckDB (bench/peers, its own Go module so the main
# module never depends on it; the first build links a large static library
# and takes minutes) and through the sqlite3 command line, beside our run in
# the same invocation, with the ratios; checks that the peers find the same
# missing and amount-mismatched keys.
bench-peers:
	@command -v sqlite3 >/dev/null || (apt-get update && apt-get install -y sqlite3)
	@mkdir -p $(BENCH_DIR)
	$(GO) build -o $(BENCH_DIR)/reconcile ./cmd/reconcile
	$(GO) build -o $(BENCH_DIR)/reconcile-bench ./cmd/reconcile-bench
	$(BENCH_DIR)/reconcile-bench -dir $(BENCH_DIR) -bin $(BENCH_DIR)/reconcile -runs $(BENCH_RUNS) -gen-hash $(BENCH_GEN)
	cd bench/peers && $(GO) build -o $(BENCH_DIR)/peers .
	$(BENCH_DIR)/peers -result $(BENCH_DIR)/latest.json -runs $(BENCH_RUNS)

# Each fuzz target briefly.
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDetail$$' -fuzztime $(FUZZTIME) ./recon/parse/
	$(GO) test -run '^$$' -fuzz '^FuzzSummary$$' -fuzztime $(FUZZTIME) ./recon/parse/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./ledger/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./config/

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf bin $(DEMO)
