# snotibridge — every target loops over the workspace's modules (go list -m):
# "./..." at a workspace root matches nothing, so no module may be skipped.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

MODULES  := $(shell go list -m -f '{{.Dir}}')
PKGS     := $(addsuffix /...,$(MODULES))
SERVICES := $(patsubst services/%/main.go,%,$(wildcard services/*/main.go))
KAFKA    := tools/kafka/kafka.sh
CACHE    := $(CURDIR)/.cache

# The dev broker (make kafka-up, make run) and the one make test starts.
KAFKA_PORT      ?= 9092
KAFKA_CPORT     ?= 9093
TEST_KAFKA_PORT ?= 19092
TEST_KAFKA_CPORT ?= 19093
TEST_TIMEOUT    ?= 30m
GOLANGCI_VERSION := v2.15.0
GOLANGCI         := $(CACHE)/bin/golangci-lint-$(GOLANGCI_VERSION)

.PHONY: build test test-go test-tools lint bench bench-go kafka-up kafka-down run chaos up down

## build: every service to bin/<name>
build:
	@mkdir -p bin
	@for s in $(SERVICES); do echo "go build -o bin/$$s ./services/$$s"; (cd services/$$s && CGO_ENABLED=0 go build -trimpath -o ../../bin/$$s .); done

## test: unit, fuzz-seed and integration tests of every module, with -race,
## against a real Apache Kafka broker started for the run (or KAFKA_BROKERS);
## the chart tests' Helm and promtool (promtool test rules) are built first.
test: test-tools
	@if [[ -n "$${KAFKA_BROKERS:-}" ]]; then \
		$(MAKE) --no-print-directory test-go; \
	else \
		$(KAFKA) with-broker $(CACHE)/kafka/test $(TEST_KAFKA_PORT) $(TEST_KAFKA_CPORT) -- $(MAKE) --no-print-directory test-go; \
	fi

## test-tools: the pinned Helm and promtool (versions in tools/deploycheck)
## built from the Go module proxy into .cache/bin once, outside the tests'
## timeout; the deploycheck tests reuse them. Likewise the Apicurio Registry
## of the schema registry tests, built from Maven Central into the cache.
test-tools:
	cd tools/deploycheck && go test -count=1 -timeout 60m -run '^TestPinnedToolsBuild$$' .
	tools/registry/registry.sh fetch

test-go:
	go test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

## lint: go vet, gofmt and golangci-lint (.golangci.yml, pinned version
## installed into .cache/bin) over every module; every service built alone
## (GOWORK=off, through its replace directives)
lint:
	go vet $(PKGS)
	@out="$$(gofmt -l $(MODULES))"; if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for s in $(SERVICES); do (cd services/$$s && GOWORK=off go build -o /dev/null .) || { echo "services/$$s does not build with GOWORK=off: run go mod tidy there"; exit 1; }; done
	@test -x $(GOLANGCI) || { echo "installing golangci-lint $(GOLANGCI_VERSION) into .cache/bin (Go module proxy)"; \
		tmp=$$(mktemp -d) && GOBIN=$$tmp go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION) && \
		mkdir -p $(CACHE)/bin && mv $$tmp/golangci-lint $(GOLANGCI); }
	@for m in $(MODULES); do (cd $$m && $(GOLANGCI) run ./...) || exit 1; done

## bench: Go benchmarks of every module against a real broker (the ingest's
## compares itself with Kafka's ProducerPerformance, the consuming stages with
## a no-op Kafka copy, in the same run); figures printed and kept in
## bench-results/, ending with one summary table (bench-results/summary.md)
bench:
	@mkdir -p bench-results
	@if [[ -n "$${KAFKA_BROKERS:-}" ]]; then \
		$(MAKE) --no-print-directory bench-go; \
	else \
		$(KAFKA) with-broker $(CACHE)/kafka/bench $(TEST_KAFKA_PORT) $(TEST_KAFKA_CPORT) -- $(MAKE) --no-print-directory bench-go; \
	fi

# The ingest's benchmark and the chain at 5k events/s run three times
# (their figures are the median of them: one run of either swings by a
# factor of two on a busy 2-core machine); every other benchmark once.
# The chain's three runs follow one unmeasured run of it
# (bench-results/warmup.txt): the broker of `make bench` is a fresh JVM,
# whose JIT compiler takes a core for seconds when the chain first loads
# it, CPU that a broker in service spent long before. benchsummary then
# prints the one table, and the warm-up's figures beside it.
CHAIN_5K := ^BenchmarkChainLatency$$/^rate=5000$$/^decoder_batch=default$$
bench-go:
	go test -run '^$$' -bench . -skip '$(CHAIN_5K)' -benchmem -count=1 -timeout 60m $(filter-out $(CURDIR)/services/ingest/...,$(PKGS)) | tee bench-results/go-bench.txt
	go test -run '^$$' -bench '$(CHAIN_5K)' -benchmem -count=1 -timeout 60m ./services/enos-forwarder/ | tee bench-results/warmup.txt
	go test -run '^$$' -bench '$(CHAIN_5K)' -benchmem -count=3 -timeout 60m ./services/enos-forwarder/ | tee -a bench-results/go-bench.txt
	go test -run '^$$' -bench . -benchmem -count=3 -timeout 60m ./services/ingest/... | tee -a bench-results/go-bench.txt
	cd tools/benchsummary && go run . $(CURDIR)/bench-results/go-bench.txt $(CURDIR)/bench-results/summary.md $(CURDIR)/bench-results/warmup.txt

## run: the whole pipeline locally (Kafka, simulators, every service) under
## the tools/run supervisor: nothing it starts outlives it; Ctrl-C stops it
run:
	@mkdir -p bin && cd tools/run && go build -o ../../bin/snotibridge-run .
	exec bin/snotibridge-run

## chaos: the whole stack on a 3-node KRaft cluster under random faults
## (tools/chaos) for CHAOS_DURATION (5m; CHAOS_SEED, CHAOS_DEVICES,
## CHAOS_RATE, CHAOS_FAULT_EVERY, CHAOS_FILE_INTERVAL, CHAOS_DRAIN_TIMEOUT,
## CHAOS_DIR), then one table; exit 1 on any loss or early ACK
chaos:
	@mkdir -p bin && cd tools/chaos && go build -o ../../bin/snotibridge-chaos .
	exec bin/snotibridge-chaos

## kafka-up / kafka-down: the local dev broker on 127.0.0.1:$(KAFKA_PORT)
kafka-up:
	$(KAFKA) start $(CACHE)/kafka/dev $(KAFKA_PORT) $(KAFKA_CPORT)

kafka-down:
	$(KAFKA) stop $(CACHE)/kafka/dev

## up / down: the whole stack on Docker (docker-compose.yml; needs a Docker engine)
up:
	docker compose up --build -d

down:
	docker compose down
