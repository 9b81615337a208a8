#!/usr/bin/env bash
# Runs every check and test forge has: formatting, vet, staticcheck, and
# `go test -race ./...`. Installs whatever the tests need beyond Go when it is
# missing, so that it works on a fresh machine. CI (.ci/run) runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "gofmt -s"
make --no-print-directory fmt

step "go vet"
go vet ./...

step "staticcheck"
go tool -modfile=tools/go.mod staticcheck ./...

step "go test -race ./..."
go test -race -count=1 ./...
