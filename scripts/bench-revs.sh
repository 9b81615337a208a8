#!/usr/bin/env bash
# Compares forge at two commits on the broadcast scenario (1,000 members,
# 100 msg/s, 500 messages): each commit's examples/bench runs in turns
# against one load generator, so that a noisy moment hits both alike, and
# the script prints the medians and in how many rounds the second was
# slower at p99.
#
#   scripts/bench-revs.sh 3e8dd93 HEAD        # 7 rounds
#   ROUNDS=9 scripts/bench-revs.sh A B
#
# Loopback only; every load is bounded by the load generator's own caps.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 REV_A REV_B" >&2; exit 2; }
ROUNDS=${ROUNDS:-7}
work=$(mktemp -d)
pid= # the server running, stopped if the script ends early
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

(cd bench && go build -o "$work/loadgen" ./cmd/loadgen)
build() { # rev -> $work/forge-<n>
	local rev=$1 out=$2 src=$work/src-$2
	mkdir -p "$src"
	git archive "$rev" | tar -x -C "$src"
	# Before the examples had a module of their own they built from the root.
	if [ -f "$src/examples/go.mod" ]; then
		(cd "$src/examples" && GOWORK=off go build -o "$work/$out" ./bench)
	else
		(cd "$src" && GOWORK=off go build -o "$work/$out" ./examples/bench)
	fi
}
build "$1" a
build "$2" b

port=20100
run() { # name binary -> one JSON line
	while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done # taken by someone else
	"$work/$2" -addr "127.0.0.1:$port" >/dev/null 2>&1 &
	pid=$!
	"$work/loadgen" -scenario wait -url "tcp://127.0.0.1:$port" -duration 10s 2>/dev/null
	"$work/loadgen" -scenario broadcast -pid "$pid" -url "ws://127.0.0.1:$port/room" \
		-conns 1000 -rate 100 -msgs 500 2>/dev/null | sed "s/^/$1 /"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	port=$((port + 1))
}
for i in $(seq 1 "$ROUNDS"); do
	if [ $((i % 2)) = 1 ]; then run a a; run b b; else run b b; run a a; fi
done >"$work/results.txt"

python3 - "$work/results.txt" "$1" "$2" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, js = line.split(" ", 1)
    rows.setdefault(name, []).append(json.loads(js))
def fig(name, f): return [f(r) for r in rows[name]]
p99 = {n: fig(n, lambda r: r["broadcast"]["lat"]["p99_us"] / 1000) for n in "ab"}
p50 = {n: fig(n, lambda r: r["broadcast"]["lat"]["p50_us"] / 1000) for n in "ab"}
cpu = {n: fig(n, lambda r: r["cpu"]["server_cpu_s"] / r["broadcast"]["delivered"] * 1e6) for n in "ab"}
lost = {n: sum(fig(n, lambda r: r["broadcast"]["lost"])) for n in "ab"}
print("| commit | broadcast p50 ms | broadcast p99 ms | server µs/delivery | lost |")
print("|---|---:|---:|---:|---:|")
for n, rev in (("a", sys.argv[2]), ("b", sys.argv[3])):
    print(f"| {rev} | {statistics.median(p50[n]):.2f} | {statistics.median(p99[n]):.2f} | {statistics.median(cpu[n]):.2f} | {lost[n]} |")
slower = sum(1 for x, y in zip(p99["a"], p99["b"]) if y > x)
print(f"{sys.argv[3]} slower at p99 in {slower} of {len(p99['a'])} rounds")
PY
