#!/usr/bin/env bash
# Measures cross-node broadcast: the forge bench server (examples/bench)
# alone, against three of its processes sharing one broker (Redis, NATS),
# in alternating rounds, and prints the medians as markdown tables.
#
#   scripts/bench-cluster.sh                    # ROUNDS=3: about 3 minutes
#   ROUNDS=5 BROKERS=nats scripts/bench-cluster.sh
#   FORGE_REV=HEAD scripts/bench-cluster.sh     # build a commit, not the working tree
#   HISTORY=100 ROUNDS=5 scripts/bench-cluster.sh   # the cost of history
#
# Each run starts fresh nodes on loopback; SUBS room members are spread
# evenly over them by bench/'s load generator, whose publisher sends RATE
# messages per second (MSGS in all) to the first node, the "publishing
# node". The brokers run for the whole invocation: Debian's redis-server
# (no persistence) and examples/bench/natsd (NATS with JetStream, which
# hub/natsbroker needs). CPU is each process's user+system time from
# /proc/PID/stat over the publishing and draining phase (loadgen -pid with
# a list). After the steady rounds, one burst per setup (BURST_MSGS at
# BURST_RATE per second, 0 skips it) shows what is lost when the box is
# saturated, and the nodes' /stats show where it was counted.
#
# With HISTORY=N every setup runs twice per round, without history and
# with the room's last N messages kept (examples/bench -history N: in
# memory on the single node, in Redis Streams or JetStream on the
# clusters), the two back to back in an order that alternates by round.
# Every run then sends JSON-object payloads (loadgen -json, the same
# bytes with and without history), since a room with history carries only
# objects, and the table compares each setup with its twin of the same
# round. No burst unless BURST_MSGS is set.
#
# Knobs: ROUNDS (3) SUBS (1000) RATE (100) MSGS (500) BURST_RATE (1000)
# BURST_MSGS (2000; 0 with HISTORY) BROKERS ("redis nats") HISTORY (0:
# off) SIZE (64) BASE_PORT (19900) FORGE_REV
# (build that commit from a `git archive` instead of the working tree)
# MAX_SECONDS (900: the whole script stops after this). Raw results land in
# bench/results/<stamp>-cluster/ (git-ignored). Loopback only; every
# process the script starts is stopped when it exits.
set -euo pipefail
MAX_SECONDS=${MAX_SECONDS:-900}
# The whole invocation is bounded: timeout signals the process group (this
# script, its servers and the load generator) after MAX_SECONDS.
if [[ -z "${BENCH_CLUSTER_BOUNDED:-}" ]]; then
	BENCH_CLUSTER_BOUNDED=1 exec timeout -k 15 "$MAX_SECONDS" "$0" "$@"
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
SUBS=${SUBS:-1000}
RATE=${RATE:-100}
MSGS=${MSGS:-500}
BURST_RATE=${BURST_RATE:-1000}
HISTORY=${HISTORY:-0}
BURST_MSGS=${BURST_MSGS:-$((HISTORY > 0 ? 0 : 2000))}
BROKERS=${BROKERS:-redis nats}
SIZE=${SIZE:-64}
PAYLOAD=()
((HISTORY > 0)) && PAYLOAD=(-json)
BASE_PORT=${BASE_PORT:-19900}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/$STAMP-cluster
mkdir -p "$OUT"
work=$(mktemp -d)

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Every process started here is in STARTED; cleanup stops them all.
STARTED=()
cleanup() {
	local p
	for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${STARTED[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() { # pid: drop a stopped process from STARTED
	local keep=() p
	for p in "${STARTED[@]}"; do [[ "$p" != "$1" ]] && keep+=("$p"); done
	STARTED=("${keep[@]}")
}

stop() { # pid...
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		forget "$p"
	done
}

port_in_use() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
next_port=$BASE_PORT
free_port() { # sets port to the next free port (not in a subshell: it counts)
	while port_in_use "$next_port"; do next_port=$((next_port + 1)); done
	port=$next_port
	next_port=$((next_port + 1))
}

# await pid port: the port accepts and belongs to pid (never measure
# someone else's server).
await() {
	"$work/loadgen" -scenario wait -url "tcp://127.0.0.1:$2" -duration 15s 2>/dev/null &&
		kill -0 "$1" 2>/dev/null && ss -ltnpH "sport = :$2" 2>/dev/null | grep -q "pid=$1," && return 0
	log "process $1 is not listening on $2"
	return 1
}

# ---------------------------------------------------------------- build ---
src=$ROOT
commit=$(git rev-parse --short HEAD)
if [[ -n "${FORGE_REV:-}" ]]; then
	src=$work/src
	mkdir -p "$src"
	git archive "$FORGE_REV" | tar -x -C "$src"
	commit=$(git rev-parse --short "$FORGE_REV")
elif [[ -n "$(git status --porcelain -- . 2>/dev/null)" ]]; then
	commit="$commit + uncommitted changes"
fi
log "building loadgen, examples/bench and natsd from ${FORGE_REV:-the working tree} ($commit)"
(cd "$src/bench" && go build -o "$work/loadgen" ./cmd/loadgen)
(cd "$src" && go build -o "$work/forge-bench" ./examples/bench && go build -o "$work/natsd" ./examples/bench/natsd)

# -------------------------------------------------------------- brokers ---
declare -A BROKER_URL BROKER_PID
for b in $BROKERS; do
	free_port
	case $b in
	redis)
		redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
			--dir "$work" --logfile "$OUT/redis.log" &
		BROKER_URL[$b]=redis://127.0.0.1:$port
		;;
	nats)
		"$work/natsd" -addr "127.0.0.1:$port" 2>"$OUT/natsd.log" &
		BROKER_URL[$b]=nats://127.0.0.1:$port
		;;
	*)
		log "unknown broker $b (redis, nats)"
		exit 2
		;;
	esac
	BROKER_PID[$b]=$!
	STARTED+=($!)
	await "${BROKER_PID[$b]}" "$port"
	log "$b broker: ${BROKER_URL[$b]} (pid ${BROKER_PID[$b]})"
done
NODE_PORTS=()
for _ in 1 2 3; do
	free_port
	NODE_PORTS+=("$port")
done

# ----------------------------------------------------------------- runs ---
# run setup round kind loadgen-args...: start the setup's nodes, run the
# load generator once, save its JSON line and each node's /stats as one
# line of results.jsonl, stop the nodes. A setup named base+history runs
# base's nodes with -history HISTORY.
run() {
	local setup=$1 round=$2 kind=$3
	shift 3
	local n=1 flags=() nodes=() urls=() pids=() i line stats=() base
	base=${setup%+history}
	[[ $setup == *+history ]] && flags=(-history "$HISTORY")
	if [[ $base != single ]]; then
		n=3
		flags+=(-broker "${BROKER_URL[$base]}")
	fi
	for ((i = 0; i < n; i++)); do
		"$work/forge-bench" -addr "127.0.0.1:${NODE_PORTS[$i]}" "${flags[@]}" 2>>"$OUT/node-$setup-$i.log" &
		nodes+=($!)
		STARTED+=($!)
		urls+=("ws://127.0.0.1:${NODE_PORTS[$i]}/room")
	done
	for ((i = 0; i < n; i++)); do await "${nodes[$i]}" "${NODE_PORTS[$i]}"; done
	pids=("${nodes[@]}")
	[[ $base != single ]] && pids+=("${BROKER_PID[$base]}")
	line=$(IFS=,; timeout -k 5 180 "$work/loadgen" -scenario broadcast -label "$setup" -tag "$kind" \
		-url "${urls[*]}" -pid "${pids[*]}" "${PAYLOAD[@]}" "$@" 2>>"$OUT/loadgen.log") || true
	tail -n $((n > 1 ? n + 1 : 1)) "$OUT/loadgen.log" | sed 's/^/    /' >&2
	for ((i = 0; i < n; i++)); do
		stats+=("$(curl -s --max-time 3 "http://127.0.0.1:${NODE_PORTS[$i]}/stats" || echo null)")
	done
	stop "${nodes[@]}"
	printf '{"setup":"%s","round":%d,"kind":"%s","loadgen":%s,"stats":[%s]}\n' \
		"$setup" "$round" "$kind" "${line:-null}" "$(IFS=,; echo "${stats[*]}")" >>"$OUT/results.jsonl"
}

SETUPS=(single $BROKERS)
log "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores); results in $OUT"
t0=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
	# Rotate the order each round so that no setup always runs first.
	for ((k = 0; k < ${#SETUPS[@]}; k++)); do
		setup=${SETUPS[$(((k + r - 1) % ${#SETUPS[@]}))]}
		twins=("$setup")
		if ((HISTORY > 0)); then # with and without history back to back, alternating which first
			twins=("$setup" "$setup+history")
			((r % 2 == 0)) && twins=("$setup+history" "$setup")
		fi
		for s in "${twins[@]}"; do
			log "round $r/$ROUNDS: $s, $SUBS members, $RATE msg/s, $MSGS messages"
			run "$s" "$r" steady -conns "$SUBS" -rate "$RATE" -msgs "$MSGS" -size "$SIZE" -duration 60s -drain 2s -drain-max 20s
		done
	done
done
if ((BURST_MSGS > 0)); then
	for setup in "${SETUPS[@]}"; do
		twins=("$setup")
		((HISTORY > 0)) && twins+=("$setup+history")
		for s in "${twins[@]}"; do
			log "burst: $s, $SUBS members, $BURST_RATE msg/s, $BURST_MSGS messages"
			run "$s" 0 burst -conns "$SUBS" -publishers 1 -rate "$BURST_RATE" -msgs "$BURST_MSGS" -size "$SIZE" -duration 60s -drain 2s -drain-max 30s
		done
	done
fi
log "runs took $((SECONDS - t0)) s; load now: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$OUT/results.jsonl" "$commit" "$SUBS" "$RATE" "$MSGS" "$HISTORY" <<'PY' | tee "$OUT/table.md"
import json, statistics, sys
path, commit, subs, rate, msgs, history = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
med = statistics.median

def ok(r): return r["loadgen"] and r["loadgen"].get("broadcast")

def figures(r):
    lg = r["loadgen"]; bc = lg["broadcast"]; cpu = lg["cpu"]
    f = {"p50": bc["lat"]["p50_us"] / 1e3, "p99": bc["lat"]["p99_us"] / 1e3,
         "lost": bc["lost"] + bc["late"], "delivered": bc["delivered"],
         "foreign": cpu.get("foreign_cores", 0)}
    if not bc.get("nodes"):
        f["cpu_pub"] = cpu["server_cpu_s"] / bc["delivered"] * 1e6
        f["cpu_all"] = f["cpu_pub"]
        return f
    n, c = bc["nodes"], cpu["pids_cpu_s"]
    f["p99_pub"] = n[0]["lat"]["p99_us"] / 1e3
    f["p99_recv"] = max(x["lat"]["p99_us"] for x in n[1:]) / 1e3
    f["cpu_pub"] = c[0] / n[0]["delivered"] * 1e6
    f["cpu_recv"] = sum(c[1:3]) / sum(x["delivered"] for x in n[1:]) * 1e6
    f["cpu_broker"] = c[3] / bc["delivered"] * 1e6
    f["cpu_all"] = sum(c) / bc["delivered"] * 1e6
    return f

steady = {}
for r in rows:
    if r["kind"] == "steady" and ok(r):
        steady.setdefault(r["setup"], {})[r["round"]] = figures(r)
def m(xs, fmt="{:.2f}"): return fmt.format(med(xs)) if xs else "-"

def cross_node():
    setups = [s for s in ("single", "redis", "nats") if s in steady]
    base = steady.get("single", {})
    print(f"Steady: {subs} members, {rate} msg/s, {msgs} messages; medians of {max(len(v) for v in steady.values())} rounds; forge at {commit}.\n")
    print("| setup | p50 ms | p99 ms | p99 added vs single, ms | p99 ms, publishing node's members / other nodes' (the worse) | lost | server CPU µs/delivery: publishing node / receiving nodes / broker / all | other processes' cores |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for s in setups:
        v = list(steady[s].values())
        added = [f["p99"] - base[k]["p99"] for k, f in steady[s].items() if k in base] if s != "single" else []
        split = "-" if s == "single" else f'{m([f["p99_pub"] for f in v])} / {m([f["p99_recv"] for f in v])}'
        if s == "single":
            cpu = f'{m([f["cpu_pub"] for f in v])} (one node)'
        else:
            cpu = " / ".join(m([f[k] for f in v]) for k in ("cpu_pub", "cpu_recv", "cpu_broker", "cpu_all"))
        name = {"single": "single node, no broker", "redis": "3 nodes, Redis", "nats": "3 nodes, NATS"}[s]
        print(f'| {name} | {m([f["p50"] for f in v])} | {m([f["p99"] for f in v])} | {m(added) if added else "-"} | {split} | {sum(f["lost"] for f in v)} | {cpu} | {m([f["foreign"] for f in v])} |')
    for s in setups:
        if s == "single": continue
        added = [f["p99"] - base[k]["p99"] for k, f in steady[s].items() if k in base]
        print(f'\n{s}: p99 added per round (ms): ' + ", ".join(f"{a:+.2f}" for a in added), end="")
    print("\n")

def cost_of_history():
    names = {"single": "single node", "redis": "3 nodes, Redis", "nats": "3 nodes, NATS"}
    store = {"single": "memory", "redis": "Redis Streams", "nats": "JetStream"}
    bases = [s for s in ("single", "redis", "nats") if s in steady and s + "+history" in steady]
    print(f"Cost of history: {subs} members, {rate} msg/s, {msgs} messages, JSON-object payloads; history keeps the last {history} messages; medians of {max(len(v) for v in steady.values())} rounds; forge at {commit}.\n")
    print("| setup | history | p50 ms | p99 ms | lost | server CPU µs/delivery: publishing node / receiving nodes / broker / all | with ÷ without history, median of per-round ratios: CPU all / CPU publishing node / p50 / p99 | other processes' cores |")
    print("|---|---|---:|---:|---:|---|---|---:|")
    def cpu(s, v):
        if s == "single":
            return f'{m([f["cpu_pub"] for f in v])} (one node)'
        return " / ".join(m([f[k] for f in v]) for k in ("cpu_pub", "cpu_recv", "cpu_broker", "cpu_all"))
    notes = []
    for s in bases:
        off, on = steady[s], steady[s + "+history"]
        both = [k for k in on if k in off]
        ratio = {k: [on[r][k] / off[r][k] for r in both if off[r][k] > 0] for k in ("cpu_all", "cpu_pub", "p50", "p99")}
        for label, runs, ratios in (("none", off, "-"), (store[s], on, " / ".join(m(ratio[k]) + "×" for k in ("cpu_all", "cpu_pub", "p50", "p99")))):
            v = list(runs.values())
            print(f'| {names[s]} | {label} | {m([f["p50"] for f in v])} | {m([f["p99"] for f in v])} | {sum(f["lost"] for f in v)} | {cpu(s, v)} | {ratios} | {m([f["foreign"] for f in v])} |')
        more = sum(1 for x in ratio["cpu_all"] if x > 1)
        notes.append(f'{names[s]}, with ÷ without per round: CPU all ' + ", ".join(f"{x:.2f}" for x in ratio["cpu_all"]) +
                     "; p99 " + ", ".join(f"{x:.2f}" for x in ratio["p99"]) + f" (history cost more CPU in {more} of {len(ratio['cpu_all'])} rounds)")
    print()
    for n in notes:
        print(n + "\n")
    # Checks: every delivery of a room with history carries a position,
    # none without; no node refused a message.
    for r in rows:
        if r["kind"] != "steady" or not ok(r):
            continue
        bc = r["loadgen"]["broadcast"]
        want = bc["delivered"] if r["setup"].endswith("+history") else 0
        refused = sum((x or {}).get("broadcast_errors", 0) for x in r["stats"])
        if bc.get("positioned", 0) != want or bc["bad"] or refused:
            print(f'check: round {r["round"]} {r["setup"]}: {bc.get("positioned", 0)} of {bc["delivered"]} deliveries positioned, {bc["bad"]} unreadable, {refused} broadcasts refused\n')

if int(history) > 0:
    cost_of_history()
else:
    cross_node()

bursts = [r for r in rows if r["kind"] == "burst"]
if bursts:
    print("Burst: what the box could not carry, and where each node counted it (/stats).\n")
    print("| setup | delivered / expected | lost (late) | deliveries/s | p99 ms | publishing node: hub published, broker_dropped, broker_errors | receiving nodes: hub remote | all nodes: hub dropped, slow consumers, tracker dropped, NATS slow consumer |")
    print("|---|---:|---:|---:|---:|---|---|---|")
    for r in bursts:
        if not ok(r):
            print(f'| {r["setup"]} | run failed | | | | | | |'); continue
        bc = r["loadgen"]["broadcast"]; st = [x for x in r["stats"] if x]
        h0 = st[0]["hub"]
        remote = ", ".join(str(x["hub"]["remote"]) for x in st[1:]) or "-"
        drops = sum(x["hub"]["dropped"] for x in st), sum(x["slow_consumers"] for x in st), sum(x["dropped"] - x["slow_consumers"] for x in st), sum(x.get("nats_slow_consumer", 0) for x in st)
        print(f'| {r["setup"]} | {bc["delivered"]} / {bc["expected"]} | {bc["lost"]} ({bc["late"]}) | {bc["delivered_per_sec"]:.0f} | {bc["lat"]["p99_us"]/1e3:.1f} | {h0["published"]}, {h0["broker_dropped"]}, {h0["broker_errors"]} | {remote} | {drops[0]}, {drops[1]}, {drops[2]}, {drops[3]} |')
    print("\nhub published counts the load generator's sync probes too; a receiving node whose remote count is lower lost messages between the broker and its hub.")
PY
log "raw results: $OUT/results.jsonl"
