#!/usr/bin/env bash
# Runs every check and test forge has, over every module of the repository
# (go.work lists them): formatting, vet, staticcheck, `go test -race`, and
# that each module's go.mod is tidy. Installs whatever the tests need beyond
# Go when it is missing, so that it works on a fresh machine. CI (.ci/run)
# runs this script.
#
#   scripts/test.sh        # install what is missing, then every check and test
#   scripts/test.sh deps   # only install what is missing
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# as_root runs a command as root, through sudo unless we are root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install installs Debian packages, running apt-get update only once.
apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		as_root apt-get update -qq
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# docs/browser_test.go drives Debian's chromium headless.
if ! command -v chromium >/dev/null 2>&1; then
	step "installing chromium (for the docs UI browser test)"
	apt_install chromium
fi

# The document tests also run the official validators (@asyncapi/parser and
# Redocly on node), pinned in tools/spec-validate. Install node when it is
# missing, and the npm packages when node_modules is missing or older than
# package-lock.json, so that no test installs anything.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	step "installing node and npm (for the official document validators)"
	apt_install nodejs npm
fi
if ! tools/spec-validate/validate.sh install; then
	# Without them the document tests skip, or fail when CI is set.
	[ -z "${CI:-}" ] || exit 1
	echo "the official validators are not ready: their checks will skip" >&2
fi

# examples/chat's test runs AsyncAPI Modelina (pinned in tools/modelina) on
# the chat's document to check that code generators can name every model.
if [ ! tools/modelina/node_modules/.package-lock.json -nt tools/modelina/package-lock.json ]; then
	step "installing AsyncAPI Modelina (npm ci in tools/modelina)"
	(cd tools/modelina && npm ci --no-audit --no-fund --loglevel=error) || {
		[ -z "${CI:-}" ] || exit 1
		echo "Modelina is not installed: its test will skip" >&2
	}
fi

# The browser client (client/) is built and tested with TypeScript and ws,
# pinned in client/package-lock.json; examples/chat's type check of its page
# reads the same node_modules.
if [ ! client/node_modules/.package-lock.json -nt client/package-lock.json ]; then
	step "installing the client's build tools (npm ci in client)"
	(cd client && npm ci --no-audit --no-fund --loglevel=error) || {
		[ -z "${CI:-}" ] || exit 1
		echo "the client's build tools are not installed: its tests will skip" >&2
	}
fi

# The Redis broker tests start their own redis-server on a loopback port;
# they need only the binary. policy-rc.d keeps the package from starting
# its service while it installs.
if ! command -v redis-server >/dev/null 2>&1; then
	step "installing redis-server (for the Redis broker tests)"
	policy=/usr/sbin/policy-rc.d
	if [ -e "$policy" ]; then
		apt_install redis-server
	else
		trap 'as_root rm -f "$policy"' EXIT
		printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
		as_root chmod +x "$policy"
		apt_install redis-server
		as_root rm -f "$policy"
		trap - EXIT
	fi
fi

if [ "${1:-}" = deps ]; then
	exit 0
fi

# In workspace mode `./...` stops at the root module's edge, so every
# module's packages are named: the library, the examples, the two brokers,
# the integration tests (validators, browser, module graph) and the load
# harness.
pkgs=(./... ./examples/... ./hub/redisbroker/... ./hub/natsbroker/... ./integration/... ./bench/...)

step "gofmt -s"
make --no-print-directory fmt

step "go vet"
go vet "${pkgs[@]}"

# staticcheck is pinned in tools/go.mod, outside the workspace: -modfile
# works only with GOWORK=off, so build it that way and run it in the
# workspace.
step "staticcheck"
staticcheck=$(GOWORK=off go tool -n -modfile=tools/go.mod staticcheck)
"$staticcheck" "${pkgs[@]}"

step "go mod tidy -diff"
for mod in . examples hub/redisbroker hub/natsbroker integration bench; do
	(cd "$mod" && GOWORK=off go mod tidy -diff) || { echo "go.mod of $mod is not tidy: run go mod tidy there" >&2; exit 1; }
done

step "go test -race"
go test -race -count=1 -timeout 8m "${pkgs[@]}"

# The idle-connection tests hold goroutine stacks to a budget, which the
# race detector's larger frames would break, and which the runtime's
# adaptive initial stack size would hide: so once more without either.
step "idle stacks (no -race)"
GODEBUG=adaptivestackstart=0 go test -count=1 -run 'TestIdleFootprint|TestIdleStack' ./connection ./router

# A short pass of every fuzz target (make fuzz runs 30 s each): new inputs
# that crash a parser fail the run here, not only on a developer's machine.
step "fuzz, 2 s per target"
FUZZTIME=2s scripts/fuzz.sh
