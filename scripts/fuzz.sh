#!/usr/bin/env bash
# Runs every fuzz target of forge's modules (each `func FuzzX(f *testing.F)`
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

# Every package of the modules being worked on (the workspace's, or the
# root module alone without go.work), and the fuzz targets its test files
# declare.
packages() {
	go list -m -f '{{.Dir}}' | while read -r dir; do
		(cd "$dir" && go list -f '{{.ImportPath}} {{.Dir}}' ./...)
	done
}
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
done < <(packages)

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no target matches FUZZ=$filter" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, $fuzztime each"

# count prints the number of files in a directory, 0 if there is none.
count() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=()
flaked=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	printf '\n== %s %s\n' "$pkg" "$name"
	corpus="$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name"
	before=$(count "$corpus")
	# -run '^$' skips the package's tests; -timeout bounds a target that
	# hangs (go test's fuzzing stops at fuzztime, plus the seeds' run).
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "${parallel[@]}" -timeout 10m "$pkg" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
		continue
	fi
	# Go 1.26's fuzzing coordinator can fail a target with a bare "context
	# deadline exceeded" as fuzztime ends (golang/go#75804, fixed in Go
	# 1.27): no input failed, and none is written. A failure that wrote
	# no input and says only that is reported, not counted.
	after=$(count "$corpus")
	if [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$log" && ! grep -q 'Failing input' "$log"; then
		flaked+=("$pkg $name")
		continue
	fi
	failed+=("$pkg $name")
done

if [ ${#flaked[@]} -gt 0 ]; then
	printf '\nfuzz: %d targets ended with the fuzzing coordinator'"'"'s deadline race (golang/go#75804), no failing input:\n' "${#flaked[@]}"
	printf '  %s\n' "${flaked[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
	printf '\nfuzz: %d of %d targets failed:\n' "${#failed[@]}" "${#targets[@]}"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
printf '\nfuzz: %d targets, no failure\n' "${#targets[@]}"
