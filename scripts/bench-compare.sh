#!/usr/bin/env bash
# Compares forge (examples/bench) with raw gorilla (bench/peers/gorilla) in
# alternating runs of bench/'s load generator, so that a noisy moment on a
# shared box hits both sides alike, and prints the median of each figure.
#
#   scripts/bench-compare.sh            # 5 rounds of echo and broadcast
#   ROUNDS=9 scripts/bench-compare.sh
#
# Loopback only; every load is bounded by the load generator's own caps.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
work=$(mktemp -d)
pid= # the server running, stopped if the script ends early
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

(cd bench && go build -o "$work/loadgen" ./cmd/loadgen && go build -o "$work/peer-gorilla" ./peers/gorilla)
go build -o "$work/forge-bench" ./examples/bench

port=19800
run() { # name binary scenario args... -> one JSON line
	local name=$1 bin=$2 scen=$3
	shift 3
	while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done # taken by someone else
	"$bin" -addr "127.0.0.1:$port" >/dev/null 2>&1 &
	pid=$!
	"$work/loadgen" -scenario wait -url "tcp://127.0.0.1:$port" -duration 10s 2>/dev/null
	"$work/loadgen" -scenario "$scen" -pid "$pid" "$@" 2>/dev/null | sed "s/^/$name $scen /"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	port=$((port + 1))
}

for i in $(seq 1 "$ROUNDS"); do
	for s in forge gorilla; do
		bin=$work/peer-gorilla
		[ "$s" = forge ] && bin=$work/forge-bench
		run "$s" "$bin" echo -url "ws://127.0.0.1:$port/echo" -conns 64 -msgs 200000 -size 64
		run "$s" "$bin" broadcast -url "ws://127.0.0.1:$port/room" -conns 1000 -rate 100 -msgs 500
	done
done >"$work/results.txt"

python3 - "$work/results.txt" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, scen, js = line.split(" ", 2)
    d = json.loads(js)
    rows.setdefault((name, scen), []).append(d)
def med(xs): return statistics.median(xs)
print(f"| server | echo server µs/msg | broadcast server µs/delivery | broadcast p99 ms | lost |")
print("|---|---:|---:|---:|---:|")
for name in ("gorilla", "forge"):
    e = rows[(name, "echo")]
    b = rows[(name, "broadcast")]
    echo_cpu = med([r["cpu"]["server_cpu_s"] / r["echo"]["completed"] * 1e6 for r in e])
    bc_cpu = med([r["cpu"]["server_cpu_s"] / r["broadcast"]["delivered"] * 1e6 for r in b])
    p99 = med([r["broadcast"]["lat"]["p99_us"] / 1000 for r in b])
    lost = sum(r["broadcast"]["lost"] for r in b)
    print(f"| {name} | {echo_cpu:.2f} | {bc_cpu:.2f} | {p99:.2f} | {lost} |")
# Round by round (forge and gorilla ran back to back): how often forge did better.
def per(name, scen, f): return [f(r) for r in rows[(name, scen)]]
def echo_cpu(r): return r["cpu"]["server_cpu_s"] / r["echo"]["completed"]
def bc_cpu(r): return r["cpu"]["server_cpu_s"] / r["broadcast"]["delivered"]
def bc_p99(r): return r["broadcast"]["lat"]["p99_us"]
n = len(rows[("forge", "echo")])
for label, scen, f in (("echo CPU/msg", "echo", echo_cpu), ("broadcast CPU/delivery", "broadcast", bc_cpu), ("broadcast p99", "broadcast", bc_p99)):
    wins = sum(a < b for a, b in zip(per("forge", scen, f), per("gorilla", scen, f)))
    print(f"forge lower {label}: {wins} of {n} rounds")
PY
