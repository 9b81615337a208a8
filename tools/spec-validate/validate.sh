#!/usr/bin/env bash
# validate.sh runs the official validators on a document forge generated:
# @asyncapi/parser (plus the rules of forge-rules.mjs) for AsyncAPI and
# `redocly lint` for OpenAPI, at the versions package-lock.json pins.
#
#   validate.sh install         # npm ci, when node_modules is missing or stale
#   validate.sh asyncapi FILE   # YAML or JSON
#   validate.sh openapi FILE
#
# Exit status: 0 valid (warnings are printed), 1 invalid, 2 usage,
# 3 validators not ready (node missing or too old, or `install` not run).
# Only `install` uses the network (the npm registry); validation is offline.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	echo "usage: $0 install | asyncapi FILE | openapi FILE" >&2
	exit 2
}

# node_ok checks node against the "engines" range of package.json (Redocly's).
node_ok() {
	command -v node >/dev/null 2>&1 || {
		echo "spec-validate: node is not installed" >&2
		return 1
	}
	node -e '
		const [major, minor] = process.versions.node.split(".").map(Number);
		const ok = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22;
		if (!ok) console.error(`spec-validate: node ${process.versions.node} is too old; Redocly needs 20.19+ or 22.12+`);
		process.exit(ok ? 0 : 1);'
}

# installed reports whether `npm ci` ran after the last change of the lock
# file: npm writes node_modules/.package-lock.json on every install.
installed() {
	[ "$here/node_modules/.package-lock.json" -nt "$here/package-lock.json" ]
}

[ $# -ge 1 ] || usage
case "$1" in
install)
	[ $# -eq 1 ] || usage
	node_ok || exit 3
	installed && exit 0
	echo "spec-validate: npm ci in $here" >&2
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2) || {
		echo "spec-validate: npm ci failed" >&2
		exit 3
	}
	exit 0
	;;
asyncapi | openapi)
	[ $# -eq 2 ] || usage
	;;
*) usage ;;
esac
kind=$1 file=$2
[ -f "$file" ] || {
	echo "spec-validate: no such file: $file" >&2
	exit 2
}
node_ok || exit 3
installed || {
	echo "spec-validate: the npm packages are missing or older than package-lock.json; run $here/validate.sh install (scripts/test.sh does)" >&2
	exit 3
}

# Nothing may phone home: no telemetry, no update check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

case "$kind" in
asyncapi)
	exec node "$here/validate-asyncapi.mjs" "$file"
	;;
openapi)
	exec "$here/node_modules/.bin/redocly" lint --config "$here/redocly.yaml" \
		--format stylish --max-problems 1000 "$file"
	;;
esac
