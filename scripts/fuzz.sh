#!/usr/bin/env bash
# Runs every fuzz target of the forge module (each `func FuzzX(f *testing.F)`
# in a _test.go file), one at a time, each for FUZZTIME (default 30s). Their
# seed corpora, and the inputs saved under testdata/fuzz, already run as
# plain tests in `go test ./...`; this script searches for new inputs.
#
#   scripts/fuzz.sh                        # make fuzz: every target, 30 s each
#   FUZZTIME=5s scripts/fuzz.sh            # a short pass, as in CI
#   FUZZ='Envelope|Bind' scripts/fuzz.sh   # only targets whose name matches (grep -E)
#   FUZZ_PARALLEL=1 scripts/fuzz.sh        # fuzzing workers per target (default: go's, GOMAXPROCS)
#
# A failing input is written by go test under the package's
# testdata/fuzz/FuzzX/; commit it with the fix, so that it runs as a
# regression test from then on. The script runs every target, then lists
# the failed ones and exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-30s}"
filter="${FUZZ:-.}"
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi

# Every package of the root module (nested modules are their own), and the
# fuzz targets its test files declare.
targets=()
while read -r pkg dir; do
	for f in "$dir"/*_test.go; do
		[ -e "$f" ] || continue
		while read -r name; do
			if printf '%s\n' "$name" | grep -Eq -- "$filter"; then
				targets+=("$pkg $name")
			fi
		done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' "$f")
	done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no target matches FUZZ=$filter" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, $fuzztime each"

failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	printf '\n== %s %s\n' "$pkg" "$name"
	# -run '^$' skips the package's tests; -timeout bounds a target that
	# hangs (go test's fuzzing stops at fuzztime, plus the seeds' run).
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "${parallel[@]}" -timeout 10m "$pkg"; then
		failed+=("$pkg $name")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	printf '\nfuzz: %d of %d targets failed:\n' "${#failed[@]}" "${#targets[@]}"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
printf '\nfuzz: %d targets, no failure\n' "${#targets[@]}"
