#!/usr/bin/env bash
# Runs every check and test forge has: formatting, vet, staticcheck, and
# `go test -race ./...`. Installs whatever the tests need beyond Go when it is
# missing, so that it works on a fresh machine. CI (.ci/run) runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# apt_install installs Debian packages, running apt-get update only once.
apt_updated=
apt_install() {
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
	if [ -z "$apt_updated" ]; then
		$sudo apt-get update -qq
		apt_updated=1
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# docs/browser_test.go drives Debian's chromium headless.
if ! command -v chromium >/dev/null 2>&1; then
	step "installing chromium (for the docs UI browser test)"
	apt_install chromium
fi

# The document tests also run the official validators of
# ../shared/spec-validate (@asyncapi/parser and Redocly on node), whose
# validate.sh installs its npm packages on first use. Run it once here, on a
# sample, so that the install happens before the tests and not inside one.
validate=../shared/spec-validate/validate.sh
if [ -x "$validate" ]; then
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		step "installing node and npm (for the official document validators)"
		apt_install nodejs npm
	fi
	if ! out=$("$validate" asyncapi ../shared/spec-validate/asyncapi-chat-valid.yaml 2>&1); then
		printf '%s\nspec-validate: the official validators do not run\n' "$out" >&2
		exit 1
	fi
fi

step "gofmt -s"
make --no-print-directory fmt

step "go vet"
go vet ./...

step "staticcheck"
go tool -modfile=tools/go.mod staticcheck ./...

step "go test -race ./..."
go test -race -count=1 -timeout 8m ./...
