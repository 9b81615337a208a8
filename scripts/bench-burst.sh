#!/usr/bin/env bash
# Runs the burst (1,000 members, one publisher at RATE msg/s, MSGS 64-byte
# messages: far more deliveries per second than the box makes) against
# forge (examples/bench) and the harness's peers in rotating order, round
# after round, so that a noisy moment hits every server alike, and prints
# the median deliveries per second, the loss, the server's CPU per
# delivery, and in how many rounds forge delivered the most.
#
#   scripts/bench-burst.sh                     # 5 rounds, 1,000 msg/s
#   ROUNDS=7 RATE=2000 MSGS=4000 scripts/bench-burst.sh
#   SERVERS="forge gws" scripts/bench-burst.sh
#
# Loopback only; every load is bounded by the load generator's own caps.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
RATE=${RATE:-1000}
MSGS=${MSGS:-2000}
SERVERS=${SERVERS:-forge gorilla gws melody coder}
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
# KEEP=FILE keeps the load generator's JSON lines, one per run.

(cd bench && go build -o "$work/loadgen" ./cmd/loadgen)
for s in $SERVERS; do
	if [ "$s" = forge ]; then
		(cd examples && go build -o "$work/forge" ./bench)
	else
		(cd bench && go build -o "$work/$s" "./peers/$s")
	fi
done

port=20500
run() { # server -> one JSON line
	while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done # taken by someone else
	"$work/$1" -addr "127.0.0.1:$port" >/dev/null 2>&1 &
	pid=$!
	"$work/loadgen" -scenario wait -url "tcp://127.0.0.1:$port" -duration 10s 2>/dev/null
	# loadgen exits non-zero when messages were lost; its line says how many.
	{ "$work/loadgen" -scenario broadcast -pid "$pid" -url "ws://127.0.0.1:$port/room" -conns 1000 \
		-publishers 1 -rate "$RATE" -msgs "$MSGS" -size 64 -duration 60s -drain 2s -drain-max 30s \
		2>/dev/null || true; } | sed "s/^/$1 /"
	kill "$pid" 2>/dev/null || true # a peer may have exited under the load
	wait "$pid" 2>/dev/null || true
	port=$((port + 1))
}
read -r -a order <<<"$SERVERS"
for i in $(seq 0 $((ROUNDS - 1))); do
	n=${#order[@]}
	for j in $(seq 0 $((n - 1))); do
		run "${order[$(((i + j) % n))]}"
	done
	echo "round $i" # marks the end of a round
done >"$work/results.txt"

[ -n "${KEEP:-}" ] && cp "$work/results.txt" "$KEEP"
python3 - "$work/results.txt" "$RATE" <<'PY'
import json, statistics, sys
rows, rounds, cur = {}, [], {}
for line in open(sys.argv[1]):
    if line.startswith("round "):
        rounds.append(cur); cur = {}
        continue
    name, js = line.split(" ", 1)
    r = json.loads(js)
    rows.setdefault(name, []).append(r)
    cur[name] = r.get("broadcast", {}).get("delivered_per_sec", 0)
print(f"burst: 1,000 members, {int(sys.argv[2]) * 1000:,} deliveries/s offered; medians of {len(rounds)} rounds")
print()
print("| server | deliveries/s | lost (all rounds) | server µs/delivery | runs that failed |")
print("|---|---:|---:|---:|---:|")
for name, rs in rows.items():
    good = [r for r in rs if r.get("cpu", {}).get("server_cpu_s") is not None and r.get("broadcast", {}).get("delivered")]
    if not good:
        print(f"| {name} | - | - | - | {len(rs)} |")
        continue
    rate = statistics.median(r["broadcast"]["delivered_per_sec"] for r in good)
    lost = sum(r["broadcast"]["lost"] for r in good)
    cpu = statistics.median(r["cpu"]["server_cpu_s"] / r["broadcast"]["delivered"] * 1e6 for r in good)
    print(f"| {name} | {rate:,.0f} | {lost:,} | {cpu:.2f} | {len(rs) - len(good)} |")
if "forge" in rows and len(rows) > 1:
    wins = sum(1 for r in rounds if max(r, key=r.get) == "forge")
    print(f"\nforge delivered the most in {wins} of {len(rounds)} rounds")
PY
