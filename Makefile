# One entry point for humans and CI: `make test` runs every check and test.
# .ci/run calls it; scripts/test.sh installs what the tests need first.

.PHONY: test fmt vet staticcheck unit bench bench-peers bench-cluster soak faults fuzz

test:
	./scripts/test.sh

fmt:
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -s would change:"; echo "$$out"; exit 1; fi

# PKGS names the packages of every module in go.work: in workspace mode
# ./... stops at the root module's edge.
PKGS = ./... ./examples/... ./hub/redisbroker/... ./hub/natsbroker/... ./integration/... ./bench/...

vet:
	go vet $(PKGS)

# staticcheck is pinned in tools/go.mod, outside the workspace; -modfile
# needs GOWORK=off, so the tool is built that way and run in the workspace.
staticcheck:
	"$$(GOWORK=off go tool -n -modfile=tools/go.mod staticcheck)" $(PKGS)

unit:
	go test -race -count=1 $(PKGS)

bench:
	go test -run '^$$' -bench . -benchmem $(PKGS)

# bench-peers measures examples/bench beside the peer servers of bench/ over
# loopback; PROFILE=smoke and SERVERS="gorilla forge" pass through.
bench-peers:
	bench/run-suite.sh

# bench-cluster measures cross-node broadcast: examples/bench alone against
# three of its processes sharing Redis, then NATS (scripts/bench-cluster.sh;
# ROUNDS, BROKERS, HISTORY and FORGE_REV pass through).
bench-cluster:
	scripts/bench-cluster.sh

# soak runs the soak test's long form, 10,000 connections for 10 minutes
# (scripts/soak.sh; SOAK_* settings pass through). Not part of `make test`,
# whose `go test ./...` runs the 60-second short form.
soak:
	scripts/soak.sh

# fuzz runs every fuzz target for FUZZTIME each (default 30s), one at a time
# (scripts/fuzz.sh; FUZZ selects targets by name). Their seeds and saved
# inputs already run in `make test`.
fuzz:
	scripts/fuzz.sh

# faults runs the fault tests' long form (internal/faults): SIGTERM to
# examples/bench under 10,000 connections, a 10-second handshake flood.
# `make test` runs the short form, under -race. The long form runs without
# it, as a deployment does: the race detector's slowdown alone makes
# 10,000 connections miss the 15-second shutdown timeout on two cores.
# As root, for the network namespaces.
faults:
	FAULTS_FULL=1 go test -count=1 -timeout 30m -v ./internal/faults
