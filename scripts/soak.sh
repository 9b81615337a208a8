#!/usr/bin/env bash
# Runs the long form of the soak test (TestSoak in internal/soak), without
# the race detector: 10,000 echo connections at 1 msg/s each, a room of
# 1,000 members at 100 msg/s and 100 connects/disconnects per second, for
# 10 minutes, over loopback. `go test ./...` runs its 60-second short form.
#
#   scripts/soak.sh                                  # make soak
#   FORGE_REV=HEAD scripts/soak.sh                   # test a commit (git archive), not the working tree
#   SOAK_DURATION=2m SOAK_CONNS=2000 scripts/soak.sh  # any SOAK_* setting (internal/soak/doc.go)
#
# The server's samples (every 10 s) go to tmp/soak/soak-<UTC time>.csv,
# which git ignores, with the summary (.txt), the test's output (.log) and
# heap profiles (-steady and -after.heap.pprof) beside it; the summary is
# printed at the end. SOAK_TIMEOUT (default 45m) caps the test binary.
set -euo pipefail
cd "$(dirname "$0")/.."

export SOAK_DURATION="${SOAK_DURATION:-10m}"
export SOAK_CONNS="${SOAK_CONNS:-10000}"
export SOAK_ROOM="${SOAK_ROOM:-1000}"
export SOAK_ROOM_RATE="${SOAK_ROOM_RATE:-100}"
export SOAK_CHURN="${SOAK_CHURN:-100}"

# The server (the test process) and the clients (its child) each hold a
# socket per connection, plus up to 1,024 churning ones and a margin.
need=$((SOAK_CONNS + SOAK_ROOM + 2048))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
	echo "soak: the hard file limit is $hard, below the $need descriptors each process needs; raise it (as root: ulimit -Hn, or limits.conf)" >&2
	exit 1
fi
soft=$(ulimit -n)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
	ulimit -n "$need"
fi

dir=$PWD/tmp/soak
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
export SOAK_CSV="$dir/soak-$stamp.csv"
log="$dir/soak-$stamp.log"
work=$(mktemp -d /tmp/forge-soak.XXXXXX)
trap 'rm -rf "$work"' EXIT

src=$PWD
commit=$(git rev-parse --short HEAD)
if [ -n "${FORGE_REV:-}" ]; then
	src=$work/src
	mkdir -p "$src"
	git archive "$FORGE_REV" | tar -x -C "$src"
	commit=$(git rev-parse --short "$FORGE_REV")
elif [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	commit="$commit + uncommitted changes"
fi
(cd "$src" && go test -c -o "$work/soak.test" ./internal/soak)

echo "soak: forge at $commit, file limit $(ulimit -n), output in $log" | tee "$log"
set +e
(cd "$src/internal/soak" && "$work/soak.test" -test.run '^TestSoak$' -test.v -test.count=1 -test.timeout "${SOAK_TIMEOUT:-45m}") 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
set -e

echo
echo "== soak summary (forge at $commit; samples in $SOAK_CSV)"
cat "${SOAK_CSV%.csv}.txt" 2>/dev/null || echo "no summary: the test ended early, see $log"
exit "$status"
