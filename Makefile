# reconcile — see README.md.
GO      ?= go
BIN     ?= bin/reconcile
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
DEMO    ?= demo-out
M       := 201403251000001147

.PHONY: build test demo bench fuzz lint clean

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

# Benchmarks of the parser, store, ledger import and matcher on generated data.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 30m ./recon/parse/ ./recon/match/ ./store/ ./ledger/

# Each fuzz target briefly.
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDetail$$' -fuzztime $(FUZZTIME) ./recon/parse/
	$(GO) test -run '^$$' -fuzz '^FuzzSummary$$' -fuzztime $(FUZZTIME) ./recon/parse/

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf bin $(DEMO)
