# websock: one WebSocket behaviour, many Go servers.

GO ?= go

.PHONY: all check screenshot test vet fmt-check lint race demo echo bench bench-vs bench-nodes matrix fuzz soak

all: test

## check: the quick loop for contributors (under two minutes on 2 cores):
## vet, gofmt, and the tests of every package in -short mode, with the
## conformance suite on the reference adapter and on gorilla only; the
## other library adapters' suites, staticcheck and -race are make test's
CHECK_SKIP = /adapters/(coder|nhooyr|gobws|fasthttp|gws|longpoll|nbio)$$
check: vet fmt-check
	$(GO) test -short -count=1 $$($(GO) list ./... | grep -v -E '$(CHECK_SKIP)')

## test: vet, gofmt check, staticcheck, and every test under the race detector
test: vet fmt-check lint
	$(GO) test -race -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## lint: staticcheck at a pinned version, run without adding it to go.mod
STATICCHECK_VERSION ?= v0.8.2
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## demo: the chat demo on every adapter at once, page on http://127.0.0.1:8080
demo:
	$(GO) run ./cmd/websock-demo

## screenshot: the demo's page in a real Chromium, saved as docs/demo.png
## (the picture in the README), by the browser test that checks it
screenshot:
	WEBSOCK_UPDATE_SCREENSHOT=1 $(GO) test -count=1 -run '^TestBrowserTour$$' ./cmd/websock-demo/

## echo: the echo server (ADAPTER=gorilla ADDR=127.0.0.1:9001)
ADAPTER ?= gorilla
ADDR ?= 127.0.0.1:9001
echo:
	$(GO) run ./cmd/websock-echo -adapter $(ADAPTER) -addr $(ADDR)

## matrix: run the conformance suite on every adapter and print the capability matrix
matrix:
	$(GO) run ./cmd/websock-conform

## bench: adapters against their raw libraries: docs/performance.md's
## table, the chart docs/bench.svg and the results docs/bench.json
BENCHFLAGS ?= -idle-conns 19000
bench:
	$(GO) run ./cmd/websock-bench $(BENCHFLAGS) -save docs/bench.json -readme docs/performance.md -svg docs/bench.svg

## bench-vs: head to head, pair by pair: the gobws adapter against raw gws
## (the fastest library measured), and gobws-netpoll against gobws
VSFLAGS ?= -reps 8
bench-vs:
	$(GO) run ./cmd/websock-bench vs $(VSFLAGS) gobws raw:gws
	$(GO) run ./cmd/websock-bench vs $(VSFLAGS) gobws-netpoll gobws

## bench-nodes: pubsub fan-out over two nodes (in-process broker, NATS, Redis when redis-server is
## installed), presence convergence after a node is killed, and a paced drain
bench-nodes:
	$(GO) run ./cmd/websock-bench nodes

## fuzz: every fuzz target, one at a time, for FUZZTIME each (the seeds in
## testdata/fuzz also run, briefly, in make test); each new input found
## is minimized for at most FUZZMINIMIZETIME (Go's default, 60s, would
## take all of a short run and leave it no time to fuzz)
FUZZTIME ?= 10m
FUZZMINIMIZETIME ?= 5s
FUZZ_TARGETS = \
	./adapters:FuzzEngine \
	./adapters:FuzzMessageBuffer \
	./adapters/gobws:FuzzReadFrames \
	./adapters/gobws:FuzzCloseError \
	./adapters/internal/pmdeflate:FuzzParse \
	./adapters/internal/utf8stream:FuzzValidator \
	./adapters/wire:FuzzConnRead \
	./adapters/wire:FuzzConnWrite \
	./conformance:FuzzInflate
# Go 1.26's fuzzing coordinator may fail a run that found nothing with
# "context deadline exceeded" at the -fuzztime boundary (Go issue 75804,
# fixed in Go 1.27): such a run, with no failing input written, is
# reported and not counted as a finding.
fuzz:
	@set -e; log=$$(mktemp); status=$$(mktemp); trap 'rm -f $$log $$status' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name in $$pkg for $(FUZZTIME)"; \
		{ rc=0; $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) -timeout 0 -parallel 1 $$pkg 2>&1 || rc=$$?; echo $$rc > $$status; } | tee $$log; \
		rc=$$(cat $$status); \
		if [ $$rc -ne 0 ]; then \
			if grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
				echo "== $$name: the fuzzing coordinator's deadline race (Go issue 75804), no failing input: not a finding"; \
			else \
				exit $$rc; \
			fi; \
		fi; \
	done

## soak: every adapter under churn and injected faults (SOAKTIME each,
## SOAKCONNS connections at a time); fails if an invariant breaks.
## SOAK=1h: the long mode, every adapter at once for that long, sampled
## every SOAKSAMPLE into docs/soak.csv and docs/soak.svg; it also fails
## if memory, goroutines or open files trend up over the last half
SOAKTIME ?= 30s
SOAKCONNS ?= 2000
SOAKSAMPLE ?= 5s
soak:
ifdef SOAK
	$(GO) run ./cmd/websock-soak -together -duration $(SOAK) -conns $(SOAKCONNS) -sample $(SOAKSAMPLE) -csv docs/soak.csv -svg docs/soak.svg
else
	$(GO) run ./cmd/websock-soak -duration $(SOAKTIME) -conns $(SOAKCONNS)
endif
